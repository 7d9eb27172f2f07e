//! Plan → [`RunnablePlan`]: walks the enabled TestPlan tree, substitutes `${…}`, applies JMeter
//! scoping (a config element, timer or assertion applies to every sampler in its parent's
//! subtree; elements under a sampler apply to that sampler only) and refuses every enabled
//! element outside the supported subset with [`RunnerError::Unsupported`].

use std::collections::BTreeMap;
use std::time::Duration;

use loadlake_plan::{Plan, Props, TestElement};
use regex::Regex;

use crate::assertion::{CONTAINS, ResponseAssertion, TestField};
use crate::error::RunnerError;
use crate::extract::RegexExtract;
use crate::model::{Loops, OnSampleError, RandomDelay, RunnablePlan, Step, ThreadGroupPlan};
use crate::vars::{At, Evaluator};

/// What the compiler does with an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    ThreadGroup,
    Http,
    Simple,
    Loop,
    Transaction,
    HttpDefaults,
    Headers,
    Cookies,
    Timer,
    Assertion,
    Extractor,
    Variables,
    Listener,
    Unsupported,
}

pub(crate) fn kind(e: &TestElement) -> Kind {
    match e.class_name() {
        "ThreadGroup" => Kind::ThreadGroup,
        "HTTPSamplerProxy" | "HTTPSampler" | "HTTPSampler2" => Kind::Http,
        "GenericController" => Kind::Simple,
        "LoopController" => Kind::Loop,
        "TransactionController" => Kind::Transaction,
        "ConfigTestElement" if is_http_defaults(e) => Kind::HttpDefaults,
        "HeaderManager" => Kind::Headers,
        "CookieManager" => Kind::Cookies,
        "ConstantTimer" | "UniformRandomTimer" | "GaussianRandomTimer" => Kind::Timer,
        "ResponseAssertion" => Kind::Assertion,
        "RegexExtractor" => Kind::Extractor,
        "Arguments" => Kind::Variables,
        "ResultCollector" | "Summariser" => Kind::Listener,
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
    pub cookies: Vec<&'a TestElement>,
    pub timers: Vec<&'a TestElement>,
    pub assertions: Vec<&'a TestElement>,
    pub extractors: Vec<&'a TestElement>,
}

impl<'a> Scope<'a> {
    /// This scope plus the scoped elements among `children` (the enabled ones).
    pub fn extend(&self, children: &'a [TestElement]) -> Scope<'a> {
        let mut s = self.clone();
        for c in children.iter().filter(|c| c.enabled) {
            match kind(c) {
                Kind::HttpDefaults => s.defaults.push(c),
                Kind::Headers => s.headers.push(c),
                Kind::Cookies => s.cookies.push(c),
                Kind::Timer => s.timers.push(c),
                Kind::Assertion => s.assertions.push(c),
                Kind::Extractor => s.extractors.push(c),
                _ => {}
            }
        }
        s
    }
}

/// Compiles `plan` for the native runner; `props` are the run's properties (`-Jname=value`),
/// read by `${__P(…)}` and `${__property(…)}`.
pub fn compile(plan: &Plan, props: &BTreeMap<String, String>) -> Result<RunnablePlan, RunnerError> {
    let tp = plan
        .elements
        .iter()
        .find(|e| e.class_name() == "TestPlan" && e.enabled)
        .ok_or(RunnerError::NoTestPlan)?;
    let mut c = Compiler {
        ev: Evaluator::new(props),
        ignored: Vec::new(),
    };
    // "All the UDV elements in a test plan — no matter where they are — are processed at the
    // start", top to bottom: the TestPlan's own first.
    if let Some(udv) = tp.prop_element("TestPlan.user_defined_variables")
        && udv.enabled
    {
        c.define_arguments(&tp.name, &udv.props)?;
    }
    for e in tp.enabled_descendants() {
        if kind(e) == Kind::Variables {
            c.define_arguments(&e.name, &e.props)?;
        }
    }
    let serialize_groups = c.flag(tp, "TestPlan.serialize_threadgroups", false)?;
    let scope = Scope::default().extend(&tp.children);
    let mut groups = Vec::new();
    for child in tp.children.iter().filter(|e| e.enabled) {
        match kind(child) {
            Kind::ThreadGroup => groups.push(c.thread_group(child, &scope)?),
            Kind::Listener => c.ignore(child),
            Kind::HttpDefaults
            | Kind::Headers
            | Kind::Cookies
            | Kind::Timer
            | Kind::Assertion
            | Kind::Extractor
            | Kind::Variables => {}
            _ => return Err(unsupported(child)),
        }
    }
    if groups.is_empty() {
        return Err(RunnerError::NoThreadGroups);
    }
    let variables =
        c.ev.variables()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    Ok(RunnablePlan {
        name: tp.name.clone(),
        serialize_groups,
        variables,
        groups,
        ignored: c.ignored,
    })
}

pub(crate) fn unsupported(e: &TestElement) -> RunnerError {
    RunnerError::Unsupported {
        element: e.name.clone(),
        class: e.class_name().to_string(),
    }
}

pub(crate) struct Compiler<'p> {
    pub ev: Evaluator<'p>,
    pub ignored: Vec<String>,
}

impl Compiler<'_> {
    fn ignore(&mut self, e: &TestElement) {
        self.ignored
            .push(format!("\"{}\" ({})", e.name, e.class_name()));
    }

    /// Evaluates raw property text of element `element`.
    pub fn eval(&self, element: &str, property: &str, raw: &str) -> Result<String, RunnerError> {
        self.ev.eval(raw, At { element, property })
    }

    /// Property `prop` of `e`, evaluated (empty when absent).
    pub fn text(&self, e: &TestElement, prop: &str) -> Result<String, RunnerError> {
        self.eval(&e.name, prop, e.prop_str(prop).unwrap_or(""))
    }

    /// A boolean property; `default` when absent or empty.
    pub fn flag(&self, e: &TestElement, prop: &str, default: bool) -> Result<bool, RunnerError> {
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

    /// A whole number; `default` when empty.
    pub fn number(
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
        t.parse::<i64>()
            .map_err(|_| RunnerError::invalid(element, prop, &v, "a whole number"))
    }

    /// A non-negative whole number; `default` when empty.
    pub fn count(&self, e: &TestElement, prop: &str, default: u64) -> Result<u64, RunnerError> {
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

    fn thread_group(
        &mut self,
        g: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<ThreadGroupPlan, RunnerError> {
        let threads = self.count(g, "ThreadGroup.num_threads", 1)?;
        let threads = u32::try_from(threads).map_err(|_| {
            RunnerError::invalid(
                &g.name,
                "ThreadGroup.num_threads",
                &threads.to_string(),
                "a thread count",
            )
        })?;
        let ramp_up = Duration::from_secs(self.count(g, "ThreadGroup.ramp_time", 0)?);
        let loops = match g.prop_element("ThreadGroup.main_controller") {
            Some(lc) => self.loops(&g.name, lc.prop_str("LoopController.loops"))?,
            None => Loops::Count(1),
        };
        let scheduler = self.flag(g, "ThreadGroup.scheduler", false)?;
        let (duration, startup_delay) = if scheduler {
            let d = self.count(g, "ThreadGroup.duration", 0)?;
            let delay = self.count(g, "ThreadGroup.delay", 0)?;
            (
                (d > 0).then(|| Duration::from_secs(d)),
                Duration::from_secs(delay),
            )
        } else {
            (None, Duration::ZERO)
        };
        let on_error = match self.text(g, "ThreadGroup.on_sample_error")?.trim() {
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
        };
        let name = self.eval(&g.name, "testname", &g.name)?;
        let steps = self.steps(&g.children, scope)?;
        let mut clear_cookies = false;
        for m in scope
            .cookies
            .iter()
            .copied()
            .chain(g.enabled_descendants().filter(|e| kind(e) == Kind::Cookies))
        {
            clear_cookies |= self.flag(m, "CookieManager.clearEachIteration", false)?;
        }
        Ok(ThreadGroupPlan {
            name,
            threads,
            ramp_up,
            loops,
            duration,
            startup_delay,
            on_error,
            clear_cookies,
            steps,
        })
    }

    fn loops(&self, element: &str, raw: Option<&str>) -> Result<Loops, RunnerError> {
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

    /// The steps for `children` of a thread group or controller.
    fn steps(
        &mut self,
        children: &[TestElement],
        parent: &Scope<'_>,
    ) -> Result<Vec<Step>, RunnerError> {
        let scope = parent.extend(children);
        let mut steps = Vec::new();
        for child in children.iter().filter(|c| c.enabled) {
            let name = || self.eval(&child.name, "testname", &child.name);
            match kind(child) {
                Kind::Http => {
                    let sampler_scope = scope.extend(&child.children);
                    for sub in child.children.iter().filter(|c| c.enabled) {
                        match kind(sub) {
                            Kind::HttpDefaults
                            | Kind::Headers
                            | Kind::Cookies
                            | Kind::Timer
                            | Kind::Assertion
                            | Kind::Extractor
                            | Kind::Variables => {}
                            Kind::Listener => self.ignore(sub),
                            _ => return Err(unsupported(sub)),
                        }
                    }
                    steps.push(Step::Http(Box::new(self.http(child, &sampler_scope)?)));
                }
                Kind::Simple => steps.push(Step::Simple {
                    name: name()?,
                    steps: self.steps(&child.children, &scope)?,
                }),
                Kind::Loop => steps.push(Step::Loop {
                    name: name()?,
                    loops: self.loops(&child.name, child.prop_str("LoopController.loops"))?,
                    steps: self.steps(&child.children, &scope)?,
                }),
                Kind::Transaction => {
                    if self.flag(child, "TransactionController.parent", false)? {
                        return Err(RunnerError::setting(
                            &child.name,
                            "TransactionController.parent",
                            "true",
                            "only non-parent mode (a transaction sample after its children) is implemented",
                        ));
                    }
                    let include_timers =
                        self.flag(child, "TransactionController.includeTimers", true)?;
                    steps.push(Step::Transaction {
                        name: name()?,
                        include_timers,
                        steps: self.steps(&child.children, &scope)?,
                    });
                }
                Kind::HttpDefaults
                | Kind::Headers
                | Kind::Cookies
                | Kind::Timer
                | Kind::Assertion
                | Kind::Extractor
                | Kind::Variables => {}
                Kind::Listener => self.ignore(child),
                Kind::ThreadGroup | Kind::Unsupported => return Err(unsupported(child)),
            }
        }
        Ok(steps)
    }

    /// Sum of the Constant Timers in scope.
    /// The random parts of the Uniform / Gaussian Random Timers in scope (`RandomTimer.range`).
    pub fn random_delays(&self, scope: &Scope<'_>) -> Result<Vec<RandomDelay>, RunnerError> {
        let mut out = Vec::new();
        for t in &scope.timers {
            let uniform = match t.class_name() {
                "UniformRandomTimer" => true,
                "GaussianRandomTimer" => false,
                _ => continue,
            };
            let raw = self.text(t, "RandomTimer.range")?;
            let range = match raw.trim() {
                "" => 0.0,
                v => v
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r >= 0.0)
                    .ok_or_else(|| {
                        RunnerError::invalid(&t.name, "RandomTimer.range", &raw, "a number of ms")
                    })?,
            };
            out.push(if uniform {
                RandomDelay::Uniform { range_ms: range }
            } else {
                RandomDelay::Gaussian {
                    deviation_ms: range,
                }
            });
        }
        Ok(out)
    }

    pub fn delay(&self, scope: &Scope<'_>) -> Result<Duration, RunnerError> {
        let mut total = 0u64;
        for t in &scope.timers {
            total = total.saturating_add(self.count(t, "ConstantTimer.delay", 0)?);
        }
        Ok(Duration::from_millis(total))
    }

    /// Refuses `e` unless its `prop` (evaluated, trimmed) is one of `allowed`.
    fn only(
        &self,
        e: &TestElement,
        prop: &str,
        allowed: &[&str],
        reason: &str,
    ) -> Result<(), RunnerError> {
        let value = self.text(e, prop)?;
        if allowed.contains(&value.trim()) {
            Ok(())
        } else {
            Err(RunnerError::setting(&e.name, prop, &value, reason))
        }
    }

    /// The Regular Expression Extractors in scope (response body only).
    pub fn extractors(&self, scope: &Scope<'_>) -> Result<Vec<RegexExtract>, RunnerError> {
        let mut out = Vec::new();
        for e in &scope.extractors {
            self.only(
                e,
                "RegexExtractor.useHeaders",
                &["", "false"],
                "only the response body is searched",
            )?;
            self.only(
                e,
                "Sample.scope",
                &["", "parent"],
                "only the main sample is searched",
            )?;
            let raw = self.text(e, "RegexExtractor.regex")?;
            let regex = Regex::new(&raw).map_err(|err| {
                RunnerError::invalid(
                    &e.name,
                    "RegexExtractor.regex",
                    &raw,
                    &format!("a regex ({err})"),
                )
            })?;
            let number = self.text(e, "RegexExtractor.match_number")?;
            let match_number = match number.trim() {
                "" => 1,
                n => n.parse::<i64>().ok().filter(|n| *n >= -1).ok_or_else(|| {
                    RunnerError::invalid(
                        &e.name,
                        "RegexExtractor.match_number",
                        n,
                        "-1, 0 or a match number",
                    )
                })?,
            };
            out.push(RegexExtract {
                name: e.name.clone(),
                refname: self.text(e, "RegexExtractor.refname")?.trim().to_string(),
                regex,
                template: self.text(e, "RegexExtractor.template")?,
                match_number,
                default: self.text(e, "RegexExtractor.default")?,
            });
        }
        Ok(out)
    }

    /// The Response Assertions in scope.
    pub fn assertions(&self, scope: &Scope<'_>) -> Result<Vec<ResponseAssertion>, RunnerError> {
        let mut out = Vec::new();
        for a in &scope.assertions {
            let field_raw = self.text(a, "Assertion.test_field")?;
            let field = match field_raw.trim() {
                "Assertion.response_data" | "" => TestField::ResponseData,
                "Assertion.response_code" => TestField::ResponseCode,
                "Assertion.response_message" => TestField::ResponseMessage,
                other => {
                    return Err(RunnerError::setting(
                        &a.name,
                        "Assertion.test_field",
                        other,
                        "the runner tests response data, response code or response message",
                    ));
                }
            };
            if let Some(scope_value) = a.prop_str("Assertion.scope")
                && !matches!(scope_value.trim(), "" | "parent")
            {
                return Err(RunnerError::setting(
                    &a.name,
                    "Assertion.scope",
                    scope_value,
                    "only the main sample is tested",
                ));
            }
            let test_type = self.number(
                &a.name,
                "Assertion.test_type",
                a.prop_str("Assertion.test_type"),
                CONTAINS,
            )?;
            let mut patterns = Vec::new();
            if let Some(strings) = a.prop_collection("Asserion.test_strings") {
                for raw in strings.values().filter_map(|p| p.as_str()) {
                    patterns.push(self.eval(&a.name, "Asserion.test_strings", raw)?);
                }
            }
            let custom = self.text(a, "Assertion.custom_message")?;
            let assume_success = self.flag(a, "Assertion.assume_success", false)?;
            let assertion = ResponseAssertion::new(
                a.name.clone(),
                field,
                test_type,
                patterns,
                assume_success,
                (!custom.is_empty()).then_some(custom),
            )
            .map_err(|bad| {
                RunnerError::invalid(
                    &a.name,
                    "Asserion.test_strings",
                    &bad,
                    "a valid regular expression",
                )
            })?;
            out.push(assertion);
        }
        Ok(out)
    }
}
