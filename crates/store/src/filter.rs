//! [`RunFilter`]: which runs a listing, a batch report or a trend takes — by name, tags, status,
//! start time and count — one rule for the CLI and the gRPC `ListRuns` alike.

use loadlake_schema::RunManifest;

use crate::StoreError;

/// How a run's name must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    /// Exactly this name (`report --all --name`, `trend --name`).
    Exact(String),
    /// A name containing this text (`ListRuns.name`).
    Contains(String),
}

/// Which runs to take. Every condition left empty matches every run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// The run's name.
    pub name: Option<NameMatch>,
    /// Tags the run must all have, (key, value).
    pub tags: Vec<(String, String)>,
    /// The run's status (`complete`, `incomplete`, …).
    pub status: Option<String>,
    /// Runs that started at or after this time, epoch ms (see [`started_ms`]).
    pub started_from_ms: Option<i64>,
    /// Runs that started before this time, epoch ms.
    pub started_before_ms: Option<i64>,
    /// Only the newest this many of the matching runs.
    pub last: Option<usize>,
}

/// When run `m` started: its first sample, or its import time when it has no timestamps.
pub fn started_ms(m: &RunManifest) -> i64 {
    m.first_ts_ms.unwrap_or(m.imported_at.timestamp_millis())
}

/// Parses `KEY=VALUE` (the key trimmed, not empty), as every `--tag` and `tags` field takes it.
pub fn parse_tag(tag: &str) -> Result<(String, String), StoreError> {
    match tag.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(StoreError::BadTag(tag.to_string())),
    }
}

impl RunFilter {
    /// Does run `m` pass every condition but `last`?
    pub fn matches(&self, m: &RunManifest) -> bool {
        let name_ok = match &self.name {
            None => true,
            Some(NameMatch::Exact(n)) => &m.name == n,
            Some(NameMatch::Contains(n)) => m.name.contains(n.as_str()),
        };
        let started = started_ms(m);
        name_ok
            && self.tags.iter().all(|(k, v)| m.tags.get(k) == Some(v))
            && self.status.as_ref().is_none_or(|s| m.status.as_str() == s)
            && self.started_from_ms.is_none_or(|t| started >= t)
            && self.started_before_ms.is_none_or(|t| started < t)
    }

    /// The matching runs of `runs`, oldest first (by start time, then id), the newest `last`
    /// of them when `last` is set.
    pub fn select(&self, runs: Vec<RunManifest>) -> Vec<RunManifest> {
        let mut chosen: Vec<RunManifest> = runs.into_iter().filter(|m| self.matches(m)).collect();
        chosen.sort_by(|a, b| {
            (started_ms(a), a.run_id.as_str()).cmp(&(started_ms(b), b.run_id.as_str()))
        });
        if let Some(last) = self.last {
            let skip = chosen.len().saturating_sub(last);
            chosen.drain(..skip);
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use loadlake_schema::{RunId, RunStatus};

    use super::*;

    fn run(id: &str, name: &str, first_ts: Option<i64>, tags: &[(&str, &str)]) -> RunManifest {
        let json = serde_json::json!({
            "format_version": 1,
            "run_id": id,
            "name": name,
            "tags": tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            "status": "complete",
            "sources": [],
            "samples": 0,
            "errors": 0,
            "first_ts_ms": first_ts,
            "last_ts_ms": first_ts,
            "imported_at": "2026-01-01T00:00:00Z",
            "rejects": {"count": 0},
            "parts": 0,
            "created_by": "test",
        });
        serde_json::from_value(json).unwrap()
    }

    fn ids(runs: &[RunManifest]) -> Vec<&str> {
        runs.iter().map(|r| r.run_id.as_str()).collect()
    }

    #[test]
    fn conditions_combine_and_the_newest_last_are_kept_oldest_first() {
        let id = |n: u32| RunId::generate(chrono::DateTime::from_timestamp(n.into(), 0).unwrap());
        let (a, b, c, d) = (id(1), id(2), id(3), id(4));
        let runs = vec![
            run(d.as_str(), "nightly", Some(4_000), &[("env", "ci")]),
            run(a.as_str(), "nightly", Some(1_000), &[("env", "ci")]),
            run(
                c.as_str(),
                "nightly-eu",
                Some(3_000),
                &[("env", "ci"), ("region", "eu")],
            ),
            // No timestamps: started when imported (2026-01-01), after every other.
            run(b.as_str(), "nightly", None, &[("env", "dev")]),
        ];
        let exact = RunFilter {
            name: Some(NameMatch::Exact("nightly".into())),
            ..RunFilter::default()
        };
        assert_eq!(
            ids(&exact.select(runs.clone())),
            [a.as_str(), d.as_str(), b.as_str()]
        );
        let contains = RunFilter {
            name: Some(NameMatch::Contains("ly-e".into())),
            ..RunFilter::default()
        };
        assert_eq!(ids(&contains.select(runs.clone())), [c.as_str()]);
        let tagged_last_two = RunFilter {
            tags: vec![("env".into(), "ci".into())],
            last: Some(2),
            ..RunFilter::default()
        };
        assert_eq!(
            ids(&tagged_last_two.select(runs.clone())),
            [c.as_str(), d.as_str()]
        );
        let window = RunFilter {
            started_from_ms: Some(3_000),
            started_before_ms: Some(4_000),
            ..RunFilter::default()
        };
        assert_eq!(ids(&window.select(runs.clone())), [c.as_str()]);
        let status = RunFilter {
            status: Some(RunStatus::Incomplete.as_str().into()),
            ..RunFilter::default()
        };
        assert!(status.select(runs).is_empty());
    }

    #[test]
    fn tags_are_key_equals_value() {
        assert_eq!(
            parse_tag(" env =ci=1").unwrap(),
            ("env".into(), "ci=1".into())
        );
        assert!(matches!(parse_tag("=x"), Err(StoreError::BadTag(t)) if t == "=x"));
        assert!(parse_tag("novalue").is_err());
    }
}
