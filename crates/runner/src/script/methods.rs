//! Methods of numbers, lists and maps, and `Math`.

use super::api::{int_arg, no_method};
use super::eval::{Interp, R, map_put};
use super::value::{Value, lock};

pub(super) fn math(name: &str, args: &[Value]) -> R<Value> {
    let n = |k: usize| {
        args.get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("Math.{name}() needs numbers"))
    };
    let ints = args.iter().all(|a| matches!(a, Value::Int(_)));
    Ok(match name {
        "random" => Value::Num(fastrand::f64()),
        "floor" => Value::Num(n(0)?.floor()),
        "ceil" => Value::Num(n(0)?.ceil()),
        "round" => Value::Int((n(0)? + 0.5).floor() as i64),
        "abs" if ints => Value::Int(int_arg(args, 0)?.wrapping_abs()),
        "abs" => Value::Num(n(0)?.abs()),
        "max" if ints => Value::Int(int_arg(args, 0)?.max(int_arg(args, 1)?)),
        "min" if ints => Value::Int(int_arg(args, 0)?.min(int_arg(args, 1)?)),
        "max" => Value::Num(n(0)?.max(n(1)?)),
        "min" => Value::Num(n(0)?.min(n(1)?)),
        "pow" => Value::Num(n(0)?.powf(n(1)?)),
        "sqrt" => Value::Num(n(0)?.sqrt()),
        _ => return Err(format!("no method Math.{name}()")),
    })
}

pub(super) fn number_method(
    i: &mut Interp<'_, '_>,
    v: &Value,
    name: &str,
    args: &[Value],
) -> R<Value> {
    let d = i.d;
    Ok(match (v, name) {
        (_, "toString") => Value::str(v.text(d)),
        (Value::Int(n), "intValue" | "longValue" | "toInteger" | "toLong") => Value::Int(*n),
        (Value::Num(n), "intValue" | "longValue" | "toInteger" | "toLong") => Value::Int(*n as i64),
        (_, "doubleValue" | "toDouble") => Value::Num(v.as_f64().unwrap_or(f64::NAN)),
        (_, "toFixed") => {
            let digits = usize::try_from(int_arg(args, 0).unwrap_or(0)).unwrap_or(0);
            Value::str(format!("{:.*}", digits, v.as_f64().unwrap_or(f64::NAN)))
        }
        (_, "equals") => Value::Bool(super::eval::equals(
            v,
            args.first().unwrap_or(&Value::Null),
            d,
            true,
        )),
        (_, "compareTo") => {
            let (a, b) = (
                v.as_f64().unwrap_or(0.0),
                args.first().and_then(Value::as_f64).unwrap_or(0.0),
            );
            Value::Int(if a < b { -1 } else { i64::from(a > b) })
        }
        _ => return Err(no_method(name, v)),
    })
}

pub(super) fn collection_method(
    i: &mut Interp<'_, '_>,
    o: &Value,
    name: &str,
    args: Vec<Value>,
) -> R<Value> {
    let d = i.d;
    if let Value::Map(m) = o {
        let key = |k: usize| args.get(k).map(|v| v.text(d)).unwrap_or_default();
        let mut m = lock(m);
        return Ok(match name {
            "get" => m
                .iter()
                .find(|(k, _)| *k == key(0))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
            "put" => map_put(&mut m, &key(0), args.get(1).cloned().unwrap_or_default()),
            "containsKey" => Value::Bool(m.iter().any(|(k, _)| *k == key(0))),
            "remove" => match m.iter().position(|(k, _)| *k == key(0)) {
                Some(p) => m.remove(p).1,
                None => Value::Null,
            },
            "keySet" => Value::list(m.iter().map(|(k, _)| Value::str(k.as_str())).collect()),
            "values" => Value::list(m.iter().map(|(_, v)| v.clone()).collect()),
            "size" => Value::Int(m.len() as i64),
            "isEmpty" => Value::Bool(m.is_empty()),
            "clear" => {
                m.clear();
                Value::Null
            }
            "toString" => {
                drop(m);
                Value::str(o.text(d))
            }
            _ => return Err(no_method(name, o)),
        });
    }
    let Value::List(l) = o else {
        return Err(no_method(name, o));
    };
    if matches!(name, "toString" | "join") {
        return Ok(match name {
            "join" => {
                let sep = args.first().map_or(",".to_string(), |v| v.text(d));
                Value::str(
                    lock(l)
                        .iter()
                        .map(|v| v.text(d))
                        .collect::<Vec<_>>()
                        .join(&sep),
                )
            }
            _ => Value::str(o.text(d)),
        });
    }
    let mut l = lock(l);
    Ok(match name {
        "size" => Value::Int(l.len() as i64),
        "isEmpty" => Value::Bool(l.is_empty()),
        "get" => {
            let k = int_arg(&args, 0)?;
            usize::try_from(k)
                .ok()
                .and_then(|k| l.get(k).cloned())
                .ok_or_else(|| {
                    format!(
                        "IndexOutOfBoundsException: Index {k} out of bounds for length {}",
                        l.len()
                    )
                })?
        }
        "add" | "push" => {
            l.extend(args);
            Value::Bool(true)
        }
        "contains" | "includes" => {
            let x = args.first().cloned().unwrap_or_default();
            Value::Bool(l.iter().any(|v| super::eval::equals(v, &x, d, true)))
        }
        "indexOf" => {
            let x = args.first().cloned().unwrap_or_default();
            Value::Int(
                l.iter()
                    .position(|v| super::eval::equals(v, &x, d, true))
                    .map_or(-1, |p| p as i64),
            )
        }
        "remove" => {
            let k = usize::try_from(int_arg(&args, 0)?).map_err(|_| "a negative index")?;
            if k >= l.len() {
                return Err(format!(
                    "IndexOutOfBoundsException: Index {k} out of bounds"
                ));
            }
            l.remove(k)
        }
        "first" => l
            .first()
            .cloned()
            .ok_or("NoSuchElementException: the list is empty")?,
        "last" => l
            .last()
            .cloned()
            .ok_or("NoSuchElementException: the list is empty")?,
        "clear" => {
            l.clear();
            Value::Null
        }
        _ => return Err(no_method(name, o)),
    })
}
