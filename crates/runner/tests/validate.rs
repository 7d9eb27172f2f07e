//! What `loadlake run --validate` reports: every refusal of a plan at once with where it is,
//! warnings for `${__P(…)}` defaults in hosts and ports and for numbers read as 0; and names and
//! paths rendered per sample, as JMeter 2.13 does (tests/data/runner/fidelity/labels.jmx).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use loadlake_runner::{Loops, RunOptions, RunnerError, Step};

#[test]
fn validation_lists_every_refusal_with_where_it_is() {
    let recorder = r#"<CriticalSectionController guiclass="CriticalSectionControllerGui" testclass="CriticalSectionController" testname="Recorder" enabled="true"/>
        <hashTree/>"#;
    let jsr = r#"<JDBCSampler guiclass="TestBeanGUI" testclass="JDBCSampler" testname="Script" enabled="true"/>
        <hashTree/>"#;
    let ftp = http("Ftp", "GET", "/", &[], "", "").replace(
        r#"<stringProp name="HTTPSampler.protocol">http</stringProp>"#,
        r#"<stringProp name="HTTPSampler.protocol">ftp</stringProp>"#,
    );
    let body = format!(
        "{recorder}{}{ftp}{}",
        http("Odd", "GET", "/${__digest()}", &[], "", ""),
        loop_controller("Inner", 2, jsr)
    );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &body));
    let err = compile(&xml, &[("port", "80")]).unwrap_err();
    let RunnerError::Refusals(all) = &err else {
        panic!("expected every refusal, got {err:?}");
    };
    let found: Vec<(&str, String)> = all
        .iter()
        .map(|r| {
            let what = match &r.error {
                RunnerError::Unsupported { class, .. } => class.clone(),
                RunnerError::UnsupportedFunction { function, .. } => function.clone(),
                RunnerError::UnsupportedSetting { property, .. } => property.clone(),
                other => panic!("{other:?}"),
            };
            (r.at.as_str(), what)
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                r#""G" > "Recorder""#,
                "CriticalSectionController".to_string()
            ),
            (r#""G" > "Odd""#, "__digest".to_string()),
            (r#""G" > "Ftp""#, "HTTPSampler.protocol".to_string()),
            (r#""G" > "Inner" > "Script""#, "JDBCSampler".to_string()),
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("the native runner cannot run this plan: 4 problems"),
        "{text}"
    );
    assert!(
        text.contains("\n  4. at \"G\" > \"Inner\" > \"Script\": element \"Script\""),
        "{text}"
    );
}

#[test]
fn hosts_and_ports_from_property_defaults_are_warned_about() {
    let defaults = defaults(
        &[
            ("HTTPSampler.domain", "${__P(host)}"),
            ("HTTPSampler.port", "${__P(fixture.port,18213)}"),
        ],
        &[],
    );
    let bare = r#"<HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="Bare" enabled="true">
          <stringProp name="HTTPSampler.path">/</stringProp>
        </HTTPSamplerProxy>
        <hashTree/>"#;
    let xml = jmx(&[], &(defaults + &group("G", 1, 0, 1, "", bare)));
    let plan = compile(&xml, &[]).unwrap();
    // What JMeter would do silently: GET http://1:18213/.
    assert!(plan.explain().contains("GET http://1:18213/"));
    assert_eq!(
        plan.warnings,
        [
            "element \"HTTP Request Defaults\", property HTTPSampler.domain: property host is not \
             set (-Jhost=…) and ${__P(host)} has no default: it gives \"1\", as in JMeter",
            "element \"HTTP Request Defaults\", property HTTPSampler.port: property fixture.port \
             is not set (-Jfixture.port=…), so __P's default \"18213\" is used",
        ]
    );
    let plan = compile(&xml, &[("host", "h"), ("fixture.port", "1")]).unwrap();
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn numbers_that_are_not_numbers_read_as_zero_with_a_warning() {
    let nan_timer = timer(5).replace(">5<", ">1000 + ${x}<");
    let body = format!(
        "{}{}",
        http("S", "GET", "/", &[], "", &nan_timer),
        loop_controller("Twice?", 2, &http("L", "GET", "/", &[], "", "")).replace(">2<", ">two<")
    );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &body));
    let plan = compile(&xml, &[("port", "80")]).unwrap();
    let steps = &plan.groups[0].steps;
    match (&steps[0], &steps[1]) {
        (Step::Http(h), Step::Loop { loops, .. }) => {
            assert_eq!(h.delay, Duration::ZERO);
            assert_eq!(*loops, Loops::Count(0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        plan.warnings,
        [
            "element \"Think 5\", property ConstantTimer.delay: \"1000 + ${x}\" is not a whole \
             number; JMeter reads it as 0, and so does this run",
            "element \"Twice?\", property LoopController.loops: \"two\" is not a whole number; \
             JMeter reads it as 0, and so does this run",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_paths_render_per_sample() {
    let server = TestServer::start().await;
    let body = [
        http("item ${__counter(TRUE,)}", "GET", "/items", &[], "", ""),
        http(
            "ternary",
            "GET",
            r#"/p/${__jexl2(${__threadNum} > 0 ? "a" : "b")}"#,
            &[("q", "1")],
            "",
            "",
        ),
        http(
            "query from a function",
            "GET",
            r#"/echo${__jexl2("?n=" + 2)}"#,
            &[("m", "x")],
            "",
            "",
        ),
        transaction(
            "tx ${__threadNum}",
            false,
            &http("child", "GET", "/c", &[], "", ""),
        ),
    ]
    .concat();
    let xml = jmx(&[], &group("G", 1, 0, 2, "", &body));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(summary.samples, 10);
    let count = |l: &str| labelled(&rows, l).len();
    assert_eq!((count("item 1"), count("item 2"), count("tx 1")), (1, 1, 2));
    let queries: BTreeMap<String, String> = server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.query))
        .collect();
    assert_eq!(queries["/p/a"], "q=1");
    assert_eq!(queries["/echo"], "n=2&m=x");
}

#[test]
fn explain_lists_controllers_with_their_children_indented() {
    // `--validate`'s description of logic controllers: one line each, its children two spaces
    // further in, as the plan nests them.
    let interleave = interleave_controller("Alt", &(get("b", "/b") + &get("c", "/c")));
    let while_controller = format!(
        r#"<WhileController guiclass="WhileControllerGui" testclass="WhileController" testname="W" enabled="true">
          <stringProp name="WhileController.condition">${{go}}</stringProp>
        </WhileController>
        <hashTree>{}</hashTree>"#,
        get("d", "/d")
    );
    let body = loop_controller("L", 3, &(get("a", "/a") + &interleave)) + &while_controller;
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &body));
    let plan = compile(&xml, &[("port", "8080")]).unwrap();
    let text = plan.explain();
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("Loop \"L\""))
        .map(str::trim_end)
        .collect();
    let expected = [
        "  Loop \"L\": 3 loops",
        "    HTTP \"a\": GET http://127.0.0.1:8080/a",
        "    Interleave \"Alt\": one child each time",
        "      HTTP \"b\": GET http://127.0.0.1:8080/b",
        "      HTTP \"c\": GET http://127.0.0.1:8080/c",
        "  While \"W\": until \"${go}\" is false",
        "    HTTP \"d\": GET http://127.0.0.1:8080/d",
    ];
    assert_eq!(lines[..expected.len()], expected, "{text}");
}
