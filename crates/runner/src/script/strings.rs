//! Methods of strings (Java's, Groovy's and JavaScript's common ones), `String.format`,
//! URL encoding and Base64.

use super::Dialect;
use super::api::{int_arg, parse_int, parse_num};
use super::eval::{Interp, R};
use super::value::Value;

pub(super) fn url_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b'+' if plus => out.push(b' '),
            b'%' if k + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[k + 1..k + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        k += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        k += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Character positions in `s` as Java's `substring` counts them (here: characters).
fn chars_between(s: &str, from: i64, to: Option<i64>) -> R<String> {
    let len = s.chars().count() as i64;
    let to = to.unwrap_or(len);
    if from < 0 || to > len || from > to {
        return Err(format!(
            "StringIndexOutOfBoundsException: begin {from}, end {to}, length {len}"
        ));
    }
    Ok(s.chars()
        .skip(from as usize)
        .take((to - from) as usize)
        .collect())
}

fn char_index(s: &str, byte: Option<usize>) -> i64 {
    byte.map_or(-1, |b| s[..b].chars().count() as i64)
}

/// A Java regular expression (the common subset is the same in Rust's syntax).
fn regex(p: &str) -> R<regex::Regex> {
    regex::Regex::new(p).map_err(|e| format!("PatternSyntaxException: {e}"))
}

pub(super) fn string_method(
    i: &mut Interp<'_, '_>,
    s: &str,
    name: &str,
    args: &[Value],
) -> R<Value> {
    let d = i.d;
    let text = |k: usize| -> R<String> {
        match args.get(k) {
            Some(Value::Null) | None => {
                Err(format!("{name}(): argument {} is missing or null", k + 1))
            }
            Some(v) => Ok(v.text(d)),
        }
    };
    Ok(match name {
        "length" | "size" => Value::Int(s.chars().count() as i64),
        "isEmpty" => Value::Bool(s.is_empty()),
        "toString" | "getBytes" => Value::str(s),
        "trim" | "strip" => Value::str(s.trim()),
        "toUpperCase" => Value::str(s.to_uppercase()),
        "toLowerCase" => Value::str(s.to_lowercase()),
        "substring" | "slice" => {
            let from = int_arg(args, 0)?;
            let to = if args.len() > 1 {
                Some(int_arg(args, 1)?)
            } else {
                None
            };
            if name == "slice" || d == Dialect::JavaScript {
                let len = s.chars().count() as i64;
                let clamp = |n: i64| {
                    if n < 0 && name == "slice" {
                        (len + n).max(0)
                    } else {
                        n.clamp(0, len)
                    }
                };
                let (a, b) = (clamp(from), clamp(to.unwrap_or(len)));
                let (a, b) = if name == "substring" && a > b {
                    (b, a)
                } else {
                    (a, b.max(a))
                };
                Value::str(chars_between(s, a, Some(b))?)
            } else {
                Value::str(chars_between(s, from, to)?)
            }
        }
        "substr" => {
            let from = int_arg(args, 0)?.max(0);
            let n = if args.len() > 1 {
                int_arg(args, 1)?.max(0)
            } else {
                i64::MAX
            };
            Value::str(
                s.chars()
                    .skip(from as usize)
                    .take(n as usize)
                    .collect::<String>(),
            )
        }
        "charAt" => {
            let k = int_arg(args, 0)?;
            match usize::try_from(k).ok().and_then(|k| s.chars().nth(k)) {
                Some(c) => Value::str(c.to_string()),
                None => return Err(format!("StringIndexOutOfBoundsException: index {k}")),
            }
        }
        "contains" | "includes" => Value::Bool(s.contains(&text(0)?)),
        "startsWith" => Value::Bool(s.starts_with(&text(0)?)),
        "endsWith" => Value::Bool(s.ends_with(&text(0)?)),
        "indexOf" => {
            let needle = text(0)?;
            let from = if args.len() > 1 {
                int_arg(args, 1)?.max(0) as usize
            } else {
                0
            };
            let start = s.char_indices().nth(from).map_or(s.len(), |(b, _)| b);
            Value::Int(char_index(s, s[start..].find(&needle).map(|b| b + start)))
        }
        "lastIndexOf" => Value::Int(char_index(s, s.rfind(&text(0)?))),
        "equals" => Value::Bool(matches!(args.first(), Some(Value::Str(o)) if **o == *s)),
        "equalsIgnoreCase" => Value::Bool(
            args.first()
                .is_some_and(|o| !o.is_null() && o.text(d).to_lowercase() == s.to_lowercase()),
        ),
        "compareTo" => Value::Int(match s.cmp(&text(0)?) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        }),
        "concat" => Value::str(format!("{s}{}", text(0)?)),
        "repeat" => Value::str(s.repeat(usize::try_from(int_arg(args, 0)?).unwrap_or(0))),
        "replace" => {
            let (from, to) = (text(0)?, text(1)?);
            if d == Dialect::JavaScript {
                Value::str(s.replacen(&from, &to, 1))
            } else {
                Value::str(s.replace(&from, &to))
            }
        }
        "replaceAll" | "replaceFirst" => {
            let re = regex(&text(0)?)?;
            let rep = java_replacement(&text(1)?);
            if name == "replaceAll" {
                Value::str(re.replace_all(s, rep.as_str()).into_owned())
            } else {
                Value::str(re.replace(s, rep.as_str()).into_owned())
            }
        }
        "matches" => {
            let re = regex(&format!("^(?:{})$", text(0)?))?;
            Value::Bool(re.is_match(s))
        }
        "split" => {
            let sep = text(0)?;
            let mut parts: Vec<Value> = if d == Dialect::JavaScript {
                s.split(sep.as_str()).map(Value::str).collect()
            } else {
                let re = regex(&sep)?;
                let mut p: Vec<Value> = re.split(s).map(Value::str).collect();
                // Java drops trailing empty strings.
                while p.len() > 1 && matches!(p.last(), Some(Value::Str(x)) if x.is_empty()) {
                    p.pop();
                }
                p
            };
            if s.is_empty() && d != Dialect::JavaScript {
                parts = vec![Value::str("")];
            }
            Value::list(parts)
        }
        "toInteger" | "toLong" => Value::Int(parse_int(s.trim())?),
        "toDouble" => Value::Num(parse_num(s)?),
        "isNumber" => Value::Bool(s.trim().parse::<f64>().is_ok()),
        "isInteger" => Value::Bool(s.trim().parse::<i64>().is_ok()),
        "padLeft" | "padRight" => {
            let n = usize::try_from(int_arg(args, 0)?).unwrap_or(0);
            let pad = if args.len() > 1 { text(1)? } else { " ".into() };
            let len = s.chars().count();
            if len >= n || pad.is_empty() {
                Value::str(s)
            } else {
                let fill: String = pad.chars().cycle().take(n - len).collect();
                Value::str(if name == "padLeft" {
                    fill + s
                } else {
                    format!("{s}{fill}")
                })
            }
        }
        "hashCode" => Value::Int(i64::from(s.encode_utf16().fold(0i32, |h, c| {
            h.wrapping_mul(31).wrapping_add(i32::from(c as i16))
        }))),
        _ => return Err(format!("no method {name}() on a String")),
    })
}

/// A Java replacement string (`$1`) in Rust's syntax (`${1}`).
fn java_replacement(rep: &str) -> String {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    if n == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(n);
                    }
                }
            }
            '$' => {
                let mut digits = String::new();
                while let Some(dg) = chars.peek().filter(|c| c.is_ascii_digit()) {
                    digits.push(*dg);
                    chars.next();
                }
                out.push_str(&format!("${{{digits}}}"));
            }
            c => out.push(c),
        }
    }
    out
}

/// `String.format` for `%s %d %f %.Nf %x %n %%` with width, `0` and `-` flags.
pub(super) fn java_format(d: Dialect, fmt: &str, args: &[Value]) -> R<String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&p) = chars.peek() {
            if p.is_ascii_digit() || p == '.' || p == '-' {
                spec.push(p);
                chars.next();
            } else {
                break;
            }
        }
        let conv = chars.next().ok_or("a format ends in %")?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        if conv == 'n' {
            out.push('\n');
            continue;
        }
        let arg = args
            .get(next)
            .cloned()
            .ok_or("MissingFormatArgumentException")?;
        next += 1;
        let left = spec.starts_with('-');
        let spec = spec.trim_start_matches('-');
        let zero = spec.starts_with('0');
        let (width, prec) = match spec.split_once('.') {
            Some((w, p)) => (w.parse::<usize>().unwrap_or(0), p.parse::<usize>().ok()),
            None => (spec.parse::<usize>().unwrap_or(0), None),
        };
        let body = match conv {
            's' | 'S' => arg.text(d),
            'd' => match arg {
                Value::Int(n) => n.to_string(),
                _ => return Err("IllegalFormatConversionException: d needs an integer".into()),
            },
            'f' => format!(
                "{:.*}",
                prec.unwrap_or(6),
                arg.as_f64().ok_or("f needs a number")?
            ),
            'x' => format!("{:x}", int_arg(&[arg], 0)?),
            'b' => arg.truthy().to_string(),
            other => return Err(format!("UnknownFormatConversionException: {other}")),
        };
        let body = if conv == 'S' {
            body.to_uppercase()
        } else {
            body
        };
        let pad = width.saturating_sub(body.chars().count());
        if left {
            out.push_str(&body);
            out.push_str(&" ".repeat(pad));
        } else if zero && conv != 's' {
            let (sign, digits) = body
                .strip_prefix('-')
                .map_or(("", body.as_str()), |r| ("-", r));
            out.push_str(sign);
            out.push_str(&"0".repeat(pad));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&body);
        }
    }
    Ok(out)
}

/// Java's `Base64.getDecoder().decode(s)`, lenient about whitespace and missing padding.
pub(super) fn base64_decode(s: &str) -> R<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let text: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT
        .decode(text)
        .map_err(|_| "IllegalArgumentException: not Base64".into())
}
