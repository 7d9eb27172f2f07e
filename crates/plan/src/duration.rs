//! Durations as users write them in stages files, stop rules and flags: `500ms`, `30s`, `5m`.

use std::time::Duration;

/// `500ms`, `30s`, `5m`, `1h`, `1d` (a bare number is seconds) → a positive duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 500ms, 1s, 1m"))?;
    let ms_per_unit: u64 = match unit {
        "ms" => 1,
        "s" | "" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => {
            return Err(format!(
                "'{text}': unknown unit '{unit}' (ms, s, m, h, d, w)"
            ));
        }
    };
    if n == 0 {
        return Err(format!("'{text}' must be positive"));
    }
    n.checked_mul(ms_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("'{text}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("s").is_err());
    }
}
