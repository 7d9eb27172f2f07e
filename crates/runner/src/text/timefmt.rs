//! `__time` formatting: the clock a virtual user reads, and the formats of
//! `${__time(format,var)}` compiled once ([`time_format`]) and applied to an instant
//! ([`format_time`]).
//!
//! Formats follow `DateTimeFormatter` (JMeter ≥ 5.5) for the letters `y M d D E a H h m s S Z X`
//! and `'quoted text'`, plus the aliases `YMD`, `HMS`, `YMDHMS`, `USER1`, `USER2` (overridable by
//! the `time.*` properties) and `/divisor`. Times are formatted in UTC (`Z` → `+0000`, `X` →
//! `Z`): the runner has no time-zone database.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::text::Props;

/// Milliseconds since the Unix epoch; injectable so tests can fix the instant.
pub(crate) type Clock = fn() -> i64;

/// The system clock, in milliseconds since the Unix epoch.
pub(crate) fn system_clock() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// A `__time` format, compiled.
#[derive(Debug)]
pub(crate) enum TimeFormat {
    /// No format: epoch milliseconds.
    Millis,
    /// `/n`: epoch milliseconds divided by n.
    Divisor(i64),
    /// A `DateTimeFormatter` pattern, as literal text and fields.
    Pattern(Vec<TimeItem>),
}

/// One piece of a compiled date pattern.
#[derive(Debug)]
pub(crate) enum TimeItem {
    /// Literal text (quoted, or a character that is not a pattern letter).
    Text(String),
    /// A pattern letter and how many times it is repeated.
    Field(char, usize),
}

/// Compiles a `__time` format (aliases resolved), or says what is wrong with it.
pub(crate) fn time_format(format: &str, props: &Props) -> Result<TimeFormat, String> {
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
pub(crate) fn format_time(format: &TimeFormat, ms: i64) -> String {
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
    use crate::text::template::tests::{invalid, props, render, user};

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
}
