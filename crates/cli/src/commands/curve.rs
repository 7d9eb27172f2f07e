//! `loadlake curve`: computes a curve with crates/query and prints it.

use std::io::Write;

use anyhow::bail;
use chrono::{DateTime, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_query::reports::curve::{Curve, CurveOptions, CurvePoint, curve};
use loadlake_store::Store;
use serde_json::json;

use crate::args::{CurveArgs, Format, Resolution};
use crate::run_ref::RunTarget;

pub(crate) async fn show_curve(store: &Store, args: &CurveArgs) -> anyhow::Result<()> {
    let method = crate::args::exact_method(args.percentile_method)?;
    if args.points == Some(0) {
        bail!("--points must be at least 1");
    }
    let options = CurveOptions {
        interval_ms: args.interval,
        max_points: args.points,
        case: args.case.clone(),
        request: args.request.clone(),
        method,
    };
    let (engine, run_id) = RunTarget::open(store, &args.run).await?;
    if args.resolution == Resolution::Us {
        engine.use_microseconds().await?;
    }
    let c = curve(&engine, &run_id, &options).await?;
    match args.format {
        Format::Json => {
            let mut value = brokens(&run_id, &c);
            if let (Resolution::Us, Some(object)) = (args.resolution, value.as_object_mut()) {
                object.insert("timeUnit".into(), "us".into());
            }
            println!("{}", serde_json::to_string_pretty(&value)?)
        }
        Format::Csv => {
            let mut out = std::io::stdout().lock();
            if c.points.is_empty() {
                // No point to take the header from: the header line of a blank point.
                let mut probe = csv::Writer::from_writer(Vec::new());
                probe.serialize(CurvePoint::default())?;
                let text = String::from_utf8(probe.into_inner()?)?;
                writeln!(out, "{}", text.lines().next().unwrap_or_default())?;
                return Ok(());
            }
            let mut w = csv::Writer::from_writer(out);
            for p in &c.points {
                w.serialize(p)?;
            }
            w.flush()?;
        }
        Format::Table => println!("{}", table(&c)),
    }
    Ok(())
}

/// The CodeArts brokens shape: parallel arrays under common timestamps.
fn brokens(run_id: &str, c: &Curve) -> serde_json::Value {
    let col = |f: &dyn Fn(&loadlake_query::reports::curve::CurvePoint) -> serde_json::Value| -> Vec<serde_json::Value> {
        c.points.iter().map(f).collect()
    };
    json!({
        "runId": run_id,
        "intervalMs": c.interval_ms,
        "brokens": {
            "commonTimestamps": col(&|p| json!(p.t)),
            "tps_brokens": { "tps": col(&|p| json!(p.tps)), "avgRt": col(&|p| json!(p.avg_rt)) },
            "vusers_brokens": { "vusers": col(&|p| json!(p.vusers)) },
            "bytes_brokens": { "recBytes": col(&|p| json!(p.rec_bytes)), "sentBytes": col(&|p| json!(p.sent_bytes)) },
            "code_brokens": {
                "success": col(&|p| json!(p.success)),
                "error": col(&|p| json!(p.error)),
                "timeout": col(&|p| json!(p.timeout)),
                "refusedFailed": col(&|p| json!(p.refused_failed)),
                "parsedFailed": col(&|p| json!(p.parsed_failed)),
                "checkPointFailed": col(&|p| json!(p.check_point_failed)),
                "othersFailed": col(&|p| json!(p.others_failed)),
            },
            "percentile_brokens": {
                "p50": col(&|p| json!(p.p50)),
                "p90": col(&|p| json!(p.p90)),
                "p95": col(&|p| json!(p.p95)),
                "p99": col(&|p| json!(p.p99)),
            },
        }
    })
}

fn table(c: &Curve) -> Table {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "Time (UTC)",
        "Requests",
        "TPS",
        "Errors",
        "Avg RT",
        "P50",
        "P90",
        "P95",
        "P99",
        "VUsers",
    ]);
    for p in &c.points {
        let time = DateTime::<Utc>::from_timestamp_millis(p.t)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            .unwrap_or_default();
        t.add_row(vec![
            time,
            p.requests.to_string(),
            format!("{:.2}", p.tps),
            p.error.to_string(),
            num(p.avg_rt),
            num(p.p50),
            num(p.p90),
            num(p.p95),
            num(p.p99),
            num(p.vusers),
        ]);
    }
    t
}
