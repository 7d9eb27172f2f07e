//! The deterministic samples the stream benchmarks send (`stream_ingest.rs`, `soak.rs`): one
//! home for their labels, response times and errors, so both measure the same data.

use loadlake_schema::{SampleBatchBuilder, SampleRecord};

type Error = Box<dyn std::error::Error + Send + Sync>;

const LABELS: [&str; 8] = [
    "home", "login", "search", "item", "cart", "pay", "logout", "api",
];

/// Deterministic sample `i`: label, elapsed, success.
pub(crate) fn sample(i: i64) -> (&'static str, i64, bool) {
    let x = (i.wrapping_mul(2_654_435_761) >> 7) & 0xffff;
    (LABELS[(i % 8) as usize], 5 + x % 900, x % 97 != 0)
}

pub(crate) fn ipc_batch(first: i64, n: i64) -> Result<Vec<u8>, Error> {
    let mut b = SampleBatchBuilder::new(first);
    for i in first..first + n {
        let (label, elapsed, success) = sample(i);
        b.push(&SampleRecord {
            ts_ms: Some(1_795_000_000_000 + i),
            elapsed_ms: Some(elapsed),
            label,
            case_name: Some("Bench"),
            thread: Some("Bench 1-1"),
            response_code: Some(if success { "200" } else { "500" }),
            success,
            bytes_received: Some(1000),
            grp_threads: Some(50),
            all_threads: Some(50),
            ..Default::default()
        })?;
    }
    let batch = b.finish()?;
    let mut w = arrow::ipc::writer::StreamWriter::try_new(Vec::new(), &batch.schema())?;
    w.write(&batch)?;
    w.finish()?;
    Ok(w.into_inner()?)
}
