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
            other => out.extend(http_steps(other.children())),
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
        h.request.headers,
        [
            ("B".to_string(), "b".to_string()),
            ("a".to_string(), "inner".to_string())
        ]
    );
    assert_eq!(h.request.url(), "http://127.0.0.1/x");
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
    let section = r#"<CriticalSectionController guiclass="CriticalSectionControllerGui" testclass="CriticalSectionController" testname="Section" enabled="true">
        </CriticalSectionController>
        <hashTree/>"#;
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &simple("Outer", section)));
    assert_eq!(
        unsupported_of(&xml),
        ("Section".into(), "CriticalSectionController".into())
    );
    let err = compile(&xml, &[]).unwrap_err().to_string();
    assert!(
        err.contains("\"Section\" (CriticalSectionController) is not supported"),
        "{err}"
    );

    let jsr = r#"<JDBCPostProcessor guiclass="TestBeanGUI" testclass="JDBCPostProcessor" testname="Script" enabled="true"/>
        <hashTree/>"#;
    let xml = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("S", "GET", "/", &[], "", jsr)),
    );
    assert_eq!(
        unsupported_of(&xml),
        ("Script".into(), "JDBCPostProcessor".into())
    );

    // Disabled elements do not run, so they do not matter.
    let disabled = jsr.replace(r#"enabled="true""#, r#"enabled="false""#);
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
fn a_csv_data_set_whose_file_is_missing_is_refused_naming_the_file() {
    let csv = r#"<CSVDataSet guiclass="TestBeanGUI" testclass="CSVDataSet" testname="Users CSV" enabled="true">
          <stringProp name="filename">no-such-users.csv</stringProp>
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
    let err = compile(&xml, &[("port", "80")]).unwrap_err().to_string();
    assert!(
        err.contains("Users CSV") && err.contains("no-such-users.csv"),
        "{err}"
    );
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
    // __Random is filled in per request; in a thread count it is refused: the value must be
    // fixed before the run.
    assert!(compile(&xml, &[("port", "80")]).is_ok());
    let random_threads = jmx(&[], &group("G", 1, 0, 1, "", "")).replace(
        r#"<stringProp name="ThreadGroup.num_threads">1</stringProp>"#,
        r#"<stringProp name="ThreadGroup.num_threads">${__Random(1,9)}</stringProp>"#,
    );
    match compile(&random_threads, &[]) {
        Err(RunnerError::RuntimeFunction {
            property, function, ..
        }) => assert_eq!(
            (property.as_str(), function.as_str()),
            ("ThreadGroup.num_threads", "__Random")
        ),
        other => panic!("{other:?}"),
    }
    let unknown = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &http("Odd", "GET", "/?x=${__digest()}", &[], "", ""),
        ),
    );
    match compile(&unknown, &[("port", "80")]) {
        Err(RunnerError::UnsupportedFunction {
            element,
            property,
            function,
        }) => assert_eq!(
            (element.as_str(), property.as_str(), function.as_str()),
            ("Odd", "HTTPSampler.path", "__digest")
        ),
        other => panic!("{other:?}"),
    }
    let ftp = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("Ftp", "GET", "/", &[], "", "")).replace(
            r#"<stringProp name="HTTPSampler.protocol">http</stringProp>"#,
            r#"<stringProp name="HTTPSampler.protocol">ftp</stringProp>"#,
        ),
    );
    let err = compile(&ftp, &[("port", "80")]).unwrap_err();
    assert!(
        matches!(err, RunnerError::UnsupportedSetting { ref property, .. } if property == "HTTPSampler.protocol"),
        "{err}"
    );
    let https = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("Tls", "GET", "/", &[], "", ""))
            .replace(
                r#"<stringProp name="HTTPSampler.protocol">http</stringProp>"#,
                r#"<stringProp name="HTTPSampler.protocol">https</stringProp>"#,
            )
            .replace("${__P(port)}", ""),
    );
    let plan = compile(&https, &[]).unwrap();
    assert!(
        plan.explain().contains("GET https://127.0.0.1/"),
        "{}",
        plan.explain()
    );

    let bad_threads = jmx(&[], &group("G", 1, 0, 1, "", "")).replace(
        r#"<stringProp name="ThreadGroup.num_threads">1</stringProp>"#,
        r#"<stringProp name="ThreadGroup.num_threads">many</stringProp>"#,
    );
    // JMeter's getPropertyAsInt reads a value that is not a number as 0: no thread, a warning.
    let plan = compile(&bad_threads, &[]).unwrap();
    assert_eq!(plan.groups[0].threads, 0);
    assert!(
        plan.warnings[0].contains("ThreadGroup.num_threads: \"many\" is not a whole number"),
        "{:?}",
        plan.warnings
    );
    let negative = bad_threads.replace(">many<", ">-2<");
    let err = compile(&negative, &[]).unwrap_err();
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
    assert_eq!(
        plan.ignored,
        ["\"View Results Tree\" (ResultCollector: the runner records every sample itself)"]
    );
    assert!(plan.explain().contains(
        "Ignored: \"View Results Tree\" (ResultCollector: the runner records every \
                 sample itself)"
    ));
}

#[test]
fn a_plan_lists_the_data_files_it_read_and_can_take_them_sent_with_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.csv"), "who\nann\n").unwrap();
    let csv = r#"<CSVDataSet guiclass="TestBeanGUI" testclass="CSVDataSet" testname="People" enabled="true">
          <stringProp name="filename">${__P(data,people.csv)}</stringProp>
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
            &(csv.to_string() + &http("S", "GET", "/${who}", &[], "", "")),
        ),
    );
    let plan: loadlake_plan::Plan = xml.parse().unwrap();
    let props = [("port".to_string(), "80".to_string())].into();
    // Read from disk: listed once, by the name after substitution, with where it was read.
    let local = loadlake_runner::compile_at(&plan, &props, dir.path()).unwrap();
    assert_eq!(
        local.data_files,
        vec![loadlake_runner::DataFile {
            name: "people.csv".into(),
            path: dir.path().join("people.csv"),
        }]
    );
    // Sent with the plan: read from the bytes, not from the (missing) directory.
    let files = loadlake_runner::DataFiles {
        base_dir: "/nonexistent".into(),
        shipped: [("people.csv".to_string(), b"who\nbob\n".to_vec())].into(),
    };
    let shipped = loadlake_runner::compile_with(&plan, &props, files).unwrap();
    assert!(shipped.data_files.is_empty());
    assert!(
        shipped
            .explain()
            .contains("people.csv (sent with the plan)"),
        "{}",
        shipped.explain()
    );
    let missing = loadlake_runner::DataFiles {
        base_dir: "/nonexistent".into(),
        shipped: Default::default(),
    };
    let err = loadlake_runner::compile_with(&plan, &props, missing)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/people.csv"), "{err}");
}
