//! "Retrieve All Embedded Resources" of an HTTP sampler compiled into
//! [`EmbeddedResources`]: `HTTPSampler.image_parser`, `concurrentDwn`, `concurrentPool`,
//! `embedded_url_re` and `embedded_url_exclude_re`, each from the sampler or, when the sampler
//! leaves it empty, from the innermost HTTP Request Defaults (JMeter merges the defaults'
//! properties into the sampler the same way).

use loadlake_plan::TestElement;

use crate::compile::http_sampler::merged_raw;
use crate::compile::{Compiler, Scope};
use crate::elements::embedded::{EmbeddedResources, Parsers};
use crate::error::RunnerError;

/// `HTTPSamplerBase.CONCURRENT_POOL_SIZE` of JMeter 2.13 (JMeter 5: 6).
const DEFAULT_POOL: usize = 4;

impl Compiler<'_> {
    /// Refuses extractors and assertions in `scope` with scope `all` (the sample and its
    /// sub-results, JMeter's `getSampleList`) on `what`, a sample that has sub-results: the
    /// runner's read the main sample only.
    pub(crate) fn main_sample_scopes(
        &self,
        scope: &Scope<'_>,
        what: &str,
    ) -> Result<(), RunnerError> {
        for e in scope.assertions.iter().chain(&scope.extractors) {
            for prop in ["Sample.scope", "Assertion.scope"] {
                let value = self.text(e, prop)?;
                if value.trim() == "all" {
                    return Err(RunnerError::setting(
                        &e.name,
                        prop,
                        &value,
                        &format!(
                            "scope all (the sample and its sub-results) on {what} is not \
                             implemented; the main sample is"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The embedded-resource settings of sampler `s`; `None` when it does not retrieve them.
    pub(crate) fn embedded_resources(
        &self,
        s: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<Option<Box<EmbeddedResources>>, RunnerError> {
        let el = s.name.as_str();
        let merged = |prop: &str| self.eval(el, prop, merged_raw(s, scope, prop));
        // JMeter's `getPropertyAsBoolean`: "true" in any case, anything else is false.
        let on = |prop: &str| -> Result<bool, RunnerError> {
            Ok(merged(prop)?.trim().eq_ignore_ascii_case("true"))
        };
        if !on("HTTPSampler.image_parser")? {
            return Ok(None);
        }
        let pattern = |prop: &str| -> Result<Option<regex::Regex>, RunnerError> {
            let text = merged(prop)?;
            if text.is_empty() {
                return Ok(None);
            }
            EmbeddedResources::whole(&text).map(Some).map_err(|_| {
                RunnerError::invalid(
                    el,
                    prop,
                    &text,
                    "a regular expression in Rust syntax (no look-around or back-references)",
                )
            })
        };
        let pool_prop = "HTTPSampler.concurrentPool";
        let pool = if on("HTTPSampler.concurrentDwn")? {
            let text = merged(pool_prop)?;
            // `Integer.parseInt`, the default size when it is not a number.
            let size = match text.trim().parse::<i64>() {
                Ok(n) => n,
                Err(_) => {
                    self.report.warn(format!(
                        "element \"{el}\", property {pool_prop}: \"{text}\" is not a number; \
                         JMeter then uses {DEFAULT_POOL} parallel downloads, and so does the \
                         runner"
                    ));
                    DEFAULT_POOL as i64
                }
            };
            match size {
                // One download at a time is the sequential way (JMeter: "no need to use
                // another thread").
                1 => None,
                n if n > 1 => Some(usize::try_from(n).unwrap_or(DEFAULT_POOL)),
                _ => {
                    return Err(RunnerError::invalid(
                        el,
                        pool_prop,
                        &text,
                        "a number of parallel downloads of at least 1",
                    ));
                }
            }
        } else {
            None
        };
        // JMeter's scope "all" reads the sub-results too (the page again and each resource).
        self.main_sample_scopes(scope, "a sampler that retrieves embedded resources")?;
        Ok(Some(Box::new(EmbeddedResources {
            allow: pattern("HTTPSampler.embedded_url_re")?,
            exclude: pattern("HTTPSampler.embedded_url_exclude_re")?,
            pool,
            parsers: Parsers::from_props(self.ev.props()),
        })))
    }
}
