//! The executable model that [`crate::compile`] builds from a JMX tree: thread groups holding
//! steps (HTTP requests, transactions, simple and loop controllers), with every `${…}` already
//! substituted, HTTP defaults and headers merged, and timers and assertions attached to the
//! samplers in their scope. [`RunnablePlan::explain`] describes it for `loadlake run --validate`.

mod samplers;

use std::time::Duration;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::elements::assertions::Check;
use crate::elements::counter::Counter;
use crate::elements::csv_data_set::{CsvCursor, CsvDataSet};
use crate::elements::extractors::PostProcessor;
use crate::elements::throughput_timers::{ConstantThroughput, PreciseThroughput};
use crate::elements::user_parameters::UserParameters;
use crate::text::condition::Condition;
use crate::text::template::Template;

pub use samplers::{
    ActionStep, Dummy, FlowAction, LocalSampler, LocalStep, ParallelStep, ScriptStep, Timers,
};

/// A compiled test plan, ready for [`crate::run`].
#[derive(Debug, Clone)]
pub struct RunnablePlan {
    /// The TestPlan's `testname`.
    pub name: String,
    /// `TestPlan.serialize_threadgroups`: run the groups one after another.
    pub serialize_groups: bool,
    /// `TestPlan.tearDown_on_shutdown`: run the tearDown groups after a graceful stop too.
    pub teardown_on_shutdown: bool,
    /// User-defined variables after substitution, sorted by name.
    pub variables: Vec<(String, String)>,
    /// Enabled thread groups in file order.
    pub groups: Vec<ThreadGroupPlan>,
    /// Elements that were recognised and deliberately not executed (listeners: the runner records
    /// every sample itself), as `"name" (class)`.
    pub ignored: Vec<String>,
    /// The data files (CSV Data Sets) the plan read from disk, each once: what a distributed
    /// run sends its agents along with the plan.
    pub data_files: Vec<DataFile>,
    /// What JMeter accepts silently but is likely a mistake (a number that is not one, read as
    /// 0; a host, port or file name from a `${__P(…)}` default): shown before a run or
    /// validation.
    pub warnings: Vec<String>,
}

/// A data file a plan reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// The name the plan gives it (after property substitution).
    pub name: String,
    /// Where it was read.
    pub path: std::path::PathBuf,
}

/// How many times a loop runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loops {
    /// A fixed number of iterations (0 runs nothing).
    Count(u64),
    /// `-1`: until the thread is stopped (duration, stop, Ctrl-C).
    Forever,
}

/// `ThreadGroup.on_sample_error`: what a thread does after a failed sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSampleError {
    /// Go on with the next element.
    Continue,
    /// Start the next iteration of the thread group's loop.
    StartNextLoop,
    /// Stop this thread.
    StopThread,
    /// Stop every thread once its current sample is done.
    StopTest,
    /// Stop every thread at once, abandoning samples in flight.
    StopTestNow,
}

/// When a thread group runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRole {
    /// `SetupThreadGroup`: before every regular group.
    Setup,
    /// `ThreadGroup`.
    Main,
    /// `PostThreadGroup`: after every regular group.
    Teardown,
}

/// One thread group.
#[derive(Debug, Clone)]
pub struct ThreadGroupPlan {
    /// The group's `testname`: the sample's `case_name` and the start of thread names.
    pub name: String,
    /// setUp, regular or tearDown group.
    pub role: GroupRole,
    /// Number of virtual users (`ThreadGroup.num_threads`).
    pub threads: u32,
    /// Ramp-up: thread `i` starts at `i · ramp_up / threads`.
    pub ramp_up: Duration,
    /// Iterations of the group's main loop per thread.
    pub loops: Loops,
    /// `ThreadGroup.duration` when the scheduler is on: the group stops this long after it
    /// starts (after `startup_delay`).
    pub duration: Option<Duration>,
    /// `ThreadGroup.delay` when the scheduler is on.
    pub startup_delay: Duration,
    /// What a thread does after a failed sample.
    pub on_error: OnSampleError,
    /// A Cookie Manager in the group says `clearEachIteration`: each iteration starts with no
    /// cookies.
    pub clear_cookies: bool,
    /// A Cache Manager in the group says `clearEachIteration`: each iteration starts with an
    /// empty cache.
    pub clear_cache: bool,
    /// Iteration listeners (CSV Data Sets, Counters, per-iteration User Parameters) fired at the
    /// start of each iteration.
    pub feeds: Vec<Feed>,
    /// The steps each iteration runs, in order.
    pub steps: Vec<Step>,
    /// A jmeter-plugins thread group's schedule: each user's start and end, from the group's
    /// start (`threads` is its length; ramp-up does not apply).
    pub schedule: Option<Arc<Vec<ThreadWindow>>>,
    /// Element names holding run-time references (`tx ${i}`), by their text: rendered per
    /// sample, as JMeter renders a name like any property.
    pub(crate) names: Arc<BTreeMap<String, Template>>,
}

/// When one user of a scheduled thread group runs, from the group's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadWindow {
    /// When it starts.
    pub start: Duration,
    /// When it stops (its current sample finishes; no timer waits past it).
    pub end: Duration,
}

/// An iteration listener attached to its nearest enclosing controller (or thread group), which
/// fires it each time it begins an iteration (JMeter's `LoopIterationListener`s that the runner
/// has), in plan order.
#[derive(Debug, Clone)]
pub enum Feed {
    /// A CSV Data Set reads its next line.
    Csv(CsvFeed),
    /// A Counter Config sets its variable to its next value.
    Counter(Arc<Counter>),
    /// A User Parameters element with `per_iteration` stores this user's values.
    Parameters(Arc<UserParameters>),
}

/// A CSV Data Set with its read position.
#[derive(Debug, Clone)]
pub struct CsvFeed {
    /// Run-unique id (the key of a per-thread cursor).
    pub id: usize,
    /// The loaded file.
    pub data: CsvDataSet,
    /// The shared read position; `None` for `shareMode.thread` (each user has its own).
    pub shared: Option<CsvCursor>,
}

/// How a Throughput Controller decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThroughputRule {
    /// `style` 0: run the children the first `n` times.
    Total(u64),
    /// `style` 1: run the children this percentage of the times.
    Percent(f64),
}

/// Times a Throughput Controller was reached and times it ran its children.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThroughputCounts {
    /// Times reached.
    pub reached: u64,
    /// Times the children ran.
    pub ran: u64,
}

impl ThroughputCounts {
    /// Counts one more arrival and says whether the children run this time, JMeter's rule:
    /// total executions run while `ran < n`; percent runs while
    /// `(100·ran + 50) / reached < percent` (ThroughputController.decide).
    pub fn arrive(&mut self, rule: ThroughputRule) -> bool {
        self.reached += 1;
        let run = match rule {
            ThroughputRule::Total(n) => self.ran < n,
            ThroughputRule::Percent(p) => {
                (100.0 * self.ran as f64 + 50.0) / (self.reached as f64) < p
            }
        };
        self.ran += u64::from(run);
        run
    }
}

/// How a While Controller decides to go on.
#[derive(Debug, Clone)]
pub enum WhileCondition {
    /// Blank: loop until a sample in the loop fails.
    LastSampleOk,
    /// `LAST`: the same, and do not enter when the sample before the loop failed.
    Last,
    /// Loop until the rendered text is `false` (case-insensitive).
    Text(Template),
}

/// One executable element of a thread group.
#[derive(Debug, Clone)]
pub enum Step {
    /// An HTTP request (HTTPSamplerProxy).
    Http(Box<HttpStep>),
    /// A Flow Control Action (TestAction): pause, stop, or steer the loops; no sample.
    Action(Box<ActionStep>),
    /// A sampler answered in the runner (Debug Sampler, jp@gc Dummy Sampler).
    Local(Box<LocalStep>),
    /// A Transaction Controller: its children, then a transaction sample.
    Transaction {
        /// The controller's `testname`: the transaction sample's label.
        name: String,
        /// `TransactionController.parent`: the children become sub-results of the transaction
        /// sample and are not recorded on their own (as in JMeter's CSV output).
        parent: bool,
        /// `TransactionController.includeTimers`: whether timer pauses count in the elapsed time.
        include_timers: bool,
        /// Parent mode: the assertions in scope (the controller's own and its ancestors'),
        /// checked against the transaction sample as JMeter does; empty otherwise.
        assertions: Vec<Check>,
        /// Iteration listeners ([`Feed`]) fired each time the controller is entered.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// A Simple Controller (GenericController): its children, once.
    Simple {
        /// The controller's `testname`.
        name: String,
        /// Iteration listeners ([`Feed`]) fired each time the controller is entered.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// A Loop Controller inside a thread group.
    Loop {
        /// The controller's `testname`.
        name: String,
        /// Iterations each time the controller is reached.
        loops: Loops,
        /// Run-unique id (the key of the per-thread "done" mark).
        id: usize,
        /// `LoopController.continue_forever` (default true): false runs the loop only the first
        /// time a thread reaches it, as JMeter's controller then stays done.
        continue_forever: bool,
        /// Iteration listeners ([`Feed`]) fired at each of its iterations.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// An If Controller.
    If {
        /// The controller's `testname`.
        name: String,
        /// `IfController.condition` (with `useExpression`).
        condition: Box<Condition>,
        /// `IfController.evaluateAll`: re-evaluate before each child.
        evaluate_all: bool,
        /// Iteration listeners ([`Feed`]) fired when it is entered (its condition held).
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// A While Controller.
    While {
        /// The controller's `testname`.
        name: String,
        /// `WhileController.condition`.
        condition: WhileCondition,
        /// Iteration listeners ([`Feed`]) fired at each of its iterations.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// A Switch Controller: one child, chosen by index or name.
    Switch {
        /// The controller's `testname`.
        name: String,
        /// `SwitchController.value`.
        value: Template,
        /// Iteration listeners ([`Feed`]) fired each time the controller is entered.
        feeds: Vec<Feed>,
        /// The children (the candidates).
        steps: Vec<Step>,
    },
    /// A Once Only Controller: its children once per thread; again after each new entry into a
    /// parent Loop Controller, and after a failure inside it with `startnextloop`.
    OnceOnly {
        /// The controller's `testname`.
        name: String,
        /// Run-unique id (the key of the per-thread "done" mark).
        id: usize,
        /// Iteration listeners ([`Feed`]) fired each time its children run.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// A Throughput Controller: decides at each iteration start of its parent (reached or not)
    /// whether its children run when reached.
    Throughput {
        /// The controller's `testname`.
        name: String,
        /// Run-unique id (the key of per-thread counts).
        id: usize,
        /// Total executions or percent.
        rule: ThroughputRule,
        /// Counts shared by every thread; `None` when `perThread` (each user counts alone).
        shared: Option<Arc<Mutex<ThroughputCounts>>>,
        /// Iteration listeners ([`Feed`]) fired each time its children run.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// A JSR223 / BeanShell sampler: a sample made by its script.
    Script(Box<ScriptStep>),
    /// A ForEach Controller: a pass per variable `input_N` (N from `start + 1`), each stored in
    /// `output`.
    ForEach {
        /// The controller's `testname`.
        name: String,
        /// `ForeachController.inputVal` and the separator (`_` unless `useSeparator` is off).
        input: String,
        /// `ForeachController.returnVal`.
        output: String,
        /// `ForeachController.startIndex` (exclusive).
        start: i64,
        /// `ForeachController.endIndex` (inclusive); `i64::MAX` when empty.
        end: i64,
        /// Iteration listeners ([`Feed`]) fired at each of its iterations.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// An Interleave Controller (one child per entry, in turn) or a Random Controller (one
    /// child per entry, at random).
    Interleave {
        /// The controller's `testname`.
        name: String,
        /// Run-unique id (the key of the per-thread position).
        id: usize,
        /// Random Controller.
        random: bool,
        /// Iteration listeners ([`Feed`]) fired each time it is entered.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
    /// The bzm Parallel Controller & Sampler: its children at the same time.
    Parallel(Box<ParallelStep>),
    /// A Runtime Controller: its children again and again for a time.
    Runtime {
        /// The controller's `testname`.
        name: String,
        /// `RunTime.seconds`; zero runs nothing.
        limit: Duration,
        /// Iteration listeners ([`Feed`]) fired at each of its iterations.
        feeds: Vec<Feed>,
        /// The children.
        steps: Vec<Step>,
    },
}

impl Step {
    /// A controller's children (none for a sampler).
    pub fn children(&self) -> &[Step] {
        match self {
            Step::Http(_) | Step::Action(_) | Step::Local(_) => &[],
            Step::Transaction { steps, .. }
            | Step::Simple { steps, .. }
            | Step::Loop { steps, .. }
            | Step::If { steps, .. }
            | Step::While { steps, .. }
            | Step::Switch { steps, .. }
            | Step::OnceOnly { steps, .. }
            | Step::Throughput { steps, .. }
            | Step::ForEach { steps, .. }
            | Step::Interleave { steps, .. }
            | Step::Runtime { steps, .. } => steps,
            Step::Parallel(p) => &p.steps,
            Step::Script(_) => &[],
        }
    }

    /// The element's `testname` (a Switch Controller selects children by it).
    pub fn name(&self) -> &str {
        match self {
            Step::Http(h) => &h.label,
            Step::Action(a) => &a.name,
            Step::Local(l) => &l.label,
            Step::Transaction { name, .. }
            | Step::Simple { name, .. }
            | Step::Loop { name, .. }
            | Step::If { name, .. }
            | Step::While { name, .. }
            | Step::Switch { name, .. }
            | Step::OnceOnly { name, .. }
            | Step::Throughput { name, .. }
            | Step::ForEach { name, .. }
            | Step::Interleave { name, .. }
            | Step::Runtime { name, .. } => name,
            Step::Parallel(p) => &p.name,
            Step::Script(s) => &s.label,
        }
    }
}

/// A timer that paces by throughput.
#[derive(Debug, Clone)]
pub enum ThroughputTimer {
    /// Constant Throughput Timer.
    Constant {
        /// Run-unique id (the key of the user's previous time).
        id: usize,
        /// The timer.
        timer: ConstantThroughput,
    },
    /// Precise Throughput Timer.
    Precise(PreciseThroughput),
    /// jp@gc Throughput Shaping Timer: one schedule for every sampler it is in scope of.
    Shaping(crate::elements::shaping_timer::ShapingTimer),
}

/// What an HTTP sampler sends: method, server, path, headers and body.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// `https`: TLS to the server (certificates are not verified, as in JMeter).
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// TCP port (80 or 443 when the plan leaves it empty).
    pub port: u16,
    /// Path and query string, starting with `/`.
    pub path_and_query: String,
    /// Request headers from the Header Managers in scope (inner ones win), without `Host`
    /// unless the plan sets it.
    pub headers: Vec<(String, String)>,
    /// Request body (a form body or the raw body), empty for none.
    pub body: Bytes,
    /// `Content-Type` sent with a form body when no header sets one.
    pub form_content_type: Option<String>,
    /// [`HttpRequest::url`], shared by every sample of this request.
    pub(crate) url_arc: Arc<str>,
}

impl HttpRequest {
    /// The request URL as JMeter reports it (the port only when it is not the scheme's default).
    pub fn url(&self) -> String {
        url(self.tls, &self.host, self.port, &self.path_and_query)
    }
}

/// An HTTP sampler: the request it sends, and the timers, assertions and extractors in its scope.
#[derive(Debug, Clone)]
pub struct HttpStep {
    /// The sampler's `testname`: the sample label.
    pub label: String,
    /// `label`, shared by every sample of this step (when it is fixed).
    pub(crate) label_arc: Arc<str>,
    /// The label rendered per sample, when the name holds run-time references
    /// (`user ${name}`, `${__threadNum}`); `None`: `label_arc`.
    pub(crate) label_template: Option<Template>,
    /// The request (as compiled; with run-time parts still unrendered when `runtime` is set).
    pub request: HttpRequest,
    /// `HTTPSampler.follow_redirects` or `auto_redirects`: follow up to 20 redirects within the
    /// one sample.
    pub follow_redirects: bool,
    /// `HTTPSampler.connect_timeout`; `None` for no limit.
    pub connect_timeout: Option<Duration>,
    /// `HTTPSampler.response_timeout` (per read, as JMeter's socket timeout); `None` for none.
    pub response_timeout: Option<Duration>,
    /// Sum of the timers' constant delays in scope (Constant Timers, and the offsets of random
    /// timers), waited before the request.
    pub delay: Duration,
    /// The random parts of the Uniform / Gaussian Random Timers in scope, drawn anew before
    /// each request and added to `delay`.
    pub random_delays: Vec<RandomDelay>,
    /// Constant / Precise Throughput Timers in scope.
    pub throughput_timers: Vec<ThroughputTimer>,
    /// Pre-processors in scope (User Parameters without `per_iteration`), outermost first: run
    /// before the timers, as JMeter does.
    pub pre_processors: Vec<Arc<UserParameters>>,
    /// JSR223 / BeanShell pre-processors in scope, outermost first (run after the User
    /// Parameters, before the timers).
    pub script_pre: Vec<crate::elements::scripts::ScriptElement>,
    /// Assertions in scope, outermost first.
    pub assertions: Vec<Check>,
    /// A Cookie Manager is in scope: send the user's cookies and keep the ones set.
    pub cookies: bool,
    /// The HTTP Authorization Manager's entries in scope (the innermost manager's): the first
    /// whose URL prefixes the request's gives its `Authorization` header.
    pub auth: Vec<AuthEntry>,
    /// The HTTP Cache Manager in scope, if any.
    pub cache: Option<CacheSettings>,
    /// Post-processors (extractors) in scope, applied in order.
    pub extractors: Vec<PostProcessor>,
    /// What of the response the extractors and assertions read (decided once, at compile time).
    pub(crate) keep: Keep,
    /// "Retrieve All Embedded Resources" (`HTTPSampler.image_parser`): the resources of a
    /// response whose media type has a parser (HTML by default, CSS too with JMeter 5's
    /// `HTTPResponse.parsers`) fetched after it, as sub-samples of its sample.
    pub(crate) embedded: Option<Box<crate::elements::embedded::EmbeddedResources>>,
    /// RegEx User Parameters in scope: the arguments' values set per request.
    pub(crate) regex_params: Option<Box<crate::elements::regex_user_parameters::RegexParams>>,
    /// What is filled in per request (variables set at run time, `__Random`, `__counter`, …);
    /// `None` when everything sent is fixed.
    pub runtime: Option<Box<RuntimeParts>>,
}

/// An HTTP Cache Manager's settings (see [`crate::http::cache`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// `useExpires`: `Cache-Control` / `Expires` make entries fresh (no request at all).
    pub use_expires: bool,
    /// `maxSize`: most entries per user.
    pub max_size: usize,
    /// The run's `cacheable_methods` (default `GET`), upper case.
    pub cacheable_methods: Vec<String>,
}

/// One entry of an HTTP Authorization Manager, sent as preemptive Basic authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEntry {
    /// `Authorization.url`: a prefix of the request URLs it applies to (empty: all).
    pub url: String,
    /// The `Authorization` header value (`Basic base64(user:password)`).
    pub header: String,
}

/// What of a response the caller reads, besides the timings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Keep {
    /// The body text (assertions, extractors).
    pub body: bool,
    /// The response and request header blocks.
    pub headers: bool,
}

/// The parts of a request that are rendered per request and user.
#[derive(Debug, Clone)]
pub struct RuntimeParts {
    /// The path up to the first `?` written in the plan (values inserted raw; a value may bring
    /// its own `?`, as in JMeter, where the path is split after it is rendered).
    pub path: Template,
    /// The query string after the first `?` written in the plan (values URL-encoded), with the
    /// sampler's arguments after `&`.
    pub query: Option<Template>,
    /// The sampler's arguments when the plan writes no `?` in the path: appended after `?`, or
    /// after `&` when the rendered path holds one (JMeter's `HTTPSamplerBase.getUrl`).
    pub args: Option<Template>,
    /// Header values, parallel to [`HttpRequest::headers`] (`None`: fixed).
    pub headers: Vec<Option<Template>>,
    /// The body (`None`: fixed); values form-encoded in a form body.
    pub body: Option<Template>,
}

/// `scheme://host[:port]path`, the port only when it is not the scheme's default.
pub(crate) fn url(tls: bool, host: &str, port: u16, path: &str) -> String {
    let (scheme, default_port) = if tls { ("https", 443) } else { ("http", 80) };
    if port == default_port {
        format!("{scheme}://{host}{path}")
    } else {
        format!("{scheme}://{host}:{port}{path}")
    }
}

impl std::fmt::Display for Loops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loops::Count(1) => write!(f, "1 loop"),
            Loops::Count(n) => write!(f, "{n} loops"),
            Loops::Forever => write!(f, "loops forever"),
        }
    }
}

impl OnSampleError {
    /// The JMX spelling (`continue`, `startnextloop`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OnSampleError::Continue => "continue",
            OnSampleError::StartNextLoop => "startnextloop",
            OnSampleError::StopThread => "stopthread",
            OnSampleError::StopTest => "stoptest",
            OnSampleError::StopTestNow => "stoptestnow",
        }
    }
}

/// The random part of a timer, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RandomDelay {
    /// Uniform Random Timer: uniform in `[0, range)`.
    Uniform { range_ms: f64 },
    /// Gaussian Random Timer: normal with mean 0 and this deviation.
    Gaussian { deviation_ms: f64 },
}

impl RandomDelay {
    /// One draw, ms (may be negative for a Gaussian).
    pub fn sample(self) -> f64 {
        match self {
            RandomDelay::Uniform { range_ms } => fastrand::f64() * range_ms,
            RandomDelay::Gaussian { deviation_ms } => {
                // Box-Muller: two uniforms in (0, 1] give one standard normal draw.
                let (u1, u2) = (1.0 - fastrand::f64(), fastrand::f64());
                (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * deviation_ms
            }
        }
    }

    /// The constant delay plus one draw of each random part, never below zero (JMeter takes the
    /// absolute value of a Gaussian timer's total; a negative total waits nothing here).
    pub fn total(constant: Duration, random: &[RandomDelay]) -> Duration {
        if random.is_empty() {
            return constant;
        }
        let ms = constant.as_secs_f64() * 1000.0 + random.iter().map(|r| r.sample()).sum::<f64>();
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }
}
