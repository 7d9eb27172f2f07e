//! The live progress line of `loadlake run` on stderr, once a second: elapsed time, active
//! users, samples, TPS over the last second, error rate and p95 so far. A [`SampleSink`] in front
//! of the store's sink: it sees every batch the runner hands on (at least every 500 ms).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int32Type, Int64Type};
use loadlake_schema::{SampleBatch, SampleSink, SinkError, col};

/// Counts batches on their way to `inner` and prints a line every `every`.
pub(super) struct Progress<'a> {
    inner: &'a mut dyn SampleSink,
    started: Instant,
    every: Duration,
    last_print: Instant,
    samples: u64,
    samples_at_last_print: u64,
    errors: u64,
    users: i32,
    /// Elapsed ms → count, for the percentile.
    histogram: BTreeMap<i64, u64>,
    terminal: bool,
}

impl<'a> Progress<'a> {
    pub(super) fn new(inner: &'a mut dyn SampleSink) -> Progress<'a> {
        let now = Instant::now();
        Progress {
            inner,
            started: now,
            every: Duration::from_secs(1),
            last_print: now,
            samples: 0,
            samples_at_last_print: 0,
            errors: 0,
            users: 0,
            histogram: BTreeMap::new(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// The nearest-rank 95th percentile of the elapsed times so far.
    fn p95(&self) -> Option<i64> {
        let rank = (self.samples as f64 * 0.95).ceil().max(1.0) as u64;
        let mut seen = 0;
        self.histogram.iter().find_map(|(ms, n)| {
            seen += n;
            (seen >= rank).then_some(*ms)
        })
    }

    fn line(&self, since_last: Duration) -> String {
        let tps =
            (self.samples - self.samples_at_last_print) as f64 / since_last.as_secs_f64().max(1e-3);
        let error_pct = if self.samples == 0 {
            0.0
        } else {
            self.errors as f64 * 100.0 / self.samples as f64
        };
        format!(
            "{:>6.1}s  users {:>4}  samples {:>8}  TPS {:>8.1}  errors {:>5.2}%  p95 {} ms",
            self.started.elapsed().as_secs_f64(),
            self.users,
            self.samples,
            tps,
            error_pct,
            self.p95()
                .map(|v| v.to_string())
                .unwrap_or_else(|| "-".into())
        )
    }

    /// Ends the line on a terminal.
    pub(super) fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }

    fn count(&mut self, batch: &SampleBatch) {
        self.samples += batch.num_rows() as u64;
        if let Some(ok) = batch.column_by_name(col::SUCCESS) {
            let ok = ok.as_boolean();
            self.errors += (0..ok.len()).filter(|&i| !ok.value(i)).count() as u64;
        }
        if let Some(e) = batch.column_by_name(col::ELAPSED_MS) {
            let e = e.as_primitive::<Int64Type>();
            for v in e.iter().flatten() {
                *self.histogram.entry(v).or_default() += 1;
            }
        }
        if let Some(users) = batch.column_by_name(col::ALL_THREADS) {
            let users = users.as_primitive::<Int32Type>();
            if let Some(last) = (0..users.len()).rev().find(|&i| users.is_valid(i)) {
                self.users = users.value(last);
            }
        }
    }
}

impl SampleSink for Progress<'_> {
    fn write_batch(&mut self, batch: SampleBatch) -> Result<(), SinkError> {
        self.count(&batch);
        let since = self.last_print.elapsed();
        if since >= self.every {
            let line = self.line(since);
            let mut err = std::io::stderr().lock();
            // A closed stderr must not stop the run.
            let _ = if self.terminal {
                write!(err, "\r{line}")
            } else {
                writeln!(err, "{line}")
            };
            self.last_print = Instant::now();
            self.samples_at_last_print = self.samples;
        }
        self.inner.write_batch(batch)
    }
}
