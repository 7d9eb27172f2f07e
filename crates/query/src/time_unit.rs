//! The unit of a session's response times: whole milliseconds, or microseconds after
//! [`crate::QueryEngine::use_microseconds`]. Report structs carry it so that every page, table
//! and JSON document built from them can name it.

/// The unit of the response times (averages, min, max, percentiles) a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Whole milliseconds, as JMeter.
    #[default]
    Ms,
    /// Microseconds.
    Us,
}

impl TimeUnit {
    /// `ms` or `us`, as JSON and the APIs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
        }
    }

    /// `ms` or `µs`, as pages and tables show it.
    pub fn symbol(self) -> &'static str {
        match self {
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "µs",
        }
    }

    /// Whether this is the default unit (ms); report structs leave the unit out of their JSON
    /// then, so ms reports read as before.
    pub fn is_ms(&self) -> bool {
        *self == TimeUnit::Ms
    }

    /// How many of this unit make one ms.
    pub fn per_ms(self) -> i64 {
        match self {
            TimeUnit::Ms => 1,
            TimeUnit::Us => 1000,
        }
    }

    /// A time given in ms (an SLA threshold, say) in this unit, exactly as written in decimal:
    /// the decimal point of the number's shortest form is moved, so `1.005` ms is 1005 µs (not
    /// the 1004.9999999999999 of the binary product) and `0.4856` ms is 485.6 µs.
    pub fn from_ms(self, ms: f64) -> f64 {
        match self {
            TimeUnit::Ms => ms,
            TimeUnit::Us => shift_three_places(ms).unwrap_or(ms * 1000.0),
        }
    }
}

/// `v` × 1000 by moving the decimal point of its shortest decimal form (Rust prints no exponent).
fn shift_three_places(v: f64) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    let text = v.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let moved = fraction.len().min(3);
    let zeros = "0".repeat(3 - moved);
    format!(
        "{sign}{whole}{}{zeros}.{}0",
        &fraction[..moved],
        &fraction[moved..]
    )
    .parse()
    .ok()
}

#[cfg(test)]
mod tests {
    use super::TimeUnit;

    #[test]
    fn ms_thresholds_become_the_microseconds_they_are_written_as() {
        // 1.005 * 1000.0 is 1004.9999999999999 in binary floating point.
        assert_ne!(1.005_f64 * 1000.0, 1005.0);
        assert_eq!(TimeUnit::Us.from_ms(1.005), 1005.0);
        assert_eq!(TimeUnit::Us.from_ms(0.3), 300.0);
        assert_eq!(TimeUnit::Us.from_ms(250.0), 250_000.0);
        assert_eq!(TimeUnit::Us.from_ms(0.0005), 0.5);
        // 0.4856 * 1000.0 is 485.59999999999997.
        assert_ne!(0.4856_f64 * 1000.0, 485.6);
        assert_eq!(TimeUnit::Us.from_ms(0.4856), 485.6);
        assert_eq!(TimeUnit::Us.from_ms(-2.5), -2500.0);
        assert_eq!(TimeUnit::Us.from_ms(1e-7), 0.0001);
        assert_eq!(TimeUnit::Us.from_ms(1e20), 1e23);
        assert_eq!(TimeUnit::Ms.from_ms(1.005), 1.005);
    }
}
