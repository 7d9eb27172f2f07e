//! The script elements: compiling JSR223 / BeanShell samplers, pre-processors, post-processors
//! and assertions from their JMX properties (`scriptLanguage`, `script`, `filename`,
//! `parameters`), and running each the way JMeter binds it — JSR223: `vars`, `props`, `prev`,
//! `sampler`, `ctx`, `log`, `SampleResult` (samplers), `AssertionResult` (assertions), the return
//! value as a sampler's response data; BeanShell: the same plus `ResponseCode`,
//! `ResponseMessage`, `IsSuccess` (samplers, read back after the script) and `Failure`,
//! `FailureMessage`, `ResponseData`, … (assertions). [`written_properties`] finds the
//! properties a plan's scripts write, which `${__P(…)}` then reads at run time.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use loadlake_plan::TestElement;

use super::ast::{Expr, each_expr, each_stmt};
use super::value::Value;
use super::{Bindings, Dialect, LiveProps, Script, ScriptError, ScriptSample, Verdict};
use crate::compile::{Compiler, Scope};
use crate::elements::assertions::Check;
use crate::elements::extractors::PostProcessor;
use crate::elements::response::Response;
use crate::error::{At, RunnerError};
use crate::model::RandomDelay;
use crate::text::template::{Template, UserCtx};

/// JMeter's two families of script elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `JSR223*`: bindings only; a sampler's result is `SampleResult` and the return value.
    Jsr223,
    /// `BeanShell*`: also the `ResponseCode` / `Failure` … script variables.
    BeanShell,
}

/// One compiled script element.
#[derive(Debug, Clone)]
pub struct ScriptElement {
    /// The element's `testname`.
    pub(crate) name: String,
    pub(crate) flavor: Flavor,
    pub(crate) script: Arc<Script>,
    /// `parameters`, rendered per run.
    pub(crate) params: Template,
    pub(crate) props: LiveProps,
    pub(crate) base_dir: Arc<str>,
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

/// Test classes of the script elements.
pub(crate) const SAMPLERS: [&str; 2] = ["JSR223Sampler", "BeanShellSampler"];
/// Test classes of script pre-processors.
pub(crate) const PRE_PROCESSORS: [&str; 2] = ["JSR223PreProcessor", "BeanShellPreProcessor"];
/// Test classes of script post-processors.
pub(crate) const POST_PROCESSORS: [&str; 2] = ["JSR223PostProcessor", "BeanShellPostProcessor"];
/// Test classes of script assertions.
pub(crate) const ASSERTIONS: [&str; 2] = ["JSR223Assertion", "BeanShellAssertion"];

fn is_script_class(c: &str) -> bool {
    SAMPLERS.contains(&c)
        || PRE_PROCESSORS.contains(&c)
        || POST_PROCESSORS.contains(&c)
        || ASSERTIONS.contains(&c)
}

/// The name JMeter saves property `what` (`script`, `filename`, `parameters`) under for element
/// `e`: the BeanShell Sampler and Assertion (not TestBeans) keep `BeanShellSampler.query`,
/// `BeanShellAssertion.filename` …; the TestBean elements plain `script`, `filename`, ….
fn prop_name(e: &TestElement, what: &'static str) -> &'static str {
    match (e.class_name(), what) {
        ("BeanShellSampler", "script") => "BeanShellSampler.query",
        ("BeanShellSampler", "filename") => "BeanShellSampler.filename",
        ("BeanShellSampler", "parameters") => "BeanShellSampler.parameters",
        ("BeanShellAssertion", "script") => "BeanShellAssertion.query",
        ("BeanShellAssertion", "filename") => "BeanShellAssertion.filename",
        ("BeanShellAssertion", "parameters") => "BeanShellAssertion.parameters",
        _ => what,
    }
}

/// Property `what` of `e` under its JMeter name (the plain name when that is absent).
fn prop_of<'e>(e: &'e TestElement, what: &'static str) -> (&'static str, &'e str) {
    let name = prop_name(e, what);
    match e.prop_str(name) {
        Some(v) => (name, v),
        None => (what, e.prop_str(what).unwrap_or("")),
    }
}

fn script_error(element: &str, property: &str, e: &ScriptError) -> RunnerError {
    RunnerError::Script {
        element: element.to_string(),
        property: property.to_string(),
        message: e.to_string(),
    }
}

impl Compiler<'_> {
    /// The dialect, text and template of script element `e` (the file's text when `filename`
    /// is set, read relative to the plan, without `${…}` substitution, as in JMeter).
    fn script_source(
        &self,
        e: &TestElement,
    ) -> Result<(Dialect, Flavor, String, Option<Template>), RunnerError> {
        let el = e.name.as_str();
        let (flavor, dialect) = if e.class_name().starts_with("BeanShell") {
            (Flavor::BeanShell, Dialect::Java)
        } else {
            let lang = self.text(e, "scriptLanguage")?;
            let d = Dialect::of_language(&lang).ok_or_else(|| {
                RunnerError::setting(
                    el,
                    "scriptLanguage",
                    &lang,
                    "the native runner runs groovy, java / beanshell and javascript scripts",
                )
            })?;
            (Flavor::Jsr223, d)
        };
        let (file_prop, raw_file) = prop_of(e, "filename");
        let file = self.eval(el, file_prop, raw_file)?;
        let file = file.trim();
        if !file.is_empty() {
            let bytes = match self.files.shipped.get(file) {
                Some(b) => b.clone(),
                None => std::fs::read(self.files.base_dir.join(file)).map_err(|err| {
                    RunnerError::invalid(
                        el,
                        file_prop,
                        file,
                        &format!("a readable script file ({err})"),
                    )
                })?,
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            return Ok((dialect, flavor, text, None));
        }
        let (property, raw) = prop_of(e, "script");
        let at = At {
            element: el,
            property,
        };
        let text = self.eval_deferred(el, property, raw)?;
        let template = if text.contains("${") {
            Some(crate::text::template::Template::parse(
                &text,
                self.ev.props(),
                at,
            )?)
        } else {
            None
        };
        Ok((dialect, flavor, text, template))
    }

    /// Compiles script element `e` (a sampler, pre- or post-processor or assertion).
    pub(crate) fn script_element(&self, e: &TestElement) -> Result<ScriptElement, RunnerError> {
        let (dialect, flavor, text, template) = self.script_source(e)?;
        let script = Script::compile(&text, dialect, template)
            .map_err(|err| script_error(&e.name, prop_of(e, "script").0, &err))?;
        let (property, raw) = prop_of(e, "parameters");
        let params = self.eval_deferred(&e.name, property, raw)?;
        let params = Template::parse(
            &params,
            self.ev.props(),
            At {
                element: &e.name,
                property,
            },
        )?;
        Ok(ScriptElement {
            name: e.name.clone(),
            flavor,
            script: Arc::new(script),
            params,
            props: self.ev.live_props(),
            base_dir: Arc::from(self.files.base_dir.to_string_lossy().as_ref()),
        })
    }

    /// The script pre-processors of `scope`, in order.
    pub(crate) fn script_pre_processors(
        &self,
        scope: &Scope<'_>,
    ) -> Result<Vec<ScriptElement>, RunnerError> {
        let mut out = Vec::new();
        for p in scope.script_pre.clone() {
            out.push(self.script_element(p)?);
        }
        Ok(out)
    }

    /// Compiles a JSR223 / BeanShell sampler with the elements of `scope`.
    pub(crate) fn script_sampler(
        &mut self,
        s: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<ScriptStep, RunnerError> {
        if !scope.timers.iter().all(|t| {
            matches!(
                t.class_name(),
                "ConstantTimer" | "UniformRandomTimer" | "GaussianRandomTimer"
            )
        }) {
            return Err(RunnerError::setting(
                &s.name,
                "timers",
                "a throughput timer",
                "script samplers take constant and random timers only",
            ));
        }
        let label = self.eval(&s.name, "testname", &s.name)?;
        Ok(ScriptStep {
            label_template: self.report.name_template(&label),
            label,
            script: self.script_element(s)?,
            pre: self.script_pre_processors(scope)?,
            delay: self.delay(scope)?,
            random_delays: self.random_delays(scope)?,
            extractors: self.post_processors(scope)?,
            assertions: self.checks(scope)?,
        })
    }
}

/// `--validate`'s lines for a script sampler.
pub(crate) fn explain(out: &mut String, s: &ScriptStep, pad: &str) {
    use std::fmt::Write;
    let _ = write!(out, "{pad}script sampler {}", s.script.describe());
    if !s.delay.is_zero() {
        let _ = write!(out, ", waits {} ms before", s.delay.as_millis());
    }
    let _ = writeln!(out);
    for p in &s.pre {
        let _ = writeln!(out, "{pad}  pre-process {}", p.describe());
    }
    for a in &s.assertions {
        let _ = writeln!(out, "{pad}  assert {}", a.describe());
    }
    for e in &s.extractors {
        let _ = writeln!(out, "{pad}  extract {}", e.describe());
    }
}

/// What every kind of run shares: the bindings over `user`.
fn bindings<'a>(
    el: &'a ScriptElement,
    user: &'a mut UserCtx,
    params: &'a str,
    sampler_name: &'a str,
    sample: Option<&'a mut ScriptSample>,
    verdict: Option<&'a mut Verdict>,
) -> Bindings<'a> {
    Bindings {
        user,
        props: &el.props,
        sample,
        verdict,
        sampler_name,
        element: &el.name,
        base_dir: &el.base_dir,
        params,
        sleep_ms: 0,
        header_edits: Vec::new(),
    }
}

impl ScriptElement {
    fn params(&self, user: &mut UserCtx) -> String {
        self.params.render(user, &|v: &str| v.to_string())
    }

    /// Runs as a pre-processor before sampler `sampler`; the time `Thread.sleep` asked for,
    /// and the changes to the request's headers. An error is logged and the sample goes on, as
    /// in JMeter.
    pub(crate) fn pre(
        &self,
        user: &mut UserCtx,
        sampler: &str,
    ) -> (Duration, Vec<(String, Option<String>)>) {
        let params = self.params(user);
        let mut b = bindings(self, user, &params, sampler, None, None);
        if let Err(e) = self.script.run(&mut b, &mut HashMap::new()) {
            tracing::warn!(element = %self.name, error = %e, "pre-processor script failed");
        }
        (Duration::from_millis(b.sleep_ms), b.header_edits)
    }

    /// Runs as a post-processor on `sample` (which it may change).
    pub(crate) fn post(&self, user: &mut UserCtx, sample: &mut ScriptSample) {
        let params = self.params(user);
        let label = sample.label.clone();
        let mut b = bindings(self, user, &params, &label, Some(sample), None);
        if let Err(e) = self.script.run(&mut b, &mut HashMap::new()) {
            tracing::warn!(element = %self.name, error = %e, "post-processor script failed");
        }
    }

    /// Runs as an assertion on `sample`: the failure message when it fails (an error in the
    /// script fails the sample with the error, as JMeter's `setError`).
    pub(crate) fn assert(&self, user: &mut UserCtx, sample: &mut ScriptSample) -> Option<String> {
        let params = self.params(user);
        let label = sample.label.clone();
        let mut locals = HashMap::new();
        if self.flavor == Flavor::BeanShell {
            for (k, v) in [
                ("ResponseData", Value::str(sample.body.as_str())),
                ("ResponseCode", Value::str(sample.code.as_str())),
                ("ResponseMessage", Value::str(sample.message.as_str())),
                ("ResponseHeaders", Value::str(sample.headers.as_str())),
                ("SampleLabel", Value::str(label.as_str())),
                ("Successful", Value::Bool(sample.success)),
                ("FailureMessage", Value::str("")),
                ("Failure", Value::Bool(false)),
            ] {
                locals.insert(k.to_string(), v);
            }
        }
        let mut verdict = Verdict::default();
        let mut b = bindings(
            self,
            user,
            &params,
            &label,
            Some(sample),
            Some(&mut verdict),
        );
        if let Err(e) = self.script.run(&mut b, &mut locals) {
            return Some(e.to_string());
        }
        if self.flavor == Flavor::BeanShell {
            verdict.failure = locals.get("Failure").is_some_and(Value::truthy);
            verdict.message = locals
                .get("FailureMessage")
                .map(|v| v.text(Dialect::Java))
                .unwrap_or_default();
        }
        verdict.failure.then_some(verdict.message)
    }

    /// Runs as an assertion on an HTTP response (see [`ScriptElement::assert`]).
    pub(crate) fn assert_response(&self, r: &Response<'_>, user: &mut UserCtx) -> Option<String> {
        let mut sample = script_sample(r, "", true);
        self.assert(user, &mut sample)
    }

    /// Runs as a sampler: the sample's outcome and the time `Thread.sleep` asked for.
    pub(crate) fn sample(&self, user: &mut UserCtx, label: &str) -> (ScriptSample, Duration) {
        let params = self.params(user);
        let mut s = ScriptSample {
            label: label.to_string(),
            code: "200".into(),
            message: "OK".into(),
            success: true,
            ..ScriptSample::default()
        };
        let mut locals = HashMap::new();
        if self.flavor == Flavor::BeanShell {
            for (k, v) in [
                ("ResponseCode", Value::str("200")),
                ("ResponseMessage", Value::str("OK")),
                ("IsSuccess", Value::Bool(true)),
                ("Label", Value::str(label)),
                ("FileName", Value::str("")),
            ] {
                locals.insert(k.to_string(), v);
            }
        }
        let mut b = bindings(self, user, &params, label, Some(&mut s), None);
        let r = self.script.run(&mut b, &mut locals);
        let sleep = Duration::from_millis(b.sleep_ms);
        match r {
            Ok(ret) => {
                if !ret.is_null() && !s.data_set {
                    s.body = ret.text(self.script.dialect());
                }
                if self.flavor == Flavor::BeanShell {
                    let text = |k: &str| {
                        locals
                            .get(k)
                            .map(|v| v.text(Dialect::Java))
                            .unwrap_or_default()
                    };
                    s.code = text("ResponseCode");
                    s.message = text("ResponseMessage");
                    s.success = text("IsSuccess").eq_ignore_ascii_case("true");
                }
            }
            Err(e) => {
                tracing::warn!(element = %self.name, error = %e, "sampler script failed");
                s.code = "500".into();
                s.message = e.to_string();
                s.success = false;
            }
        }
        (s, sleep)
    }

    /// One line for `--validate`.
    pub fn describe(&self) -> String {
        let lang = match self.script.dialect() {
            Dialect::Groovy => "groovy",
            Dialect::Java => "java/beanshell",
            Dialect::JavaScript => "javascript",
        };
        format!("\"{}\": {lang} script (run natively)", self.name)
    }
}

/// Runs `script` as `__groovy` / `__BeanShell` do: its value as text (`""` for null, as JMeter
/// prints a null result); an error as text. `Thread.sleep` does not wait here.
pub(crate) fn run_function(
    script: &Script,
    user: &mut UserCtx,
    props: &LiveProps,
) -> Result<String, String> {
    let mut b = Bindings {
        user,
        props,
        sample: None,
        verdict: None,
        sampler_name: "",
        element: "script function",
        base_dir: "",
        params: "",
        sleep_ms: 0,
        header_edits: Vec::new(),
    };
    let v = script
        .run(&mut b, &mut HashMap::new())
        .map_err(|e| e.to_string())?;
    Ok(if v.is_null() {
        String::new()
    } else {
        v.text(script.dialect())
    })
}

/// `${__BeanShell(…)}` / `${__groovy(…)}` where the value must be fixed before the run: the
/// script runs now, once, over `vars` (the user-defined variables known now) and `props`, with
/// the plan's folder as `FileServer`'s base directory; `args[1]`, when given, is not set.
pub(crate) fn run_now(
    function: &str,
    args: &[String],
    vars: &std::collections::BTreeMap<String, String>,
    props: &LiveProps,
    base_dir: &str,
    at: At<'_>,
) -> Result<String, RunnerError> {
    let dialect = if function == "groovy" {
        Dialect::Groovy
    } else {
        Dialect::Java
    };
    let fail = |e: String| RunnerError::Script {
        element: at.element.to_string(),
        property: at.property.to_string(),
        message: format!("__{function}: {e}"),
    };
    let src = args.first().map(String::as_str).unwrap_or_default();
    let script = Script::compile(src, dialect, None).map_err(|e| fail(e.to_string()))?;
    let mut user = UserCtx::new(
        vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        1,
    );
    let mut b = Bindings {
        user: &mut user,
        props,
        sample: None,
        verdict: None,
        sampler_name: "",
        element: at.element,
        base_dir,
        params: "",
        sleep_ms: 0,
        header_edits: Vec::new(),
    };
    let v = script
        .run(&mut b, &mut HashMap::new())
        .map_err(|e| fail(e.to_string()))?;
    Ok(if v.is_null() {
        String::new()
    } else {
        v.text(dialect)
    })
}

/// `request` with the header changes of pre-processor scripts applied (a removal drops every
/// header of that name, case-insensitively; an addition appends).
pub(crate) fn with_headers(
    request: &crate::model::HttpRequest,
    edits: &[(String, Option<String>)],
) -> crate::model::HttpRequest {
    let mut out = request.clone();
    for (name, value) in edits {
        match value {
            None => out.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
            Some(v) => out.headers.push((name.clone(), v.clone())),
        }
    }
    out
}

/// The sample a script sees of an HTTP response.
pub(crate) fn script_sample(r: &Response<'_>, label: &str, success: bool) -> ScriptSample {
    ScriptSample {
        label: label.to_string(),
        code: r.code.to_string(),
        message: r.message.to_string(),
        body: r.body.to_string(),
        success,
        elapsed_ms: r.elapsed_ms,
        headers: r.headers.to_string(),
        url: r.url.to_string(),
        data_set: false,
        ignore: false,
    }
}

/// Runs `extractors` in order on `r`; the sample as changed by the scripts among them, when
/// there are any (`success`: the sample's outcome so far).
pub(crate) fn post_process(
    extractors: &[PostProcessor],
    r: &Response<'_>,
    user: &mut UserCtx,
    label: &str,
    success: bool,
) -> Option<ScriptSample> {
    let mut edited: Option<ScriptSample> = None;
    for e in extractors {
        match e {
            PostProcessor::Script(s) => {
                let sample = edited.get_or_insert_with(|| script_sample(r, label, success));
                s.post(user, sample);
            }
            other => other.apply(r, &mut user.vars),
        }
    }
    edited
}

/// Whether any enabled script element is in the plan.
fn scripts_of(e: &TestElement, out: &mut Vec<String>, base_dir: &std::path::Path) {
    for c in e.children.iter().filter(|c| c.enabled) {
        if is_script_class(c.class_name()) {
            let file = prop_of(c, "filename").1.trim();
            if file.is_empty() {
                out.push(prop_of(c, "script").1.to_string());
            } else if let Ok(text) = std::fs::read_to_string(base_dir.join(file)) {
                out.push(text);
            }
        }
        scripts_of(c, out, base_dir);
    }
}

/// The properties the plan's scripts write (`props.put("t", …)`, `props.setProperty`,
/// `JMeterUtils.setProperty`): `None` when no script writes one; `Some(None)` when a script
/// writes a property whose name is computed (then every `${__P(…)}` is read at run time).
pub(crate) fn written_properties(
    tp: &TestElement,
    base_dir: &std::path::Path,
) -> Option<Option<BTreeSet<String>>> {
    let mut texts = Vec::new();
    scripts_of(tp, &mut texts, base_dir);
    let mut names = BTreeSet::new();
    let mut any = false;
    let mut computed = false;
    for t in texts {
        for d in [Dialect::Groovy, Dialect::Java] {
            if let Ok(stmts) = super::parse::parse(&t, d) {
                each_stmt(&stmts, &mut |st| {
                    for top in st.exprs() {
                        each_expr(top, &mut |e| {
                            if let Expr::Call {
                                obj: Some(o),
                                name,
                                args,
                                ..
                            } = e
                                && matches!(name.as_str(), "put" | "setProperty")
                                && matches!(&**o, Expr::Name(n) if n == "props" || n == "JMeterUtils")
                            {
                                any = true;
                                match args.first() {
                                    Some(Expr::Lit(Value::Str(s))) => {
                                        names.insert(s.to_string());
                                    }
                                    _ => computed = true,
                                }
                            }
                        });
                    }
                });
                break;
            }
        }
    }
    any.then(|| (!computed).then_some(names))
}
