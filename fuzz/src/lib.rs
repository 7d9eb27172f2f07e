//! What the fuzz targets share: one call per parser, as loadlake makes it on outside input, and
//! the invariants checked on whatever the parser accepted. A panic, an abort, a stack overflow,
//! a hang (`-timeout`) or memory past `-rss_limit_mb` is a finding; an `Err` is not.

use std::time::Duration;

use arrow::array::{Array, Int64Array};
use loadlake_ingest::csv::decode_csv;
use loadlake_ingest::subresults::SubResultTracker;
use loadlake_ingest::xml::decode_xml;
use loadlake_ingest::{DecodeOptions, FileReport, IngestError, Reject, RejectHandler};
use loadlake_schema::{SampleBatch, col};

/// The name decoders are given. No file has it, so the XML decoder's line counter (which
/// re-reads the file by name) answers 0 and the CSV decoder cannot peek at a last byte.
const FILE: &str = "fuzz-input";

/// Counts rejects and checks that each says something; never stops the decode.
#[derive(Default)]
struct Rejects {
    count: u64,
}

impl RejectHandler for Rejects {
    fn reject(&mut self, r: Reject) -> Result<(), IngestError> {
        assert!(!r.reason.is_empty(), "a reject without a reason: {r:?}");
        self.count += 1;
        Ok(())
    }
}

/// The option sets each JTL input is decoded with: the defaults, and a timestamp format with
/// tiny batches and a small field limit (more flushes and more rejects per input).
fn option_sets() -> [DecodeOptions; 2] {
    [
        DecodeOptions::default(),
        DecodeOptions {
            timestamp_format: Some("yyyy/MM/dd HH:mm:ss.SSS".into()),
            batch_rows: 7,
            max_field_bytes: 64,
            ..DecodeOptions::default()
        },
    ]
}

/// Checks what a decode produced: as many rows as the report counts, row numbers consecutive
/// from 0, every parent row an earlier row, as many rejects as the report counts.
fn check_decode(
    result: Result<FileReport, IngestError>,
    batches: &[SampleBatch],
    rejects: &Rejects,
) {
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let mut next_row = 0i64;
    for batch in batches {
        assert!(
            batch.num_rows() > 0,
            "an empty batch was handed to the sink"
        );
        let rows = batch
            .column_by_name(col::ROW)
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
            .expect("row column");
        let parents = batch
            .column_by_name(col::PARENT_ROW)
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
            .expect("parent_row column");
        for i in 0..batch.num_rows() {
            assert_eq!(rows.value(i), next_row, "row numbers are not consecutive");
            if parents.is_valid(i) {
                assert!(parents.value(i) < next_row, "a parent row after its child");
            }
            next_row += 1;
        }
    }
    assert_eq!(
        report.samples, next_row as u64,
        "report.samples != rows written"
    );
    assert_eq!(
        report.rejected, rejects.count,
        "report.rejected != rejects handed over"
    );
}

/// A JTL CSV file, decoded with each option set (header and delimiter detection included).
pub fn jtl_csv(data: &[u8]) {
    for opts in option_sets() {
        let mut batches: Vec<SampleBatch> = Vec::new();
        let mut rejects = Rejects::default();
        let result = decode_csv(
            FILE,
            data,
            Some(data.len() as u64),
            &opts,
            0,
            &mut batches,
            &mut rejects,
            &mut SubResultTracker::default(),
        );
        check_decode(result, &batches, &rejects);
    }
}

/// A JTL XML file, decoded with each option set.
pub fn jtl_xml(data: &[u8]) {
    for opts in option_sets() {
        let mut batches: Vec<SampleBatch> = Vec::new();
        let mut rejects = Rejects::default();
        let result = decode_xml(FILE, data, &opts, 0, &mut batches, &mut rejects);
        check_decode(result, &batches, &rejects);
    }
}

/// A JMX test plan: parsed, then summarised as `loadlake import --plan` and `loadlake run` do.
pub fn jmx(data: &[u8]) {
    match loadlake_plan::Plan::from_bytes(data, "fuzz.jmx") {
        Ok(plan) => {
            let _ = plan.summary();
            let _ = plan.thread_groups();
            let _ = plan.test_plan_name();
            let enabled = plan.enabled_elements().count();
            assert!(enabled <= plan.all_elements().count());
        }
        Err(e) => {
            let _ = e.position();
            assert!(!e.to_string().is_empty());
        }
    }
}

/// A stages file: parsed, then asked what the runner asks of a profile.
pub fn stages_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let profile = match loadlake_plan::LoadProfile::from_yaml(text, "fuzz.yaml") {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let length = profile.length();
    let _ = profile.max_users();
    let _ = profile.max_rate();
    for t in [
        Duration::ZERO,
        Duration::from_millis(1500),
        length / 3,
        length / 2,
        length.saturating_sub(Duration::from_nanos(1)),
        length,
        length.saturating_add(Duration::from_secs(1)),
    ] {
        let _ = profile.users_at(t);
        let _ = profile.describe_at(t);
        if let Some((i, _)) = profile.stage_at(t) {
            assert!(i < profile.stages.len());
        }
    }
    if profile.is_arrival_rate() {
        let mut last = Duration::ZERO;
        for n in [0.0, 1.0, 2.0, 10.0, 1000.0, 1e6] {
            match profile.arrival_time(n) {
                Some(at) => {
                    assert!(
                        at >= last,
                        "arrival {n} at {at:?} before an earlier one at {last:?}"
                    );
                    assert!(
                        at < length.max(Duration::from_nanos(1)),
                        "arrival {n} past the end"
                    );
                    last = at;
                }
                None => break,
            }
        }
    }
}

/// An SLA rule file, parsed and checked as `loadlake report --sla` does: it is either refused
/// with a message or gives one checked rule per rule written.
pub fn sla_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match loadlake_plan::sla::rules_from_yaml(text, "fuzz.yaml") {
        Ok(rules) => assert!(!rules.is_empty()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// One `StreamSamples` message (an Arrow IPC stream of samples), decoded within the server's
/// default limits. What decodes must agree with what its headers said.
pub fn ipc(data: &[u8]) {
    use loadlake_schema::ipc::{IpcLimits, decode_sample_ipc, inspect_sample_ipc};
    let limits = IpcLimits::default();
    let inspected = inspect_sample_ipc(data, &limits);
    match decode_sample_ipc(data, &limits) {
        Ok(batches) => {
            let summary = match inspected {
                Ok(s) => s,
                Err(e) => panic!("decoded a message that inspection refused: {e}"),
            };
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            assert_eq!(
                rows as u64, summary.rows,
                "rows decoded != rows in the headers"
            );
            assert_eq!(batches.len(), summary.batches);
            let schema = loadlake_schema::sample_schema();
            for b in &batches {
                assert_eq!(
                    b.schema().fields(),
                    schema.fields(),
                    "a batch not in the sample schema"
                );
            }
        }
        Err(e) => {
            let _ = e.is_limit();
            assert!(!e.to_string().is_empty());
        }
    }
}
