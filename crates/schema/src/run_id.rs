//! Run ids: short, human-typable, time-sortable and unique across concurrent importers.
//!
//! Shape: `YYYYMMDD-HHMMSS-xxxx` in UTC, `xxxx` being four Crockford base-32 characters (20
//! random bits). Ids sort by creation second; within a second the store's exclusive creation of
//! the run's lock file settles collisions (the writer draws a new suffix).

use std::fmt;

use chrono::{DateTime, Utc};

/// Crockford base 32, lower case: no i, l, o, u, so ids survive being read aloud or retyped.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Why a string is not a run id.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not a run id (expected YYYYMMDD-HHMMSS-xxxx, e.g. 20261122-041502-k7qd)")]
pub struct RunIdError(pub String);

/// A validated run id (also safe as a path component: only `[0-9a-z-]`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// A fresh id for a run created at `now`.
    pub fn generate(now: DateTime<Utc>) -> Self {
        let suffix: String = (0..4)
            .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
            .collect();
        RunId(format!("{}-{}", now.format("%Y%m%d-%H%M%S"), suffix))
    }

    /// Parses and validates a run id typed by a user or found on disk.
    pub fn parse(s: &str) -> Result<Self, RunIdError> {
        let b = s.as_bytes();
        let ok = b.len() == 20
            && b[8] == b'-'
            && b[15] == b'-'
            && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
            && b[16..].iter().all(|c| ALPHABET.contains(c));
        if ok {
            Ok(RunId(s.to_string()))
        } else {
            Err(RunIdError(s.to_string()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RunId {
    type Error = RunIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RunId::parse(&s)
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn generated_ids_parse_and_sort_by_time() {
        let t1 = Utc.with_ymd_and_hms(2026, 11, 22, 4, 15, 2).unwrap();
        let t2 = Utc.with_ymd_and_hms(2026, 11, 22, 4, 15, 3).unwrap();
        let a = RunId::generate(t1);
        let b = RunId::generate(t2);
        assert!(a.as_str().starts_with("20261122-041502-"));
        assert_eq!(RunId::parse(a.as_str()).unwrap(), a);
        assert!(a < b);
    }

    #[test]
    fn rejects_traversal_and_junk() {
        for bad in [
            "../../etc/passwd",
            "",
            "20261122-041502-K7QD",
            "20261122-041502-k7q/",
            "20261122-041502-k7qdx",
        ] {
            assert!(RunId::parse(bad).is_err(), "{bad}");
        }
    }
}
