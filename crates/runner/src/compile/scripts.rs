//! Compiling the script elements — JSR223 / BeanShell samplers, pre-processors, post-processors
//! and assertions — from their JMX properties (`scriptLanguage`, `script`, `filename`,
//! `parameters`), and [`written_properties`]: the properties a plan's scripts write, which
//! `${__P(…)}` then reads at run time. How they run is in [`crate::elements::scripts`].

use std::collections::BTreeSet;
use std::sync::Arc;

use loadlake_plan::TestElement;

use super::{Compiler, Scope};
use crate::elements::scripts::{Flavor, ScriptElement};
use crate::error::{At, RunnerError};
use crate::model::ScriptStep;
use crate::script::ast::{Expr, each_expr, each_stmt};
use crate::script::value::Value;
use crate::script::{Dialect, Script, ScriptError};
use crate::text::template::Template;

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
            if let Ok(stmts) = crate::script::parse::parse(&t, d) {
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
