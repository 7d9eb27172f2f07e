//! The jmeter-bzm-plugins Parallel Controller & Sampler
//! (`com.blazemeter.jmeter.controller.ParallelSampler`, `jmeter-bzm-plugins/parallel`) compiled
//! into a [`ParallelStep`]: `PARENT_SAMPLE`, `LIMIT_MAX_THREAD_NUMBER` and `MAX_THREAD_NUMBER`
//! (`getPropertyAsInt(MAX_THREAD_NUMBER, 6)`); its children compiled as any controller's, with
//! the scope they have in the plan (the plugin copies the user's compiled sampler configuration,
//! `samplerConfigMap`, into each branch). As a sampler it has the timers, pre-processors,
//! assertions and post-processors of its own scope.

use loadlake_plan::TestElement;

use crate::compile::{Compiler, Scope};
use crate::error::RunnerError;
use crate::model::{ParallelStep, Step};

/// The plugin's default `MAX_THREAD_NUMBER`.
const DEFAULT_THREADS: i64 = 6;

impl Compiler<'_> {
    /// The Parallel Sampler `c` in `scope`.
    pub(crate) fn parallel(
        &mut self,
        c: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<Step, RunnerError> {
        let el = c.name.as_str();
        let name = self.eval(el, "testname", &c.name)?;
        // `getPropertyAsBoolean`: "true" in any case.
        let on = |me: &Self, prop: &str| -> Result<bool, RunnerError> {
            Ok(me.text(c, prop)?.trim().eq_ignore_ascii_case("true"))
        };
        let limit = if on(self, "LIMIT_MAX_THREAD_NUMBER")? {
            let prop = "MAX_THREAD_NUMBER";
            let n = self.number(el, prop, c.prop_str(prop), DEFAULT_THREADS)?;
            if n < 1 {
                // Executors.newFixedThreadPool(n) throws for n < 1.
                return Err(RunnerError::invalid(
                    el,
                    prop,
                    &n.to_string(),
                    "at least 1 thread",
                ));
            }
            Some(usize::try_from(n).unwrap_or(usize::MAX))
        } else {
            None
        };
        let own = scope.extend(&c.children);
        let parent_sample = on(self, "PARENT_SAMPLE")?;
        if parent_sample {
            self.main_sample_scopes(&own, "a Parallel Sampler with a parent sample")?;
        }
        let mut feeds = Vec::new();
        let steps = self.steps(&c.children, scope, &mut feeds)?;
        if !feeds.is_empty() {
            return Err(RunnerError::setting(
                el,
                "(children)",
                "CSV Data Set, Counter, User Parameters or Random Variable",
                "iteration listeners directly under a Parallel Sampler are not implemented; put \
                 them under its child controllers or above it",
            ));
        }
        Ok(Step::Parallel(Box::new(ParallelStep {
            name,
            parent_sample,
            limit,
            timers: self.timers_in(&own)?,
            assertions: self.checks(&own)?,
            extractors: self.post_processors(&own)?,
            steps,
        })))
    }
}
