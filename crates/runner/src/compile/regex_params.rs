//! RegEx User Parameters in an HTTP sampler's scope compiled into [`RegexParams`]: the
//! elements' reference names and group numbers, and the sampler's arguments (its own and its
//! HTTP Request Defaults', as JMeter's `getArguments` after merging), each of whose value is
//! sent as a variable of its own set per request (see [`crate::elements::regex_user_parameters`]).

use crate::compile::http_sampler::Argument;
use crate::compile::{Compiler, Scope};
use crate::elements::regex_user_parameters::{RegexParamSource, RegexParams, hidden};
use crate::error::RunnerError;

impl Compiler<'_> {
    /// The RegEx User Parameters of sampler `el` in `scope` (none: `None`); its `args` then
    /// send their per-request variables.
    pub(crate) fn regex_params(
        &self,
        el: &str,
        scope: &Scope<'_>,
        args: &mut [Argument],
    ) -> Result<Option<Box<RegexParams>>, RunnerError> {
        if scope.regex_params.is_empty() {
            return Ok(None);
        }
        let mut sources = Vec::new();
        for e in &scope.regex_params {
            sources.push(RegexParamSource {
                ref_name: self.text(e, "RegExUserParameters.regex_ref_name")?,
                names_group: self.text(e, "RegExUserParameters.param_names_gr_nr")?,
                values_group: self.text(e, "RegExUserParameters.param_values_gr_nr")?,
            });
        }
        let mut written = Vec::with_capacity(args.len());
        for (i, a) in args.iter_mut().enumerate() {
            written.push((
                self.template(el, "Argument.name", &a.name)?,
                self.template(el, "Argument.value", &a.value)?,
            ));
            a.value = format!("${{{}}}", hidden(i));
        }
        Ok(Some(Box::new(RegexParams {
            sources,
            args: written,
        })))
    }
}
