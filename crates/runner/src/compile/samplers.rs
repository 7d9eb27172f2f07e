//! Compiling the samplers that need no network: the Flow Control Action (`TestAction`, JMeter
//! 2.13's actions and JMeter 5's two loop actions), the Debug Sampler and the jp@gc Dummy
//! Sampler, with the timers, pre-processors, assertions and extractors in their scope.

use loadlake_plan::TestElement;

use crate::compile::{Compiler, Scope};
use crate::error::RunnerError;
use crate::model::{ActionStep, Dummy, FlowAction, LocalSampler, LocalStep, Timers};
use crate::text::template::Template;

impl Compiler<'_> {
    /// The timers and pre-processors in `scope`.
    pub(crate) fn timers_in(&mut self, scope: &Scope<'_>) -> Result<Timers, RunnerError> {
        Ok(Timers {
            delay: self.delay(scope)?,
            random_delays: self.random_delays(scope)?,
            throughput_timers: self.throughput_timers(scope)?,
            pre_processors: self.pre_processors(scope)?,
            script_pre: self.script_pre_processors(scope)?,
        })
    }

    /// A Flow Control Action. `ActionProcessor.action`: 0 stop, 1 pause, 2 stop now, 3 next
    /// iteration of the thread's loop, 4 next iteration of the current loop, 5 break the
    /// current loop (4 and 5 from JMeter 5); `ActionProcessor.target`: 0 the current thread, 2
    /// the whole test (JMeter's `TestAction`).
    pub(crate) fn action(
        &mut self,
        e: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<ActionStep, RunnerError> {
        let number = |c: &Self, prop: &str| c.number(&e.name, prop, e.prop_str(prop), 0);
        let action_no = number(self, "ActionProcessor.action")?;
        let target = number(self, "ActionProcessor.target")?;
        if target != 0 && target != 2 {
            return Err(RunnerError::setting(
                &e.name,
                "ActionProcessor.target",
                &target.to_string(),
                "JMeter has only 0 (current thread) and 2 (all threads)",
            ));
        }
        let action = match (action_no, target) {
            (1, _) => {
                let prop = "ActionProcessor.duration";
                let raw = self.eval_deferred(&e.name, prop, e.prop_str(prop).unwrap_or(""))?;
                FlowAction::Pause(self.template(&e.name, prop, &raw)?)
            }
            (0 | 2, 0) => FlowAction::StopThread,
            (0, _) => FlowAction::StopTest,
            (2, _) => FlowAction::StopTestNow,
            (3, _) => FlowAction::NextThreadLoop,
            (4, _) => FlowAction::NextCurrentLoop,
            (5, _) => FlowAction::BreakCurrentLoop,
            (other, _) => {
                return Err(RunnerError::setting(
                    &e.name,
                    "ActionProcessor.action",
                    &other.to_string(),
                    "the actions are 0 (stop), 1 (pause), 2 (stop now), 3 (next thread loop), \
                     4 (next iteration of the current loop), 5 (break the current loop)",
                ));
            }
        };
        Ok(ActionStep {
            name: self.eval(&e.name, "testname", &e.name)?,
            action,
            timers: self.timers_in(scope)?,
        })
    }

    /// A Debug Sampler (`DebugSampler`, a TestBean: `displayJMeterVariables` default true, the
    /// two others false) or a jp@gc Dummy Sampler (`DummySampler`, jpgc-dummy 0.4's
    /// properties).
    pub(crate) fn local(
        &mut self,
        e: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<LocalStep, RunnerError> {
        let sampler = match e.class_name() {
            "JavaSampler" => return self.java_test(e, scope),
            "SystemSampler" => LocalSampler::System(Box::new(self.system_command(e)?)),
            "DebugSampler" => {
                let properties = self.flag(e, "displayJMeterProperties", false)?;
                let system = self.flag(e, "displaySystemProperties", false)?;
                if properties || system {
                    self.report.warn(format!(
                        "element \"{}\": a Debug Sampler shows only the run's -J properties \
                         (JMeter also lists jmeter.properties) and no Java system properties",
                        e.name
                    ));
                }
                LocalSampler::Debug {
                    variables: self.flag(e, "displayJMeterVariables", true)?,
                    properties: properties.then(|| {
                        self.ev
                            .props()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    }),
                    system,
                }
            }
            _ => LocalSampler::Dummy(Box::new(self.dummy(e)?)),
        };
        Ok(LocalStep {
            label: self.eval(&e.name, "testname", &e.name)?,
            sampler,
            timers: self.timers_in(scope)?,
            assertions: self.checks(scope)?,
            extractors: self.post_processors(scope)?,
        })
    }

    fn dummy(&mut self, e: &TestElement) -> Result<Dummy, RunnerError> {
        if let Some(class) = e.prop_str("RESULT_CLASS").map(str::trim)
            && !matches!(
                class,
                "" | "org.apache.jmeter.samplers.SampleResult"
                    | "org.apache.jmeter.protocol.http.sampler.HTTPSampleResult"
            )
        {
            return Err(RunnerError::setting(
                &e.name,
                "RESULT_CLASS",
                class,
                "only SampleResult and HTTPSampleResult are known",
            ));
        }
        let t = |c: &mut Self, prop: &str| -> Result<Template, RunnerError> {
            let raw = c.eval_deferred(&e.name, prop, e.prop_str(prop).unwrap_or(""))?;
            c.template(&e.name, prop, &raw)
        };
        Ok(Dummy {
            success: self.flag(e, "SUCCESFULL", false)?,
            code: t(self, "RESPONSE_CODE")?,
            message: t(self, "RESPONSE_MESSAGE")?,
            data: t(self, "RESPONSE_DATA")?,
            response_time: t(self, "RESPONSE_TIME")?,
            latency: t(self, "LATENCY")?,
            connect: t(self, "CONNECT")?,
            waiting: self.flag(e, "WAITING", false)?,
            url: t(self, "URL")?,
        })
    }
}
