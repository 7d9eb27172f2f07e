//! A small expression evaluator for what JMeter plans put in If / While Controller conditions
//! and in `${__jexl3(…)}`, `${__jexl2(…)}` and `${__javaScript(…)}`. As in JMeter, `${…}` is
//! substituted first ([`crate::template`]); the resulting text is then parsed and evaluated here.
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

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use regex::Regex;

use crate::error::RunnerError;
use crate::template::{Template, UserCtx};
use crate::vars::At;

/// A value computed by an expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `null` / `undefined`: a missing variable or property.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Every number (JavaScript has only doubles).
    Num(f64),
    /// A string.
    Str(String),
}

impl Value {
    /// JavaScript truthiness: `null`, `false`, `0`, `NaN` and `""` are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
        }
    }

    /// As JMeter prints a result: `true`/`false`, `3` not `3.0`, and `null` as an empty string
    /// (`Jexl3Function` returns "" for a null result).
    pub fn to_jmeter_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            other => other.to_js_string(),
        }
    }

    /// JavaScript's `String(x)`: `null` prints as `null`.
    fn to_js_string(&self) -> String {
        match self {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => format_number(*n),
            Value::Str(s) => s.clone(),
        }
    }

    /// JavaScript's `Number(x)`.
    fn to_number(&self) -> f64 {
        match self {
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Num(n) => *n,
            Value::Str(s) if s.trim().is_empty() => 0.0,
            Value::Str(s) => parse_number(s).unwrap_or(f64::NAN),
        }
    }

    /// The number a value stands for in a loose comparison: numbers, and strings that read
    /// whole as numbers.
    fn loose_number(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => parse_number(s),
            _ => None,
        }
    }
}

/// `3` for 3.0 (as JavaScript and JEXL print integers), `NaN`, `Infinity`, else the shortest
/// representation that reads back.
fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{}", n as i128)
    } else {
        format!("{n}")
    }
}

/// A whole string (trimmed) read as a decimal number; `None` for anything else, including "".
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let numeric = t.chars().all(|c| c.is_ascii_digit() || ".eE+-".contains(c));
    if t.is_empty() || !numeric || !t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// What an expression reads: the user's variables and the run's properties.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    /// `vars.get(…)`.
    pub vars: &'a HashMap<String, String>,
    /// `props.get(…)`.
    pub props: &'a BTreeMap<String, String>,
}

/// One token: a number, a quoted string, a name, or punctuation / an operator.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(String),
    End,
}

/// Whitespace, a number, a name or an operator (longest first), at the start of the text.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\s+|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([\p{L}_$][\p{L}\p{N}_$]*)|(===|!==|[=!<>]=|&&|\|\||[=!][~^$]|[-()+,.?:!*/%<>;]))",
    )
    .expect("the token pattern is valid")
});

/// Splits `src` into tokens, each with its 1-based column.
fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let (mut out, mut rest, mut col) = (Vec::new(), src, 1);
    while !rest.is_empty() {
        let (tok, len) = if rest.starts_with(['"', '\'']) {
            string(rest).ok_or_else(|| format!("column {col}: the string is not closed"))?
        } else if let Some(m) = TOKEN.captures(rest) {
            let text = |i: usize| m.get(i).map(|g| g.as_str().to_string());
            let tok = match (text(1), text(2), text(3)) {
                (Some(n), ..) => Some(Tok::Num(
                    n.parse()
                        .map_err(|_| format!("column {col}: bad number {n}"))?,
                )),
                (_, Some(id), _) => Some(Tok::Ident(id)),
                (.., Some(op)) => Some(Tok::Op(op)),
                _ => None,
            };
            (tok, m.get(0).map_or(1, |g| g.len()))
        } else if rest.starts_with('=') {
            return Err(format!(
                "column {col}: assignment is not supported; use == to compare"
            ));
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            return Err(format!("column {col}: unexpected character '{c}'"));
        };
        out.extend(tok.map(|t| (t, col)));
        col += rest[..len].chars().count();
        rest = &rest[len..];
    }
    out.push((Tok::End, col));
    Ok(out)
}

/// The quoted string at the start of `s` and its length in bytes; `None` when not closed.
/// `\n`, `\t`, `\r`, `\"`, `\'` and `\\` are escapes; other backslashes stay (as in JEXL), so
/// `"\d+"` is a usable regex.
fn string(s: &str) -> Option<(Option<Tok>, usize)> {
    let mut chars = s.char_indices();
    let (_, quote) = chars.next()?;
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                e @ ('"' | '\'' | '\\') => out.push(e),
                e => out.extend(['\\', e]),
            },
            c if c == quote => return Some((Some(Tok::Str(out)), at + 1)),
            c => out.push(c),
        }
    }
    None
}

/// Binary operators (JEXL word forms included) and their precedence: higher binds tighter.
#[rustfmt::skip]
const BINARY: &[(&str, u8)] = &[
    ("||", 1), ("or", 1), ("&&", 2), ("and", 2),
    ("==", 3), ("eq", 3), ("!=", 3), ("ne", 3), ("===", 3), ("!==", 3),
    ("=~", 3), ("!~", 3), ("=^", 3), ("!^", 3), ("=$", 3), ("!$", 3),
    ("<", 4), ("lt", 4), ("<=", 4), ("le", 4), (">", 4), ("gt", 4), (">=", 4), ("ge", 4),
    ("+", 5), ("-", 5), ("*", 6), ("/", 6), ("div", 6), ("%", 6), ("mod", 6),
];

/// Global functions with their least and most argument counts.
#[rustfmt::skip]
const FUNCS: &[(&str, usize, usize)] = &[
    ("vars.get", 1, 1), ("props.get", 1, 1), ("props.getProperty", 1, 2), ("parseInt", 1, 2),
    ("parseFloat", 1, 1), ("Number", 1, 1), ("String", 1, 1), ("Boolean", 1, 1), ("empty", 1, 1),
    ("size", 1, 1), ("Math.abs", 1, 1), ("Math.floor", 1, 1), ("Math.ceil", 1, 1),
    ("Math.round", 1, 1), ("Math.sqrt", 1, 1), ("Math.pow", 2, 2), ("Math.min", 1, usize::MAX),
    ("Math.max", 1, usize::MAX), ("Math.random", 0, 0),
];

/// String methods with their argument counts.
#[rustfmt::skip]
const METHODS: &[(&str, usize)] = &[
    ("length", 0), ("size", 0), ("equals", 1), ("equalsIgnoreCase", 1), ("contains", 1),
    ("includes", 1), ("startsWith", 1), ("endsWith", 1), ("indexOf", 1), ("toLowerCase", 0),
    ("toUpperCase", 0), ("trim", 0), ("matches", 1), ("isEmpty", 0), ("toString", 0),
];

#[derive(Debug)]
enum Node {
    Lit(Value),
    /// `!` (also `not`), `-` or `+`.
    Unary(&'static str, Box<Node>),
    Cond(Box<[Node; 3]>),
    /// An operator of [`BINARY`]; the regex of a literal `=~` / `!~` pattern.
    Bin(&'static str, Box<[Node; 2]>, Option<Regex>),
    Func(&'static str, Vec<Node>),
    /// Method, receiver, arguments, the regex of a literal `.matches` pattern.
    Method(&'static str, Box<Node>, Vec<Node>, Option<Regex>),
}

/// `^(?:p)$`: Java's `matches` and JEXL's `=~` match the whole string.
fn whole_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("bad regular expression: {e}"))
}

/// The regex of a literal pattern, compiled once at parse time.
fn literal_regex(node: Option<&Node>, col: usize) -> Result<Option<Regex>, String> {
    match node {
        Some(Node::Lit(Value::Str(p))) => whole_regex(p)
            .map(Some)
            .map_err(|e| format!("column {col}: {e}")),
        _ => Ok(None),
    }
}

/// Nesting deeper than this is refused (no stack overflow on hostile input).
const MAX_DEPTH: usize = 200;

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::End, |t| &t.0)
    }

    fn col(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.1)
    }

    fn bump(&mut self) -> Tok {
        let tok = self.peek().clone();
        self.pos += 1;
        tok
    }

    fn eat(&mut self, op: &str) -> bool {
        let hit = matches!(self.peek(), Tok::Op(o) if o == op);
        self.pos += usize::from(hit);
        hit
    }

    fn fail<T>(&self, expected: &str) -> Result<T, String> {
        let found = match self.peek() {
            Tok::Num(n) => format!("number {}", format_number(*n)),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Ident(s) => format!("name {s}"),
            Tok::Op(o) => format!("'{o}'"),
            Tok::End => "the end of the expression".to_string(),
        };
        Err(format!(
            "column {}: expected {expected}, found {found}",
            self.col()
        ))
    }

    fn expect(&mut self, op: &str, expected: &str) -> Result<(), String> {
        if self.eat(op) {
            Ok(())
        } else {
            self.fail(expected)
        }
    }

    /// Counts one more level of nesting, refusing too many.
    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "column {}: expression nested too deeply",
                self.col()
            ));
        }
        Ok(())
    }

    fn ternary(&mut self) -> Result<Node, String> {
        self.nest()?;
        let cond = self.binary(1)?;
        let node = if self.eat("?") {
            let yes = self.ternary()?;
            self.expect(":", "':' of the ?: operator")?;
            let no = self.ternary()?;
            Node::Cond(Box::new([cond, yes, no]))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(node)
    }

    fn binary(&mut self, min: u8) -> Result<Node, String> {
        let mut lhs = self.unary()?;
        while let Tok::Op(t) | Tok::Ident(t) = self.peek() {
            let Some(&(op, prec)) = BINARY.iter().find(|b| b.0 == t) else {
                break;
            };
            if prec < min {
                break;
            }
            self.bump();
            let col = self.col();
            let rhs = self.binary(prec + 1)?;
            let re = if op.ends_with('~') {
                literal_regex(Some(&rhs), col)?
            } else {
                None
            };
            lhs = Node::Bin(op, Box::new([lhs, rhs]), re);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Node, String> {
        self.nest()?;
        let op = match self.peek() {
            Tok::Op(t) | Tok::Ident(t) => ["!", "-", "+", "not"].into_iter().find(|u| u == t),
            _ => None,
        };
        let node = match op {
            Some(op) => {
                self.bump();
                Node::Unary(if op == "not" { "!" } else { op }, Box::new(self.unary()?))
            }
            None => self.postfix()?,
        };
        self.depth -= 1;
        Ok(node)
    }

    fn postfix(&mut self) -> Result<Node, String> {
        let mut node = self.primary()?;
        while self.eat(".") {
            let col = self.col();
            let Tok::Ident(name) = self.peek() else {
                return self.fail("a method name after '.'");
            };
            let Some(&(method, arity)) = METHODS.iter().find(|m| m.0 == name) else {
                return Err(format!("column {col}: unsupported method .{name}"));
            };
            self.bump();
            let args = match self.peek() {
                Tok::Op(o) if o == "(" => self.args()?,
                _ if method == "length" => Vec::new(),
                _ => return self.fail(&format!("'(' after .{method}")),
            };
            if args.len() != arity {
                return Err(format!("column {col}: .{method} takes {arity} argument(s)"));
            }
            let re = if method == "matches" {
                literal_regex(args.first(), col)?
            } else {
                None
            };
            node = Node::Method(method, Box::new(node), args, re);
        }
        Ok(node)
    }

    fn args(&mut self) -> Result<Vec<Node>, String> {
        self.expect("(", "'('")?;
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            args.push(self.ternary()?);
            if self.eat(")") {
                return Ok(args);
            }
            self.expect(",", "',' or ')'")?;
        }
    }

    fn primary(&mut self) -> Result<Node, String> {
        let col = self.col();
        let mut name = match self.bump() {
            Tok::Num(n) => return Ok(Node::Lit(Value::Num(n))),
            Tok::Str(s) => return Ok(Node::Lit(Value::Str(s))),
            Tok::Op(o) if o == "(" => {
                let inner = self.ternary()?;
                self.expect(")", "')'")?;
                return Ok(inner);
            }
            Tok::Ident(id) => id,
            _ => {
                self.pos -= 1;
                return self.fail("a value");
            }
        };
        let constant = match name.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" | "undefined" => Some(Value::Null),
            "NaN" => Some(Value::Num(f64::NAN)),
            "Infinity" => Some(Value::Num(f64::INFINITY)),
            _ => None,
        };
        if let Some(value) = constant {
            return Ok(Node::Lit(value));
        }
        if matches!(name.as_str(), "vars" | "props" | "Math") {
            self.expect(".", &format!("'.' after {name}"))?;
            let Tok::Ident(member) = self.peek() else {
                return self.fail(&format!("a method of {name}"));
            };
            name = format!("{name}.{member}");
            self.bump();
        }
        let Some(&(func, min, max)) = FUNCS.iter().find(|f| f.0 == name) else {
            return Err(format!(
                "column {col}: unknown name {name}; expected a literal, vars.get(…), props.get(…), \
                 a supported function or a parenthesised expression"
            ));
        };
        let args = self.args()?;
        if args.len() < min || args.len() > max {
            return Err(format!(
                "column {col}: {func} does not take {} argument(s)",
                args.len()
            ));
        }
        Ok(Node::Func(func, args))
    }
}

/// A parsed expression.
#[derive(Debug)]
pub(crate) struct Expr {
    root: Node,
}

impl Expr {
    /// Parses `src`; the error names the column and what was expected there.
    pub fn parse(src: &str) -> Result<Expr, String> {
        let mut p = Parser {
            toks: lex(src)?,
            pos: 0,
            depth: 0,
        };
        let root = p.ternary()?;
        p.eat(";");
        if p.peek() != &Tok::End {
            return p.fail("an operator or the end of the expression");
        }
        Ok(Expr { root })
    }

    /// Evaluates against a user's variables and the run's properties.
    pub fn eval(&self, env: &Env<'_>) -> Result<Value, String> {
        eval(&self.root, env)
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

/// Parsed expressions by source text, shared by clones; at most [`CACHE_LIMIT`] entries (the
/// cache is emptied when full).
#[derive(Debug, Clone, Default)]
pub(crate) struct ExprCache(Arc<Mutex<HashMap<String, Parsed>>>);

/// An expression parsed once, or why it does not parse.
type Parsed = Arc<Result<Expr, String>>;

/// Most texts an [`ExprCache`] keeps.
const CACHE_LIMIT: usize = 64;

impl ExprCache {
    /// The parsed `src` (or its parse error), from the cache when seen before.
    pub fn get(&self, src: &str) -> Parsed {
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

/// Checks at compile time that `t` will parse once rendered: every run-time `${…}` is replaced
/// by the literal `0`, then (if that fails) by `"0"`; the error of the first attempt is returned.
pub(crate) fn check_with_placeholders(t: &Template) -> Result<(), String> {
    match Expr::parse(&t.with_placeholders("0")) {
        Ok(_) => Ok(()),
        Err(_) if Expr::parse(&t.with_placeholders("\"0\"")).is_ok() => Ok(()),
        Err(e) => Err(e),
    }
}

/// IfController.condition (or a While condition), parsed at compile time.
#[derive(Debug, Clone)]
pub struct Condition {
    source: String,
    template: Template,
    use_expression: bool,
    fixed: Option<Arc<Expr>>,
    cache: ExprCache,
    props: Arc<BTreeMap<String, String>>,
}

impl Condition {
    /// `use_expression` = IfController.useExpression: true → the rendered text is compared with
    /// "true" case-insensitively; false → the rendered text is evaluated as an expression (JMeter
    /// uses JavaScript there). Syntax is checked now, with placeholders for `${…}` (see
    /// [`check_with_placeholders`]), so errors show at `--validate`.
    pub(crate) fn compile(
        text: &str,
        use_expression: bool,
        props: &BTreeMap<String, String>,
        at: At<'_>,
    ) -> Result<Condition, RunnerError> {
        let template = Template::parse(text, props, at)?;
        let mut fixed = None;
        if !use_expression {
            let checked = match template.as_static() {
                Some(s) => Expr::parse(s.trim()).map(|e| fixed = Some(Arc::new(e))),
                None => check_with_placeholders(&template),
            };
            checked.map_err(|e| {
                let expected = format!("a condition the runner can evaluate ({e})");
                RunnerError::invalid(at.element, at.property, text, &expected)
            })?;
        }
        Ok(Condition {
            source: text.to_string(),
            template,
            use_expression,
            fixed,
            cache: ExprCache::default(),
            props: Arc::new(props.clone()),
        })
    }

    /// The condition rendered for `user` and trimmed, as IfController.getCondition() reads it.
    pub fn render(&self, user: &mut UserCtx) -> String {
        self.template
            .render(user, &|v: &str| v.to_string())
            .trim()
            .to_string()
    }

    /// Renders and evaluates for `user`. In expression mode the value must print as `true` or
    /// `false` (JMeter's IfController: anything else is "BAD CONDITION"); `Err` says why the
    /// text could not be evaluated (JMeter then logs and takes the condition as false).
    pub fn eval(&self, user: &mut UserCtx) -> Result<bool, String> {
        let text = self.render(user);
        if self.use_expression {
            return Ok(text.eq_ignore_ascii_case("true"));
        }
        let parsed;
        let expr = match &self.fixed {
            Some(e) => &**e,
            None => {
                parsed = self.cache.get(&text);
                (*parsed).as_ref().map_err(|e| format!("[{text}]: {e}"))?
            }
        };
        let env = Env {
            vars: &user.vars,
            props: &self.props,
        };
        let value = expr.eval(&env).map_err(|e| format!("[{text}]: {e}"))?;
        match value.to_js_string().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("[{text}] gave {other}, expected true or false")),
        }
    }

    /// The source text, as written in the plan.
    pub fn source(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: At<'static> = At {
        element: "If",
        property: "IfController.condition",
    };

    fn vars() -> HashMap<String, String> {
        [("s", "abc"), ("n", "10"), ("e", ""), ("bad", "(")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into()
    }

    fn props() -> BTreeMap<String, String> {
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
    fn parse_errors_name_the_column_and_what_was_expected() {
        let cases = [
            (
                "1 +",
                "column 4: expected a value, found the end of the expression",
            ),
            ("a == 1", "column 1: unknown name a"),
            ("'abc", "column 1: the string is not closed"),
            ("x = 1", "column 3: assignment is not supported"),
            (
                "1 2",
                "column 3: expected an operator or the end of the expression, found number 2",
            ),
            ("'a'.foo()", "column 5: unsupported method .foo"),
            ("'a'.trim", "column 9: expected '(' after .trim"),
            (
                "parseInt()",
                "column 1: parseInt does not take 0 argument(s)",
            ),
            ("(1", "column 3: expected ')', found the end"),
            ("1 ? 2", "column 6: expected ':' of the ?: operator"),
            ("'a' =~ '('", "column 8: bad regular expression"),
            ("#", "column 1: unexpected character '#'"),
            ("vars.put('a', 1)", "column 1: unknown name vars.put"),
        ];
        for (src, want) in cases {
            let err = Expr::parse(src).unwrap_err();
            assert!(err.contains(want), "{src}: {err}");
        }
        let deep = format!("{}1{}", "(".repeat(1000), ")".repeat(1000));
        assert!(
            Expr::parse(&deep)
                .unwrap_err()
                .contains("nested too deeply")
        );
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

    fn user(pairs: &[(&str, &str)]) -> UserCtx {
        let mut vars = vars();
        vars.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        UserCtx::new(vars, 1)
    }

    fn cond(text: &str, use_expression: bool) -> Result<Condition, RunnerError> {
        Condition::compile(text, use_expression, &props(), AT)
    }

    #[test]
    fn condition_evaluates_the_rendered_text() {
        let c = cond(r#""${s}" == "abc" && ${n} < 20"#, false).unwrap();
        assert_eq!(c.source(), r#""${s}" == "abc" && ${n} < 20"#);
        let mut u = user(&[]);
        assert_eq!(c.eval(&mut u), Ok(true));
        u.vars.insert("n".into(), "30".into());
        assert_eq!(c.eval(&mut u), Ok(false));
        // The IfController idiom for "is x defined": "\${x}" stays literal after substitution.
        let defined = cond(r#""${x}" != "\${x}""#, false).unwrap();
        assert_eq!(defined.eval(&mut u), Ok(false));
        u.vars.insert("x".into(), "1".into());
        assert_eq!(defined.eval(&mut u), Ok(true));
        // IfController.computeResultFromString: the result must print as true or false.
        assert!(
            cond("1 + 1", false)
                .unwrap()
                .eval(&mut u)
                .unwrap_err()
                .contains("expected true or false")
        );
        assert_eq!(cond("'true'", false).unwrap().eval(&mut u), Ok(true));
        // A rendered text that does not parse is an error (JMeter logs it and takes false).
        let c = cond("${n} > 1", false).unwrap();
        u.vars.insert("n".into(), "1)".into());
        assert!(c.eval(&mut u).unwrap_err().contains("[1) > 1]"));
    }

    #[test]
    fn condition_compile_checks_syntax_with_placeholders() {
        for bad in [
            "${n} <",
            r#""${s}" = "a""#,
            "${__jexl3(1)} &&",
            "vars.get('x').foo()",
            "1 +",
        ] {
            match cond(bad, false) {
                Err(RunnerError::InvalidValue {
                    element,
                    property,
                    value,
                    expected,
                }) => {
                    assert_eq!(
                        (element.as_str(), property.as_str(), value.as_str()),
                        ("If", "IfController.condition", bad)
                    );
                    assert!(
                        expected.starts_with("a condition the runner can evaluate (column"),
                        "{expected}"
                    );
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        for good in [
            "${JMeterThread.last_sample_ok}",
            r#""${s}".length > 2"#,
            "${s}.length > 2",
            "${__jexl3(1 < 2)}",
            "!${flag}",
            "'${a}${b}' == '${c}'",
        ] {
            assert!(cond(good, false).is_ok(), "{good}");
        }
        // useExpression: the text is only compared with "true", so it is not parsed.
        assert!(cond("${n} <", true).is_ok());
        assert!(matches!(
            cond("${__groovy(1)}", true),
            Err(RunnerError::UnsupportedFunction { .. })
        ));
    }

    #[test]
    fn condition_use_expression_compares_with_true_ignoring_case() {
        // IfController.evaluateExpression: cond.equalsIgnoreCase("true"), after trimming.
        let mut u = user(&[("flag", "True")]);
        for (text, want) in [
            ("${__jexl3(${n} > 5)}", true),
            ("TRUE", true),
            ("yes", false),
            (" ${flag} ", true),
            ("${__jexl3(${n} > 50)}", false),
        ] {
            assert_eq!(cond(text, true).unwrap().eval(&mut u), Ok(want), "{text}");
        }
    }

    #[test]
    fn condition_cache_stays_bounded() {
        let c = cond("${n} > 5", false).unwrap();
        let mut u = user(&[]);
        for i in 0..200 {
            u.vars.insert("n".into(), i.to_string());
            assert_eq!(c.eval(&mut u), Ok(i > 5));
        }
        assert!(c.cache.0.lock().unwrap().len() <= CACHE_LIMIT);
        // Clones share the cache.
        assert!(Arc::ptr_eq(&c.cache.0, &c.clone().cache.0));
    }
}
