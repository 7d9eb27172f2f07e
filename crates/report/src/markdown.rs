//! A Markdown summary of a run (GitHub-flavoured tables): outline, SLA results, and the
//! per-case / request / transaction details. For CI job summaries and pull-request comments.

use std::fmt::Write;

use loadlake_query::reports::run_report::RunReport;
use loadlake_query::reports::sla::SlaOutcome;

/// The summary of `report` (run `name`), with the SLA results if any. Response times are in
/// the report's unit, named in the headers.
pub fn summary(name: &str, report: &RunReport, sla: Option<&SlaOutcome>) -> String {
    let o = &report.outline;
    let unit = report.time_unit.symbol();
    let mut md = String::new();
    let _ = writeln!(md, "# {} ({})\n", cell(name), report.run_id);
    let _ = writeln!(
        md,
        "| Requests | TPS | Success rate | Avg RT ({unit}) | Duration (s) | Max users |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} | {} |\n",
        o.requests,
        num(o.tps),
        pct(o.success_rate),
        num(o.average_resp_time),
        num(o.duration),
        o.max_users.map(|u| u.to_string()).unwrap_or_default()
    );
    if let Some(sla) = sla {
        let failed = sla.results.iter().filter(|r| !r.passed).count();
        let verdict = if sla.passed { "passed" } else { "FAILED" };
        let _ = writeln!(
            md,
            "## SLA: {verdict} ({failed} of {} rules failed)\n",
            sla.results.len()
        );
        let _ = writeln!(md, "| | Rule | Scope | Actual | Message |");
        let _ = writeln!(md, "|---|---|---|---:|---|");
        for r in &sla.results {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                if r.passed { "✅" } else { "❌" },
                cell(&r.name),
                cell(&r.scope_description()),
                num(r.actual),
                cell(&r.message)
            );
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Details (times in {unit})\n");
    let _ = writeln!(
        md,
        "| Level | Case | Name | Requests | Errors | Success | Avg | TP50 | TP90 | TP95 | TP99 | Max | TPS |"
    );
    let _ = writeln!(
        md,
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for d in &report.details {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.level,
            cell(&d.case_name),
            cell(&d.name),
            d.requests,
            d.error_count,
            pct(d.success_rate),
            num(d.average_resp_time),
            num(d.tp50),
            num(d.tp90),
            num(d.tp95),
            num(d.tp99),
            num(d.max),
            num(d.tps)
        );
    }
    md
}

/// Text safe inside a table cell: pipes escaped, line breaks flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}%")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
