//! Plan → [`RunnablePlan`]: walks the enabled TestPlan tree, substitutes `${…}`, applies JMeter
//! scoping (a config element, timer or assertion applies to every sampler in its parent's subtree;
//! elements under a sampler apply to that sampler only) and refuses every enabled element outside
//! the supported subset with [`RunnerError::Unsupported`]. One `impl Compiler` spread over this
//! folder: logic controllers and CSV Data Sets in [`controllers`], timers in [`timers`], HTTP
//! samplers in [`http_sampler`], extractors and assertions in [`assertions_extractors`]; the
//! compile-time `${…}` substitution in [`vars`].

pub(crate) mod assertions_extractors;
pub(crate) mod auth;
pub(crate) mod cache;
pub(crate) mod controllers;
pub(crate) mod embedded;
pub(crate) mod http_files;
pub(crate) mod http_protocol;
pub(crate) mod http_sampler;
pub(crate) mod java_test;
pub(crate) mod listeners;
pub(crate) mod markup_extractors;
pub(crate) mod modifiers;
pub(crate) mod modules;
pub(crate) mod parallel;
pub(crate) mod plugin_groups;
pub(crate) mod random_variable;
pub(crate) mod refusals;
pub(crate) mod regex_params;
pub(crate) mod samplers;
pub(crate) mod scripts;
pub(crate) mod system_sampler;
pub(crate) mod timers;
pub(crate) mod vars;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loadlake_plan::{Plan, Props, TestElement};

use crate::compile::vars::Evaluator;
use crate::elements::csv_data_set::{CsvCursor, CsvDataSet};
use crate::error::{At, RunnerError};
use crate::model::{
    DataFile, Feed, GroupRole, Loops, OnSampleError, RunnablePlan, Step, ThreadGroupPlan,
    ThroughputCounts, ThroughputTimer,
};

/// What the compiler does with an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    ThreadGroup(GroupRole),
    Http,
    /// Flow Control Action (TestAction).
    Action,
    /// Debug Sampler, jp@gc Dummy Sampler.
    Local,
    /// Module Controller.
    Module,
    /// ForEach Controller.
    ForEach,
    /// Interleave and Random Controllers.
    Interleave,
    /// Include Controller.
    Include,
    Simple,
    Loop,
    Transaction,
    If,
    While,
    Switch,
    OnceOnly,
    Throughput,
    Runtime,
    /// The bzm Parallel Controller & Sampler: a sampler whose children run at once.
    Parallel,
    CsvData,
    /// Counter Config and User Parameters: iteration listeners (and pre-processors).
    Modifier,
    HttpDefaults,
    Headers,
    /// HTTP Authorization Manager.
    Auth,
    /// HTTP Cache Manager.
    Cache,
    /// DNS Cache Manager (checked once, no effect).
    Dns,
    Cookies,
    Timer,
    Assertion,
    Extractor,
    Variables,
    Listener,
    /// JSR223 / BeanShell samplers.
    ScriptSampler,
    /// JSR223 / BeanShell pre-processors.
    ScriptPre,
    /// RegEx User Parameters (a pre-processor of HTTP samplers).
    RegexParams,
    Unsupported,
}

pub(crate) fn kind(e: &TestElement) -> Kind {
    match e.class_name() {
        "ThreadGroup" => Kind::ThreadGroup(GroupRole::Main),
        c if plugin_groups::PLUGIN_GROUPS.contains(&c) => Kind::ThreadGroup(GroupRole::Main),
        "SetupThreadGroup" => Kind::ThreadGroup(GroupRole::Setup),
        "PostThreadGroup" => Kind::ThreadGroup(GroupRole::Teardown),
        "IfController" => Kind::If,
        "WhileController" => Kind::While,
        "SwitchController" => Kind::Switch,
        "OnceOnlyController" => Kind::OnceOnly,
        "ThroughputController" => Kind::Throughput,
        "RunTime" => Kind::Runtime,
        "ParallelSampler" => Kind::Parallel,
        "CSVDataSet" => Kind::CsvData,
        "CounterConfig" | "UserParameters" | "RandomVariableConfig" => Kind::Modifier,
        "HTTPSamplerProxy" | "HTTPSampler" | "HTTPSampler2" => Kind::Http,
        "TestAction" => Kind::Action,
        "DebugSampler" | "DummySampler" | "JavaSampler" | "SystemSampler" => Kind::Local,
        // A Recording Controller is a Simple Controller the proxy recorder fills (JMeter's
        // RecordingController extends GenericController and runs the same way).
        "GenericController" | "RecordingController" | modules::TEST_FRAGMENT => Kind::Simple,
        "ModuleController" => Kind::Module,
        "ForeachController" => Kind::ForEach,
        "InterleaveControl" | "RandomController" => Kind::Interleave,
        "IncludeController" => Kind::Include,
        "LoopController" => Kind::Loop,
        "TransactionController" => Kind::Transaction,
        "ConfigTestElement" if is_http_defaults(e) => Kind::HttpDefaults,
        "HeaderManager" => Kind::Headers,
        "AuthManager" => Kind::Auth,
        "CacheManager" => Kind::Cache,
        "CookieManager" => Kind::Cookies,
        "ConstantTimer"
        | "UniformRandomTimer"
        | "GaussianRandomTimer"
        | "ConstantThroughputTimer"
        | "PreciseThroughputTimer"
        | "VariableThroughputTimer" => Kind::Timer,
        "ResponseAssertion" | "DurationAssertion" | "SizeAssertion" | "JSONPathAssertion" => {
            Kind::Assertion
        }
        "RegexExtractor" | "JSONPostProcessor" | "BoundaryExtractor" | "JSONPathExtractor"
        | "HtmlExtractor" | "XPathExtractor" => Kind::Extractor,
        "Arguments" => Kind::Variables,
        "JSR223Sampler" | "BeanShellSampler" => Kind::ScriptSampler,
        "JSR223PreProcessor" | "BeanShellPreProcessor" => Kind::ScriptPre,
        "RegExUserParameters" => Kind::RegexParams,
        "JSR223PostProcessor" | "BeanShellPostProcessor" => Kind::Extractor,
        "JSR223Assertion" | "BeanShellAssertion" => Kind::Assertion,
        c if listeners::LISTENERS.iter().any(|(l, _)| *l == c) => Kind::Listener,
        "DNSCacheManager" => Kind::Dns,
        _ => Kind::Unsupported,
    }
}

fn is_http_defaults(e: &TestElement) -> bool {
    match e.gui_class.as_deref() {
        Some(gui) => gui.rsplit('.').next() == Some("HttpDefaultsGui"),
        None => e.props.iter().any(|p| p.name.starts_with("HTTPSampler.")),
    }
}

/// The config elements, timers and assertions in scope at some point of the tree, outermost
/// first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope<'a> {
    pub defaults: Vec<&'a TestElement>,
    pub headers: Vec<&'a TestElement>,
    /// HTTP Authorization Managers.
    pub auth: Vec<&'a TestElement>,
    /// HTTP Cache Managers.
    pub cache: Vec<&'a TestElement>,
    pub cookies: Vec<&'a TestElement>,
    pub timers: Vec<&'a TestElement>,
    pub assertions: Vec<&'a TestElement>,
    pub extractors: Vec<&'a TestElement>,
    /// User Parameters (those without `per_iteration` act as pre-processors).
    pub pre_processors: Vec<&'a TestElement>,
    /// JSR223 / BeanShell pre-processors.
    pub script_pre: Vec<&'a TestElement>,
    /// RegEx User Parameters.
    pub regex_params: Vec<&'a TestElement>,
}

impl<'a> Scope<'a> {
    /// This scope plus the scoped elements among `children` (the enabled ones).
    pub(crate) fn extend(&self, children: &'a [TestElement]) -> Scope<'a> {
        let mut s = self.clone();
        for c in children.iter().filter(|c| c.enabled) {
            match kind(c) {
                Kind::HttpDefaults => s.defaults.push(c),
                Kind::Headers => s.headers.push(c),
                Kind::Auth => s.auth.push(c),
                Kind::Cache => s.cache.push(c),
                Kind::Cookies => s.cookies.push(c),
                Kind::Timer => s.timers.push(c),
                Kind::Assertion => s.assertions.push(c),
                Kind::Extractor => s.extractors.push(c),
                Kind::Modifier if c.class_name() == "UserParameters" => s.pre_processors.push(c),
                Kind::ScriptPre => s.script_pre.push(c),
                Kind::RegexParams => s.regex_params.push(c),
                _ => {}
            }
        }
        s
    }
}

/// Compiles `plan` for the native runner; `props` are the run's properties (`-Jname=value`),
/// read by `${__P(…)}` and `${__property(…)}`. Relative CSV file names resolve against the
/// current directory; see [`compile_at`].
pub fn compile(plan: &Plan, props: &BTreeMap<String, String>) -> Result<RunnablePlan, RunnerError> {
    compile_at(plan, props, Path::new("."))
}

/// [`compile`] for a plan whose relative file names (CSV Data Sets) resolve against `base_dir`,
/// the JMX file's directory, as in JMeter.
pub fn compile_at(
    plan: &Plan,
    props: &BTreeMap<String, String>,
    base_dir: &Path,
) -> Result<RunnablePlan, RunnerError> {
    compile_with(
        plan,
        props,
        DataFiles {
            base_dir: base_dir.to_path_buf(),
            shipped: BTreeMap::new(),
        },
    )
}

/// Where a plan's data files (CSV Data Sets) come from.
#[derive(Debug, Clone, Default)]
pub struct DataFiles {
    /// Relative file names resolve against this directory (the JMX file's, as in JMeter).
    pub base_dir: PathBuf,
    /// Files sent along with the plan (to agents, by the controller), by the name the plan
    /// gives them after property substitution; read instead of the disk.
    pub shipped: BTreeMap<String, Vec<u8>>,
}

/// [`compile`] reading data files from `files`.
pub fn compile_with(
    plan: &Plan,
    props: &BTreeMap<String, String>,
    files: DataFiles,
) -> Result<RunnablePlan, RunnerError> {
    let tp = plan
        .elements
        .iter()
        .find(|e| e.class_name() == "TestPlan" && e.enabled)
        .ok_or(RunnerError::NoTestPlan)?;
    let mut c = Compiler {
        ev: Evaluator::new(props),
        ignored: Vec::new(),
        files,
        data_files: Vec::new(),
        next_id: 0,
        group_index: 0,
        csv_loaded: HashMap::new(),
        csv_cursors: HashMap::new(),
        timers: HashMap::new(),
        schedules: HashMap::new(),
        shared_counts: HashMap::new(),
        counters: HashMap::new(),
        user_parameters: HashMap::new(),
        test_plan: Some(tp),
        modules: modules::ModuleState::default(),
        report: refusals::Report::default(),
    };
    // Scripts run while compiling (`${__BeanShell(…)}` in a fixed value) see the plan's folder.
    c.ev.base_dir = c.files.base_dir.to_string_lossy().into_owned();
    // "All the UDV elements in a test plan — no matter where they are — are processed at the
    // start", top to bottom: the TestPlan's own first.
    // Every refusal is collected (with where it is) and reported together at the end.
    if let Some(udv) = tp.prop_element("TestPlan.user_defined_variables")
        && udv.enabled
    {
        let r = c.define_arguments(&tp.name, &udv.props);
        c.keep(r, ());
    }
    for e in tp.enabled_descendants() {
        if kind(e) == Kind::Variables {
            let r = c.define_arguments(&e.name, &e.props);
            c.keep(r, ());
        }
    }
    // Properties the scripts write are read by `${__P(…)}` at run time.
    let written = scripts::written_properties(tp, &c.files.base_dir);
    c.ev.script_properties(written);
    for e in tp.enabled_descendants().filter(|e| kind(e) == Kind::Dns) {
        c.within(e, |c| c.dns_cache_manager(e));
    }
    let r = c.mark_runtime_variables(tp);
    c.keep(r, ());
    let r = c.flag(tp, "TestPlan.serialize_threadgroups", false);
    let serialize_groups = c.keep(r, false);
    let r = c.flag(tp, "TestPlan.tearDown_on_shutdown", false);
    let teardown_on_shutdown = c.keep(r, false);
    let scope = Scope::default().extend(&tp.children);
    let mut groups = Vec::new();
    for child in tp.children.iter().filter(|e| e.enabled) {
        match kind(child) {
            Kind::ThreadGroup(role) => {
                c.group_index = groups.len();
                let r = c.within(child, |c| c.thread_group(child, role, &scope, &tp.children));
                if let Some(g) = r {
                    groups.push(g);
                }
            }
            Kind::Listener => c.ignore(child),
            // A Test Fragment runs only through a Module or Include Controller.
            Kind::Simple if child.class_name() == modules::TEST_FRAGMENT => {}
            Kind::HttpDefaults
            | Kind::Headers
            | Kind::Auth
            | Kind::Cache
            | Kind::Dns
            | Kind::Cookies
            | Kind::Timer
            | Kind::Assertion
            | Kind::Extractor
            | Kind::CsvData
            | Kind::Modifier
            | Kind::ScriptPre
            | Kind::RegexParams
            | Kind::Variables => {}
            _ => c.refuse_element(child),
        }
    }
    c.report.property_defaults(tp, props);
    c.report.finish()?;
    if groups.iter().all(|g| g.role != GroupRole::Main) {
        return Err(RunnerError::NoThreadGroups);
    }
    let names = Arc::new(c.report.take_names());
    for g in &mut groups {
        g.names = Arc::clone(&names);
    }
    let variables =
        c.ev.variables()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    Ok(RunnablePlan {
        name: tp.name.clone(),
        serialize_groups,
        teardown_on_shutdown,
        variables,
        groups,
        ignored: c.ignored,
        data_files: c.data_files,
        warnings: c.report.take_warnings(),
    })
}

pub(crate) fn unsupported(e: &TestElement) -> RunnerError {
    RunnerError::Unsupported {
        element: e.name.clone(),
        class: e.class_name().to_string(),
    }
}

/// Identity of an element in the plan tree (its address: the tree outlives the compiler).
pub(crate) type ElementKey = *const TestElement;

pub(crate) struct Compiler<'p> {
    pub ev: Evaluator<'p>,
    pub ignored: Vec<String>,
    /// Where data files are read from.
    pub files: DataFiles,
    /// The data files read from disk so far.
    pub data_files: Vec<DataFile>,
    /// The next run-unique id (per-thread state of controllers, timers and data sets).
    pub next_id: usize,
    /// Index of the thread group being compiled.
    pub group_index: usize,
    /// CSV Data Sets already read, by element.
    pub csv_loaded: HashMap<ElementKey, CsvDataSet>,
    /// Shared CSV read positions, by sharing key.
    pub csv_cursors: HashMap<String, CsvCursor>,
    /// Throughput timers already built, by element and group (their state is shared).
    pub timers: HashMap<(ElementKey, usize), ThroughputTimer>,
    /// Schedules of the shared Constant Throughput modes: by group index, `usize::MAX` for all
    /// threads.
    pub schedules: HashMap<usize, crate::elements::throughput_timers::ConstantThroughput>,
    /// Throughput Controller counts shared by all threads, by element.
    pub shared_counts: HashMap<ElementKey, Arc<Mutex<ThroughputCounts>>>,
    /// Counter Configs already built, by element (one instance for the whole test, as JMeter's
    /// `NoThreadClone`).
    pub counters: HashMap<ElementKey, Arc<crate::elements::counter::Counter>>,
    /// User Parameters already built, by element.
    pub user_parameters: HashMap<ElementKey, Arc<crate::elements::user_parameters::UserParameters>>,
    /// The plan's TestPlan element (Module Controllers find their targets from it).
    pub test_plan: Option<&'p TestElement>,
    /// Included files and the Module / Include Controllers being expanded.
    pub modules: modules::ModuleState,
    /// Refusals and warnings collected so far, and the run-time element names.
    pub report: refusals::Report,
}

impl Compiler<'_> {
    /// A new run-unique id.
    pub(crate) fn id(&mut self) -> usize {
        self.next_id += 1;
        self.next_id
    }

    /// Evaluates raw property text of element `element`. An element's name (`testname`) is
    /// rendered per sample, as JMeter does: see [`Compiler::name_text`].
    pub(crate) fn eval(
        &self,
        element: &str,
        property: &str,
        raw: &str,
    ) -> Result<String, RunnerError> {
        if property == "testname" {
            return self.name_text(element, raw);
        }
        self.ev.eval(raw, At { element, property })
    }

    /// Raw property text of element `element` with what is known now substituted and run-time
    /// references left for a [`crate::text::template::Template`] (see `Evaluator::eval_deferred`).
    pub(crate) fn eval_deferred(
        &self,
        element: &str,
        property: &str,
        raw: &str,
    ) -> Result<String, RunnerError> {
        self.ev.eval_deferred(raw, At { element, property })
    }

    /// Property `prop` of `e`, evaluated (empty when absent).
    pub(crate) fn text(&self, e: &TestElement, prop: &str) -> Result<String, RunnerError> {
        self.eval(&e.name, prop, e.prop_str(prop).unwrap_or(""))
    }

    /// A boolean property; `default` when absent or empty.
    pub(crate) fn flag(
        &self,
        e: &TestElement,
        prop: &str,
        default: bool,
    ) -> Result<bool, RunnerError> {
        let v = self.text(e, prop)?;
        let t = v.trim();
        if t.is_empty() {
            Ok(default)
        } else if t.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if t.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err(RunnerError::invalid(&e.name, prop, &v, "true or false"))
        }
    }

    /// A whole number; `default` when empty; 0 with a warning when it is not a number (JMeter's
    /// `getPropertyAsInt` / `getPropertyAsLong`).
    pub(crate) fn number(
        &self,
        element: &str,
        prop: &str,
        raw: Option<&str>,
        default: i64,
    ) -> Result<i64, RunnerError> {
        let v = self.eval(element, prop, raw.unwrap_or(""))?;
        let t = v.trim();
        if t.is_empty() {
            return Ok(default);
        }
        Ok(t.parse::<i64>()
            .unwrap_or_else(|_| self.report.not_a_number(element, prop, &v)))
    }

    /// A non-negative whole number; `default` when empty.
    pub(crate) fn count(
        &self,
        e: &TestElement,
        prop: &str,
        default: u64,
    ) -> Result<u64, RunnerError> {
        let n = self.number(&e.name, prop, e.prop_str(prop), default as i64)?;
        u64::try_from(n)
            .map_err(|_| RunnerError::invalid(&e.name, prop, &n.to_string(), "a number ≥ 0"))
    }

    fn define_arguments(&mut self, element: &str, props: &Props) -> Result<(), RunnerError> {
        let Some(args) = props.get_collection("Arguments.arguments") else {
            return Ok(());
        };
        for arg in args.values().filter_map(|p| p.as_element()) {
            let name = arg.prop_str("Argument.name").unwrap_or("").trim();
            if name.is_empty() {
                continue;
            }
            let raw = arg.prop_str("Argument.value").unwrap_or("");
            let value = self.eval(element, &format!("Argument.value ({name})"), raw)?;
            self.ev.define(name, value);
        }
        Ok(())
    }

    /// Compiles a thread group; `plan_children` are the TestPlan's own children (CSV Data Sets
    /// there feed every group).
    fn thread_group(
        &mut self,
        g: &TestElement,
        role: GroupRole,
        scope: &Scope<'_>,
        plan_children: &[TestElement],
    ) -> Result<ThreadGroupPlan, RunnerError> {
        // A bad setting is refused (collected), and the rest of the group is still compiled so
        // that every refusal is reported at once.
        let threads = self.count(g, "ThreadGroup.num_threads", 1).and_then(|n| {
            u32::try_from(n).map_err(|_| {
                RunnerError::invalid(
                    &g.name,
                    "ThreadGroup.num_threads",
                    &n.to_string(),
                    "a thread count",
                )
            })
        });
        let threads = self.keep(threads, 1);
        let r = self.count(g, "ThreadGroup.ramp_time", 0);
        let ramp_up = Duration::from_secs(self.keep(r, 0));
        let loops = match g.prop_element("ThreadGroup.main_controller") {
            Some(lc) => {
                let r = self.loops(&g.name, lc.prop_str("LoopController.loops"));
                self.keep(r, Loops::Count(1))
            }
            None => Loops::Count(1),
        };
        // A jmeter-plugins thread group: its schedule gives the users and their times; they
        // loop until their end unless its loop controller counts.
        let schedule = plugin_groups::PLUGIN_GROUPS
            .contains(&g.class_name())
            .then(|| {
                let r = self.plugin_windows(g);
                Arc::new(self.keep(r, Vec::new()))
            });
        let (threads, loops) = match &schedule {
            Some(w) => (
                u32::try_from(w.len()).unwrap_or(u32::MAX),
                match g.prop_element("ThreadGroup.main_controller") {
                    Some(lc) if lc.prop_str("LoopController.loops").is_some() => loops,
                    _ => Loops::Forever,
                },
            ),
            None => (threads, loops),
        };
        let r = self.flag(g, "ThreadGroup.scheduler", false);
        let scheduler = self.keep(r, false) && schedule.is_none();
        let (duration, startup_delay) = if scheduler {
            let r = self.count(g, "ThreadGroup.duration", 0);
            let d = self.keep(r, 0);
            let r = self.count(g, "ThreadGroup.delay", 0);
            let delay = self.keep(r, 0);
            (
                (d > 0).then(|| Duration::from_secs(d)),
                Duration::from_secs(delay),
            )
        } else {
            (None, Duration::ZERO)
        };
        let on_error = self.text(g, "ThreadGroup.on_sample_error").and_then(|v| {
            Ok(match v.trim() {
                "" | "continue" => OnSampleError::Continue,
                "startnextloop" => OnSampleError::StartNextLoop,
                "stopthread" => OnSampleError::StopThread,
                "stoptest" => OnSampleError::StopTest,
                "stoptestnow" => OnSampleError::StopTestNow,
                other => {
                    return Err(RunnerError::invalid(
                        &g.name,
                        "ThreadGroup.on_sample_error",
                        other,
                        "one of continue, startnextloop, stopthread, stoptest, stoptestnow",
                    ));
                }
            })
        });
        let on_error = self.keep(on_error, OnSampleError::Continue);
        let name = self.eval(&g.name, "testname", &g.name)?;
        let mut feeds = Vec::new();
        for d in plan_children
            .iter()
            .filter(|e| e.enabled && matches!(kind(e), Kind::CsvData | Kind::Modifier))
        {
            if let Some(Some(feed)) = self.within(d, |c| c.feed(d)) {
                feeds.push(feed);
            }
        }
        let steps = self.steps(&g.children, scope, &mut feeds)?;
        let mut clear_cookies = false;
        for m in scope
            .cookies
            .iter()
            .copied()
            .chain(g.enabled_descendants().filter(|e| kind(e) == Kind::Cookies))
        {
            let r = self.flag(m, "CookieManager.clearEachIteration", false);
            clear_cookies |= self.keep(r, false);
        }
        let mut clear_cache = false;
        for m in scope
            .cache
            .iter()
            .copied()
            .chain(g.enabled_descendants().filter(|e| kind(e) == Kind::Cache))
        {
            let r = self.flag(m, "clearEachIteration", false);
            clear_cache |= self.keep(r, false);
        }
        Ok(ThreadGroupPlan {
            name,
            role,
            threads,
            ramp_up,
            loops,
            startup_delay,
            on_error,
            clear_cookies,
            clear_cache,
            feeds,
            steps,
            names: Arc::default(),
            // The users stop at their ends; the group's duration is the last end.
            duration: match &schedule {
                Some(w) => Some(w.iter().map(|w| w.end).max().unwrap_or_default()),
                None => duration,
            },
            schedule,
        })
    }

    pub(crate) fn loops(&self, element: &str, raw: Option<&str>) -> Result<Loops, RunnerError> {
        let prop = "LoopController.loops";
        match self.number(element, prop, raw, 1)? {
            -1 => Ok(Loops::Forever),
            n if n >= 0 => Ok(Loops::Count(n as u64)),
            n => Err(RunnerError::invalid(
                element,
                prop,
                &n.to_string(),
                "-1 or a number ≥ 0",
            )),
        }
    }

    /// The steps for `children` of a thread group or controller. CSV Data Sets found here (and
    /// under its samplers) go to `feeds`: the data sets of that thread group or controller.
    pub(crate) fn steps(
        &mut self,
        children: &[TestElement],
        parent: &Scope<'_>,
        feeds: &mut Vec<Feed>,
    ) -> Result<Vec<Step>, RunnerError> {
        let scope = parent.extend(children);
        let mut steps = Vec::new();
        // A refused child is collected with where it is (see `refusals`) and left out; its
        // siblings are still compiled.
        for child in children.iter().filter(|c| c.enabled) {
            match kind(child) {
                Kind::Http | Kind::Action | Kind::Local | Kind::ScriptSampler => {
                    let sampler_scope = scope.extend(&child.children);
                    for sub in child.children.iter().filter(|c| c.enabled) {
                        match kind(sub) {
                            Kind::HttpDefaults
                            | Kind::Headers
                            | Kind::Auth
                            | Kind::Cache
                            | Kind::Dns
                            | Kind::Cookies
                            | Kind::Timer
                            | Kind::Assertion
                            | Kind::Extractor
                            | Kind::ScriptPre
                            | Kind::RegexParams
                            | Kind::Variables => {}
                            Kind::CsvData | Kind::Modifier => {
                                if let Some(Some(feed)) = self.within(sub, |c| c.feed(sub)) {
                                    feeds.push(feed);
                                }
                            }
                            Kind::Listener => self.ignore(sub),
                            _ => self.refuse_element(sub),
                        }
                    }
                    let step = self.within(child, |c| match kind(child) {
                        Kind::Action => {
                            Ok(Step::Action(Box::new(c.action(child, &sampler_scope)?)))
                        }
                        Kind::Local => Ok(Step::Local(Box::new(c.local(child, &sampler_scope)?))),
                        Kind::ScriptSampler => Ok(Step::Script(Box::new(
                            c.script_sampler(child, &sampler_scope)?,
                        ))),
                        _ => c.http_sampler(child, &sampler_scope),
                    });
                    steps.extend(step);
                }
                Kind::Simple
                | Kind::Module
                | Kind::Include
                | Kind::ForEach
                | Kind::Interleave
                | Kind::Loop
                | Kind::Transaction
                | Kind::If
                | Kind::While
                | Kind::Switch
                | Kind::OnceOnly
                | Kind::Throughput
                | Kind::Runtime => {
                    if let Some(step) = self.within(child, |c| c.controller(child, &scope)) {
                        steps.push(step);
                    }
                }
                Kind::Parallel => {
                    if let Some(step) = self.within(child, |c| c.parallel(child, &scope)) {
                        steps.push(step);
                    }
                }
                Kind::CsvData | Kind::Modifier => {
                    if let Some(Some(feed)) = self.within(child, |c| c.feed(child)) {
                        feeds.push(feed);
                    }
                }
                Kind::HttpDefaults
                | Kind::Headers
                | Kind::Auth
                | Kind::Cache
                | Kind::Dns
                | Kind::Cookies
                | Kind::Timer
                | Kind::Assertion
                | Kind::Extractor
                | Kind::ScriptPre
                | Kind::RegexParams
                | Kind::Variables => {}
                Kind::Listener => self.ignore(child),
                Kind::ThreadGroup(_) | Kind::Unsupported => self.refuse_element(child),
            }
        }
        Ok(steps)
    }
}
