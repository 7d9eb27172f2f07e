//! Run-time templates: a property value is parsed once at compile time into literal text,
//! `${var}` references and function calls ([`Template::parse`]), then rendered per request and
//! per virtual user ([`Template::render`]).
//!
//! Parsing follows JMeter's `FunctionParser`: `\$`, `\,` and `\\` lose their backslash (at the
//! top level only when the text holds a reference; otherwise the text is kept as written);
//! function arguments split on commas outside nested `${…}` (also inside parentheses, so
//! `__jexl3(Math.max(1\,2))` needs its comma escaped); a function without arguments may omit
//! its parentheses (`${__threadNum}`); nested references such as `${A${N}}` are not resolved
//! (use `${__V(A${N})}`); unknown variables render verbatim. Each call site is its own function
//! instance: `${__counter(FALSE)}` counts per call site, shared by every user (and every clone of
//! the template).
//!
//! Functions: `__P`, `__property` (folded to constants at compile time when their arguments
//! are static), `__Random`, `__RandomString`, `__time`, `__threadNum`, `__counter`, `__UUID`,
//! `__V`, `__jexl3`, `__jexl2`, `__javaScript` (all three through [`crate::expr`]), `__intSum`,
//! `__longSum`. Any other `__function` is refused at compile time. A function that fails at run
//! time (say `__Random` of a variable that is not a number) renders as empty text and logs a
//! warning, as JMeter's `CompoundVariable` does.
//!
//! `__time` formats follow `DateTimeFormatter` (JMeter ≥ 5.5) for the letters `y M d D E a H h
//! m s S Z X` and `'quoted text'`, plus the aliases `YMD`, `HMS`, `YMDHMS`, `USER1`, `USER2`
//! (overridable by the `time.*` properties) and `/divisor`. Times are formatted in UTC (`Z` →
//! `+0000`, `X` → `Z`): the runner has no time-zone database.

use std::cell::{Cell, OnceCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::RunnerError;
use crate::expr::{Env, Expr, ExprCache, check_with_placeholders};
use crate::vars::At;

type Props = BTreeMap<String, String>;

/// Milliseconds since the Unix epoch; injectable so tests can fix the instant.
pub(crate) type Clock = fn() -> i64;

/// The system clock, in milliseconds since the Unix epoch.
fn system_clock() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// What a template reads and writes of one virtual user while it is rendered.
#[derive(Debug)]
pub struct UserCtx {
    /// The user's variables (seeded with the plan's user-defined variables; extractors write here).
    pub vars: HashMap<String, String>,
    /// 1-based thread number within its thread group (`__threadNum`).
    pub thread_num: u32,
    /// `__counter(TRUE)` values by call site.
    counters: HashMap<u64, u64>,
    clock: Clock,
}

impl UserCtx {
    /// A user with these variables and thread number, reading the system clock.
    pub fn new(vars: HashMap<String, String>, thread_num: u32) -> UserCtx {
        UserCtx {
            vars,
            thread_num,
            counters: HashMap::new(),
            clock: system_clock,
        }
    }

    /// The same user, reading the time (`__time`) from `clock` instead.
    #[cfg(test)]
    pub(crate) fn with_clock(self, clock: Clock) -> UserCtx {
        UserCtx { clock, ..self }
    }
}

/// Numbers call sites, which key the per-user counters.
static NEXT_SITE: AtomicU64 = AtomicU64::new(0);

/// A property value parsed once at compile time: literal text, `${var}` references and function
/// calls. Clones share run-wide state (global counters).
#[derive(Debug, Clone)]
pub struct Template {
    /// The text as written.
    source: String,
    parts: Vec<Part>,
    /// The rendering when nothing depends on run time.
    fixed: Option<String>,
}

#[derive(Debug, Clone)]
enum Part {
    /// Literal text: never encoded.
    Text(String),
    /// A value known at compile time (`__P`, `__property`): a substituted value, so encoded.
    Value(String),
    /// `${name}`, as written between the braces.
    Var(String),
    Call(Box<Call>),
}

#[derive(Debug, Clone)]
struct Call {
    name: &'static str,
    func: Func,
    args: Vec<Template>,
    props: Arc<Props>,
}

#[derive(Debug, Clone)]
enum Func {
    /// `__P` / `__property` with run-time arguments or a variable to set.
    Property,
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
}

/// Supported functions: name, argument counts, usage for error messages.
const FUNCTIONS: [(&str, usize, usize, &str); 14] = [
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
];

/// What parsing needs besides the text.
struct Cx<'a> {
    props: &'a Props,
    /// How deep function arguments nest here.
    depth: Cell<usize>,
    shared: OnceCell<Arc<Props>>,
    at: At<'a>,
    text: &'a str,
}

impl Cx<'_> {
    /// The properties, copied once per parsed property value.
    fn props(&self) -> Arc<Props> {
        Arc::clone(self.shared.get_or_init(|| Arc::new(self.props.clone())))
    }

    fn invalid(&self, expected: &str) -> RunnerError {
        RunnerError::invalid(self.at.element, self.at.property, self.text, expected)
    }
}

impl Template {
    /// Parses `text`. `__P(name,default)` and `__property(name,var,default)` with static
    /// arguments are folded to constants from `props` (same semantics as `vars.rs`). Unknown
    /// functions → [`RunnerError::UnsupportedFunction`] naming `at`; static arguments that are
    /// wrong (e.g. `__Random(a,5)`), bad argument counts and malformed calls →
    /// [`RunnerError::InvalidValue`].
    pub(crate) fn parse(
        text: &str,
        props: &BTreeMap<String, String>,
        at: At<'_>,
    ) -> Result<Template, RunnerError> {
        if !text.contains("${") {
            return Ok(Template::from_parts(
                text,
                vec![Part::Text(text.to_string())],
            ));
        }
        let cx = Cx {
            props,
            depth: Cell::new(0),
            shared: OnceCell::new(),
            at,
            text,
        };
        let parts = compile(text, &cx)?;
        if parts.iter().all(|p| matches!(p, Part::Text(_))) {
            // No reference: JMeter keeps the text as written, backslashes included.
            return Ok(Template::from_parts(
                text,
                vec![Part::Text(text.to_string())],
            ));
        }
        Ok(Template::from_parts(text, parts))
    }

    fn from_parts(source: &str, parts: Vec<Part>) -> Template {
        let fixed = parts
            .iter()
            .map(|p| match p {
                Part::Text(s) | Part::Value(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        Template {
            source: source.to_string(),
            parts,
            fixed,
        }
    }

    /// The text when it holds no run-time reference: what rendering returns with an identity
    /// `encode` (folded `__P` / `__property` values count as substituted, so `render` encodes
    /// them).
    pub fn as_static(&self) -> Option<&str> {
        self.fixed.as_deref()
    }

    /// Renders for one user. `encode` is applied to every substituted value (variables and
    /// function results), never to literal text; unknown variables stay verbatim as `${name}`
    /// (also passed through `encode`), as JMeter does.
    pub fn render(&self, user: &mut UserCtx, encode: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(s) => out.push_str(s),
                Part::Value(s) => out.push_str(&encode(s)),
                Part::Var(name) => match user.vars.get(name.trim()) {
                    Some(v) => out.push_str(&encode(v)),
                    None => out.push_str(&encode(&format!("${{{name}}}"))),
                },
                Part::Call(call) => {
                    let value = call.run(user);
                    out.push_str(&encode(&value));
                }
            }
        }
        out
    }

    /// The text as written in the plan.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text with every run-time reference replaced by `placeholder` (for checking
    /// expressions at compile time).
    pub(crate) fn with_placeholders(&self, placeholder: &str) -> String {
        let mut out = String::new();
        for part in &self.parts {
            out.push_str(match part {
                Part::Text(s) | Part::Value(s) => s,
                Part::Var(_) | Part::Call(_) => placeholder,
            });
        }
        out
    }
}

/// JMeter's `compileString`: literal text and references, escapes removed.
fn compile(text: &str, cx: &Cx<'_>) -> Result<Vec<Part>, RunnerError> {
    let chars: Vec<char> = text.chars().collect();
    let mut parts = Vec::new();
    let mut buf = String::new();
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('\\', Some(&next)) => {
                if !matches!(next, '$' | ',' | '\\') {
                    buf.push('\\');
                }
                buf.push(next);
                i += 2;
            }
            ('$', Some('{')) => match reference(&chars, i + 2, cx)? {
                Some((part, next)) => {
                    if !buf.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut buf)));
                    }
                    parts.push(part);
                    i = next;
                }
                None => {
                    // No closing brace: kept as written (as vars.rs does).
                    buf.extend(&chars[i..]);
                    break;
                }
            },
            (c, _) => {
                buf.push(c);
                i += 1;
            }
        }
    }
    if !buf.is_empty() {
        parts.push(Part::Text(buf));
    }
    Ok(parts)
}

/// Whether `name` looks like a function name (`__` then word characters).
fn is_function_name(name: &str) -> bool {
    name.len() > 2
        && name.starts_with("__")
        && !name.starts_with("__jm__")
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// JMeter's `makeFunction`, from just after `${`: the part and the index after its `}`, or
/// `None` when nothing closes it.
fn reference(
    chars: &[char],
    start: usize,
    cx: &Cx<'_>,
) -> Result<Option<(Part, usize)>, RunnerError> {
    let mut name = String::new();
    let mut prev = ' ';
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        if c == '\\' {
            name.push(chars.get(i + 1).copied().unwrap_or('\\'));
            prev = ' ';
            i += 2;
            continue;
        }
        if c == '(' && prev != ' ' && is_function_name(name.trim()) {
            let Some((raw, after)) = split_params(chars, i + 1) else {
                return Err(cx.invalid("a function call closed by )}"));
            };
            let mut end = after;
            while chars.get(end).is_some_and(|c| *c == ' ') {
                end += 1;
            }
            if chars.get(end) != Some(&'}') {
                return Err(cx.invalid("a function call closed by )}"));
            }
            let args = raw
                .iter()
                .map(|a| arg_template(a, cx))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Some((build_call(name.trim(), args, cx)?, end + 1)));
        }
        if c == '}' {
            let part = if is_function_name(&name) {
                build_call(&name, Vec::new(), cx)?
            } else {
                Part::Var(name)
            };
            return Ok(Some((part, i + 1)));
        }
        name.push(c);
        prev = c;
        i += 1;
    }
    Ok(None)
}

/// JMeter's `parseParams`, from just after `(`: the raw arguments and the index after `)`.
fn split_params(chars: &[char], start: usize) -> Option<(Vec<String>, usize)> {
    let (mut out, mut buf) = (Vec::new(), String::new());
    let (mut functions, mut parens, mut prev) = (0usize, 0usize, ' ');
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => {
                buf.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    buf.push(next);
                    i += 1;
                }
                prev = ' ';
            }
            ',' if functions == 0 => out.push(std::mem::take(&mut buf)),
            ')' if functions == 0 && parens == 0 => {
                // `f()` has no argument, not one empty argument.
                if !(buf.is_empty() && out.is_empty()) {
                    out.push(buf);
                }
                return Some((out, i + 1));
            }
            _ => {
                match c {
                    '{' if prev == '$' => functions += 1,
                    '}' if functions > 0 => functions -= 1,
                    ')' if functions == 0 => parens -= 1,
                    '(' if functions == 0 => parens += 1,
                    _ => {}
                }
                buf.push(c);
                prev = c;
            }
        }
        i += 1;
    }
    None
}

/// Function calls nest at most this deep in arguments.
const MAX_NESTING: usize = 32;

/// A function argument: escapes are always removed (JMeter's `CompoundVariable`).
fn arg_template(raw: &str, cx: &Cx<'_>) -> Result<Template, RunnerError> {
    cx.depth.set(cx.depth.get() + 1);
    if cx.depth.get() > MAX_NESTING {
        return Err(cx.invalid(&format!(
            "a value with functions nested at most {MAX_NESTING} deep"
        )));
    }
    let parts = compile(raw, cx)?;
    cx.depth.set(cx.depth.get() - 1);
    Ok(Template::from_parts(raw, parts))
}

/// `__P` / `__property`: the value and the variable to set.
fn property<'a>(name: &str, args: &[&'a str], props: &Props) -> (String, Option<&'a str>) {
    let key = args.first().copied().unwrap_or_default();
    let found = props.get(key.trim()).cloned();
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
fn build_call(name: &str, args: Vec<Template>, cx: &Cx<'_>) -> Result<Part, RunnerError> {
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
                Some(values) if at(1).is_none_or(|v| name == "__P" || v.trim().is_empty()) => {
                    return Ok(Part::Value(property(name, &values, cx.props).0));
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
        "__threadNum" => Func::ThreadNum,
        "__UUID" => Func::Uuid,
        _ => Func::V,
    };
    Ok(Part::Call(Box::new(Call {
        name,
        func,
        args,
        props: cx.props(),
    })))
}

impl Call {
    /// The call's value for `user` (empty, with a warning, when it fails); sets the optional
    /// variable.
    fn run(&self, user: &mut UserCtx) -> String {
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
                property(self.name, &strs, &self.props)
            }
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

/// A `__time` format, compiled.
#[derive(Debug)]
enum TimeFormat {
    /// No format: epoch milliseconds.
    Millis,
    /// `/n`: epoch milliseconds divided by n.
    Divisor(i64),
    Pattern(Vec<TimeItem>),
}

#[derive(Debug)]
enum TimeItem {
    Text(String),
    /// A pattern letter and how many times it is repeated.
    Field(char, usize),
}

/// Compiles a `__time` format (aliases resolved), or says what is wrong with it.
fn time_format(format: &str, props: &Props) -> Result<TimeFormat, String> {
    if format.is_empty() {
        return Ok(TimeFormat::Millis);
    }
    let alias = |key: &str, default: &str| {
        props
            .get(&format!("time.{key}"))
            .cloned()
            .unwrap_or(default.to_string())
    };
    let pattern = match format {
        "YMD" => alias(format, "yyyyMMdd"),
        "HMS" => alias(format, "HHmmss"),
        "YMDHMS" => alias(format, "yyyyMMdd-HHmmss"),
        "USER1" | "USER2" => alias(format, ""),
        other => other.to_string(),
    };
    if let Some(d) = pattern
        .strip_prefix('/')
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    {
        return match d.parse::<i64>() {
            Ok(n) if n > 0 => Ok(TimeFormat::Divisor(n)),
            _ => Err(format!("divisor {d} is not a whole number above 0")),
        };
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (None, _) => return Err(format!("the quote in \"{pattern}\" is not closed")),
                    (Some('\''), Some('\'')) => {
                        text.push('\'');
                        i += 2;
                    }
                    (Some('\''), _) => break,
                    (Some(&ch), _) => {
                        text.push(ch);
                        i += 1;
                    }
                }
            }
            // `''` outside quotes is one quote.
            items.push(TimeItem::Text(if text.is_empty() {
                "'".to_string()
            } else {
                text
            }));
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let n = chars[i..].iter().take_while(|&&x| x == c).count();
            let max = match c {
                'y' | 'S' => 9,
                'M' | 'E' => 4,
                'D' | 'Z' | 'X' => 3,
                'd' | 'H' | 'h' | 'm' | 's' => 2,
                'a' => 1,
                _ => 0,
            };
            if n > max {
                let field = c.to_string().repeat(n);
                return Err(format!(
                    "date pattern field {field} is not supported (letters: y M d D E a H h m s S Z X)"
                ));
            }
            items.push(TimeItem::Field(c, n));
            i += n;
        } else if "[]{}#".contains(c) {
            return Err(format!("'{c}' is reserved in a date pattern"));
        } else {
            items.push(TimeItem::Text(c.to_string()));
            i += 1;
        }
    }
    Ok(TimeFormat::Pattern(items))
}

/// English month and day names, as `DateTimeFormatter` prints them in the default locale.
#[rustfmt::skip]
const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"];
#[rustfmt::skip]
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Year, month (1-12) and day of `days` since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats `ms` (epoch milliseconds) in UTC.
fn format_time(format: &TimeFormat, ms: i64) -> String {
    let items = match format {
        TimeFormat::Millis => return ms.to_string(),
        TimeFormat::Divisor(d) => return (ms / d).to_string(),
        TimeFormat::Pattern(items) => items,
    };
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let before: i64 = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][(month - 1) as usize];
    let day_of_year = before + day + i64::from(leap && month > 2);
    let hour = in_day / 3_600_000;
    // 1970-01-01 was a Thursday.
    let weekday = DAYS[(days + 4).rem_euclid(7) as usize];
    let month_name = MONTHS[(month - 1) as usize];
    let mut out = String::new();
    for item in items {
        let (c, n) = match item {
            TimeItem::Text(t) => {
                out.push_str(t);
                continue;
            }
            TimeItem::Field(c, n) => (*c, *n),
        };
        let pad = |v: i64| format!("{v:0n$}");
        out.push_str(&match c {
            'y' if n == 2 => format!("{:02}", year.rem_euclid(100)),
            'y' => pad(year),
            'M' if n == 4 => month_name.to_string(),
            'M' if n == 3 => month_name[..3].to_string(),
            'M' => pad(month),
            'd' => pad(day),
            'D' => pad(day_of_year),
            'E' if n == 4 => weekday.to_string(),
            'E' => weekday[..3].to_string(),
            'a' => if hour < 12 { "AM" } else { "PM" }.to_string(),
            'H' => pad(hour),
            'h' => pad((hour + 11) % 12 + 1),
            'm' => pad(in_day / 60_000 % 60),
            's' => pad(in_day / 1000 % 60),
            'S' => format!("{:09}", in_day % 1000 * 1_000_000)[..n].to_string(),
            'Z' => "+0000".to_string(),
            _ => "Z".to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: At<'static> = At {
        element: "Home",
        property: "HTTPSampler.path",
    };

    /// 2023-11-14T22:13:20.123Z, a Tuesday, day 318 of the year.
    const INSTANT: i64 = 1_700_000_000_123;

    fn props() -> Props {
        BTreeMap::from([
            ("port".to_string(), "8080".to_string()),
            ("time.USER1".to_string(), "HH'h'".to_string()),
        ])
    }

    fn parse(text: &str) -> Template {
        Template::parse(text, &props(), AT).unwrap()
    }

    fn user(pairs: &[(&str, &str)]) -> UserCtx {
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        UserCtx::new(vars, 3).with_clock(|| INSTANT)
    }

    fn run(t: &Template, u: &mut UserCtx) -> String {
        t.render(u, &|v: &str| v.to_string())
    }

    fn render(text: &str, u: &mut UserCtx) -> String {
        run(&parse(text), u)
    }

    /// The `expected` text of an InvalidValue error.
    fn invalid(text: &str) -> String {
        match Template::parse(text, &props(), AT) {
            Err(RunnerError::InvalidValue {
                element,
                property,
                value,
                expected,
            }) => {
                assert_eq!(
                    (element.as_str(), property.as_str(), value.as_str()),
                    ("Home", "HTTPSampler.path", text)
                );
                expected
            }
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn templates_can_be_shared_between_users_on_other_threads() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<Template>();
        shared::<crate::expr::Condition>();
    }

    #[test]
    fn escapes_are_removed_only_when_the_text_holds_a_reference() {
        // functions.xml: a backslash before $ , or \ is removed only if the string contains a
        // function or variable reference.
        assert_eq!(parse(r"a\,b").as_static(), Some(r"a\,b"));
        assert_eq!(parse(r"\${x}").as_static(), Some(r"\${x}"));
        assert_eq!(parse("cost: $5 ${x").as_static(), Some("cost: $5 ${x"));
        let mut u = user(&[("x", "1")]);
        assert_eq!(render(r"a\,b\\ ${x} \n", &mut u), r"a,b\ 1 \n");
        assert_eq!(render(r"\${x} is ${x}", &mut u), "${x} is 1");
        assert_eq!(render("$${x}", &mut u), "$1");
    }

    #[test]
    fn variables_render_per_user_and_only_substituted_values_are_encoded() {
        let mut u = user(&[("HOST", "a b"), ("N", "1"), ("A1", "x")]);
        let t = parse("http://${HOST}/${ HOST }?q=${UNDEF}&p=${__P(port)}");
        assert_eq!(t.as_static(), None);
        assert_eq!(
            t.source(),
            "http://${HOST}/${ HOST }?q=${UNDEF}&p=${__P(port)}"
        );
        let encoded = t.render(&mut u, &|v: &str| format!("<{v}>"));
        assert_eq!(encoded, "http://<a b>/<a b>?q=<${UNDEF}>&p=<8080>");
        // No nested references (functions.xml): ${A${N}} is not A1.
        assert_eq!(render("${A${N}}", &mut u), "${A${N}}");
        assert_eq!(render("${__jm__Loop__idx}", &mut u), "${__jm__Loop__idx}");
        u.vars.insert("HOST".into(), "c".into());
        assert_eq!(run(&t, &mut u), "http://c/c?q=${UNDEF}&p=8080");
    }

    #[test]
    fn properties_fold_at_compile_time() {
        // Same semantics as vars.rs: __P defaults to 1, __property to the property name.
        let t = parse("${__P(port,80)}:${__P(missing)}:${__P(missing,)}:${__P(missing,a\\,b)}");
        assert_eq!(t.as_static(), Some("8080:1::a,b"));
        let t = parse("${__property(port)}|${__property(nope)}|${__property(nope,,9)}");
        assert_eq!(t.as_static(), Some("8080|nope|9"));
        // A variable to set, or a run-time argument, defers the call to run time.
        let mut u = user(&[("k", "port")]);
        let t = parse("${__property(port,PORT)}");
        assert_eq!((t.as_static(), run(&t, &mut u)), (None, "8080".to_string()));
        assert_eq!(u.vars["PORT"], "8080");
        assert_eq!(render("${__P(${k})}/${__P(x${k},d)}", &mut u), "8080/d");
    }

    #[test]
    fn counters_count_per_user_or_across_all_users_and_clones() {
        let (mut a, mut b) = (user(&[]), user(&[]));
        let per_user = parse("${__counter(TRUE)}");
        let copy = per_user.clone();
        let got = [
            run(&per_user, &mut a),
            run(&per_user, &mut a),
            run(&copy, &mut b),
            run(&copy, &mut a),
        ];
        assert_eq!(got, ["1", "2", "1", "3"]);
        let global = parse("${__counter(FALSE,c)}");
        let copy = global.clone();
        let got = [
            run(&global, &mut a),
            run(&copy, &mut b),
            run(&global, &mut b),
        ];
        assert_eq!(got, ["1", "2", "3"]);
        assert_eq!(b.vars["c"], "3");
        // functions.xml: each occurrence is its own counter.
        assert_eq!(
            render("${__counter(FALSE)}-${__counter(FALSE)}", &mut a),
            "1-1"
        );
    }

    #[test]
    fn random_numbers_stay_within_inclusive_bounds() {
        let mut u = user(&[]);
        let t = parse("${__Random(3,5,r)}");
        let seen: std::collections::BTreeSet<String> = (0..500).map(|_| run(&t, &mut u)).collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["3", "4", "5"]);
        assert!(["3", "4", "5"].contains(&u.vars["r"].as_str()));
        assert_eq!(render("${__Random(-2,-2)}", &mut u), "-2");
        // A run-time argument that is not a number: JMeter's NumberFormatException, so no value.
        u.vars.insert("x".into(), "abc".into());
        assert_eq!(render("[${__Random(${x},5)}]", &mut u), "[]");
    }

    #[test]
    fn random_strings_have_the_length_and_characters_asked_for() {
        let mut u = user(&[]);
        let s = render("${__RandomString(40,ab\\,,v)}", &mut u);
        assert_eq!(s.chars().count(), 40);
        assert!(s.chars().all(|c| "ab,".contains(c)), "{s}");
        assert_eq!(u.vars["v"], s);
        assert_eq!(render("${__RandomString(7)}", &mut u).chars().count(), 7);
        assert_eq!(render("${__RandomString(0,a)}", &mut u), "");
    }

    #[test]
    fn time_formats_a_fixed_instant() {
        let mut u = user(&[]);
        let cases = [
            ("${__time()}", "1700000000123"),
            ("${__time}", "1700000000123"),
            ("${__time(,)}", "1700000000123"),
            ("${__time(/1000)}", "1700000000"),
            (
                "${__time(yyyy-MM-dd HH:mm:ss.SSS)}",
                "2023-11-14 22:13:20.123",
            ),
            ("${__time(yy/M/d h:mm a)}", "23/11/14 10:13 PM"),
            (r"${__time(EEE\, dd MMM yyyy)}", "Tue, 14 Nov 2023"),
            ("${__time(EEEE MMMM D DDD)}", "Tuesday November 318 318"),
            ("${__time(YMD)}", "20231114"),
            ("${__time(HMS)}", "221320"),
            ("${__time(YMDHMS)}", "20231114-221320"),
            ("${__time(USER1)}", "22h"),
            ("${__time('T'HH'h''')}", "T22h'"),
            ("${__time(Z X S SSSSSS)}", "+0000 Z 1 123000"),
        ];
        for (text, want) in cases {
            assert_eq!(render(text, &mut u), want, "{text}");
        }
        assert_eq!(render("${__time(YMD,today)}", &mut u), "20231114");
        assert_eq!(u.vars["today"], "20231114");
        let f = |ms: i64, pattern: &str| format_time(&time_format(pattern, &props()).unwrap(), ms);
        assert_eq!(f(-1, "yyyy-MM-dd HH:mm:ss.SSS"), "1969-12-31 23:59:59.999");
        // 2024-02-29T00:00:00Z: a leap day (day 60), at 12 AM.
        assert_eq!(
            f(1_709_164_800_000, "yyyy-MM-dd D hh a E"),
            "2024-02-29 60 12 AM Thu"
        );
        assert_eq!(f(951_782_400_000, "yyyy-MM-dd"), "2000-02-29");
    }

    #[test]
    fn time_refuses_unsupported_patterns() {
        for (text, why) in [
            ("${__time(yyyy-uu)}", "field uu is not supported"),
            ("${__time(MMMMM)}", "field MMMMM"),
            ("${__time(/0)}", "divisor 0"),
            ("${__time('x)}", "not closed"),
            ("${__time([yyyy])}", "'[' is reserved"),
        ] {
            assert!(invalid(text).contains(why), "{text}");
        }
        // A run-time format that is wrong renders as empty text.
        let mut u = user(&[("f", "uu")]);
        assert_eq!(render("[${__time(${f})}]", &mut u), "[]");
        u.vars.insert("f".into(), "HH".into());
        assert_eq!(render("${__time(${f})}", &mut u), "22");
    }

    #[test]
    fn thread_number_uuid_and_v() {
        let mut u = user(&[("A1", "x"), ("N", "1"), ("a,b", "comma")]);
        assert_eq!(render("${__threadNum}/${__threadNum()}", &mut u), "3/3");
        let id = render("${__UUID()}", &mut u);
        assert_eq!(
            (id.len(), id.as_bytes()[14], id.as_bytes()[8]),
            (36, b'4', b'-')
        );
        assert_ne!(id, render("${__UUID}", &mut u));
        // Variable.java: the value, else the default, else the name itself.
        assert_eq!(render("${__V(A${N})}", &mut u), "x");
        assert_eq!(render("${__V(B${N},none)}", &mut u), "none");
        assert_eq!(render("${__V(B${N})}", &mut u), "B1");
        assert_eq!(render(r"${__V(a\,b)}", &mut u), "comma");
    }

    #[test]
    fn sums_and_nested_calls() {
        let mut u = user(&[]);
        assert_eq!(render("${__intSum(${__Random(2,2)},3)}", &mut u), "5");
        // IntSum.java: a numeric last argument is added, otherwise it names the variable.
        assert_eq!(render("${__intSum(1,2,3)}", &mut u), "6");
        assert_eq!(render("${__longSum(1,2,3,total)}", &mut u), "6");
        assert_eq!(u.vars["total"], "6");
        // Java int arithmetic wraps; long does not at this size.
        assert_eq!(render("${__intSum(2147483647,1)}", &mut u), "-2147483648");
        assert_eq!(render("${__longSum(2147483647,1)}", &mut u), "2147483648");
    }

    #[test]
    fn scripts_evaluate_with_the_expression_module() {
        let mut u = user(&[("N", "4"), ("S", "ab")]);
        assert_eq!(render("${__jexl3(1 + 2)}", &mut u), "3");
        assert_eq!(render("${__jexl3(${N} > 1,big)}", &mut u), "true");
        assert_eq!(u.vars["big"], "true");
        assert_eq!(
            render(r#"${__javaScript("${S}".toUpperCase())}"#, &mut u),
            "AB"
        );
        assert_eq!(render(r"${__jexl2(Math.max(1\,${N}))}", &mut u), "4");
        assert_eq!(
            render("${__jexl3(vars.get('S') + props.get('port'))}", &mut u),
            "ab8080"
        );
        // Jexl3Function: a null result prints as "", and a failing script gives "".
        assert_eq!(render("[${__jexl3(vars.get('none'))}]", &mut u), "[]");
        assert_eq!(
            render("[${__jexl3(vars.get('none').length())}]", &mut u),
            "[]"
        );
        // Syntax is checked at compile time, with placeholders for run-time references.
        assert!(invalid("${__jexl3(1 +)}").contains("column 4"));
        assert!(invalid("${__javaScript(${N} +)}").contains("expected a value"));
    }

    #[test]
    fn unknown_functions_are_refused_naming_element_and_property() {
        for (text, name) in [
            ("x=${__machineName}", "__machineName"),
            ("${__groovy(1,v)}", "__groovy"),
            ("${ __foo(1)}", "__foo"),
        ] {
            match Template::parse(text, &props(), AT) {
                Err(RunnerError::UnsupportedFunction {
                    element,
                    property,
                    function,
                }) => {
                    assert_eq!(
                        (element.as_str(), property.as_str(), function.as_str()),
                        ("Home", "HTTPSampler.path", name)
                    );
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // FunctionParser: "(" after a space does not start a call, so this is a variable name.
        assert_eq!(render("${ __foo (1)}", &mut user(&[])), "${ __foo (1)}");
    }

    #[test]
    fn wrong_static_arguments_are_refused() {
        let cases = [
            (
                "${__Random(a,5)}",
                "__Random(min,max[,var]): \"a\" is not a whole number",
            ),
            ("${__Random(5,1)}", "min is above max"),
            ("${__Random(1)}", "found 1 argument(s)"),
            ("${__UUID(1)}", "found 1 argument(s)"),
            ("${__RandomString(-1,a)}", "negative"),
            ("${__intSum(a,1)}", "\"a\" is not a whole number"),
            ("${__Random(1,2)x}", "closed by )}"),
            ("${__Random(1,2", "closed by )}"),
            (
                &format!("{}1{}", "${__V(".repeat(40), ")}".repeat(40)),
                "nested at most 32 deep",
            ),
        ];
        for (text, why) in cases {
            assert!(invalid(text).contains(why), "{text}: {}", invalid(text));
        }
    }
}
