//! The run-time functions a [`Template`] can call — `__P` / `__property` (when not folded at
//! compile time), `__Random`, `__RandomString`, `__time`, `__threadNum`, `__counter`, `__UUID`,
//! `__V`, `__jexl3` / `__jexl2` / `__javaScript`, `__intSum`, `__longSum`, `__evalVar`, `__eval`,
//! `__FileToString`, `__base64Encode` (jmeter-plugins), `__groovy` / `__BeanShell`: their static checks at
//! compile time ([`build_call`]) and their evaluation per user ([`Call::run`]).
//!
//! **Cycle with [`crate::text::template`]**, inherent and the only one in the crate: a call's
//! arguments are templates (`${__Random(1,${max})}`), and a template holds calls. The
//! expression functions close the template ↔ expression pair: `__jexl3(…)`'s argument is a
//! template, rendered, then parsed and evaluated by [`crate::text::expr`] (which needs no
//! templates).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::RunnerError;
use crate::text::Props;
use crate::text::expr::{Env, Expr, ExprCache};
use crate::text::template::{Cx, Part, Template, UserCtx, check_with_placeholders};
use crate::text::timefmt::{TimeFormat, format_time, time_format};

/// Numbers call sites, which key the per-user counters.
static NEXT_SITE: AtomicU64 = AtomicU64::new(0);

/// One call site of a function in a template: the function, its argument templates and the
/// run's properties.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The function name as listed in [`FUNCTIONS`] (`__Random`, …).
    name: &'static str,
    func: Func,
    args: Vec<Template>,
    props: Arc<Props>,
    /// The run's live properties, when scripts write the property a `__P` reads.
    live: Option<crate::script::LiveProps>,
}

/// Which function a call runs, with what it prepared at compile time.
#[derive(Debug, Clone)]
enum Func {
    /// `__P` / `__property` with run-time arguments or a variable to set.
    Property,
    /// jmeter-plugins' `__env` with run-time arguments or a variable to set.
    Env,
    /// `__machineName` with a variable to set.
    MachineName,
    Random,
    RandomString,
    /// The format, when static.
    Time(Option<Arc<TimeFormat>>),
    ThreadNum,
    /// Call site (per-user counters) and the global counter.
    Counter(u64, Arc<AtomicU64>),
    Uuid,
    V,
    /// The expression when static, else a cache by rendered text.
    Script(Option<Arc<Expr>>, ExprCache),
    Sum,
    /// `__evalVar`: a variable's value evaluated as a template.
    EvalVar,
    /// `__eval`: its (rendered) argument evaluated again as a template.
    Eval,
    /// `__FileToString`: a file's text.
    FileToString,
    /// `__base64Encode` (jmeter-plugins): UTF-8 bytes in base64.
    Base64,
    /// `__groovy` / `__BeanShell`: the dialect, the script when static, the live properties.
    Program(
        crate::script::Dialect,
        Option<Arc<crate::script::Script>>,
        crate::script::LiveProps,
    ),
}

/// Supported functions: name, argument counts, usage for error messages.
const FUNCTIONS: [(&str, usize, usize, &str); 22] = [
    ("__P", 1, 2, "name[,default]"),
    ("__property", 1, 3, "name[,var[,default]]"),
    ("__Random", 2, 3, "min,max[,var]"),
    ("__RandomString", 1, 3, "length[,chars[,var]]"),
    ("__time", 0, 2, "[format[,var]]"),
    ("__threadNum", 0, 0, ""),
    ("__counter", 1, 2, "TRUE|FALSE[,var]"),
    ("__UUID", 0, 0, ""),
    ("__V", 1, 2, "name[,default]"),
    ("__jexl3", 1, 2, "expression[,var]"),
    ("__jexl2", 1, 2, "expression[,var]"),
    ("__javaScript", 1, 2, "expression[,var]"),
    ("__intSum", 2, usize::MAX, "a,b[,…][,var]"),
    ("__longSum", 2, usize::MAX, "a,b[,…][,var]"),
    ("__groovy", 1, 2, "script[,var]"),
    ("__BeanShell", 1, 2, "script[,var]"),
    ("__evalVar", 1, 1, "name"),
    ("__eval", 1, 1, "text"),
    ("__FileToString", 1, 3, "file[,encoding[,var]]"),
    ("__base64Encode", 1, 2, "text[,var]"),
    ("__env", 1, 3, "name[,var[,default]]"),
    ("__machineName", 0, 1, "[var]"),
];

/// An environment variable of this process, for `__env`.
pub(crate) fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// This machine's host name, for `__machineName` (JMeter: `InetAddress.getLocalHost()
/// .getHostName()`): the kernel's (`/proc/sys/kernel/hostname`), else `HOSTNAME`, else
/// `localhost`.
pub(crate) fn machine_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// `__P` / `__property` (and jmeter-plugins' `__env`, the same rule over the environment): the
/// value and the variable to set.
pub(crate) fn property<'a>(
    name: &str,
    args: &[&'a str],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (String, Option<&'a str>) {
    let key = args.first().copied().unwrap_or_default();
    let found = lookup(key.trim());
    if name == "__P" {
        // Property2: the default is "1" when omitted.
        return (
            found.unwrap_or_else(|| args.get(1).copied().unwrap_or("1").to_string()),
            None,
        );
    }
    // Property: the default is the property name; the optional variable receives the value.
    let value = found.unwrap_or_else(|| args.get(2).copied().unwrap_or(key).to_string());
    (value, args.get(1).copied())
}

/// Reads a whole number as Java's `Long.parseLong` / `Integer.parseInt` would (leniently
/// trimmed).
fn whole(s: &str, long: bool) -> Result<i64, String> {
    let parsed = if long {
        s.trim().parse::<i64>()
    } else {
        s.trim().parse::<i32>().map(i64::from)
    };
    parsed.map_err(|_| format!("\"{s}\" is not a whole number"))
}

/// Checks a call's static arguments and builds its part.
pub(crate) fn build_call(
    name: &str,
    args: Vec<Template>,
    cx: &Cx<'_>,
) -> Result<Part, RunnerError> {
    let Some(&(name, min, max, usage)) = FUNCTIONS.iter().find(|f| f.0 == name) else {
        return Err(RunnerError::UnsupportedFunction {
            element: cx.at.element.to_string(),
            property: cx.at.property.to_string(),
            function: name.to_string(),
        });
    };
    let bad = |what: &str| cx.invalid(&format!("a valid call of {name}({usage}): {what}"));
    if args.len() < min || args.len() > max {
        return Err(bad(&format!("found {} argument(s)", args.len())));
    }
    let fixed: Vec<Option<&str>> = args.iter().map(Template::as_static).collect();
    let at = |i: usize| fixed.get(i).copied().flatten();
    let func = match name {
        "__P" | "__property" => {
            let statics: Option<Vec<&str>> = fixed.iter().copied().collect();
            match statics {
                Some(values)
                    if at(1).is_none_or(|v| name == "__P" || v.trim().is_empty())
                        && !cx.runtime.is_some_and(|r| r.reads(values[0])) =>
                {
                    let lookup = |k: &str| cx.props.get(k).cloned();
                    return Ok(Part::Value(property(name, &values, &lookup).0));
                }
                _ => Func::Property,
            }
        }
        "__Random" => {
            let bounds = [at(0), at(1)].map(|b| b.map(|s| whole(s, true)).transpose());
            match bounds {
                [Err(e), _] | [_, Err(e)] => return Err(bad(&e)),
                [Ok(Some(lo)), Ok(Some(hi))] if lo > hi => return Err(bad("min is above max")),
                _ => Func::Random,
            }
        }
        "__RandomString" => match at(0).map(|s| whole(s, false)) {
            Some(Err(e)) => return Err(bad(&e)),
            Some(Ok(n)) if n < 0 => return Err(bad("the length is negative")),
            _ => Func::RandomString,
        },
        "__time" => match at(0) {
            Some(format) => Func::Time(Some(Arc::new(
                time_format(format, cx.props).map_err(|e| bad(&e))?,
            ))),
            None if args.is_empty() => Func::Time(Some(Arc::new(TimeFormat::Millis))),
            None => Func::Time(None),
        },
        "__counter" => Func::Counter(NEXT_SITE.fetch_add(1, Ordering::Relaxed), Arc::default()),
        "__jexl3" | "__jexl2" | "__javaScript" => {
            let expr = match at(0) {
                Some(src) => Some(Arc::new(Expr::parse(src).map_err(|e| bad(&e))?)),
                None => {
                    check_with_placeholders(&args[0]).map_err(|e| bad(&e))?;
                    None
                }
            };
            Func::Script(expr, ExprCache::default())
        }
        "__intSum" | "__longSum" => {
            for s in fixed[..args.len() - 1].iter().flatten() {
                whole(s, name == "__longSum").map_err(|e| bad(&e))?;
            }
            Func::Sum
        }
        "__groovy" | "__BeanShell" => {
            let dialect = if name == "__groovy" {
                crate::script::Dialect::Groovy
            } else {
                crate::script::Dialect::Java
            };
            let script = match at(0) {
                Some(src) => Some(Arc::new(
                    crate::script::Script::compile(src, dialect, None)
                        .map_err(|e| bad(&e.to_string()))?,
                )),
                None => None,
            };
            let live = match cx.runtime {
                Some(r) => r.live.clone(),
                None => crate::script::LiveProps::new(cx.props),
            };
            Func::Program(dialect, script, live)
        }
        // Fixed for the run when the arguments are (a host from `${__env(HOST,localhost)}`).
        "__env" => match fixed.iter().copied().collect::<Option<Vec<&str>>>() {
            Some(values) if at(1).is_none_or(|v| v.trim().is_empty()) => {
                return Ok(Part::Value(property(name, &values, &env_lookup).0));
            }
            _ => Func::Env,
        },
        "__machineName" => match at(0) {
            None if !args.is_empty() => Func::MachineName,
            Some(var) if !var.trim().is_empty() => Func::MachineName,
            _ => return Ok(Part::Value(machine_name())),
        },
        "__threadNum" => Func::ThreadNum,
        "__UUID" => Func::Uuid,
        "__evalVar" => Func::EvalVar,
        "__eval" => Func::Eval,
        "__FileToString" => Func::FileToString,
        "__base64Encode" => Func::Base64,
        _ => Func::V,
    };
    Ok(Part::Call(Box::new(Call {
        name,
        func,
        args,
        props: cx.props(),
        live: cx.runtime.map(|r| r.live.clone()),
    })))
}

impl Call {
    /// The call's value for `user` (empty, with a warning, when it fails); sets the optional
    /// variable.
    pub(crate) fn run(&self, user: &mut UserCtx) -> String {
        let raw = |v: &str| v.to_string();
        let args: Vec<String> = self.args.iter().map(|a| a.render(user, &raw)).collect();
        match self.value(&args, user) {
            Ok((value, var)) => {
                if let Some(var) = var.map(str::trim).filter(|v| !v.is_empty()) {
                    user.vars.insert(var.to_string(), value.clone());
                }
                value
            }
            Err(e) => {
                tracing::warn!(function = self.name, error = %e, "function failed: rendered as empty text");
                String::new()
            }
        }
    }

    fn value<'a>(
        &self,
        args: &'a [String],
        user: &mut UserCtx,
    ) -> Result<(String, Option<&'a str>), String> {
        let arg = |i: usize| args.get(i).map(String::as_str);
        let first = arg(0).unwrap_or_default();
        Ok(match &self.func {
            Func::Property => {
                let strs: Vec<&str> = args.iter().map(String::as_str).collect();
                match &self.live {
                    Some(live) => property(self.name, &strs, &|k: &str| live.get(k)),
                    None => property(self.name, &strs, &|k: &str| self.props.get(k).cloned()),
                }
            }
            Func::Env => {
                let strs: Vec<&str> = args.iter().map(String::as_str).collect();
                property(self.name, &strs, &env_lookup)
            }
            Func::MachineName => (machine_name(), arg(0)),
            Func::Random => {
                let (lo, hi) = (
                    whole(first, true)?,
                    whole(arg(1).unwrap_or_default(), true)?,
                );
                if lo > hi {
                    return Err(format!("min {lo} is above max {hi}"));
                }
                (fastrand::i64(lo..=hi).to_string(), arg(2))
            }
            Func::RandomString => {
                let len = usize::try_from(whole(first, false)?).map_err(|_| "negative length")?;
                let chars: Vec<char> = arg(1).unwrap_or_default().trim().chars().collect();
                let value: String = (0..len)
                    .map(|_| match fastrand::choice(&chars) {
                        Some(c) => *c,
                        // No characters given: any character (JMeter: any Unicode).
                        None => char::from_u32(fastrand::u32(0x20..0xD800)).unwrap_or(' '),
                    })
                    .collect();
                (value, arg(2))
            }
            Func::Time(format) => {
                let now = (user.clock)();
                let text = match format {
                    Some(f) => format_time(f, now),
                    None => format_time(&time_format(first, &self.props)?, now),
                };
                (text, arg(1))
            }
            Func::ThreadNum => (user.thread_num.to_string(), None),
            Func::Counter(site, global) => {
                // IterationCounter: Boolean.parseBoolean, so only "true" (any case) is per user.
                let n = if first.eq_ignore_ascii_case("true") {
                    let n = user.counters.entry(*site).or_insert(0);
                    *n += 1;
                    *n
                } else {
                    global.fetch_add(1, Ordering::Relaxed) + 1
                };
                (n.to_string(), arg(1))
            }
            Func::Uuid => (uuid::Uuid::new_v4().to_string(), None),
            Func::V => {
                let value = user
                    .vars
                    .get(first)
                    .map(String::as_str)
                    .or(arg(1))
                    .unwrap_or(first);
                (value.to_string(), None)
            }
            Func::Script(fixed, cache) => {
                let parsed;
                let expr = match fixed {
                    Some(e) => &**e,
                    None => {
                        parsed = cache.get(first);
                        (*parsed).as_ref().map_err(|e| format!("[{first}]: {e}"))?
                    }
                };
                let env = Env {
                    vars: &user.vars,
                    props: &self.props,
                };
                let value = expr.eval(&env).map_err(|e| format!("[{first}]: {e}"))?;
                (value.to_jmeter_string(), arg(1))
            }
            Func::Program(dialect, fixed, live) => {
                let value = match fixed {
                    Some(s) => crate::script::function::run_function(s, user, live)?,
                    None => {
                        let s = crate::script::Script::compile(first, *dialect, None)
                            .map_err(|e| e.to_string())?;
                        crate::script::function::run_function(&s, user, live)?
                    }
                };
                (value, arg(1))
            }
            // EvalVarFunction: the variable's value run through the function parser (an
            // undefined variable gives an empty text).
            Func::EvalVar => {
                let Some(text) = user.vars.get(first.trim()).cloned() else {
                    return Ok((String::new(), None));
                };
                let at = crate::error::At {
                    element: "__evalVar",
                    property: first,
                };
                let t = Template::parse(&text, &self.props, at).map_err(|e| e.to_string())?;
                (t.render(user, &|v: &str| v.to_string()), None)
            }
            // EvalFunction: the argument, once substituted, run through the function parser
            // again (`${__eval(${tpl})}` renders the references that `tpl` holds).
            Func::Eval => {
                let at = crate::error::At {
                    element: "__eval",
                    property: first,
                };
                let t = Template::parse(first, &self.props, at).map_err(|e| e.to_string())?;
                (t.render(user, &|v: &str| v.to_string()), None)
            }
            // FileToString (JMeter 2.13): the file named relative to the working directory,
            // whole; "**ERR**" when it cannot be read.
            Func::FileToString => {
                let encoding = arg(1).unwrap_or_default().trim().to_ascii_uppercase();
                let text = match std::fs::read(first) {
                    Ok(bytes) => match encoding.as_str() {
                        "" | "UTF-8" | "UTF8" => String::from_utf8_lossy(&bytes).into_owned(),
                        "ISO-8859-1" | "US-ASCII" => bytes.iter().map(|b| char::from(*b)).collect(),
                        other => return Err(format!("encoding {other} is not supported")),
                    },
                    Err(e) => {
                        tracing::warn!(file = first, error = %e, "__FileToString: cannot read");
                        "**ERR**".to_string()
                    }
                };
                (text, arg(2))
            }
            Func::Base64 => (super::base64(first.as_bytes()), arg(1)),
            Func::Sum => {
                let long = self.name == "__longSum";
                let (last, rest) = args.split_last().ok_or("no arguments")?;
                let add = |a: i64, b: i64| {
                    if long {
                        a.wrapping_add(b)
                    } else {
                        i64::from((a as i32).wrapping_add(b as i32))
                    }
                };
                let mut sum = 0;
                for a in rest {
                    sum = add(sum, whole(a, long)?);
                }
                // The last argument is a number to add, or else the variable to set.
                match whole(last, long) {
                    Ok(n) => (add(sum, n).to_string(), None),
                    Err(_) => (sum.to_string(), Some(last.as_str())),
                }
            }
        })
    }
}

#[cfg(test)]
mod eval_tests {
    use crate::text::template::tests::{render, user};

    /// JMeter's `EvalFunction`: `new CompoundVariable(parameter).execute()` on the argument as
    /// already substituted — the references a variable's value holds are rendered too.
    #[test]
    fn eval_renders_its_substituted_argument_again() {
        let mut u = user(&[("x", "7"), ("tpl", "id-${x}-${__threadNum}")]);
        assert_eq!(render("${__eval(${tpl})}", &mut u), "id-7-3");
        assert_eq!(render("${__eval(plain)}", &mut u), "plain");
        assert_eq!(render("${__eval(${tpl}/${x})}", &mut u), "id-7-3/7");
    }
}
