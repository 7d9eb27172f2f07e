//! The values an expression computes ([`Value`], JavaScript's types and conversions) and the
//! rules the parser's constant folding and the evaluator share: how numbers print
//! ([`format_number`]) and how a regular expression matches a whole string ([`whole_regex`]).

use regex::Regex;

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
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
        }
    }

    /// As JMeter prints a result: `true`/`false`, `3` not `3.0`, and `null` as an empty string
    /// (`Jexl3Function` returns "" for a null result).
    pub(crate) fn to_jmeter_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            other => other.to_js_string(),
        }
    }

    /// JavaScript's `String(x)`: `null` prints as `null`.
    pub(crate) fn to_js_string(&self) -> String {
        match self {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => format_number(*n),
            Value::Str(s) => s.clone(),
        }
    }

    /// JavaScript's `Number(x)`.
    pub(crate) fn to_number(&self) -> f64 {
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
    pub(crate) fn loose_number(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => parse_number(s),
            _ => None,
        }
    }
}

/// `3` for 3.0 (as JavaScript and JEXL print integers), `NaN`, `Infinity`, else the shortest
/// representation that reads back.
pub(crate) fn format_number(n: f64) -> String {
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

/// `^(?:p)$`: Java's `matches` and JEXL's `=~` match the whole string.
pub(crate) fn whole_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("bad regular expression: {e}"))
}
