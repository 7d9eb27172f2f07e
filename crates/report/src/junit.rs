//! SLA results as JUnit XML (the Jenkins / GitLab dialect): one `<testsuite>` per run, one
//! `<testcase>` per rule, a `<failure>` for each rule that failed.

use loadlake_query::reports::scope::Scope;
use loadlake_query::reports::sla::SlaOutcome;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::ReportError;

/// The run a suite is about.
pub struct SuiteRun<'a> {
    pub run_id: &'a str,
    pub name: &'a str,
    /// ISO 8601 time of the run's first sample, if known.
    pub timestamp: Option<String>,
}

/// `loadlake.sla.run`, `loadlake.sla.<case>`, `loadlake.sla.<case>.<request>`: JUnit viewers
/// group test cases by class name.
fn class_name(scope: &Scope) -> String {
    match scope {
        Scope::Run => "loadlake.sla.run".to_string(),
        Scope::Case { case } => format!("loadlake.sla.{case}"),
        Scope::Request {
            case: Some(case),
            request,
        } => format!("loadlake.sla.{case}.{request}"),
        Scope::Request {
            case: None,
            request,
        } => format!("loadlake.sla.{request}"),
    }
}

/// The JUnit XML document of the SLA outcomes of one or more runs (a `<testsuite>` each).
pub fn junit_xml(suites: &[(SuiteRun<'_>, &SlaOutcome)]) -> Result<String, ReportError> {
    let results = || suites.iter().flat_map(|(_, o)| &o.results);
    let tests = results().count().to_string();
    let failures = results().filter(|r| !r.passed).count().to_string();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut all = BytesStart::new("testsuites");
    all.push_attribute(("name", "loadlake SLA"));
    // <testsuites> has no `skipped` in the Jenkins JUnit schema (junit-10.xsd).
    all.extend_attributes(
        counts(&tests, &failures)
            .into_iter()
            .filter(|(name, _)| *name != "skipped"),
    );
    w.write_event(Event::Start(all))?;
    for (run, outcome) in suites {
        write_suite(&mut w, run, outcome)?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    let mut xml = String::from_utf8_lossy(&w.into_inner()).into_owned();
    xml.push('\n');
    Ok(xml)
}

/// The count attributes of `<testsuites>` and `<testsuite>`.
fn counts<'a>(tests: &'a str, failures: &'a str) -> [(&'static str, &'a str); 5] {
    [
        ("tests", tests),
        ("failures", failures),
        ("errors", "0"),
        ("skipped", "0"),
        ("time", "0"),
    ]
}

fn write_suite(
    w: &mut Writer<Vec<u8>>,
    run: &SuiteRun<'_>,
    outcome: &SlaOutcome,
) -> Result<(), ReportError> {
    let tests = outcome.results.len().to_string();
    let failures = outcome
        .results
        .iter()
        .filter(|r| !r.passed)
        .count()
        .to_string();
    let suite_name = format!("loadlake SLA: {} ({})", run.name, run.run_id);
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", suite_name.as_str()));
    suite.extend_attributes(counts(&tests, &failures));
    if let Some(ts) = &run.timestamp {
        suite.push_attribute(("timestamp", ts.as_str()));
    }
    w.write_event(Event::Start(suite))?;
    w.write_event(Event::Start(BytesStart::new("properties")))?;
    for (name, value) in [("run_id", run.run_id), ("run_name", run.name)] {
        let mut p = BytesStart::new("property");
        p.push_attribute(("name", name));
        p.push_attribute(("value", value));
        w.write_event(Event::Empty(p))?;
    }
    w.write_event(Event::End(BytesEnd::new("properties")))?;
    for r in &outcome.results {
        let class = class_name(&r.scope);
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("classname", class.as_str()));
        case.push_attribute(("name", r.name.as_str()));
        case.push_attribute(("time", "0"));
        if r.passed {
            w.write_event(Event::Empty(case))?;
            continue;
        }
        w.write_event(Event::Start(case))?;
        let mut failure = BytesStart::new("failure");
        failure.push_attribute(("message", r.message.as_str()));
        failure.push_attribute(("type", "SLA"));
        w.write_event(Event::Start(failure))?;
        let body = format!(
            "{}: {} (metric {}, max {}, min {}, {} samples)",
            r.scope_description(),
            r.message,
            r.metric,
            bound(r.max, &r.unit),
            bound(r.min, &r.unit),
            r.samples
        );
        w.write_event(Event::Text(BytesText::new(&body)))?;
        w.write_event(Event::End(BytesEnd::new("failure")))?;
        w.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    Ok(())
}

/// A rule's bound with its unit (`300 ms`, `99.5 %`, `1005 µs`), or `-`.
fn bound(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) if unit.is_empty() => v.to_string(),
        Some(v) => format!("{v} {unit}"),
        None => "-".to_string(),
    }
}
