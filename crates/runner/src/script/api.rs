//! The object model scripts see: the JMeter script variables (`vars`, `props`, `prev`,
//! `sampler`, `ctx`, `log`, `SampleResult`, `AssertionResult`, BeanShell's `ResponseCode` …),
//! the Java / Groovy / JavaScript classes and functions of the subset (`Integer.parseInt`,
//! `System.getenv`, `UUID`, `JsonSlurper`, `JSON.parse`, `SimpleDateFormat` …) and the methods of
//! strings, numbers, lists, maps and builders. The name lists here are what the parser's check
//! accepts; a method that exists but not on the value it is called on fails at run time, like a
//! Java `MissingMethodException`.

use super::ScriptSample;
use super::eval::{Interp, R, to_number};
use super::methods::{collection_method, math, number_method};
use super::names::{class, is_method};
use super::strings::{base64_decode, java_format, string_method, url_decode};
use super::value::{Obj, Value, lock};

/// `Date.toString()` (in UTC).
pub(crate) fn date_text(ms: i64) -> String {
    date_format("EEE MMM dd HH:mm:ss 'UTC' yyyy", ms).unwrap_or_else(|_| ms.to_string())
}

fn date_format(pattern: &str, ms: i64) -> R<String> {
    let f = crate::text::timefmt::time_format(pattern, &Default::default())?;
    Ok(crate::text::timefmt::format_time(&f, ms))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Argument `i` as text.
pub(super) fn text_arg(i: &Interp<'_, '_>, args: &[Value], k: usize) -> R<String> {
    match args.get(k) {
        Some(Value::Null) | None => Err(format!("argument {} is missing or null", k + 1)),
        Some(v) => Ok(v.text(i.d)),
    }
}

/// Argument `k` as a whole number.
pub(super) fn int_arg(args: &[Value], k: usize) -> R<i64> {
    match args.get(k) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Num(n)) => Ok(*n as i64),
        Some(Value::Str(s)) => parse_int(s),
        Some(v) => Err(format!(
            "argument {} is a {}, not a number",
            k + 1,
            v.type_name()
        )),
        None => Err(format!("argument {} is missing", k + 1)),
    }
}

pub(super) fn parse_int(s: &str) -> R<i64> {
    s.parse()
        .map_err(|_| format!("NumberFormatException: For input string: \"{s}\""))
}

pub(super) fn parse_num(s: &str) -> R<f64> {
    s.trim()
        .parse()
        .map_err(|_| format!("NumberFormatException: For input string: \"{s}\""))
}

fn opt_str(v: Option<String>) -> Value {
    v.map_or(Value::Null, Value::str)
}

fn want(args: &[Value], n: usize, what: &str) -> R<()> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!("{what} takes {n} argument(s), got {}", args.len()))
    }
}

/// A bare name that is not a local variable.
pub(crate) fn global(i: &mut Interp<'_, '_>, name: &str) -> R<Value> {
    Ok(match name {
        "vars" => Value::Obj(Obj::Vars),
        "props" => Value::Obj(Obj::Props),
        "prev" if i.b.sample.is_some() => Value::Obj(Obj::Prev),
        "SampleResult" if i.b.sample.is_some() => Value::Obj(Obj::SampleResult),
        "AssertionResult" if i.b.verdict.is_some() => Value::Obj(Obj::AssertionResult),
        "sampler" => Value::Obj(Obj::Sampler),
        "ctx" => Value::Obj(Obj::Ctx),
        "bsh" => Value::Obj(Obj::Bsh),
        "log" | "OUT" => Value::Obj(Obj::Log),
        "Parameters" => Value::str(i.b.params),
        "args" => Value::list(i.b.params.split_whitespace().map(Value::str).collect()),
        "NaN" => Value::Num(f64::NAN),
        "Infinity" => Value::Num(f64::INFINITY),
        other => match class(other) {
            Some(c) => Value::Obj(Obj::Class(c)),
            None => return Err(format!("'{other}' is not defined here")),
        },
    })
}

/// `obj.name` without a call.
pub(crate) fn member(i: &mut Interp<'_, '_>, o: &Value, name: &str) -> R<Value> {
    Ok(match (o, name) {
        (Value::Map(m), _) => lock(m)
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null),
        (Value::List(l), "length") => Value::Int(lock(l).len() as i64),
        (Value::Str(s), "length") => Value::Int(s.chars().count() as i64),
        (Value::Obj(Obj::Class("File")), "separator") => Value::str("/"),
        (Value::Obj(Obj::Class("File")), "pathSeparator") => Value::str(":"),
        (Value::Obj(Obj::Class("Integer")), "MAX_VALUE") => Value::Int(i64::from(i32::MAX)),
        (Value::Obj(Obj::Class("Integer")), "MIN_VALUE") => Value::Int(i64::from(i32::MIN)),
        (Value::Obj(Obj::Class("Long")), "MAX_VALUE") => Value::Int(i64::MAX),
        (Value::Obj(Obj::Class("Math")), "PI") => Value::Num(std::f64::consts::PI),
        (Value::Obj(Obj::Class("Math")), "E") => Value::Num(std::f64::consts::E),
        (Value::Obj(Obj::Class("System")), "out" | "err") => Value::Obj(Obj::Log),
        (Value::Obj(Obj::Class("StandardCharsets")), _) => Value::str(name),
        (Value::Obj(Obj::Bsh), "args") => global(i, "args")?,
        (Value::Obj(_), _) => {
            // Groovy's property syntax: `prev.responseCode` is `prev.getResponseCode()`.
            let mut chars = name.chars();
            let cap: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            let getter = format!("get{cap}");
            if is_method(&getter) {
                return method(i, o, &getter, Vec::new());
            }
            let is = format!("is{cap}");
            if is_method(&is) {
                return method(i, o, &is, Vec::new());
            }
            return Err(format!("no property '{name}'"));
        }
        (Value::Null, _) => {
            return Err(format!(
                "NullPointerException: cannot get property '{name}' on null"
            ));
        }
        (v, _) => return Err(format!("no property '{name}' on a {}", v.type_name())),
    })
}

/// A function called without an object.
pub(crate) fn function(i: &mut Interp<'_, '_>, name: &str, args: Vec<Value>) -> R<Value> {
    Ok(match name {
        "parseInt" => {
            let s = text_arg(i, &args, 0)?;
            let t = s.trim();
            let end = t
                .char_indices()
                .find(|(k, c)| !(c.is_ascii_digit() || (*k == 0 && (*c == '-' || *c == '+'))))
                .map_or(t.len(), |(k, _)| k);
            t[..end]
                .parse::<i64>()
                .map_or(Value::Num(f64::NAN), Value::Int)
        }
        "parseFloat" | "Number" => {
            let v = args.first().cloned().unwrap_or_default();
            Value::Num(to_number(&v).unwrap_or(f64::NAN))
        }
        "String" => Value::str(args.first().cloned().unwrap_or_default().text(i.d)),
        "isNaN" => Value::Bool(args.first().and_then(to_number).is_none_or(f64::is_nan)),
        "print" | "println" => {
            let text = args.first().map(|v| v.text(i.d)).unwrap_or_default();
            tracing::info!(element = i.b.element, "{text}");
            Value::Null
        }
        "sleep" => {
            i.b.sleep_ms += u64::try_from(int_arg(&args, 0)?).unwrap_or(0);
            Value::Null
        }
        "encodeURIComponent" => {
            let s = text_arg(i, &args, 0)?;
            Value::str(crate::text::url::form_encode(&s).replace('+', "%20"))
        }
        "decodeURIComponent" => Value::str(url_decode(&text_arg(i, &args, 0)?, false)),
        other => return Err(format!("no function {other}()")),
    })
}

/// `new class(args)`.
pub(crate) fn construct(i: &mut Interp<'_, '_>, class: &str, args: Vec<Value>) -> R<Value> {
    Ok(match class {
        "JsonSlurper" => Value::Obj(Obj::Slurper),
        "Date" => Value::Date(match args.first() {
            Some(_) => int_arg(&args, 0)?,
            None => now_ms(),
        }),
        "SimpleDateFormat" => {
            let p = text_arg(i, &args, 0)?;
            // Checked now, as Java's constructor does.
            date_format(&p, 0)?;
            Value::Obj(Obj::DateFormat(p.into()))
        }
        "Random" => Value::Obj(Obj::Random),
        "ArrayList" => match args.first() {
            Some(Value::List(l)) => Value::list(lock(l).clone()),
            _ => Value::list(Vec::new()),
        },
        "HashMap" | "LinkedHashMap" => Value::map(Vec::new()),
        "StringBuilder" | "StringBuffer" => {
            let init = match args.first() {
                Some(Value::Str(s)) => s.to_string(),
                _ => String::new(),
            };
            Value::Builder(std::sync::Arc::new(std::sync::Mutex::new(init)))
        }
        "Header" => Value::Obj(Obj::Header(
            text_arg(i, &args, 0)?.into(),
            args.get(1).map(|v| v.text(i.d)).unwrap_or_default().into(),
        )),
        "Exception" | "RuntimeException" => Value::Obj(Obj::Exception(
            args.first().map(|v| v.text(i.d)).unwrap_or_default().into(),
        )),
        "String" => Value::str(args.first().map(|v| v.text(i.d)).unwrap_or_default()),
        "Integer" | "Long" => Value::Int(int_arg(&args, 0)?),
        "Double" => Value::Num(parse_num(&text_arg(i, &args, 0)?)?),
        "Boolean" => Value::Bool(text_arg(i, &args, 0)?.eq_ignore_ascii_case("true")),
        other => return Err(format!("cannot build a {other}")),
    })
}

/// `o.name(args)`.
pub(crate) fn method(i: &mut Interp<'_, '_>, o: &Value, name: &str, args: Vec<Value>) -> R<Value> {
    match o {
        Value::Null => Err(format!(
            "NullPointerException: cannot invoke method {name}() on null object"
        )),
        Value::Obj(obj) => object_method(i, obj, name, args),
        Value::Str(s) => string_method(i, s, name, &args),
        Value::Int(_) | Value::Num(_) | Value::Bool(_) => number_method(i, o, name, &args),
        Value::List(_) | Value::Map(_) => collection_method(i, o, name, args),
        Value::Builder(b) => {
            let out = match name {
                "append" => {
                    let t = args.first().map(|v| v.text(i.d)).unwrap_or_default();
                    lock(b).push_str(&t);
                    return Ok(o.clone());
                }
                "toString" => Value::str(lock(b).as_str()),
                "length" => Value::Int(lock(b).chars().count() as i64),
                "setLength" => {
                    let n = usize::try_from(int_arg(&args, 0)?).unwrap_or(0);
                    let mut s = lock(b);
                    let cut: String = s.chars().take(n).collect();
                    *s = cut;
                    Value::Null
                }
                _ => return Err(no_method(name, o)),
            };
            Ok(out)
        }
        Value::Date(ms) => Ok(match name {
            "getTime" => Value::Int(*ms),
            "toString" => Value::str(date_text(*ms)),
            "before" | "after" => match args.first() {
                Some(Value::Date(other)) => Value::Bool(if name == "before" {
                    ms < other
                } else {
                    ms > other
                }),
                _ => return Err(format!("{name}() needs a Date")),
            },
            _ => return Err(no_method(name, o)),
        }),
    }
}

pub(super) fn no_method(name: &str, o: &Value) -> String {
    format!("no method {name}() on a {}", o.type_name())
}

fn sample<'s>(i: &'s mut Interp<'_, '_>) -> R<&'s mut ScriptSample> {
    i.b.sample
        .as_deref_mut()
        .ok_or_else(|| "no sample here".to_string())
}

/// A method of the JMeter objects scripts see (`vars`, `props`, `prev`, `ctx`, `sampler`, `log`
/// …); Java's classes and objects go to [`java_method`].
fn object_method(i: &mut Interp<'_, '_>, obj: &Obj, name: &str, args: Vec<Value>) -> R<Value> {
    let d = i.d;
    let arg = |k: usize| args.get(k).map(|v| v.text(d));
    Ok(match (obj, name) {
        (Obj::Vars, "get" | "getObject") => {
            want(&args, 1, name)?;
            opt_str(arg(0).and_then(|k| i.b.user.vars.get(&k).cloned()))
        }
        (Obj::Vars, "put" | "putObject") => {
            want(&args, 2, name)?;
            let k = text_arg(i, &args, 0)?;
            match args.get(1) {
                Some(Value::Null) | None => {
                    i.b.user.vars.remove(&k);
                }
                Some(v) => {
                    i.b.user.vars.insert(k, v.text(d));
                }
            }
            Value::Null
        }
        (Obj::Vars, "remove") => opt_str(i.b.user.vars.remove(&text_arg(i, &args, 0)?)),
        (Obj::Props | Obj::Class("JMeterUtils"), "get" | "getProperty" | "getPropDefault") => {
            let k = text_arg(i, &args, 0)?;
            match i.b.props.get(&k) {
                Some(v) => match args.get(1) {
                    Some(Value::Int(_)) => v.trim().parse().map_or(args[1].clone(), Value::Int),
                    Some(Value::Bool(_)) => Value::Bool(v.trim().eq_ignore_ascii_case("true")),
                    _ => Value::str(v),
                },
                None => args.get(1).cloned().unwrap_or(Value::Null),
            }
        }
        (Obj::Props | Obj::Class("JMeterUtils"), "put" | "setProperty") => {
            want(&args, 2, name)?;
            let k = text_arg(i, &args, 0)?;
            let v = text_arg(i, &args, 1)?;
            opt_str(i.b.props.set(&k, v))
        }
        (Obj::Props, "remove") => opt_str(i.b.props.remove(&text_arg(i, &args, 0)?)),
        (Obj::Props, "containsKey") => {
            Value::Bool(i.b.props.get(&text_arg(i, &args, 0)?).is_some())
        }
        (Obj::Class("JMeterUtils"), "getJMeterProperties") | (Obj::Ctx, "getProperties") => {
            Value::Obj(Obj::Props)
        }
        (Obj::Prev | Obj::SampleResult, _) => return sample_method(i, name, &args),
        (Obj::AssertionResult, _) => {
            let v =
                i.b.verdict
                    .as_deref_mut()
                    .ok_or_else(|| "no assertion here".to_string())?;
            match name {
                "setFailure" | "setError" => {
                    v.failure = args.first().is_some_and(Value::truthy);
                    Value::Null
                }
                "setFailureMessage" => {
                    v.message = args.first().map(|m| m.text(d)).unwrap_or_default();
                    Value::Null
                }
                "isFailure" => Value::Bool(v.failure),
                "getFailureMessage" => Value::str(v.message.as_str()),
                _ => return Err(format!("no method {name}() on AssertionResult")),
            }
        }
        (Obj::Sampler, "getName") => Value::str(i.b.sampler_name),
        (Obj::Ctx, "getThreadNum") => Value::Int(i64::from(i.b.user.thread_num) - 1),
        (Obj::Ctx, "getVariables") => Value::Obj(Obj::Vars),
        (Obj::Ctx, "getPreviousResult") if i.b.sample.is_some() => Value::Obj(Obj::Prev),
        (Obj::Ctx, "getCurrentSampler") => Value::Obj(Obj::Sampler),
        (Obj::Class("JMeterContextService"), "getContext") => Value::Obj(Obj::Ctx),
        (Obj::Class("Thread"), "currentThread") | (Obj::Ctx, "getThread") => {
            Value::Obj(Obj::Thread)
        }
        (Obj::Ctx, "getThreadGroup") => Value::Obj(Obj::ThreadGroup),
        (Obj::Sampler, "getHeaderManager") => Value::Obj(Obj::HeaderManager),
        (Obj::HeaderManager, "removeHeaderNamed") => {
            let name = text_arg(i, &args, 0)?;
            i.b.header_edits.push((name, None));
            Value::Null
        }
        (Obj::HeaderManager, "add") => match args.first() {
            Some(Value::Obj(Obj::Header(n, v))) => {
                i.b.header_edits.push((n.to_string(), Some(v.to_string())));
                Value::Null
            }
            _ => return Err("HeaderManager.add() needs a new Header(name, value)".into()),
        },
        (Obj::Thread, "getName" | "getThreadName") | (Obj::Vars, "getThreadName") => {
            Value::str(i.b.user.thread_name.as_ref())
        }
        // `Group 1-3` → `Group`.
        (Obj::ThreadGroup, "getName") => Value::str(
            i.b.user
                .thread_name
                .rsplit_once(' ')
                .map_or("", |(group, _)| group),
        ),
        (Obj::Log, "info" | "warn" | "error" | "debug" | "println" | "print") => {
            let text = arg(0).unwrap_or_default();
            let el = i.b.element;
            match name {
                "warn" => tracing::warn!(element = el, "{text}"),
                "error" => tracing::error!(element = el, "{text}"),
                "debug" => tracing::debug!(element = el, "{text}"),
                _ => tracing::info!(element = el, "{text}"),
            }
            Value::Null
        }
        (Obj::Class("FileServer"), "getFileServer") => Value::Obj(Obj::FileServer),
        (Obj::FileServer, "getBaseDir") => Value::str(i.b.base_dir),
        (Obj::Class("JSON"), "parse") | (Obj::Slurper, "parseText" | "parse") => {
            let s = text_arg(i, &args, 0)?;
            let j: serde_json::Value =
                serde_json::from_str(&s).map_err(|e| format!("bad JSON: {e}"))?;
            Value::from_json(&j)
        }
        (Obj::Class(_) | Obj::Random | Obj::DateFormat(_) | Obj::Exception(_), _) => {
            return java_method(i, obj, name, args);
        }
        (o, _) => return Err(format!("no method {name}() on {o:?}")),
    })
}

/// A static method of a Java class scripts call (`System`, `Math`, `String`, `JSON`, `Base64`
/// …) or a method of a Java object (`Random`, `SimpleDateFormat`, an exception).
fn java_method(i: &mut Interp<'_, '_>, obj: &Obj, name: &str, args: Vec<Value>) -> R<Value> {
    let d = i.d;
    let arg = |k: usize| args.get(k).map(|v| v.text(d));
    Ok(match (obj, name) {
        (Obj::Class("System"), "getenv") => opt_str(std::env::var(text_arg(i, &args, 0)?).ok()),
        (Obj::Class("System"), "currentTimeMillis") => Value::Int(now_ms()),
        (Obj::Class("System"), "nanoTime") => Value::Int(now_ms().saturating_mul(1_000_000)),
        (Obj::Class("System"), "getProperty") => match text_arg(i, &args, 0)?.as_str() {
            "line.separator" => Value::str("\n"),
            "file.separator" => Value::str("/"),
            _ => args.get(1).cloned().unwrap_or(Value::Null),
        },
        (Obj::Class("Thread"), "sleep") => {
            i.b.sleep_ms += u64::try_from(int_arg(&args, 0)?).unwrap_or(0);
            Value::Null
        }
        (Obj::Class("Integer" | "Long"), "parseInt" | "parseLong" | "valueOf") => {
            Value::Int(parse_int(&text_arg(i, &args, 0)?)?)
        }
        (Obj::Class("Double" | "Float"), "parseDouble" | "parseFloat" | "valueOf") => {
            Value::Num(parse_num(&text_arg(i, &args, 0)?)?)
        }
        (Obj::Class("Boolean"), "parseBoolean" | "valueOf") => {
            Value::Bool(arg(0).is_some_and(|s| s.eq_ignore_ascii_case("true")))
        }
        (
            Obj::Class("Integer" | "Long" | "Double" | "String" | "Boolean"),
            "toString" | "valueOf",
        ) => Value::str(args.first().cloned().unwrap_or_default().text(d)),
        (Obj::Class("String"), "format") => {
            Value::str(java_format(d, &text_arg(i, &args, 0)?, &args[1..])?)
        }
        (Obj::Class("String"), "join") => {
            let sep = text_arg(i, &args, 0)?;
            let items: Vec<String> = match args.get(1) {
                Some(Value::List(l)) => lock(l).iter().map(|v| v.text(d)).collect(),
                _ => args[1..].iter().map(|v| v.text(d)).collect(),
            };
            Value::str(items.join(&sep))
        }
        (Obj::Class("Math"), _) => math(name, &args)?,
        (Obj::Class("UUID"), "randomUUID") => Value::str(uuid::Uuid::new_v4().to_string()),
        (Obj::Class("JSON"), "stringify") | (Obj::Class("JsonOutput"), "toJson") => Value::str(
            args.first()
                .cloned()
                .unwrap_or_default()
                .to_json()
                .to_string(),
        ),
        (Obj::Class("JsonOutput"), "prettyPrint") => {
            let s = text_arg(i, &args, 0)?;
            let j: serde_json::Value =
                serde_json::from_str(&s).map_err(|e| format!("bad JSON: {e}"))?;
            Value::str(serde_json::to_string_pretty(&j).unwrap_or(s))
        }
        (
            Obj::Class("RandomStringUtils"),
            "randomAlphanumeric" | "randomAlphabetic" | "randomNumeric",
        ) => {
            let n = usize::try_from(int_arg(&args, 0)?).map_err(|_| "negative length")?;
            let set: &[u8] = match name {
                "randomAlphanumeric" => {
                    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                }
                "randomAlphabetic" => b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                _ => b"0123456789",
            };
            Value::str(
                (0..n)
                    .map(|_| set[fastrand::usize(..set.len())] as char)
                    .collect::<String>(),
            )
        }
        (Obj::Class("RandomUtils"), "nextInt") => {
            let (lo, hi) = (int_arg(&args, 0)?, int_arg(&args, 1)?);
            if hi <= lo {
                Value::Int(lo)
            } else {
                Value::Int(fastrand::i64(lo..hi))
            }
        }
        (Obj::Class("ThreadLocalRandom"), "current") => Value::Obj(Obj::Random),
        (Obj::Random, "nextInt") if args.len() == 2 => {
            let (lo, hi) = (int_arg(&args, 0)?, int_arg(&args, 1)?);
            if hi <= lo {
                return Err("IllegalArgumentException: bound must be greater than origin".into());
            }
            Value::Int(fastrand::i64(lo..hi))
        }
        (Obj::Random, "nextInt") => match args.first() {
            Some(_) => {
                let n = int_arg(&args, 0)?;
                if n <= 0 {
                    return Err("IllegalArgumentException: bound must be positive".into());
                }
                Value::Int(fastrand::i64(0..n))
            }
            None => Value::Int(i64::from(fastrand::i32(..))),
        },
        (Obj::Random, "nextLong") => Value::Int(fastrand::i64(..)),
        (Obj::Random, "nextDouble") => Value::Num(fastrand::f64()),
        (Obj::Random, "nextBoolean") => Value::Bool(fastrand::bool()),
        (Obj::DateFormat(p), "format") => {
            let ms = match args.first() {
                Some(Value::Date(ms)) => *ms,
                Some(Value::Int(ms)) => *ms,
                _ => return Err("format() needs a Date".into()),
            };
            Value::str(date_format(p, ms)?)
        }
        (Obj::Class("URLEncoder"), "encode") => {
            Value::str(crate::text::url::form_encode(&text_arg(i, &args, 0)?))
        }
        (Obj::Class("URLDecoder"), "decode") => {
            Value::str(url_decode(&text_arg(i, &args, 0)?, true))
        }
        (Obj::Class("Base64"), "getEncoder") => Value::Obj(Obj::Class("Base64Encoder")),
        (Obj::Class("Base64"), "getDecoder") => Value::Obj(Obj::Class("Base64Decoder")),
        (Obj::Class("Base64Encoder"), "encodeToString" | "encode") => {
            Value::str(crate::text::base64(text_arg(i, &args, 0)?.as_bytes()))
        }
        (Obj::Class("Base64Decoder"), "decode") => {
            let bytes = base64_decode(&text_arg(i, &args, 0)?)?;
            Value::str(String::from_utf8_lossy(&bytes).into_owned())
        }
        (Obj::Class("Arrays"), "asList") => Value::list(args),
        (Obj::Exception(m), "getMessage") => Value::str(m.as_ref()),
        (Obj::Exception(_), "toString") => Value::str(Value::Obj(obj.clone()).text(d)),
        (o, _) => return Err(format!("no method {name}() on {o:?}")),
    })
}

fn sample_method(i: &mut Interp<'_, '_>, name: &str, args: &[Value]) -> R<Value> {
    let d = i.d;
    let text = |k: usize| args.get(k).map(|v| v.text(d)).unwrap_or_default();
    let s = sample(i)?;
    Ok(match name {
        "getResponseDataAsString" | "getResponseData" => Value::str(s.body.as_str()),
        "getResponseCode" => Value::str(s.code.as_str()),
        "getResponseMessage" => Value::str(s.message.as_str()),
        "isSuccessful" => Value::Bool(s.success),
        "getTime" | "getLatency" => Value::Int(s.elapsed_ms),
        "getSampleLabel" | "getLabel" => Value::str(s.label.as_str()),
        "getResponseHeaders" => Value::str(s.headers.as_str()),
        "getURL" | "getUrlAsString" => Value::str(s.url.as_str()),
        "getBytes" => Value::Int(s.body.len() as i64),
        "setSuccessful" => {
            s.success = args.first().is_some_and(Value::truthy);
            Value::Null
        }
        "setResponseCode" => {
            s.code = text(0);
            Value::Null
        }
        "setResponseMessage" => {
            s.message = text(0);
            Value::Null
        }
        "setResponseCodeOK" => {
            s.code = "200".into();
            Value::Null
        }
        "setResponseMessageOK" => {
            s.message = "OK".into();
            Value::Null
        }
        "setResponseData" => {
            s.body = text(0);
            s.data_set = true;
            Value::Null
        }
        "setIgnore" => {
            s.ignore = true;
            Value::Null
        }
        "setSampleLabel" => {
            s.label = text(0);
            Value::Null
        }
        // Accepted and without effect here: the runner times and types the sample itself.
        "setDataType" | "setContentType" | "sampleStart" | "sampleEnd" => Value::Null,
        _ => return Err(format!("no method {name}() on a sample result")),
    })
}
