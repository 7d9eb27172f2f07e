//! Scripts run natively: the JSR223 (Groovy, JavaScript, BeanShell) and BeanShell samplers,
//! pre-processors, post-processors and assertions, and the `__groovy` / `__BeanShell` /
//! `__javaScript`-style script functions.
//!
//! Not an embedded JVM language but **one small interpreter** of the statement subset the three
//! languages share in real load-test scripts (docs/scripts.md lists it with examples): a
//! tokenizer ([`lex`]), a parser into a syntax tree ([`parse`], [`ast`]) that refuses anything
//! outside the subset with its line, a tree-walking evaluator ([`eval`]) over [`value::Value`]s,
//! and the JMeter object model scripts see ([`api`]: `vars`, `props`, `prev`, `sampler`, `ctx`,
//! `log`, `SampleResult`, `AssertionResult`, `JMeterUtils`, `FileServer`, string methods, JSON,
//! dates …). Where the dialects differ (integer division, how a decimal prints, `==` between a
//! string and a number), [`Dialect`] decides. Scripts as functions
//! (`__groovy`, `__BeanShell`, run per use or once before the run) are [`function`]; the script
//! *elements* are compiled in `compile/scripts.rs` and run in [`crate::elements::scripts`] and
//! `vu/scripts.rs`, so the language depends on nothing of the runner but [`crate::text`] and
//! [`crate::error`]. With [`crate::text`] it forms the one inherent cycle named there: script
//! functions live in templates, and scripts use templates and text functions.
//!
//! Properties written by scripts (`props.put`) live in one [`LiveProps`] map per compiled plan,
//! which `${__P(…)}` reads at run time when a script of the plan writes that property.

pub(crate) mod api;
pub(crate) mod ast;
pub(crate) mod check;
pub(crate) mod eval;
pub(crate) mod function;
pub(crate) mod lex;
pub(crate) mod methods;
pub(crate) mod names;
pub(crate) mod parse;
pub(crate) mod parse_expr;
pub(crate) mod strings;
pub(crate) mod value;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use crate::text::template::{Template, UserCtx};
use ast::Stmt;
use value::Value;

/// Which language's rules apply where the three differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Groovy (JSR223 `groovy`): `def`, `"${…}"` strings, `?.`, `?:`, `as`, exact division.
    Groovy,
    /// BeanShell and JSR223 `java` / `beanshell`: Java statements, integer division.
    Java,
    /// JSR223 `javascript` / `js` / `nashorn` / `rhino`: numbers are doubles.
    JavaScript,
}

impl Dialect {
    /// The dialect of a JSR223 `scriptLanguage` (empty: Groovy, JMeter's default since 3.1).
    pub(crate) fn of_language(language: &str) -> Option<Dialect> {
        Some(match language.trim().to_ascii_lowercase().as_str() {
            "" | "groovy" => Dialect::Groovy,
            "java" | "beanshell" | "bsh" => Dialect::Java,
            "javascript" | "js" | "ecmascript" | "nashorn" | "rhino" => Dialect::JavaScript,
            _ => return None,
        })
    }
}

/// A script that is refused, cannot be parsed, or failed while running.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ScriptError {
    /// A construct outside the supported subset.
    #[error("script line {line}: {construct} is not supported")]
    Unsupported {
        /// The line in the script (1-based).
        line: u32,
        /// The construct, quoted (`'new java.net.Socket'`).
        construct: String,
    },
    /// A syntax error.
    #[error("script line {line}: syntax error: {message}")]
    Syntax {
        /// The line in the script (1-based).
        line: u32,
        /// What is wrong.
        message: String,
    },
    /// An error while running (an exception in JMeter).
    #[error("script line {line}: {message}")]
    Runtime {
        /// The line in the script (1-based).
        line: u32,
        /// What went wrong.
        message: String,
    },
}

impl ScriptError {
    /// A refused construct.
    pub(crate) fn new(line: u32, construct: &str) -> ScriptError {
        ScriptError::Unsupported {
            line,
            construct: construct.to_string(),
        }
    }

    /// A syntax error.
    pub(crate) fn syntax(line: u32, message: &str) -> ScriptError {
        ScriptError::Syntax {
            line,
            message: message.to_string(),
        }
    }

    /// A run-time error.
    pub(crate) fn runtime(line: u32, message: impl Into<String>) -> ScriptError {
        ScriptError::Runtime {
            line,
            message: message.into(),
        }
    }

    /// The same error placed on `line` (a string's `${…}` part is parsed on its own).
    pub(crate) fn at_line(self, line: u32) -> ScriptError {
        match self {
            ScriptError::Unsupported { construct, .. } => {
                ScriptError::Unsupported { line, construct }
            }
            ScriptError::Syntax { message, .. } => ScriptError::Syntax { line, message },
            ScriptError::Runtime { message, .. } => ScriptError::Runtime { line, message },
        }
    }
}

/// The run's properties as scripts and `${__P(…)}` see them while the test runs: seeded with the
/// `-J` properties, written by `props.put` / `JMeterUtils.setProperty`, shared by every thread.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveProps(Arc<RwLock<BTreeMap<String, String>>>);

impl LiveProps {
    /// A map holding `props`.
    pub(crate) fn new(props: &BTreeMap<String, String>) -> LiveProps {
        LiveProps(Arc::new(RwLock::new(props.clone())))
    }

    /// A property's value.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// Sets a property; the previous value.
    pub(crate) fn set(&self, name: &str, value: String) -> Option<String> {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), value)
    }

    /// Removes a property; its value.
    pub(crate) fn remove(&self, name: &str) -> Option<String> {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
    }
}

/// The properties the plan's scripts write, read by `${__P(…)}` at run time from `live`.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeProps {
    /// The live map.
    pub(crate) live: LiveProps,
    /// The names written; `None`: a script computes the name, so every property.
    names: Option<Arc<BTreeSet<String>>>,
}

impl RuntimeProps {
    /// Over `live`, for the properties `names` (`None`: all).
    pub(crate) fn new(live: LiveProps, names: Option<BTreeSet<String>>) -> RuntimeProps {
        RuntimeProps {
            live,
            names: names.map(Arc::new),
        }
    }

    /// Whether `${__P(name)}` is read at run time.
    pub(crate) fn reads(&self, name: &str) -> bool {
        self.names.as_ref().is_none_or(|n| n.contains(name.trim()))
    }
}

/// The sample a script reads as `prev` / `SampleResult` and may change.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScriptSample {
    pub label: String,
    pub code: String,
    pub message: String,
    pub body: String,
    pub success: bool,
    pub elapsed_ms: i64,
    pub headers: String,
    pub url: String,
    /// `setResponseData` was called (a sampler's body then stays as set).
    pub data_set: bool,
    /// `setIgnore()` was called: the sample is not recorded (nor counted by transactions).
    pub ignore: bool,
}

/// An assertion's verdict as `AssertionResult` holds it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Verdict {
    pub failure: bool,
    pub message: String,
}

/// What a running script sees: the user's variables, the properties, the sample, and the
/// element's settings.
pub(crate) struct Bindings<'a> {
    /// The virtual user (variables, thread number).
    pub user: &'a mut UserCtx,
    /// The run's live properties.
    pub props: &'a LiveProps,
    /// `prev` / `SampleResult`, when there is a sample.
    pub sample: Option<&'a mut ScriptSample>,
    /// `AssertionResult`, in an assertion.
    pub verdict: Option<&'a mut Verdict>,
    /// `sampler.getName()`.
    pub sampler_name: &'a str,
    /// The element's name (log lines).
    pub element: &'a str,
    /// `FileServer.getFileServer().getBaseDir()`: the plan's folder.
    pub base_dir: &'a str,
    /// `Parameters` (and `args`, split on white space).
    pub params: &'a str,
    /// `Thread.sleep` asked for this long in total, ms (waited after the script).
    pub sleep_ms: u64,
    /// Changes to the sampler's request headers (`sampler.getHeaderManager()`): a header name
    /// and its new value, or `None` to remove it; applied in order.
    pub header_edits: Vec<(String, Option<String>)>,
}

/// Compiled scripts whose text holds `${…}` keep this many parsed renderings.
const RENDER_CACHE: usize = 64;

/// A compiled script: parsed once, or (when its text holds `${…}`, which JMeter substitutes
/// before the script runs) a template rendered per run and parsed, with the parses cached.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    dialect: Dialect,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Parsed(Arc<Vec<Stmt>>),
    Templated {
        template: Template,
        cache: Arc<Mutex<HashMap<String, Arc<Vec<Stmt>>>>>,
    },
}

impl Script {
    /// Parses `text` (checked and refused here); `template` is `text` parsed as a run-time
    /// template when it holds `${…}`.
    pub(crate) fn compile(
        text: &str,
        dialect: Dialect,
        template: Option<Template>,
    ) -> Result<Script, ScriptError> {
        let body = match template.filter(|t| t.as_static().is_none()) {
            Some(template) => {
                // Checked now with every run-time reference replaced by a placeholder.
                let probe = template.with_placeholders("0");
                parse::parse(&probe, dialect)?;
                Body::Templated {
                    template,
                    cache: Arc::default(),
                }
            }
            None => Body::Parsed(Arc::new(parse::parse(text, dialect)?)),
        };
        Ok(Script { dialect, body })
    }

    /// The script's dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Runs the script with `b` and the script variables `locals` (BeanShell's `ResponseCode`,
    /// …, read back by the caller): the value of its `return`, else of its last expression.
    pub(crate) fn run(
        &self,
        b: &mut Bindings<'_>,
        locals: &mut HashMap<String, Value>,
    ) -> Result<Value, ScriptError> {
        let stmts = match &self.body {
            Body::Parsed(s) => Arc::clone(s),
            Body::Templated { template, cache } => {
                let text = template.render(b.user, &|v: &str| v.to_string());
                let cached = value::lock(cache).get(&text).cloned();
                match cached {
                    Some(s) => s,
                    None => {
                        let parsed = Arc::new(parse::parse(&text, self.dialect)?);
                        let mut c = value::lock(cache);
                        if c.len() < RENDER_CACHE {
                            c.insert(text, Arc::clone(&parsed));
                        }
                        parsed
                    }
                }
            }
        };
        eval::Interp::new(self.dialect, b, locals).run(&stmts)
    }
}
