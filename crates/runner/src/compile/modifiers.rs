//! Compiling the elements that set variables while the test runs besides extractors and CSV
//! Data Sets: Counter Config ([`crate::elements::counter`]) and User Parameters
//! ([`crate::elements::user_parameters`]). Both are iteration listeners of their nearest
//! enclosing controller ([`Feed`]); User Parameters without `per_iteration` are pre-processors
//! of the samplers in their scope instead.

use std::sync::Arc;

use loadlake_plan::TestElement;

use crate::compile::{Compiler, Scope};
use crate::elements::counter::{Counter, NumberFormat};
use crate::elements::user_parameters::UserParameters;
use crate::error::RunnerError;
use crate::model::Feed;

impl Compiler<'_> {
    /// The iteration listener of a CSV Data Set, Counter Config, Random Variable or User
    /// Parameters element (`None` for a Random Variable that sets nothing);
    /// `None` for User Parameters without `per_iteration` (a pre-processor, see
    /// [`Compiler::pre_processors`]).
    pub(crate) fn feed(&mut self, e: &TestElement) -> Result<Option<Feed>, RunnerError> {
        match e.class_name() {
            "CounterConfig" => Ok(Some(Feed::Counter(self.counter(e)?))),
            "RandomVariableConfig" => self.random_variable(e),
            "UserParameters" => {
                let p = self.user_parameters(e)?;
                Ok(p.per_iteration.then_some(Feed::Parameters(p)))
            }
            _ => Ok(Some(Feed::Csv(self.csv_feed(e)?))),
        }
    }

    /// The pre-processors in `scope` (User Parameters without `per_iteration`), outermost
    /// first.
    pub(crate) fn pre_processors(
        &mut self,
        scope: &Scope<'_>,
    ) -> Result<Vec<Arc<UserParameters>>, RunnerError> {
        let mut out = Vec::new();
        for e in scope.pre_processors.clone() {
            let p = self.user_parameters(e)?;
            if !p.per_iteration {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// A Counter Config, built once: its shared counter serves every thread of every group.
    fn counter(&mut self, e: &TestElement) -> Result<Arc<Counter>, RunnerError> {
        let key = e as *const TestElement;
        if let Some(c) = self.counters.get(&key) {
            return Ok(c.clone());
        }
        let long = |c: &Self, prop: &str| c.number(&e.name, prop, e.prop_str(prop), 0);
        let start = long(self, "CounterConfig.start")?;
        let incr = long(self, "CounterConfig.incr")?;
        // JMeter: an empty end is Long.MAX_VALUE (a non-number still reads as 0).
        let end = match self.text(e, "CounterConfig.end")?.trim() {
            "" => i64::MAX,
            _ => long(self, "CounterConfig.end")?,
        };
        let var = self.text(e, "CounterConfig.name")?.trim().to_string();
        let pattern = self.text(e, "CounterConfig.format")?;
        let format =
            match pattern.as_str() {
                "" => None,
                p => Some(NumberFormat::parse(p).map_err(|why| {
                    RunnerError::setting(&e.name, "CounterConfig.format", p, &why)
                })?),
            };
        let counter = Arc::new(Counter::new(
            self.id(),
            var,
            start,
            end,
            incr,
            format,
            self.flag(e, "CounterConfig.per_user", false)?,
            self.flag(e, "CounterConfig.reset_on_tg_iteration", false)?,
        ));
        self.counters.insert(key, counter.clone());
        Ok(counter)
    }

    /// The variable names a User Parameters element sets.
    pub(crate) fn user_parameter_names(&self, e: &TestElement) -> Result<Vec<String>, RunnerError> {
        let prop = "UserParameters.names";
        let Some(names) = e.prop_collection(prop) else {
            return Ok(Vec::new());
        };
        names
            .values()
            .map(|p| {
                let raw = p.as_str().unwrap_or_default();
                Ok(self.eval(&e.name, prop, raw)?.trim().to_string())
            })
            .collect()
    }

    /// A User Parameters element, built once.
    fn user_parameters(&mut self, e: &TestElement) -> Result<Arc<UserParameters>, RunnerError> {
        let key = e as *const TestElement;
        if let Some(p) = self.user_parameters.get(&key) {
            return Ok(p.clone());
        }
        let prop = "UserParameters.thread_values";
        let mut columns = Vec::new();
        for column in e.prop_collection(prop).iter().flat_map(|c| c.values()) {
            let Some(values) = column.as_collection() else {
                return Err(RunnerError::invalid(
                    &e.name,
                    prop,
                    column.xml_tag(),
                    "a collection of value columns",
                ));
            };
            let mut col = Vec::new();
            for v in values.values() {
                let raw = self.eval_deferred(&e.name, prop, v.as_str().unwrap_or_default())?;
                col.push(self.template(&e.name, prop, &raw)?);
            }
            columns.push(col);
        }
        let p = Arc::new(UserParameters {
            element: e.name.clone(),
            names: self.user_parameter_names(e)?,
            columns,
            per_iteration: self.flag(e, "UserParameters.per_iteration", false)?,
        });
        self.user_parameters.insert(key, p.clone());
        Ok(p)
    }
}
