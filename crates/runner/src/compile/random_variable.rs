//! The Random Variable config element (`RandomVariableConfig`; apache/jmeter
//! `config/RandomVariableConfig.java`, JMeter 5.x): an iteration listener that, each time its
//! nearest enclosing controller begins an iteration, sets `variableName` to `minimumValue +
//! nextInt(maximumValue − minimumValue + 1)` — a whole number drawn uniformly from the range,
//! ends included. That is exactly what `${__Random(min,max)}` draws, so the element is compiled
//! into a per-iteration User Parameters element with that one value (the same [`Feed`] as any
//! per-iteration User Parameters). Bounds are read with `Long.parseLong` (not a number: 0); a
//! minimum above the maximum sets nothing, as JMeter 5 (2.13 also set nothing when they were
//! equal). A numeric `randomSeed` makes JMeter's sequence repeatable, which the runner's
//! generator does not reproduce: warned. `outputFormat` (a `DecimalFormat`) is refused;
//! `perThread` (one generator per thread or one shared) draws from the same distribution.

use std::sync::Arc;

use loadlake_plan::TestElement;

use crate::compile::Compiler;
use crate::elements::user_parameters::UserParameters;
use crate::error::RunnerError;
use crate::model::Feed;

impl Compiler<'_> {
    /// The Random Variable `e` as a per-iteration User Parameters feed (`None`: it never sets
    /// its variable).
    pub(crate) fn random_variable(&mut self, e: &TestElement) -> Result<Option<Feed>, RunnerError> {
        let el = e.name.as_str();
        let format = self.text(e, "outputFormat")?;
        if !format.trim().is_empty() {
            return Err(RunnerError::setting(
                el,
                "outputFormat",
                &format,
                "formatting the random number with a DecimalFormat pattern is not implemented; \
                 leave it empty",
            ));
        }
        let var = self.text(e, "variableName")?.trim().to_string();
        let bound = |c: &Self, prop: &str| -> Result<i64, RunnerError> {
            let text = c.text(e, prop)?;
            Ok(text.trim().parse::<i64>().unwrap_or_else(|_| {
                c.report.warn(format!(
                    "element \"{el}\", property {prop}: \"{text}\" is not a whole number; JMeter \
                     reads it as 0, and so does this run"
                ));
                0
            }))
        };
        let (min, max) = (bound(self, "minimumValue")?, bound(self, "maximumValue")?);
        let seed = self.text(e, "randomSeed")?;
        if seed.trim().parse::<i64>().is_ok() {
            self.report.warn(format!(
                "element \"{el}\": randomSeed {seed} makes JMeter's sequence repeatable; the \
                 runner draws from the same range without reproducing it"
            ));
        }
        if min > max || var.is_empty() {
            self.report.warn(format!(
                "element \"{el}\": it never sets a variable (minimum {min} above maximum {max}, \
                 or no variable name), as in JMeter"
            ));
            return Ok(None);
        }
        let value = self.template(el, "maximumValue", &format!("${{__Random({min},{max})}}"))?;
        Ok(Some(Feed::Parameters(Arc::new(UserParameters {
            element: e.name.clone(),
            names: vec![var],
            columns: vec![vec![value]],
            per_iteration: true,
        }))))
    }
}
