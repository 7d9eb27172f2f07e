//! JMeter's `timestamp_format` patterns against a real JVM: `java.text.SimpleDateFormat` (the
//! class JMeter formats timestamps with) writes fixed instants in several time zones, and each
//! string must parse back to its instant — the zone letters included (`XXX` writes `Z` for
//! UTC, `Z` writes `+0000`). Skipped, saying so, where no `java` is installed.

use std::process::Command;

use chrono_tz::Tz;
use loadlake_ingest::timestamp::TimestampParser;

/// Formats every instant of `main` with every pattern and zone; one line per value:
/// pattern, zone, epoch ms, text (tab-separated).
const FORMATTER: &str = r#"
import java.text.SimpleDateFormat;
import java.util.*;
public class Fmt {
  public static void main(String[] a) {
    long[] instants = {0L, 1551783627191L, 1704067199999L, 1719828000250L, 1730595600001L};
    for (String p : a[0].split("\\|")) for (String z : a[1].split(",")) for (long t : instants) {
      SimpleDateFormat f = new SimpleDateFormat(p, Locale.ROOT);
      f.setTimeZone(TimeZone.getTimeZone(z));
      System.out.println(p + "\t" + z + "\t" + t + "\t" + f.format(new Date(t)));
    }
  }
}
"#;

const PATTERNS: [&str; 9] = [
    "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    "yyyy-MM-dd'T'HH:mm:ss.SSSXX",
    "yyyy-MM-dd'T'HH:mm:ss.SSSX",
    "yyyy-MM-dd HH:mm:ss.SSS Z",
    "yyyyMMdd'T'HHmmss.SSSZ",
    "EEE, d MMM yyyy HH:mm:ss.SSS Z",
    "yyyy/MM/dd HH:mm:ss.SSS",
    "dd MMM yyyy HH:mm:ss.SSS",
    "hh:mm:ss.SSS a yyyy-MM-dd",
];

const ZONES: [&str; 4] = ["UTC", "Europe/Paris", "America/Los_Angeles", "Asia/Kolkata"];

#[test]
fn every_zone_letter_round_trips_through_a_real_jvms_simple_date_format() {
    if Command::new("java").arg("-version").output().is_err() {
        eprintln!("SKIP: no java on this machine; SimpleDateFormat's output cannot be checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("Fmt.java");
    std::fs::write(&source, FORMATTER).unwrap();
    let out = Command::new("java")
        .arg(&source)
        .arg(PATTERNS.join("|"))
        .arg(ZONES.join(","))
        .output()
        .expect("run java");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut checked = 0;
    for line in text.lines() {
        let [pattern, zone, instant, formatted] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("unexpected line {line:?}");
        };
        // `X` writes hours only: +05 for Kolkata's +05:30 cannot give the instant back (Java
        // cannot parse it back either).
        if pattern.ends_with("SSSX") && zone == "Asia/Kolkata" {
            continue;
        }
        let tz: Tz = zone.parse().unwrap();
        let mut parser = TimestampParser::new(Some(pattern), tz)
            .unwrap_or_else(|e| panic!("pattern {pattern}: {e}"));
        let got = parser
            .parse(formatted)
            .unwrap_or_else(|e| panic!("{pattern} in {zone}: {e}"));
        assert_eq!(
            got,
            instant.parse::<i64>().unwrap(),
            "{pattern} in {zone}: {formatted}"
        );
        checked += 1;
    }
    // 9 patterns × 4 zones × 5 instants, less X in Kolkata.
    assert_eq!(checked, 9 * 4 * 5 - 5);
}
