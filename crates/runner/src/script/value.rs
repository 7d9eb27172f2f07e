//! The values a script computes with: null, booleans, whole and decimal numbers, strings, lists,
//! maps (JSON objects), string builders, dates and the JMeter objects ([`Obj`]); how each prints
//! in each dialect, compares and converts, and JSON in and out.

use std::sync::{Arc, Mutex, MutexGuard};

use super::Dialect;

/// A shared, mutable container (a list, a map, a string builder).
pub(crate) type Shared<T> = Arc<Mutex<T>>;

/// Locks a container (a panic elsewhere cannot poison a script's own value).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One value.
#[derive(Debug, Clone, Default)]
pub(crate) enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(Arc<str>),
    List(Shared<Vec<Value>>),
    /// A map or JSON object, in insertion order.
    Map(Shared<Vec<(String, Value)>>),
    /// `new StringBuilder()`.
    Builder(Shared<String>),
    /// `new Date()`: ms since the epoch.
    Date(i64),
    /// A JMeter object, a class, or another built-in object.
    Obj(Obj),
}

/// Built-in objects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Obj {
    /// `vars` (also `ctx.getVariables()`).
    Vars,
    /// `props`.
    Props,
    /// `prev` (the previous / current sample).
    Prev,
    /// `SampleResult` of a sampler (the same sample as `prev` there).
    SampleResult,
    /// `AssertionResult` of an assertion.
    AssertionResult,
    /// `sampler`.
    Sampler,
    /// `ctx`.
    Ctx,
    /// `log`, and `System.out` / `System.err` / `OUT`.
    Log,
    /// `FileServer.getFileServer()`.
    FileServer,
    /// `Thread.currentThread()`, `ctx.getThread()`: the virtual user's thread.
    Thread,
    /// `ctx.getThreadGroup()`.
    ThreadGroup,
    /// `sampler.getHeaderManager()`.
    HeaderManager,
    /// `new Header(name, value)`.
    Header(Arc<str>, Arc<str>),
    /// BeanShell's `bsh` (`bsh.args`).
    Bsh,
    /// `new Random()`.
    Random,
    /// `new JsonSlurper()`.
    Slurper,
    /// `new SimpleDateFormat(pattern)`.
    DateFormat(Arc<str>),
    /// A thrown exception and its message.
    Exception(Arc<str>),
    /// A class used statically (`Integer`, `System`, `JMeterUtils`, `JSON` …).
    Class(&'static str),
}

impl Value {
    /// A string value.
    pub(crate) fn str(s: impl Into<Arc<str>>) -> Value {
        Value::Str(s.into())
    }

    /// A new list.
    pub(crate) fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(Mutex::new(items)))
    }

    /// A new map.
    pub(crate) fn map(entries: Vec<(String, Value)>) -> Value {
        Value::Map(Arc::new(Mutex::new(entries)))
    }

    /// `null` / `undefined`.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Groovy / JavaScript truth (Java booleans are the same on booleans).
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !lock(l).is_empty(),
            Value::Map(m) => !lock(m).is_empty(),
            Value::Builder(b) => !lock(b).is_empty(),
            Value::Date(_) | Value::Obj(_) => true,
        }
    }

    /// A number, if this is one (strings are not numbers here).
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(*n as f64),
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The text as `String.valueOf` / `toString()` gives it in `dialect`.
    pub(crate) fn text(&self, d: Dialect) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Num(n) => number_text(*n, d),
            Value::Str(s) => s.to_string(),
            Value::Builder(b) => lock(b).clone(),
            Value::List(l) => {
                let items: Vec<String> = lock(l).iter().map(|v| v.text(d)).collect();
                if d == Dialect::JavaScript {
                    items.join(",")
                } else {
                    format!("[{}]", items.join(", "))
                }
            }
            Value::Map(m) => {
                let m = lock(m);
                match d {
                    Dialect::JavaScript => "[object Object]".into(),
                    Dialect::Groovy => {
                        if m.is_empty() {
                            return "[:]".into();
                        }
                        let items: Vec<String> = m
                            .iter()
                            .map(|(k, v)| format!("{k}:{}", v.text(d)))
                            .collect();
                        format!("[{}]", items.join(", "))
                    }
                    Dialect::Java => {
                        let items: Vec<String> = m
                            .iter()
                            .map(|(k, v)| format!("{k}={}", v.text(d)))
                            .collect();
                        format!("{{{}}}", items.join(", "))
                    }
                }
            }
            Value::Date(ms) => crate::script::api::date_text(*ms),
            Value::Obj(Obj::Exception(m)) => format!("java.lang.Exception: {m}"),
            Value::Obj(o) => format!("{o:?}"),
        }
    }

    /// A short name of the value's type, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Num(_) => "decimal",
            Value::Str(_) => "String",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Builder(_) => "StringBuilder",
            Value::Date(_) => "Date",
            Value::Obj(_) => "object",
        }
    }

    /// The value as JSON.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(n) => J::from(*n),
            Value::Num(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
            Value::List(l) => J::Array(lock(l).iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(
                lock(m)
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            other => J::String(other.text(Dialect::Java)),
        }
    }

    /// A JSON document as a value (objects become maps, in document order).
    pub(crate) fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Num(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::str(s.as_str()),
            J::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            J::Object(o) => Value::map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// A decimal as Java's `Double.toString` (`2.0`, `0.5`, `1.0E10`) or JavaScript prints it (`2`).
pub(crate) fn number_text(n: f64, d: Dialect) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if d == Dialect::JavaScript {
        if n.fract() == 0.0 && n.abs() < 1e21 {
            return format!("{n:.0}");
        }
        return n.to_string();
    }
    let a = n.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = n.to_string();
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Java: d.ddddE±n
        let s = format!("{n:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_java_and_javascript_do() {
        // Double.toString: 2.0, 0.5, 1.0E7, 1.5E-4; JavaScript: 2, 0.5.
        assert_eq!(number_text(2.0, Dialect::Java), "2.0");
        assert_eq!(number_text(0.5, Dialect::Groovy), "0.5");
        assert_eq!(number_text(1e7, Dialect::Java), "1.0E7");
        assert_eq!(number_text(0.00015, Dialect::Java), "1.5E-4");
        assert_eq!(number_text(2.0, Dialect::JavaScript), "2");
        assert_eq!(number_text(-0.25, Dialect::JavaScript), "-0.25");
    }

    #[test]
    fn collections_print_per_dialect_and_round_trip_json() {
        let v = Value::from_json(&serde_json::json!({"a": [1, "x"], "b": null}));
        assert_eq!(v.text(Dialect::Groovy), "[a:[1, x], b:null]");
        assert_eq!(v.text(Dialect::Java), "{a=[1, x], b=null}");
        assert_eq!(v.text(Dialect::JavaScript), "[object Object]");
        assert_eq!(v.to_json().to_string(), r#"{"a":[1,"x"],"b":null}"#);
        assert!(!Value::str("").truthy() && Value::Int(3).truthy());
    }
}
