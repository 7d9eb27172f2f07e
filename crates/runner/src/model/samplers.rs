//! The executable model of the samplers that need no network: the Flow Control Action
//! (`TestAction`), which writes no sample but pauses, stops or steers the loops; the Debug
//! Sampler and jp@gc Dummy Sampler, whose samples are made in the runner ([`LocalStep`]); and
//! the timers and pre-processors every sampler waits for first ([`Timers`]); and the JSR223 /
//! BeanShell sampler, whose sample its script makes ([`ScriptStep`]); and the bzm Parallel
//! Sampler, whose children run at once ([`ParallelStep`]).

use std::sync::Arc;
use std::time::Duration;

use crate::elements::assertions::Check;
use crate::elements::extractors::PostProcessor;
use crate::elements::scripts::ScriptElement;
use crate::elements::user_parameters::UserParameters;
use crate::model::{RandomDelay, ThroughputTimer};
use crate::text::template::Template;

/// The timers and pre-processors in a sampler's scope, run before it.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    /// Sum of the constant delays (Constant Timers and random timers' offsets).
    pub delay: Duration,
    /// Random parts drawn anew before each execution.
    pub random_delays: Vec<RandomDelay>,
    /// Constant / Precise Throughput Timers.
    pub throughput_timers: Vec<ThroughputTimer>,
    /// User Parameters without `per_iteration`, outermost first (run before the timers).
    pub pre_processors: Vec<Arc<UserParameters>>,
    /// JSR223 / BeanShell pre-processors, outermost first (after the User Parameters).
    pub script_pre: Vec<ScriptElement>,
}

/// A JSR223 / BeanShell sampler with what is in its scope.
#[derive(Debug, Clone)]
pub struct ScriptStep {
    /// The sampler's label.
    pub(crate) label: String,
    /// The label rendered per sample when it holds run-time references.
    pub(crate) label_template: Option<Template>,
    /// The sampler's script.
    pub(crate) script: ScriptElement,
    /// Script pre-processors in scope, in order.
    pub(crate) pre: Vec<ScriptElement>,
    /// Constant timer delays in scope.
    pub(crate) delay: Duration,
    /// Random timer parts in scope.
    pub(crate) random_delays: Vec<RandomDelay>,
    /// Post-processors in scope.
    pub(crate) extractors: Vec<PostProcessor>,
    /// Assertions in scope.
    pub(crate) assertions: Vec<Check>,
}

/// What a Flow Control Action does (`ActionProcessor.action` with `ActionProcessor.target`).
#[derive(Debug, Clone)]
pub enum FlowAction {
    /// Action 1: wait this many ms (`ActionProcessor.duration`, rendered each time; not a
    /// number: 0, as JMeter's `Integer.parseInt` fallback).
    Pause(Template),
    /// Action 0 or 2 on the current thread: the thread stops (after looking for its next
    /// sampler, as JMeter does).
    StopThread,
    /// Action 0 on the test: every thread stops after its current sample.
    StopTest,
    /// Action 2 on the test: every thread stops at once.
    StopTestNow,
    /// Action 3: the thread group's next iteration begins.
    NextThreadLoop,
    /// Action 4 (JMeter ≥ 5.0): the innermost Loop or While Controller begins its next pass
    /// (the thread group's next iteration when there is none).
    NextCurrentLoop,
    /// Action 5 (JMeter ≥ 5.0): the innermost Loop or While Controller ends (the thread's
    /// loop when there is none).
    BreakCurrentLoop,
}

/// A Flow Control Action (`TestAction`): runs its timers and pre-processors, then its action;
/// it writes no sample.
#[derive(Debug, Clone)]
pub struct ActionStep {
    /// The element's `testname`.
    pub name: String,
    /// What it does.
    pub action: FlowAction,
    /// Timers and pre-processors in scope.
    pub timers: Timers,
}

/// A sampler whose sample is made in the runner, with the assertions and extractors in its
/// scope.
#[derive(Debug, Clone)]
pub struct LocalStep {
    /// The element's `testname` (rendered per sample when it holds run-time references).
    pub label: String,
    /// What it answers.
    pub sampler: LocalSampler,
    /// Timers and pre-processors in scope.
    pub timers: Timers,
    /// Assertions in scope, outermost first.
    pub assertions: Vec<Check>,
    /// Post-processors in scope, in order.
    pub extractors: Vec<PostProcessor>,
}

/// The samplers answered in the runner.
#[derive(Debug, Clone)]
pub enum LocalSampler {
    /// Debug Sampler (`DebugSampler`): the variables (and properties) as text.
    Debug {
        /// `displayJMeterVariables` (default true).
        variables: bool,
        /// `displayJMeterProperties`: the run's properties (`-J`), sorted, when shown.
        properties: Option<Vec<(String, String)>>,
        /// `displaySystemProperties` (shown as an empty section).
        system: bool,
    },
    /// jp@gc Dummy Sampler (`kg.apc.jmeter.samplers.DummySampler`).
    Dummy(Box<Dummy>),
    /// OS Process Sampler (`SystemSampler`): a command run on this machine.
    System(Box<crate::elements::system_command::SystemCommand>),
}

/// The settings of a jp@gc Dummy Sampler (jmeter-plugins `jpgc-dummy` 0.4,
/// `kg.apc.jmeter.dummy.DummyElement`), each rendered per sample.
#[derive(Debug, Clone)]
pub struct Dummy {
    /// `SUCCESFULL` (sic).
    pub success: bool,
    /// `RESPONSE_CODE`.
    pub code: Template,
    /// `RESPONSE_MESSAGE`.
    pub message: Template,
    /// `RESPONSE_DATA`: the body.
    pub data: Template,
    /// `RESPONSE_TIME`, ms (`Integer.parseInt`, else 0).
    pub response_time: Template,
    /// `LATENCY`, ms.
    pub latency: Template,
    /// `CONNECT`, ms.
    pub connect: Template,
    /// `WAITING`: sleep the response time (else the sample only says it took that long).
    pub waiting: bool,
    /// `URL` (none when empty).
    pub url: Template,
}

/// The jmeter-bzm-plugins Parallel Controller & Sampler
/// (`com.blazemeter.jmeter.controller.ParallelSampler`): each child (sampler or controller) runs
/// once, all at the same time, for the one user (see [`crate::vu`]'s `parallel`).
#[derive(Debug, Clone)]
pub struct ParallelStep {
    /// The element's `testname`: the parent sample's label.
    pub name: String,
    /// `PARENT_SAMPLE`: one sample whose sub-results are the children's samples (else the
    /// children's samples are recorded on their own and the sampler writes none).
    pub parent_sample: bool,
    /// `LIMIT_MAX_THREAD_NUMBER` with `MAX_THREAD_NUMBER`: at most this many children at once;
    /// `None`: all of them.
    pub limit: Option<usize>,
    /// Timers and pre-processors in the sampler's scope (run before it, as for any sampler).
    pub timers: Timers,
    /// Assertions in scope, checked against the parent sample.
    pub assertions: Vec<Check>,
    /// Post-processors in scope, run on the parent sample.
    pub extractors: Vec<PostProcessor>,
    /// The children, each run as a branch of its own.
    pub steps: Vec<super::Step>,
}
