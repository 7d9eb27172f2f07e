//! Compiling plans: scoping, merging, substitution, explain, and the clear refusal of
//! everything outside the supported subset.

mod common;

use std::time::Duration;

use common::*;
use loadlake_runner::{Loops, OnSampleError, RunnerError, Step};

fn http_steps(steps: &[Step]) -> Vec<&loadlake_runner::HttpStep> {
    let mut out = Vec::new();
    for s in steps {
        match s {
            Step::Http(h) => out.push(h.as_ref()),
            Step::Transaction { steps, .. }
            | Step::Simple { steps, .. }
            | Step::Loop { steps, .. } => out.extend(http_steps(steps)),
        }
    }
    out
}

#[test]
fn timers_and_assertions_apply_to_their_parents_subtree() {
    let a = assertion("Code", "Assertion.response_code", 8, &["200"], false);
    let children = timer(100)
        + &http("S1", "GET", "/1", &[], "", &(timer(200) + &a))
        + &simple(
            "Inner",
            &(timer(50) + &http("S2", "GET", "/2", &[], "", "")),
        )
        + &http("S3", "GET", "/3", &[], "", "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let plan = compile(&xml, &[("port", "8080")]).unwrap();
    let steps = http_steps(&plan.groups[0].steps);
    let delays: Vec<(&str, Duration, usize)> = steps
        .iter()
        .map(|h| (h.label.as_str(), h.delay, h.assertions.len()))
        .collect();
    assert_eq!(
        delays,
        [
            ("S1", Duration::from_millis(300), 1),
            ("S2", Duration::from_millis(150), 0),
            ("S3", Duration::from_millis(100), 0),
        ]
    );
}

#[test]
fn thread_group_settings_and_headers_merge() {
    let extra = r#"<boolProp name="ThreadGroup.scheduler">true</boolProp>
        <stringProp name="ThreadGroup.duration">${__P(secs,60)}</stringProp>
        <stringProp name="ThreadGroup.delay">2</stringProp>
        <stringProp name="ThreadGroup.on_sample_error">stoptestnow</stringProp>"#;
    let children = header_manager(&[("A", "outer"), ("B", "b")])
        + &http(
            "S",
            "GET",
            "/x",
            &[],
            "",
            &header_manager(&[("a", "inner")]),
        );
    let xml = jmx(
        &[("N", "${__P(users,3)}")],
        &group("G", 1, 5, -1, extra, &children),
    );
    let xml = xml.replace(
        r#"<stringProp name="ThreadGroup.num_threads">1</stringProp>"#,
        r#"<stringProp name="ThreadGroup.num_threads">${N}</stringProp>"#,
    );
    let plan = compile(&xml, &[("port", "80"), ("users", "7")]).unwrap();
    let g = &plan.groups[0];
    assert_eq!(
        (g.threads, g.ramp_up, g.loops),
        (7, Duration::from_secs(5), Loops::Forever)
    );
    assert_eq!(
        (g.duration, g.startup_delay),
        (Some(Duration::from_secs(60)), Duration::from_secs(2))
    );
    assert_eq!(g.on_error, OnSampleError::StopTestNow);
    let h = http_steps(&g.steps)[0];
    assert_eq!(
        h.headers,
        [
            ("B".to_string(), "b".to_string()),
            ("a".to_string(), "inner".to_string())
        ]
    );
    assert_eq!(h.url(), "http://127.0.0.1/x");
    let text = plan.explain();
    assert!(
        text.contains("Thread group \"G\": 7 thread(s), ramp-up 5 s, loops forever, duration 60 s"),
        "{text}"
    );
    assert!(
        text.contains("HTTP \"S\": GET http://127.0.0.1/x, headers [B, a]"),
        "{text}"
    );
}

fn unsupported_of(xml: &str) -> (String, String) {
    match compile(xml, &[("port", "80")]) {
        Err(RunnerError::Unsupported { element, class }) => (element, class),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[test]
fn unsupported_elements_are_refused_by_name() {
    let csv = r#"<CSVDataSet guiclass="TestBeanGUI" testclass="CSVDataSet" testname="Users CSV" enabled="true">
          <stringProp name="filename">users.csv</stringProp>
        </CSVDataSet>
        <hashTree/>"#;
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &(csv.to_string() + &http("S", "GET", "/", &[], "", "")),
        ),
    );
    assert_eq!(
        unsupported_of(&xml),
        ("Users CSV".into(), "CSVDataSet".into())
    );
    let err = compile(&xml, &[]).unwrap_err().to_string();
    assert!(
        err.contains("\"Users CSV\" (CSVDataSet) is not supported"),
        "{err}"
    );

    let iff = r#"<IfController guiclass="IfControllerPanel" testclass="IfController" testname="Only if" enabled="true">
          <stringProp name="IfController.condition">true</stringProp>
        </IfController>
        <hashTree/>"#;
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &simple("Outer", iff)));
    assert_eq!(
        unsupported_of(&xml),
        ("Only if".into(), "IfController".into())
    );

    let jsr = r#"<JSR223PostProcessor guiclass="TestBeanGUI" testclass="JSR223PostProcessor" testname="Script" enabled="true"/>
        <hashTree/>"#;
    let xml = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("S", "GET", "/", &[], "", jsr)),
    );
    assert_eq!(
        unsupported_of(&xml),
        ("Script".into(), "JSR223PostProcessor".into())
    );

    let setup = jmx(
        &[],
        &group("G", 1, 0, 1, "", "").replace("ThreadGroup", "SetupThreadGroup"),
    );
    assert_eq!(unsupported_of(&setup).1, "SetupThreadGroup");

    // Disabled elements do not run, so they do not matter.
    let disabled = csv.replace(r#"enabled="true""#, r#"enabled="false""#);
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &(disabled + &http("S", "GET", "/", &[], "", "")),
        ),
    );
    assert!(compile(&xml, &[("port", "80")]).is_ok());
}

#[test]
fn unsupported_functions_and_settings_are_refused() {
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &http("Random", "GET", "/?ms=${__Random(1,9)}", &[], "", ""),
        ),
    );
    match compile(&xml, &[("port", "80")]) {
        Err(RunnerError::UnsupportedFunction {
            element,
            property,
            function,
        }) => {
            assert_eq!(
                (element.as_str(), property.as_str(), function.as_str()),
                ("Random", "HTTPSampler.path", "__Random")
            );
        }
        other => panic!("{other:?}"),
    }
    let https = r#"<stringProp name="HTTPSampler.protocol">https</stringProp>"#;
    let xml = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("Tls", "GET", "/", &[], "", "")).replace(
            r#"<stringProp name="HTTPSampler.protocol">http</stringProp>"#,
            https,
        ),
    );
    let err = compile(&xml, &[("port", "80")]).unwrap_err();
    assert!(
        matches!(err, RunnerError::UnsupportedSetting { ref property, .. } if property == "HTTPSampler.protocol"),
        "{err}"
    );

    let parent = transaction("T", false, &http("S", "GET", "/", &[], "", "")).replace(
        r#"<boolProp name="TransactionController.parent">false</boolProp>"#,
        r#"<boolProp name="TransactionController.parent">true</boolProp>"#,
    );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &parent));
    let err = compile(&xml, &[("port", "80")]).unwrap_err();
    assert!(
        matches!(err, RunnerError::UnsupportedSetting { ref element, .. } if element == "T"),
        "{err}"
    );

    let bad_threads = jmx(&[], &group("G", 1, 0, 1, "", "")).replace(
        r#"<stringProp name="ThreadGroup.num_threads">1</stringProp>"#,
        r#"<stringProp name="ThreadGroup.num_threads">many</stringProp>"#,
    );
    let err = compile(&bad_threads, &[]).unwrap_err();
    assert!(
        matches!(err, RunnerError::InvalidValue { ref property, .. } if property == "ThreadGroup.num_threads"),
        "{err}"
    );

    let no_groups = jmx(&[], "");
    assert!(matches!(
        compile(&no_groups, &[]),
        Err(RunnerError::NoThreadGroups)
    ));
}

#[test]
fn listeners_are_ignored_and_reported() {
    let listener = r#"<ResultCollector guiclass="ViewResultsFullVisualizer" testclass="ResultCollector" testname="View Results Tree" enabled="true">
          <boolProp name="ResultCollector.error_logging">false</boolProp>
        </ResultCollector>
        <hashTree/>"#;
    let xml = jmx(
        &[],
        &(group("G", 1, 0, 1, "", &http("S", "GET", "/", &[], "", "")) + listener),
    );
    let plan = compile(&xml, &[("port", "80")]).unwrap();
    assert_eq!(plan.ignored, ["\"View Results Tree\" (ResultCollector)"]);
    assert!(
        plan.explain()
            .contains("Ignored: \"View Results Tree\" (ResultCollector)")
    );
}
