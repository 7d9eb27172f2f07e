//! Formats a [`RunReport`] as text tables, JSON (CodeArts field names) or CSV (the details); the
//! other report structs of crates/query the commands print (details, PTS scene statistics, APDEX,
//! errors, top 5 errors) as text tables; and the CLI's table style ([`table`]).

use anyhow::Context;
use chrono::{DateTime, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use loadlake_query::TimeUnit;
use loadlake_query::reports::jmeter_tables::{ApdexRow, ErrorRow, Top5Row};
use loadlake_query::reports::pts::SceneStats;
use loadlake_query::reports::run_report::{DetailData, RunReport};
use loadlake_query::reports::sla::SlaOutcome;

use crate::args::Format;

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

fn time(ms: Option<i64>) -> String {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_default()
}

/// A table in the CLI's style with `header`.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

/// Prints the report (and the SLA results, if checked) to stdout in `format`; CSV holds the
/// details only. Table headers name the unit of the report's times; the JSON report says it
/// as `timeUnit` when it is not ms.
pub(crate) fn print_run_report(
    r: &RunReport,
    sla: Option<&SlaOutcome>,
    format: Format,
) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report_json(r, sla)?)?),
        Format::Csv => details_csv(&r.details)?,
        Format::Table => {
            print_tables(r);
            if let Some(sla) = sla {
                println!("{}", sla_table(sla));
            }
        }
    }
    Ok(())
}

/// The JSON report: the CodeArts ReportInfo fields, plus `sla` (each rule's result) when checked.
pub(crate) fn report_json(
    r: &RunReport,
    sla: Option<&SlaOutcome>,
) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(r)?;
    if let (Some(sla), Some(object)) = (sla, value.as_object_mut()) {
        object.insert("sla".into(), serde_json::to_value(sla)?);
    }
    Ok(value)
}

/// SLA results as a text table.
pub(crate) fn sla_table(sla: &SlaOutcome) -> Table {
    let mut t = table(&["SLA", "Rule", "Scope", "Actual", "Unit", "Message"]);
    for r in &sla.results {
        t.add_row(vec![
            if r.passed { "pass" } else { "FAIL" }.to_string(),
            r.name.clone(),
            r.scope_description(),
            num(r.actual),
            r.unit.clone(),
            r.message.clone(),
        ]);
    }
    t
}

/// The details as a text table; response times in `unit`, named in the headers.
pub(crate) fn details_table(rows: &[DetailData], unit: TimeUnit) -> Table {
    let timed = |name: &str| format!("{name} ({})", unit.symbol());
    let mut details = table(&[
        "Level",
        "Case",
        "Name",
        "Requests",
        "Errors",
        "Success %",
        &timed("Avg"),
        &timed("Min"),
        &timed("Max"),
        &timed("TP50"),
        &timed("TP90"),
        &timed("TP95"),
        &timed("TP99"),
        &timed("TP99.9"),
        "TPS",
        "Assert",
        "Timeout",
        "Refused",
        "Parse",
        "Others",
    ]);
    for d in rows {
        details.add_row(vec![
            d.level.clone(),
            d.case_name.clone(),
            d.name.clone(),
            d.requests.to_string(),
            d.error_count.to_string(),
            num(d.success_rate),
            num(d.average_resp_time),
            num(d.min),
            num(d.max),
            num(d.tp50),
            num(d.tp90),
            num(d.tp95),
            num(d.tp99),
            num(d.tp999),
            num(d.tps),
            d.failed_assert.to_string(),
            d.failed_timeout.to_string(),
            d.failed_refused.to_string(),
            d.failed_parsed.to_string(),
            d.failed_others.to_string(),
        ]);
    }
    details
}

/// Writes details as CSV (one row each, the report's CodeArts field names as headers).
pub(crate) fn details_csv(rows: &[DetailData]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    for d in rows {
        w.serialize(d).context("writing CSV")?;
    }
    w.flush()?;
    Ok(())
}

fn print_tables(r: &RunReport) {
    let average = format!("Average RT ({})", r.time_unit.symbol());
    let o = &r.outline;
    let mut outline = table(&["Run", &r.run_id]);
    for (k, v) in [
        ("Start", time(o.start_time)),
        ("End", time(o.end_time)),
        ("Duration (s)", num(o.duration)),
        (
            "Max users",
            o.max_users.map(|u| u.to_string()).unwrap_or_default(),
        ),
        ("Requests", o.requests.to_string()),
        ("TPS", num(o.tps)),
        ("Success rate (%)", num(o.success_rate)),
        (average.as_str(), num(o.average_resp_time)),
        (
            "Cases (total / executed / passed)",
            format!(
                "{} / {} / {}",
                o.total_cases, o.executed_cases, o.pass_cases
            ),
        ),
        ("VUM", num(o.vum)),
    ] {
        outline.add_row(vec![k.to_string(), v]);
    }
    println!("{outline}");

    println!("{}", details_table(&r.details, r.time_unit));

    let mut ranges = table(&["Response time", "Requests", "%"]);
    for x in &r.resp_time_range {
        ranges.add_row(vec![
            x.range.clone(),
            x.count.to_string(),
            format!("{:.2}", x.percent),
        ]);
    }
    let mut classes = table(&["Error class", "Requests"]);
    for c in &r.error_classes {
        classes.add_row(vec![c.error_class.clone(), c.samples.to_string()]);
    }
    println!("{ranges}\n{classes}");
}

/// Prints PTS scene statistics: JSON (AllSampleStat / SampleStatList, and `TimeUnit` when not
/// ms), a table (the RT headers name a unit that is not ms), or CSV rows.
pub(crate) fn print_scene_stats(s: &SceneStats, format: Format) -> anyhow::Result<()> {
    let rt = |name: &'static str| match s.time_unit {
        TimeUnit::Ms => name.to_string(),
        unit => format!("{name} ({})", unit.symbol()),
    };
    let rows: Vec<_> = s.all.iter().chain(&s.samplers).collect();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(s)?),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            for r in rows {
                w.serialize(r).context("writing CSV")?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut t = table(&[
                "Sampler",
                "Count",
                "Fail",
                "TPS",
                "Success TPS",
                &rt("RT avg"),
                &rt("RT min"),
                &rt("RT max"),
                &rt("RT 50"),
                &rt("RT 90"),
                &rt("RT 99"),
                "Concurrency",
                "Request bytes",
                "Duration (s)",
            ]);
            for r in rows {
                t.add_row(vec![
                    r.name.clone().unwrap_or_else(|| "(all)".into()),
                    r.count.to_string(),
                    r.fail_count.to_string(),
                    num(r.tps),
                    num(r.success_tps),
                    num(r.rt_avg),
                    num(r.rt_min),
                    num(r.rt_max),
                    num(r.rt_seg50),
                    num(r.rt_seg90),
                    num(r.rt_seg99),
                    num(r.concurrency),
                    num(r.request_bytes_sum),
                    num(r.duration),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(())
}

/// JMeter's APDEX table.
pub(crate) fn apdex_table(rows: &[ApdexRow]) -> Table {
    let mut t = table(&[
        "Apdex",
        "T (Toleration threshold)",
        "F (Frustration threshold)",
        "Label",
    ]);
    for r in rows {
        t.add_row(vec![
            format!("{:.3}", r.apdex),
            format!("{} ms", r.satisfied_threshold),
            format!("{} ms", r.tolerated_threshold),
            r.label.clone(),
        ]);
    }
    t
}

/// JMeter's Errors table.
pub(crate) fn errors_table(rows: &[ErrorRow]) -> Table {
    let mut t = table(&[
        "Type of error",
        "Number of errors",
        "% in errors",
        "% in all samples",
    ]);
    for r in rows {
        t.add_row(vec![
            r.error.clone(),
            r.errors.to_string(),
            format!("{:.2}%", r.percent_in_errors),
            format!("{:.2}%", r.percent_in_all_samples),
        ]);
    }
    t
}

/// JMeter's Top 5 errors by sampler table.
pub(crate) fn top5_table(rows: &[Top5Row]) -> Table {
    let mut header = vec!["Sample".to_string(), "#Samples".into(), "#Errors".into()];
    for i in 1..=5 {
        header.push(format!("Error {i}"));
        header.push("#Errors".into());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header);
    for r in rows {
        let mut cells = vec![r.label.clone(), r.samples.to_string(), r.errors.to_string()];
        for i in 0..5 {
            match r.top.get(i) {
                Some((error, n)) => cells.extend([error.clone(), n.to_string()]),
                None => cells.extend([String::new(), String::new()]),
            }
        }
        t.add_row(cells);
    }
    t
}
