//! The order ListRuns pages runs in: newest first by default (run ids sort by creation time), or
//! by a column the runs page shows, and the next-page token of each.
//!
//! Newest first pages by the last run id (a token stays valid and pages do not shift while runs
//! are added); another order pages by position, since a run's place in it changes with the runs
//! added or deleted between two pages.

use std::cmp::Ordering;
use std::sync::Arc;

use loadlake_schema::{RunId, RunManifest};
use tonic::Status;

/// A column runs can be ordered by (`order_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderBy {
    /// The run id: when the run was created (the default, newest first).
    Run,
    Name,
    Status,
    Samples,
    Errors,
    /// Errors per sample (a run without samples first when ascending).
    ErrorPct,
    /// The first sample's time (runs without samples last either way).
    Start,
    /// From the first to the last sample (runs without samples last either way).
    Duration,
}

impl OrderBy {
    /// The column `order_by` names; empty is [`OrderBy::Run`].
    pub(crate) fn parse(order_by: &str) -> Result<OrderBy, Status> {
        Ok(match order_by {
            "" | "run" | "run_id" => OrderBy::Run,
            "name" => OrderBy::Name,
            "status" => OrderBy::Status,
            "samples" => OrderBy::Samples,
            "errors" => OrderBy::Errors,
            "error_pct" => OrderBy::ErrorPct,
            "start" => OrderBy::Start,
            "duration" => OrderBy::Duration,
            other => {
                return Err(Status::invalid_argument(format!(
                    "order_by '{other}': one of run, name, status, samples, errors, error_pct, start, duration"
                )));
            }
        })
    }

    /// How `a` and `b` compare in this column, ascending; `None` for a run without the value.
    fn compare(self, a: &RunManifest, b: &RunManifest) -> Option<Ordering> {
        let pct = |m: &RunManifest| match m.samples {
            0 => 0.0,
            n => m.errors as f64 / n as f64,
        };
        match self {
            OrderBy::Run => Some(a.run_id.as_str().cmp(b.run_id.as_str())),
            OrderBy::Name => Some(a.name.cmp(&b.name)),
            OrderBy::Status => Some(a.status.as_str().cmp(b.status.as_str())),
            OrderBy::Samples => Some(a.samples.cmp(&b.samples)),
            OrderBy::Errors => Some(a.errors.cmp(&b.errors)),
            OrderBy::ErrorPct => Some(pct(a).total_cmp(&pct(b))),
            OrderBy::Start => Some(a.first_ts_ms?.cmp(&b.first_ts_ms?)),
            OrderBy::Duration => Some(a.duration_ms()?.cmp(&b.duration_ms()?)),
        }
    }

    /// Whether a run has this column's value (runs without it go last).
    fn has_value(self, m: &RunManifest) -> bool {
        match self {
            OrderBy::Start => m.first_ts_ms.is_some(),
            OrderBy::Duration => m.duration_ms().is_some(),
            _ => true,
        }
    }
}

/// Sorts `runs` by `by` (descending unless `ascending`), ties newest first, runs without the
/// column's value last.
pub(crate) fn sort_runs(runs: &mut [Arc<RunManifest>], by: OrderBy, ascending: bool) {
    runs.sort_unstable_by(|a, b| {
        let valued = by.has_value(b).cmp(&by.has_value(a));
        let column = by.compare(a, b).unwrap_or(Ordering::Equal);
        let column = if ascending { column } else { column.reverse() };
        valued
            .then(column)
            .then_with(|| b.run_id.as_str().cmp(a.run_id.as_str()))
    });
}

/// Where a page starts: after a run id (newest first), or at a position (any other order).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cursor {
    AfterRun(String),
    At(usize),
}

/// The token of the page after the one that ends with `last` at position `end` (exclusive).
pub(crate) fn encode_token(by: OrderBy, ascending: bool, last: &str, end: usize) -> String {
    let text = if by == OrderBy::Run && !ascending {
        last.to_string()
    } else {
        format!("@{end}")
    };
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Where the page a token names starts. Anything but the hex of a run id or of `@position` —
/// odd length, non-hex or non-ASCII characters — is `INVALID_ARGUMENT`.
pub(crate) fn decode_token(token: &str) -> Result<Cursor, Status> {
    let bad = || Status::invalid_argument("next_token is not one this server gave out");
    let digit = |b: u8| char::from(b).to_digit(16);
    let bytes = token
        .as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some(((digit(*hi)? << 4) | digit(*lo)?) as u8),
            _ => None,
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    if let Some(position) = text.strip_prefix('@') {
        return position.parse().map(Cursor::At).map_err(|_| bad());
    }
    RunId::parse(&text).map_err(|_| bad())?;
    Ok(Cursor::AfterRun(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let t = encode_token(OrderBy::Run, false, "20261122-064858-a4vg", 7);
        assert_eq!(t, "32303236313132322d3036343835382d61347667");
        assert_eq!(
            decode_token(&t).unwrap(),
            Cursor::AfterRun("20261122-064858-a4vg".into())
        );
        // Any other order pages by position: "@40" in hex.
        let at = encode_token(OrderBy::Samples, false, "20261122-064858-a4vg", 40);
        assert_eq!(at, "403430");
        assert_eq!(decode_token(&at).unwrap(), Cursor::At(40));
        let oldest_first = encode_token(OrderBy::Run, true, "20261122-064858-a4vg", 3);
        assert_eq!(decode_token(&oldest_first).unwrap(), Cursor::At(3));
        // "aéa" is 4 bytes: slicing it by two bytes cut 'é' in half (a panic before).
        let hex = |text: &str| text.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        let (not_a_run, not_a_position) = (hex("not a run id"), hex("@-1"));
        for bad in [
            "zz",
            "abc",
            "aéa",
            "éé",
            "a\u{10FFFF}",
            "+1",
            "-1",
            " 1",
            "ff",
            "c3",
            not_a_run.as_str(),
            not_a_position.as_str(),
            &t[..t.len() - 2],
        ] {
            let e = decode_token(bad).expect_err(bad);
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad:?}");
        }
        assert_eq!(
            OrderBy::parse("p99").unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }
}
