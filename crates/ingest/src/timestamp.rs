//! CSV timestamps: epoch milliseconds, or `SimpleDateFormat` text in a given time zone.
//!
//! When the format is epoch ms but a value is not a number, JMeter tries a fixed list of
//! patterns and locks onto the first that matches (`CSVSaveService` in apache/jmeter); so does
//! this parser.

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// JMeter's fallback patterns, in its order.
const FALLBACKS: [&str; 5] = [
    "yyyy/MM/dd HH:mm:ss.SSS",
    "yyyy/MM/dd HH:mm:ss",
    "yyyy-MM-dd HH:mm:ss.SSS",
    "yyyy-MM-dd HH:mm:ss",
    "MM/dd/yy HH:mm:ss",
];

/// Converts a Java `SimpleDateFormat` pattern to a chrono format string.
pub fn simple_date_format_to_chrono(pattern: &str) -> Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // Quoted literal; '' is a single quote.
            let mut j = i + 1;
            if j < chars.len() && chars[j] == '\'' {
                out.push('\'');
                i += 2;
                continue;
            }
            while j < chars.len() && chars[j] != '\'' {
                push_literal(&mut out, chars[j]);
                j += 1;
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            push_literal(&mut out, c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let spec = match (c, n) {
            ('y', 2) => "%y",
            ('y', _) | ('u', 4) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 1) | ('S', 2) => return Err(format!("'{pattern}': use SSS for milliseconds")),
            ('S', _) => "%f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            // RFC 822 offsets: Java writes `+0000` for UTC.
            ('Z', _) => "%z",
            // ISO 8601 offsets (`X` +08, `XX` +0800, `XXX` +08:00): Java writes `Z` for UTC,
            // which chrono's permissive offset also reads.
            ('X', _) | ('x', _) => "%#z",
            _ => {
                return Err(format!(
                    "'{pattern}': pattern letter '{c}' is not supported for timestamps"
                ));
            }
        };
        out.push_str(spec);
        i += n;
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    if c == '%' {
        out.push_str("%%");
    } else {
        out.push(c);
    }
}

/// Parses one timestamp field.
#[derive(Debug, Clone)]
pub struct TimestampParser {
    tz: Tz,
    /// chrono format, if the file uses formatted timestamps (given, or locked onto).
    format: Option<String>,
    has_offset: bool,
    /// Whether the format came from the user (no fallback search then).
    fixed: bool,
}

impl TimestampParser {
    /// `pattern` = JMeter's `timestamp_format` (`None` or `ms` = epoch ms).
    pub fn new(pattern: Option<&str>, tz: Tz) -> Result<Self, String> {
        let format = match pattern {
            None | Some("ms") | Some("") => None,
            Some(p) => Some(simple_date_format_to_chrono(p)?),
        };
        Ok(TimestampParser {
            tz,
            has_offset: format
                .as_deref()
                .is_some_and(|f| f.contains("%z") || f.contains("%#z")),
            fixed: format.is_some(),
            format,
        })
    }

    /// Epoch ms of a field.
    pub fn parse(&mut self, field: &str) -> Result<i64, String> {
        if !self.fixed
            && let Some(ms) = crate::csv::parse_i64(field.as_bytes())
        {
            return Ok(ms);
        }
        if let Some(fmt) = &self.format {
            return self.parse_with(fmt, field);
        }
        for p in FALLBACKS {
            let fmt = simple_date_format_to_chrono(p)?;
            if let Ok(ms) = self.parse_with(&fmt, field) {
                self.format = Some(fmt);
                return Ok(ms);
            }
        }
        Err(format!(
            "'{field}' is neither epoch milliseconds nor one of JMeter's date formats; pass --timestamp-format"
        ))
    }

    fn parse_with(&self, fmt: &str, field: &str) -> Result<i64, String> {
        let field = field.trim();
        if self.has_offset {
            return DateTime::parse_from_str(field, fmt)
                .map(|d| d.timestamp_millis())
                .map_err(|e| format!("'{field}' does not match the timestamp format: {e}"));
        }
        let naive = NaiveDateTime::parse_from_str(field, fmt)
            .map_err(|e| format!("'{field}' does not match the timestamp format: {e}"))?;
        self.tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|d| d.timestamp_millis())
            .ok_or_else(|| format!("'{field}' does not exist in time zone {}", self.tz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_simple_date_format() {
        assert_eq!(
            simple_date_format_to_chrono("yyyy/MM/dd HH:mm:ss.SSS").unwrap(),
            "%Y/%m/%d %H:%M:%S.%3f"
        );
        assert_eq!(
            simple_date_format_to_chrono("yyyyMMdd'T'HHmmss").unwrap(),
            "%Y%m%dT%H%M%S"
        );
        assert!(simple_date_format_to_chrono("yyyy G").is_err());
    }

    #[test]
    fn parses_in_the_given_time_zone() {
        // 2024-07-01 12:00:00.250 in Paris (UTC+2 in summer) = 10:00:00.250 UTC = 1719828000250.
        let mut p = TimestampParser::new(
            Some("yyyy/MM/dd HH:mm:ss.SSS"),
            "Europe/Paris".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            p.parse("2024/07/01 12:00:00.250").unwrap(),
            1_719_828_000_250
        );
        assert!(
            p.parse("1719828000250").is_err(),
            "a fixed format does not accept ms"
        );
    }

    #[test]
    fn epoch_ms_and_fallback_formats() {
        let mut p = TimestampParser::new(None, Tz::UTC).unwrap();
        assert_eq!(p.parse("1551783627191").unwrap(), 1_551_783_627_191);
        // 2019-03-05 10:20:27.191 UTC
        assert_eq!(
            p.parse("2019-03-05 10:20:27.191").unwrap(),
            1_551_781_227_191
        );
        assert!(p.parse("yesterday").is_err());
    }
}
