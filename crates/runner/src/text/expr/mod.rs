//! A small expression evaluator for what JMeter plans put in If / While Controller conditions and
//! in `${__jexl3(…)}`, `${__jexl2(…)}` and `${__javaScript(…)}`. As in JMeter, `${…}` is
//! substituted first ([`crate::text::template`]); the resulting text is then parsed ([`parse`]) and
//! evaluated here, over the [`value::Value`]s of [`value`]. Texts known only once rendered are
//! parsed through an [`ExprCache`]. [`crate::text::condition`] builds the controllers' conditions
//! on top. This module uses no templates: the template ↔ expression cycle of JMeter's functions is
//! carried by [`crate::text::functions`].
//!
//! One grammar serves JavaScript and JEXL: literals (numbers, `'…'` / `"…"` strings, `true`,
//! `false`, `null`, `undefined`), `vars.get(name)`, `props.get(name)`,
//! `props.getProperty(name[,default])`, `parseInt`, `parseFloat`, `Number`, `String`, `Boolean`,
//! `empty`, `size`, `Math.abs/floor/ceil/round/min/max/pow/sqrt/random`, the string methods
//! `.length` / `.length()` / `.size()` / `.equals` / `.equalsIgnoreCase` / `.contains` /
//! `.includes` / `.startsWith` / `.endsWith` / `.indexOf` / `.toLowerCase` / `.toUpperCase` /
//! `.trim` / `.matches` (whole match) / `.isEmpty` / `.toString`, and the operators, by JS
//! precedence: unary `! - + not`; `* / % div mod`; `+ -` (`+` concatenates when either side is a
//! string); `< <= > >= lt le gt ge`; `== != === !== eq ne =~ !~ =^ !^ =$ !$`; `&& and`;
//! `|| or`; `?:`. `==` and the relational operators are loose: two values that both read as
//! numbers compare numerically, others as strings; `===` is strict.
//!
//! Deliberately not supported: statements, `;` other than one at the end, assignments, `var`,
//! `new`, `typeof`, bitwise operators, object / array literals, user functions, and the scripting
//! objects `ctx`, `log`, `sampler`, `prev`. Arithmetic follows JavaScript (doubles), so JEXL's
//! integer division (`7 / 2` = 3) gives 3.5 here. Regular expressions use the `regex` crate
//! (no look-around or back-references).

pub(crate) mod parse;
pub(crate) mod value;

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use regex::Regex;

use crate::text::expr::parse::Node;
use crate::text::expr::value::{Value, whole_regex};

/// What an expression reads: the user's variables and the run's properties.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    /// `vars.get(…)`.
    pub vars: &'a HashMap<String, String>,
    /// `props.get(…)`.
    pub props: &'a BTreeMap<String, String>,
}

/// A parsed expression.
#[derive(Debug)]
pub(crate) struct Expr {
    root: Node,
}

impl Expr {
    /// Parses `src`; the error names the column and what was expected there.
    pub(crate) fn parse(src: &str) -> Result<Expr, String> {
        parse::parse(src).map(|root| Expr { root })
    }

    /// Evaluates against a user's variables and the run's properties.
    pub(crate) fn eval(&self, env: &Env<'_>) -> Result<Value, String> {
        eval(&self.root, env)
    }
}

/// Parsed expressions by source text, shared by clones; at most [`CACHE_LIMIT`] entries (the
/// cache is emptied when full).
#[derive(Debug, Clone, Default)]
pub(crate) struct ExprCache(pub(in crate::text) Arc<Mutex<HashMap<String, Parsed>>>);

/// An expression parsed once, or why it does not parse.
type Parsed = Arc<Result<Expr, String>>;

/// Most texts an [`ExprCache`] keeps.
pub(in crate::text) const CACHE_LIMIT: usize = 64;

impl ExprCache {
    /// The parsed `src` (or its parse error), from the cache when seen before.
    pub(crate) fn get(&self, src: &str) -> Parsed {
        if let Some(hit) = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(src)
        {
            return Arc::clone(hit);
        }
        let parsed = Arc::new(Expr::parse(src));
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert(src.to_string(), Arc::clone(&parsed));
        parsed
    }
}

fn eval(node: &Node, env: &Env<'_>) -> Result<Value, String> {
    let all = |args: &[Node]| {
        args.iter()
            .map(|a| eval(a, env))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match node {
        Node::Lit(v) => v.clone(),
        Node::Unary(op, x) => match (*op, eval(x, env)?) {
            ("-", v) => Value::Num(-v.to_number()),
            ("+", v) => Value::Num(v.to_number()),
            (_, v) => Value::Bool(!v.truthy()),
        },
        Node::Cond(parts) => {
            let [cond, yes, no] = &**parts;
            eval(if eval(cond, env)?.truthy() { yes } else { no }, env)?
        }
        Node::Bin(op @ ("&&" | "and" | "||" | "or"), sides, _) => {
            // JavaScript: the deciding operand itself; the right side only when needed.
            let lhs = eval(&sides[0], env)?;
            let or = op.len() == 2 && op.starts_with(['|', 'o']);
            if lhs.truthy() == or {
                lhs
            } else {
                eval(&sides[1], env)?
            }
        }
        Node::Bin(op, sides, re) => binary(
            op,
            eval(&sides[0], env)?,
            eval(&sides[1], env)?,
            re.as_ref(),
        )?,
        Node::Func(name, args) => function(name, &all(args)?, env),
        Node::Method(name, recv, args, re) => {
            let s = match eval(recv, env)? {
                Value::Null => return Err(format!("cannot call .{name} on null")),
                Value::Str(s) => s,
                other => other.to_js_string(),
            };
            method(name, s, &all(args)?, re.as_ref())?
        }
    })
}

fn binary(op: &str, a: Value, b: Value, re: Option<&Regex>) -> Result<Value, String> {
    let (x, y) = (a.to_number(), b.to_number());
    let order = |test: fn(Ordering) -> bool| Value::Bool(compare(&a, &b).is_some_and(test));
    let text = |positive: bool, test: fn(&str, &str) -> bool| {
        Value::Bool((a != Value::Null && test(&a.to_js_string(), &b.to_js_string())) == positive)
    };
    Ok(match op {
        "+" if matches!(a, Value::Str(_)) || matches!(b, Value::Str(_)) => {
            Value::Str(a.to_js_string() + &b.to_js_string())
        }
        "+" => Value::Num(x + y),
        "-" => Value::Num(x - y),
        "*" => Value::Num(x * y),
        "/" | "div" => Value::Num(x / y),
        "%" | "mod" => Value::Num(x % y),
        "==" | "eq" => Value::Bool(loose_eq(&a, &b)),
        "!=" | "ne" => Value::Bool(!loose_eq(&a, &b)),
        "===" => Value::Bool(strict_eq(&a, &b)),
        "!==" => Value::Bool(!strict_eq(&a, &b)),
        "<" | "lt" => order(Ordering::is_lt),
        "<=" | "le" => order(Ordering::is_le),
        ">" | "gt" => order(Ordering::is_gt),
        ">=" | "ge" => order(Ordering::is_ge),
        "=^" | "!^" => text(op == "=^", |s, p| s.starts_with(p)),
        "=$" | "!$" => text(op == "=$", |s, p| s.ends_with(p)),
        _ => {
            let hit = a != Value::Null && regex_match(&a.to_js_string(), &b, re)?;
            Value::Bool(hit == (op == "=~"))
        }
    })
}

fn regex_match(s: &str, pattern: &Value, re: Option<&Regex>) -> Result<bool, String> {
    match re {
        Some(re) => Ok(re.is_match(s)),
        None => Ok(whole_regex(&pattern.to_js_string())?.is_match(s)),
    }
}

/// `==`: null equals only null; two numbers (or numeric strings) compare as numbers; the rest
/// as strings.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => match (a.loose_number(), b.loose_number()) {
            (Some(x), Some(y)) => x == y,
            _ => a.to_js_string() == b.to_js_string(),
        },
    }
}

/// `===`: same type and value.
fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b) && a == b,
    }
}

/// `<` and friends: numerically when both read as numbers, two strings as strings, else as
/// JavaScript numbers (`None` when one is NaN: every comparison is then false).
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.loose_number(), b.loose_number()) {
        return x.partial_cmp(&y);
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => a.to_number().partial_cmp(&b.to_number()),
    }
}

/// Length in UTF-16 units, as Java and JavaScript count.
fn utf16_len(s: &str) -> f64 {
    s.encode_utf16().count() as f64
}

fn function(name: &str, args: &[Value], env: &Env<'_>) -> Value {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
    let text = |i: usize| arg(i).to_js_string();
    let num = |i: usize| arg(i).to_number();
    let lookup = |map: Option<&String>| map.map_or(Value::Null, |v| Value::Str(v.clone()));
    match name {
        "vars.get" => lookup(env.vars.get(&text(0))),
        "props.get" => lookup(env.props.get(&text(0))),
        "props.getProperty" => match env.props.get(&text(0)) {
            Some(v) => Value::Str(v.clone()),
            None if args.len() > 1 => Value::Str(text(1)),
            None => Value::Null,
        },
        "parseInt" => Value::Num(parse_int(&text(0), args.get(1).map(Value::to_number))),
        "parseFloat" => Value::Num(parse_float(&text(0))),
        "Number" => Value::Num(num(0)),
        "String" => Value::Str(text(0)),
        "Boolean" => Value::Bool(arg(0).truthy()),
        "empty" => Value::Bool(matches!(arg(0), Value::Null) || text(0).is_empty()),
        "size" => Value::Num(if arg(0) == Value::Null {
            0.0
        } else {
            utf16_len(&text(0))
        }),
        "Math.abs" => Value::Num(num(0).abs()),
        "Math.floor" => Value::Num(num(0).floor()),
        "Math.ceil" => Value::Num(num(0).ceil()),
        // Java and JavaScript round half up: floor(x + 0.5).
        "Math.round" => Value::Num((num(0) + 0.5).floor()),
        "Math.sqrt" => Value::Num(num(0).sqrt()),
        "Math.pow" => Value::Num(num(0).powf(num(1))),
        "Math.min" | "Math.max" => {
            let nums = args.iter().map(Value::to_number);
            Value::Num(if args.iter().any(|a| a.to_number().is_nan()) {
                f64::NAN
            } else if name == "Math.min" {
                nums.fold(f64::INFINITY, f64::min)
            } else {
                nums.fold(f64::NEG_INFINITY, f64::max)
            })
        }
        "Math.random" => Value::Num(fastrand::f64()),
        _ => Value::Null,
    }
}

/// JavaScript's `parseInt`: leading whitespace, a sign, then the longest run of digits in
/// `radix` (10, or 16 after `0x`); NaN when there is none.
fn parse_int(s: &str, radix: Option<f64>) -> f64 {
    let t = s.trim_start();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    let given = radix.filter(|r| (2.0..=36.0).contains(r)).map(|r| r as u32);
    let (radix, t) = match (t.get(..2), given) {
        (Some("0x" | "0X"), None | Some(16)) => (16, &t[2..]),
        _ => (given.unwrap_or(10), t),
    };
    let digits: Vec<u32> = t.chars().map_while(|c| c.to_digit(radix)).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    sign * digits
        .iter()
        .fold(0.0, |acc, &d| acc * f64::from(radix) + f64::from(d))
}

/// The longest decimal number at the start of a text (for `parseFloat`).
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
        .expect("the float pattern is valid")
});

/// JavaScript's `parseFloat`: the longest leading decimal number; NaN when there is none.
fn parse_float(s: &str) -> f64 {
    FLOAT.find(s.trim_start()).map_or(f64::NAN, |m| {
        m.as_str()
            .replace("Infinity", "inf")
            .parse()
            .unwrap_or(f64::NAN)
    })
}

fn method(name: &str, s: String, args: &[Value], re: Option<&Regex>) -> Result<Value, String> {
    let arg = args.first().map(Value::to_js_string).unwrap_or_default();
    let not_null = args.first().is_some_and(|a| *a != Value::Null);
    Ok(match name {
        "length" | "size" => Value::Num(utf16_len(&s)),
        "equals" => Value::Bool(not_null && s == arg),
        "equalsIgnoreCase" => Value::Bool(not_null && s.to_lowercase() == arg.to_lowercase()),
        "contains" | "includes" => Value::Bool(s.contains(&arg)),
        "startsWith" => Value::Bool(s.starts_with(&arg)),
        "endsWith" => Value::Bool(s.ends_with(&arg)),
        "indexOf" => Value::Num(s.find(&arg).map_or(-1.0, |at| utf16_len(&s[..at]))),
        "toLowerCase" => Value::Str(s.to_lowercase()),
        "toUpperCase" => Value::Str(s.to_uppercase()),
        "trim" => Value::Str(s.trim().to_string()),
        "matches" => Value::Bool(regex_match(&s, args.first().unwrap_or(&Value::Null), re)?),
        "isEmpty" => Value::Bool(s.is_empty()),
        _ => Value::Str(s),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Variables `s`, `n`, `e` (empty) and `bad` (an invalid regex).
    pub(crate) fn vars() -> HashMap<String, String> {
        [("s", "abc"), ("n", "10"), ("e", ""), ("bad", "(")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into()
    }

    /// The property `p`.
    pub(crate) fn props() -> BTreeMap<String, String> {
        BTreeMap::from([("p".to_string(), "pv".to_string())])
    }

    fn eval_str(src: &str) -> Result<String, String> {
        let (vars, props) = (vars(), props());
        let value = Expr::parse(src)?.eval(&Env {
            vars: &vars,
            props: &props,
        })?;
        Ok(value.to_jmeter_string())
    }

    #[test]
    fn evaluates_operators_functions_and_methods() {
        let cases = [
            // Printed as JMeter prints __jexl3 results: integers without ".0", null as "".
            ("3.0", "3"),
            ("1.5", "1.5"),
            (r"'it\'s'", "it's"),
            (r#""a\"b\\""#, r#"a"b\"#),
            ("null", ""),
            ("undefined == null", "true"),
            // Arithmetic with JavaScript precedence; + concatenates when a side is a string.
            ("1 + 2 * 3", "7"),
            ("(1 + 2) * 3", "9"),
            ("10 - 2 - 3", "5"),
            ("7 % 3", "1"),
            ("7 / 2", "3.5"),
            ("-2 * -3", "6"),
            ("+'4' + 1", "5"),
            ("1 / 0", "Infinity"),
            ("'a' + 1 + 2", "a12"),
            ("1 + 2 + 'a'", "3a"),
            ("vars.get('n') + 1", "101"),
            ("vars.get('n') - 1", "9"),
            ("'x' + null", "xnull"),
            // Loose comparison: both numeric → numbers, else strings; === is strict.
            ("'10' > '9'", "true"),
            ("'abc' < 'abd'", "true"),
            ("'1' == 1", "true"),
            ("'1.0' == 1", "true"),
            ("1 === '1'", "false"),
            ("1 !== '1'", "true"),
            ("'a' === 'a'", "true"),
            ("true == 'true'", "true"),
            ("null == null", "true"),
            ("vars.get('missing') == null", "true"),
            ("vars.get('s') != null", "true"),
            ("2 <= 2", "true"),
            ("2 >= 3", "false"),
            ("'b' > 1", "false"),
            // Logic: JavaScript returns the deciding operand and short-circuits.
            ("true && false", "false"),
            ("false || 'x'", "x"),
            ("!true", "false"),
            ("!''", "true"),
            ("false && vars.get('none').length() > 0", "false"),
            // JEXL spellings.
            ("1 lt 2 and 2 le 2 and 3 gt 2 and 3 ge 3", "true"),
            ("1 eq 1 and 1 ne 2", "true"),
            ("not true or false", "false"),
            ("7 div 2", "3.5"),
            ("7 mod 4", "3"),
            // Ternary, right-associative.
            ("1 < 2 ? 'yes' : 'no'", "yes"),
            ("false ? 1 : true ? 2 : 3", "2"),
            // JEXL =~ / !~ match the whole string; =^ =$ !^ !$ test prefixes and suffixes.
            (r"'abc123' =~ '[a-z]+\d+'", "true"),
            ("'abc' =~ 'b'", "false"),
            ("'abc' !~ 'b'", "true"),
            ("'abc' =^ 'ab'", "true"),
            ("'abc' =$ 'bc'", "true"),
            ("'abc' !^ 'b'", "true"),
            ("'abc' !$ 'bc'", "false"),
            ("vars.get('none') =~ '.*'", "false"),
            // String methods (Java and JavaScript spellings).
            ("vars.get('s').length", "3"),
            ("'abc'.length()", "3"),
            ("'abc'.size()", "3"),
            ("'abc'.equals('abc')", "true"),
            ("'abc'.equals(null)", "false"),
            ("'ABC'.equalsIgnoreCase('abc')", "true"),
            ("'abc'.contains('bc')", "true"),
            ("'abc'.includes('x')", "false"),
            ("'abc'.startsWith('a') && 'abc'.endsWith('c')", "true"),
            ("'abc'.indexOf('c')", "2"),
            ("'abc'.indexOf('x')", "-1"),
            ("'aBc'.toLowerCase() + 'aBc'.toUpperCase()", "abcABC"),
            ("'  a '.trim()", "a"),
            (r"'a1'.matches('[a-z]\d')", "true"),
            (r"'a1x'.matches('[a-z]\d')", "false"),
            ("vars.get('e').isEmpty()", "true"),
            ("(12).toString().length", "2"),
            // Functions.
            ("parseInt('12px')", "12"),
            ("parseInt('abc')", "NaN"),
            ("parseInt('-0x1A')", "-26"),
            ("parseInt('11', 2)", "3"),
            ("parseFloat('3.5kg')", "3.5"),
            ("parseFloat('.5e1x')", "5"),
            ("Number('')", "0"),
            ("Number(' 12 ')", "12"),
            ("Number('1x')", "NaN"),
            ("String(5) + 1", "51"),
            ("Boolean('') || Boolean('a')", "true"),
            (
                "empty('') && empty(vars.get('none')) && !empty('a')",
                "true",
            ),
            ("size('abc') + size(null)", "3"),
            ("Math.abs(-2) + Math.floor(2.7) + Math.ceil(2.1)", "7"),
            ("Math.round(2.5) + ' ' + Math.round(-2.5)", "3 -2"),
            ("Math.min(3, 1, 2) + Math.max(3, 1, 2)", "4"),
            ("Math.pow(2, 10) + Math.sqrt(9)", "1027"),
            ("Math.random() < 1", "true"),
            ("props.get('p') + props.get('q')", "pvnull"),
            ("props.getProperty('q', 'd')", "d"),
            ("1 + 1;", "2"),
        ];
        for (src, want) in cases {
            assert_eq!(eval_str(src).as_deref(), Ok(want), "{src}");
        }
    }

    #[test]
    fn values_print_and_test_as_javascript() {
        assert!(
            !Value::Null.truthy() && !Value::Num(0.0).truthy() && !Value::Num(f64::NAN).truthy()
        );
        assert!(Value::Str("false".into()).truthy() && !Value::Str(String::new()).truthy());
        assert_eq!(Value::Num(-0.0).to_jmeter_string(), "0");
        assert_eq!(Value::Num(-3.0).to_jmeter_string(), "-3");
        assert_eq!(
            Value::Num(0.1 + 0.2).to_jmeter_string(),
            "0.30000000000000004"
        );
        assert_eq!(Value::Bool(false).to_jmeter_string(), "false");
    }

    #[test]
    fn run_time_errors_are_reported() {
        assert_eq!(
            eval_str("vars.get('none').length()"),
            Err("cannot call .length on null".into())
        );
        assert!(
            eval_str("'a' =~ vars.get('bad')")
                .unwrap_err()
                .contains("bad regular expression")
        );
    }
}
