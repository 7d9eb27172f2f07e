//! The run report of one run: the report job of crates/report with the options of `loadlake
//! report`, printed on stdout or written into the files asked for (HTML, Markdown, JUnit), with
//! the SLA gate.

use loadlake_query::QueryEngine;
use loadlake_report::job::{Pages, run_report_job};
use loadlake_schema::RunManifest;

use super::files;
use crate::args::ReportArgs;
use crate::exit::Gate;

/// The run report of `manifest`'s run on stdout, or into the files asked for; SLA rules checked.
pub(super) async fn run_report_and_files(
    engine: &QueryEngine,
    manifest: &RunManifest,
    args: &ReportArgs,
) -> anyhow::Result<Gate> {
    let file_args = &args.files;
    let pages = Pages {
        html: match file_args.html {
            Some(_) => Some(files::html_settings(args, chrono::Utc::now())?),
            None => None,
        },
        markdown: file_args.markdown.is_some(),
        junit: file_args.junit.is_some(),
    };
    let request = files::report_request(args, pages)?;
    let out = run_report_job(engine, manifest, &request).await?;
    if file_args.html.is_none() && file_args.markdown.is_none() && file_args.junit.is_none() {
        crate::render::print_run_report(&out.report, out.sla.as_ref(), args.format)?;
    }
    for (path, page) in [
        (&file_args.html, &out.html),
        (&file_args.markdown, &out.markdown),
        (&file_args.junit, &out.junit),
    ] {
        if let (Some(path), Some(page)) = (path, page) {
            files::write_file(path, page)?;
        }
    }
    Ok(match &out.sla {
        Some(outcome) => {
            eprintln!("{}", files::sla_summary(outcome));
            Gate::from_passed(outcome.passed)
        }
        None => Gate::Pass,
    })
}
