//! `--jmeter-log FILE`: JMeter's own word that the run ended, read from its log (`-j
//! jmeter.log`) or its standard output saved to a file.
//!
//! A CSV JTL has no closing marker, and JMeter's `summary =` line alone is no signal: the
//! summariser writes a cumulative `summary =` line at every interval (30 s by default) during
//! the run too. What is sound, seen in JMeter 2.13's code (`StandardJMeterEngine.run`,
//! `ResultCollector.testEnded`) and its logs:
//!
//! 1. `StandardJMeterEngine: Notifying test listeners of end of test` is logged when every
//!    thread has stopped: every sample has been handed to the results file's writer, but its
//!    buffer may not be flushed yet;
//! 2. `ResultCollector.testEnded` then flushes and closes the results files (writing
//!    `</testResults>` to an XML one) and only after that calls the summariser's `testEnded`,
//!    which logs the final `summary =` total;
//! 3. on standard output, `... end of run` comes after both.
//!
//! So the run has ended, and the results file is whole, at a `summary =` line after the
//! "end of test" line, or at `... end of run`. With the summariser turned off
//! (`summariser.name=`) the log has no line after the close: then the run counts as ended
//! once the results file has not grown for [`AFTER_END_OF_TEST`] after the "end of test" line.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// After JMeter's "end of test" line, how long the results file may stay unchanged before the
/// run counts as ended without the summariser's line.
pub(super) const AFTER_END_OF_TEST: Duration = Duration::from_secs(2);

/// The most of the log read at once.
const LOG_STEP: u64 = 1 << 20;

/// What the log said so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LogSays {
    /// Nothing about the end yet.
    Running,
    /// Every thread has stopped; the results file is being closed.
    EndOfTest,
    /// The run ended and its results files are closed (the line that says so).
    Ended(String),
}

/// JMeter's log, read from where it ended when following started (lines of earlier runs in the
/// same log say nothing about this one).
pub(super) struct JmeterLog {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    says: LogSays,
}

impl JmeterLog {
    /// Watches `path` from its current end (from its start if it is not there yet).
    pub(super) fn open(path: &Path) -> JmeterLog {
        JmeterLog {
            path: path.to_path_buf(),
            offset: std::fs::metadata(path).map_or(0, |m| m.len()),
            partial: Vec::new(),
            says: LogSays::Running,
        }
    }

    /// Reads the lines added since the last look and returns what the log says now. A log that
    /// cannot be read (not there yet) says nothing; a log that shrank was started afresh (a new
    /// JMeter run) and is read from its start.
    pub(super) fn look(&mut self) -> &LogSays {
        if matches!(self.says, LogSays::Ended(_)) {
            return &self.says;
        }
        let Ok(len) = std::fs::metadata(&self.path).map(|m| m.len()) else {
            return &self.says;
        };
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        let mut bytes = Vec::new();
        let read = File::open(&self.path).and_then(|mut f| {
            f.seek(SeekFrom::Start(self.offset))?;
            f.take(LOG_STEP).read_to_end(&mut bytes)
        });
        let Ok(got) = read else {
            return &self.says;
        };
        self.offset += got as u64;
        self.partial.extend_from_slice(&bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return &self.says;
        };
        let rest = self.partial.split_off(end + 1);
        let lines = std::mem::replace(&mut self.partial, rest);
        for line in String::from_utf8_lossy(&lines).lines() {
            self.says = next(std::mem::replace(&mut self.says, LogSays::Running), line);
            if matches!(self.says, LogSays::Ended(_)) {
                break;
            }
        }
        &self.says
    }
}

/// What the log says after `line`, having said `now`.
fn next(now: LogSays, line: &str) -> LogSays {
    let trimmed = line.trim();
    if trimmed == "... end of run" {
        return LogSays::Ended(trimmed.to_string());
    }
    if trimmed.contains("Notifying test listeners of end of test") {
        return LogSays::EndOfTest;
    }
    if now == LogSays::EndOfTest && is_summary_total(trimmed) {
        return LogSays::Ended(trimmed.to_string());
    }
    now
}

/// A summariser total: `summary =    300 in     4s = …`, on standard output or after
/// `jmeter.reporters.Summariser: ` (2.13) or `o.a.j.r.Summariser: ` (5.x) in the log.
fn is_summary_total(line: &str) -> bool {
    let text = line
        .find("Summariser: ")
        .map_or(line, |i| &line[i + "Summariser: ".len()..]);
    let mut words = text.split_whitespace();
    let (_name, eq, count, word) = (words.next(), words.next(), words.next(), words.next());
    eq == Some("=") && count.is_some_and(|n| n.parse::<u64>().is_ok()) && word == Some("in")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of a JMeter 2.13 run (jmeter.log of tests/data/follow/soak.jmx, and its stdout).
    const LOG: [&str; 5] = [
        "2026/12/05 08:41:30 INFO  - jmeter.reporters.Summariser: summary +     77 in   1.4s =   56.7/s Avg:     9 Min:     0 Max:    49 Err:    25 (32.47%) Active: 4 Started: 4 Finished: 0 ",
        "2026/12/05 08:41:31 INFO  - jmeter.reporters.Summariser: summary =    150 in   2.4s =   62.5/s Avg:     8 Min:     0 Max:    49 Err:    50 (33.33%)",
        "2026/12/05 08:41:32 INFO  - jmeter.engine.StandardJMeterEngine: Notifying test listeners of end of test ",
        "2026/12/05 08:41:32 INFO  - jmeter.reporters.Summariser: summary +    223 in     3s =   84.3/s Avg:     6 Min:     0 Max:    19 Err:    75 (33.63%) Active: 0 Started: 4 Finished: 4 ",
        "2026/12/05 08:41:32 INFO  - jmeter.reporters.Summariser: summary =    300 in     4s =   74.9/s Avg:     7 Min:     0 Max:    49 Err:   100 (33.33%) ",
    ];

    fn says(lines: &[&str]) -> LogSays {
        lines.iter().fold(LogSays::Running, |now, l| next(now, l))
    }

    #[test]
    fn a_periodic_total_is_not_the_end_the_total_after_end_of_test_is() {
        assert_eq!(says(&LOG[..2]), LogSays::Running);
        assert_eq!(says(&LOG[..4]), LogSays::EndOfTest);
        assert_eq!(says(&LOG), LogSays::Ended(LOG[4].trim().to_string()));
        assert_eq!(
            says(&[
                "summary =    300 in     4s =   74.9/s Avg:     7",
                "... end of run"
            ]),
            LogSays::Ended("... end of run".into())
        );
        assert!(is_summary_total(
            "2026-12-05 08:41:32,001 INFO o.a.j.r.Summariser: summary =    300 in 00:00:04 =   74.9/s"
        ));
        assert!(!is_summary_total("summary +     77 in   1.4s =   56.7/s"));
    }

    #[test]
    fn only_lines_written_after_following_started_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jmeter.log");
        std::fs::write(&path, format!("{}\n{}\n", LOG[2], LOG[4])).unwrap();
        let mut log = JmeterLog::open(&path);
        assert_eq!(log.look(), &LogSays::Running);
        let append = |text: &str| {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        };
        append(&format!("{}\n{}", LOG[1], &LOG[2][..30]));
        assert_eq!(log.look(), &LogSays::Running);
        append(&format!("{}\n", &LOG[2][30..]));
        assert_eq!(log.look(), &LogSays::EndOfTest);
        append(&format!("{}\n", LOG[4]));
        assert!(matches!(log.look(), LogSays::Ended(_)));
    }
}
