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
//! Functions: `__P`, `__property` (folded to constants at compile time when their arguments are
//! static), `__Random`, `__RandomString`, `__time`, `__threadNum`, `__counter`, `__UUID`, `__V`,
//! `__jexl3`, `__jexl2`, `__javaScript` (all three through [`crate::text::expr`]), `__intSum`,
//! `__longSum` (implemented in [`crate::text::functions`]; `__time` formats in
//! [`crate::text::timefmt`]). Any other `__function` is refused at compile time. A function that
//! fails at run time (say `__Random` of a variable that is not a number) renders as empty text and
//! logs a warning, as JMeter's `CompoundVariable` does.
//!
//! **Cycle with [`crate::text::functions`]**, inherent and the only one in the crate: a template
//! holds function calls ([`Part::Call`]) whose arguments are templates again; through
//! `__jexl3` / `__javaScript` this is the template ↔ expression pair (an expression is parsed
//! from a rendered template, see [`check_with_placeholders`]).

use std::cell::{Cell, OnceCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::error::At;
use crate::error::RunnerError;
use crate::text::Props;
use crate::text::expr::Expr;
use crate::text::functions::{Call, build_call};
use crate::text::timefmt::{Clock, system_clock};

/// What a template reads and writes of one virtual user while it is rendered.
#[derive(Debug)]
pub struct UserCtx {
    /// The user's variables (seeded with the plan's user-defined variables; extractors write here).
    pub vars: HashMap<String, String>,
    /// 1-based thread number within its thread group (`__threadNum`).
    pub thread_num: u32,
    /// `__counter(TRUE)` values by call site.
    pub(crate) counters: HashMap<u64, u64>,
    /// Where `__time` reads the time.
    pub(crate) clock: Clock,
    /// The user's thread name (`Group 1-3`), for scripts (`Thread.currentThread().getName()`);
    /// set by the virtual user when it starts an iteration.
    pub(crate) thread_name: Arc<str>,
}

impl UserCtx {
    /// A user with these variables and thread number, reading the system clock.
    pub fn new(vars: HashMap<String, String>, thread_num: u32) -> UserCtx {
        UserCtx {
            vars,
            thread_num,
            counters: HashMap::new(),
            clock: system_clock,
            thread_name: Arc::from(""),
        }
    }

    /// The same user, reading the time (`__time`) from `clock` instead.
    #[cfg(test)]
    pub(crate) fn with_clock(self, clock: Clock) -> UserCtx {
        UserCtx { clock, ..self }
    }
}

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

/// One piece of a parsed template.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    /// Literal text: never encoded.
    Text(String),
    /// A value known at compile time (`__P`, `__property`): a substituted value, so encoded.
    Value(String),
    /// `${name}`, as written between the braces.
    Var(String),
    /// A function call, run per render.
    Call(Box<Call>),
}
/// What parsing needs besides the text.
pub(crate) struct Cx<'a> {
    /// The run's properties.
    pub(crate) props: &'a Props,
    /// Properties scripts write while running: their `__P` is read then.
    pub(crate) runtime: Option<&'a crate::script::RuntimeProps>,
    /// How deep function arguments nest here.
    depth: Cell<usize>,
    shared: OnceCell<Arc<Props>>,
    /// The element and property being parsed, for error messages.
    pub(crate) at: At<'a>,
    text: &'a str,
}

impl Cx<'_> {
    /// The properties, copied once per parsed property value.
    pub(crate) fn props(&self) -> Arc<Props> {
        Arc::clone(self.shared.get_or_init(|| Arc::new(self.props.clone())))
    }

    /// A [`RunnerError::InvalidValue`] for the text being parsed.
    pub(crate) fn invalid(&self, expected: &str) -> RunnerError {
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
        Template::parse_with(text, props, None, at)
    }

    /// [`Template::parse`], where `__P` / `__property` of the properties in `runtime` are read
    /// at run time from its live map (scripts write them while the test runs).
    pub(crate) fn parse_with(
        text: &str,
        props: &BTreeMap<String, String>,
        runtime: Option<&crate::script::RuntimeProps>,
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
            runtime,
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

/// Checks at compile time that `t` will parse once rendered: every run-time `${…}` is replaced
/// by the literal `0`, then (if that fails) by `"0"`; the error of the first attempt is returned.
pub(crate) fn check_with_placeholders(t: &Template) -> Result<(), String> {
    match Expr::parse(&t.with_placeholders("0")) {
        Ok(_) => Ok(()),
        Err(_) if Expr::parse(&t.with_placeholders("\"0\"")).is_ok() => Ok(()),
        Err(e) => Err(e),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const AT: At<'static> = At {
        element: "Home",
        property: "HTTPSampler.path",
    };

    /// 2023-11-14T22:13:20.123Z, a Tuesday, day 318 of the year.
    const INSTANT: i64 = 1_700_000_000_123;

    /// The properties the tests parse with (`port`, and `time.USER1` for `__time`).
    pub(crate) fn props() -> Props {
        BTreeMap::from([
            ("port".to_string(), "8080".to_string()),
            ("time.USER1".to_string(), "HH'h'".to_string()),
        ])
    }

    fn parse(text: &str) -> Template {
        Template::parse(text, &props(), AT).unwrap()
    }

    /// User 3 with these variables, at [`INSTANT`].
    pub(crate) fn user(pairs: &[(&str, &str)]) -> UserCtx {
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        UserCtx::new(vars, 3).with_clock(|| INSTANT)
    }

    fn run(t: &Template, u: &mut UserCtx) -> String {
        t.render(u, &|v: &str| v.to_string())
    }

    /// `text` parsed and rendered for `u`, without encoding.
    pub(crate) fn render(text: &str, u: &mut UserCtx) -> String {
        run(&parse(text), u)
    }

    /// The `expected` text of an InvalidValue error.
    pub(crate) fn invalid(text: &str) -> String {
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
        shared::<crate::text::condition::Condition>();
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
            ("x=${__digest}", "__digest"),
            ("${__chooseRandom(1,v)}", "__chooseRandom"),
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
