//! The plan summary stored in a run's JSON manifest: test plan name and, per thread group, its
//! load settings (raw text, since they may be `${…}` expressions) and what it samples.

use serde::{Deserialize, Serialize};

use crate::Plan;
use crate::tree::TestElement;

/// When a thread group runs relative to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadGroupKind {
    /// `SetupThreadGroup`: runs before all regular groups.
    Setup,
    /// `ThreadGroup`, or any plugin class ending in `ThreadGroup`.
    Regular,
    /// `PostThreadGroup` (tearDown): runs after all regular groups.
    Teardown,
}

/// One thread group as written in the plan. Load settings are raw property text: `None` when
/// the property is absent, otherwise exactly as written (possibly empty or a `${…}` expression).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadGroupSummary {
    /// `testname`.
    pub name: String,
    /// Setup, regular or teardown.
    pub kind: ThreadGroupKind,
    /// The test class as written (shows plugin thread groups).
    pub test_class: String,
    /// False when the group itself is disabled (it does not run). Its `samplers` and
    /// `transactions` still list what it would run.
    pub enabled: bool,
    /// `ThreadGroup.num_threads`.
    pub num_threads: Option<String>,
    /// `ThreadGroup.ramp_time` (seconds).
    pub ramp_time: Option<String>,
    /// `LoopController.loops` of `ThreadGroup.main_controller`; `-1` means forever.
    pub loops: Option<String>,
    /// `ThreadGroup.scheduler`: true only when written as `true` (any case), as JMeter reads it.
    pub scheduler: bool,
    /// `ThreadGroup.duration` (seconds; used only with the scheduler).
    pub duration: Option<String>,
    /// `ThreadGroup.delay` (startup delay in seconds; used only with the scheduler).
    pub delay: Option<String>,
    /// `ThreadGroup.on_sample_error`: `continue`, `startnextloop`, `stopthread`, `stoptest`
    /// or `stoptestnow`.
    pub on_sample_error: Option<String>,
    /// Names (labels) of the enabled samplers below the group, depth first in file order;
    /// a name used by several samplers appears once per sampler.
    pub samplers: Vec<String>,
    /// Names of the enabled Transaction Controllers below the group, in file order.
    pub transactions: Vec<String>,
}

/// What the importer records about a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// `testname` of the TestPlan element.
    pub test_plan_name: Option<String>,
    /// The `jmeter` attribute of `<jmeterTestPlan>`: the JMeter version that saved the file
    /// (absent in very old files).
    pub jmeter_version: Option<String>,
    /// The `properties` attribute: the save-format version (`2.8` for 2.13, `5.0` for 5.x).
    pub save_format: Option<String>,
    /// `TestPlan.serialize_threadgroups`: regular groups run one after another.
    pub serialize_thread_groups: bool,
    /// Thread groups in file order, disabled ones included (flagged).
    pub thread_groups: Vec<ThreadGroupSummary>,
}

impl ThreadGroupSummary {
    /// Summarises `element`; `None` when it is not a thread group.
    pub fn from_element(element: &TestElement) -> Option<ThreadGroupSummary> {
        let kind = element.thread_group_kind()?;
        let raw = |name: &str| element.prop_str(name).map(str::to_string);
        let loops = element
            .prop_element("ThreadGroup.main_controller")
            .and_then(|lc| lc.prop_str("LoopController.loops"))
            .map(str::to_string);
        let mut samplers = Vec::new();
        let mut transactions = Vec::new();
        for el in element.enabled_descendants() {
            if el.is_sampler() {
                samplers.push(el.name.clone());
            } else if el.is_transaction_controller() {
                transactions.push(el.name.clone());
            }
        }
        Some(ThreadGroupSummary {
            name: element.name.clone(),
            kind,
            test_class: element.test_class.clone(),
            enabled: element.enabled,
            num_threads: raw("ThreadGroup.num_threads"),
            ramp_time: raw("ThreadGroup.ramp_time"),
            loops,
            scheduler: element.prop_bool("ThreadGroup.scheduler").unwrap_or(false),
            duration: raw("ThreadGroup.duration"),
            delay: raw("ThreadGroup.delay"),
            on_sample_error: raw("ThreadGroup.on_sample_error"),
            samplers,
            transactions,
        })
    }
}

impl PlanSummary {
    /// Summarises `plan`.
    pub fn of(plan: &Plan) -> PlanSummary {
        let test_plan = plan.test_plan();
        PlanSummary {
            test_plan_name: test_plan.map(|tp| tp.name.clone()),
            jmeter_version: plan.jmeter.clone(),
            save_format: plan.properties.clone(),
            serialize_thread_groups: test_plan
                .and_then(|tp| tp.prop_bool("TestPlan.serialize_threadgroups"))
                .unwrap_or(false),
            thread_groups: plan.thread_groups(),
        }
    }
}

/// Thread groups below `roots`, in file order, without descending into a thread group (its
/// subtree holds samplers, not more groups). Disabled groups are included.
pub(crate) fn find_thread_groups(roots: &[TestElement], out: &mut Vec<ThreadGroupSummary>) {
    for el in roots {
        match ThreadGroupSummary::from_element(el) {
            Some(tg) => out.push(tg),
            None => find_thread_groups(&el.children, out),
        }
    }
}
