//! JSR223 and BeanShell elements run natively (docs/scripts.md): JMeter's bindings and result
//! conventions for Groovy and JavaScript, which JMeter 2.13 cannot run here (no JSR223 engine on
//! Java 17; Groovy is not in 2.13), checked against what the loopback server received and
//! values computed by hand from the languages' rules; refusals at compile time with the line.

mod common;

use common::*;
use loadlake_runner::{RunOptions, RunnerError};

/// A JSR223 element of `class` in `lang`.
fn jsr223(class: &str, name: &str, lang: &str, script: &str) -> String {
    format!(
        r#"<{class} guiclass="TestBeanGUI" testclass="{class}" testname="{name}" enabled="true">
          <stringProp name="scriptLanguage">{lang}</stringProp>
          <stringProp name="script">{script}</stringProp>
          <stringProp name="filename"></stringProp>
          <stringProp name="parameters"></stringProp>
        </{class}>
        <hashTree/>"#,
        script = esc(script)
    )
}

/// A JSR223 sampler with `children`.
fn jsr223_sampler(name: &str, lang: &str, script: &str, children: &str) -> String {
    jsr223("JSR223Sampler", name, lang, script)
        .replace("<hashTree/>", &format!("<hashTree>{children}</hashTree>"))
}

const TAKE_TOKEN: &str = r#"def body = prev.getResponseDataAsString()
def t = body.substring(body.indexOf('=') + 1, body.indexOf(';'))
props.put('tok', t)
vars.put('n', String.valueOf((vars.get('n') ?: '0').toInteger() + 1))
if (vars.get('n') == '2') {
    prev.setSuccessful(false)
    prev.setResponseMessage("second of ${prev.getSampleLabel()}")
}"#;

const CALC: &str = r#"def x = 7 / 2
SampleResult.setResponseCode('201')
SampleResult.setResponseMessage("x=${x} thread=${ctx.getThreadNum()} sampler=${sampler.getName()}")
return 'body ' + vars.get('n')"#;

const ENDS_WITH_2: &str = r#"if (prev.getResponseDataAsString().endsWith('2')) {
    AssertionResult.setFailure(true)
    AssertionResult.setFailureMessage('ends with 2')
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groovy_and_javascript_elements_follow_jmeter_bindings() {
    let server = TestServer::start().await;
    let body = [
        http("token", "GET", "/token", &[], "", &jsr223("JSR223PostProcessor", "take", "groovy", TAKE_TOKEN)),
        http("use", "GET", "/echo?t=${__P(tok)}&n=${n}", &[], "", ""),
        jsr223_sampler("calc", "groovy", CALC, &jsr223("JSR223Assertion", "not 2", "groovy", ENDS_WITH_2)),
        jsr223_sampler("js", "javascript", "var a = [1, 2, 3];\nSampleResult.setResponseMessage('half ' + (a[0] + a[1] + a[2]) / 2 + ' of ' + a.length);", ""),
        jsr223_sampler("broken", "groovy", "def m = [:]\nm.missing.length()", ""),
        jsr223_sampler("sleepy", "groovy", "Thread.sleep(60)\n'slept'", ""),
    ]
    .concat();
    let xml = jmx(&[], &group("G", 1, 0, 2, "", &body));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;

    // The post-processor's props.put reaches ${__P(tok)} in the next request, at run time.
    let echo: Vec<String> = server
        .requests_to("/echo")
        .into_iter()
        .map(|r| r.query)
        .collect();
    assert_eq!(echo, ["t=abc123&n=1", "t=abc123&n=2"]);
    // ... and what it changes in `prev` is what is recorded.
    let token = labelled(&rows, "token");
    let got: Vec<(bool, &str)> = token
        .iter()
        .map(|r| (r.success, r.message.as_str()))
        .collect();
    assert_eq!(got, [(true, "OK"), (false, "second of token")]);

    // JSR223 sampler: its SampleResult, Groovy's 7 / 2 = 3.5, ctx.getThreadNum() 0-based, the
    // return value as response data ("body 1": 6 bytes), the assertion's verdict.
    let calc = labelled(&rows, "calc");
    let got: Vec<_> = calc
        .iter()
        .map(|r| {
            (
                r.code.as_deref(),
                r.message.as_str(),
                r.bytes_received,
                r.success,
                r.failure_message.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("201"), "x=3.5 thread=0 sampler=calc", 6, true, None),
            (
                Some("201"),
                "x=3.5 thread=0 sampler=calc",
                6,
                false,
                Some("ends with 2")
            ),
        ]
    );
    // JavaScript: numbers are doubles, 6 / 2 prints as 3; default code 200.
    let js = labelled(&rows, "js");
    assert_eq!(
        (js[0].code.as_deref(), js[0].message.as_str(), js[0].success),
        (Some("200"), "half 3 of 3", true)
    );
    // A failing script: code 500, the error (with its line) as message, a failed sample.
    let broken = labelled(&rows, "broken");
    assert_eq!(
        (broken[0].code.as_deref(), broken[0].success),
        (Some("500"), false)
    );
    assert!(
        broken[0]
            .message
            .starts_with("script line 2: NullPointerException"),
        "{}",
        broken[0].message
    );
    // Thread.sleep counts in the sampler's time.
    assert!(labelled(&rows, "sleepy").iter().all(|r| r.elapsed >= 60));
}

#[test]
fn scripts_outside_the_subset_are_refused_with_element_line_and_construct() {
    let pre = jsr223(
        "JSR223PreProcessor",
        "Open socket",
        "groovy",
        "def host = 'h'\ndef s = new java.net.Socket(host, 80)",
    );
    let xml = jmx(
        &[],
        &group("G", 1, 0, 1, "", &http("S", "GET", "/", &[], "", &pre)),
    );
    let err = compile(&xml, &[("port", "80")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "element \"Open socket\", property script: script line 2: 'new java.net.Socket' is not \
         supported (docs/scripts.md lists what runs natively)"
    );
    let sampler = jsr223_sampler("J", "jexl3", "1 + 1", "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &sampler));
    assert!(matches!(
        compile(&xml, &[]).unwrap_err(),
        RunnerError::UnsupportedSetting { property, .. } if property == "scriptLanguage"
    ));
}

#[test]
fn a_script_file_is_read_relative_to_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("calc.groovy"),
        "vars.put('a', '1')\nreturn 40 + 2",
    )
    .unwrap();
    let sampler = jsr223_sampler("J", "groovy", "", "").replace(
        r#"<stringProp name="filename"></stringProp>"#,
        r#"<stringProp name="filename">calc.groovy</stringProp>"#,
    );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &sampler));
    let plan: loadlake_plan::Plan = xml.parse().unwrap();
    let compiled = loadlake_runner::compile_at(&plan, &Default::default(), dir.path()).unwrap();
    assert!(
        compiled
            .explain()
            .contains("script sampler \"J\": groovy script"),
        "{}",
        compiled.explain()
    );
    // Missing: refused naming the file.
    let err = loadlake_runner::compile_at(&plan, &Default::default(), &dir.path().join("nowhere"))
        .unwrap_err();
    assert!(err.to_string().contains("calc.groovy"), "{err}");
}

/// CPU seconds this process has used (user + system, from /proc/self/stat; Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

const EXTRACT: &str = r#"def json = new groovy.json.JsonSlurper().parseText(prev.getResponseDataAsString())
vars.put('first', json.items[0].id.toString())
vars.put('total', String.valueOf(json.total))"#;

/// The speed of a plan whose every request runs a small JSR223 post-processor (parse the JSON
/// body, `vars.put` two values) in requests per CPU-second, next to the same plan without a
/// post-processor and with a Regular Expression Extractor (which also makes the runner keep the
/// body and headers); loopback server in the same process, so its CPU counts on every side.
/// In this (debug) build the figures say how the costs compare, not what a release build does.
/// The check: the script costs at most as much again as the regex extractor. Run with
/// `--run-ignored only --no-capture`; prints the three rates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement (seconds of CPU), run on demand"]
async fn script_post_processor_speed_next_to_an_extractor() {
    let server = TestServer::start().await;
    let loops = 3000;
    let mut rates = Vec::new();
    // No post-processor; a Regular Expression Extractor (the body and headers are kept, as for
    // any post-processor); the script.
    let regex = regex_extractor("first", "\"id\":(\\d+)", "$1$", 1, "none");
    let script = jsr223("JSR223PostProcessor", "extract", "groovy", EXTRACT);
    for children in ["", regex.as_str(), script.as_str()] {
        let xml = jmx(
            &[],
            &group(
                "G",
                2,
                0,
                loops,
                "",
                &http("json", "GET", "/json", &[], "", children),
            ),
        );
        let cpu0 = cpu_seconds();
        let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
        let cpu = cpu_seconds() - cpu0;
        assert_eq!(rows.len() as i64, 2 * loops, "{summary:?}");
        rates.push(rows.len() as f64 / cpu.max(0.01));
    }
    let (vs_none, vs_regex) = (rates[2] / rates[0], rates[2] / rates[1]);
    println!(
        "requests per CPU-second: {:.0} without a post-processor, {:.0} with a regex extractor, \
         {:.0} with the script: {vs_none:.2}x the first, {vs_regex:.2}x the second",
        rates[0], rates[1], rates[2]
    );
    assert!(vs_regex >= 0.5, "{vs_regex:.2}x a regex extractor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_ignore_drops_the_sample() {
    // SampleResult.setIgnore() (JMeter's API docs: the sample is not recorded): the first pass's
    // HTTP sample is dropped by its post-processor, the script sampler's every time.
    let server = TestServer::start().await;
    let skip_first =
        "if (vars.get('seen') == null) {\n    vars.put('seen', 'y')\n    prev.setIgnore()\n}";
    let body = [
        http(
            "first dropped",
            "GET",
            "/ok",
            &[],
            "",
            &jsr223("JSR223PostProcessor", "skip", "groovy", skip_first),
        ),
        jsr223_sampler("never", "groovy", "SampleResult.setIgnore()", ""),
    ]
    .concat();
    let xml = jmx(&[], &group("G", 1, 0, 3, "", &body));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(server.count("/ok"), 3);
    assert_eq!(labelled(&rows, "first dropped").len(), 2);
    assert!(labelled(&rows, "never").is_empty());
}

#[test]
fn script_functions_in_fixed_values_run_when_the_plan_is_compiled() {
    // A timer's delay and a user-defined variable must be known before the run: the script runs
    // once, then (`3 * 20` in Java is 60; the plan's folder from FileServer).
    let timer = r#"<ConstantTimer guiclass="ConstantTimerGui" testclass="ConstantTimer" testname="wait" enabled="true">
          <stringProp name="ConstantTimer.delay">${__BeanShell(${M} * 20)}</stringProp>
        </ConstantTimer>
        <hashTree/>"#;
    let xml = jmx(
        &[
            ("M", "3"),
            (
                "DIR",
                "${__BeanShell(FileServer.getFileServer().getBaseDir() + File.separator + \"data\")}",
            ),
        ],
        &group("G", 1, 0, 1, "", &http("S", "GET", "/", &[], "", timer)),
    );
    let plan: loadlake_plan::Plan = xml.parse().unwrap();
    let props = std::collections::BTreeMap::from([("port".to_string(), "80".to_string())]);
    let compiled =
        loadlake_runner::compile_at(&plan, &props, std::path::Path::new("/plans/shop")).unwrap();
    assert!(
        compiled.explain().contains("waits 60 ms before"),
        "{}",
        compiled.explain()
    );
    assert!(
        compiled
            .variables
            .contains(&("DIR".to_string(), "/plans/shop/data".to_string())),
        "{:?}",
        compiled.variables
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_apply_to_samplers_without_the_network_too() {
    // A Debug Sampler's post-processor script changes its sample; a Flow Control Action (no
    // sample) runs its pre-processor script before it pauses, and the next request sees the
    // variable it set.
    let server = TestServer::start().await;
    let post = jsr223(
        "JSR223PostProcessor",
        "note",
        "groovy",
        "prev.setResponseMessage('seen ' + prev.getResponseCode() + ' in ' + Thread.currentThread().getName())",
    );
    let debug = format!(
        r#"<DebugSampler guiclass="TestBeanGUI" testclass="DebugSampler" testname="debug" enabled="true">
          <boolProp name="displayJMeterVariables">true</boolProp>
        </DebugSampler>
        <hashTree>{post}</hashTree>"#
    );
    let pre = jsr223(
        "JSR223PreProcessor",
        "set x",
        "groovy",
        "vars.put('x', 'from-action')",
    );
    let action = format!(
        r#"<TestAction guiclass="TestActionGui" testclass="TestAction" testname="pause" enabled="true">
          <intProp name="ActionProcessor.action">1</intProp>
          <intProp name="ActionProcessor.target">0</intProp>
          <stringProp name="ActionProcessor.duration">1</stringProp>
        </TestAction>
        <hashTree>{pre}</hashTree>"#
    );
    let body = [
        debug,
        action,
        http("use", "GET", "/echo?x=${x}", &[], "", ""),
    ]
    .concat();
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &body));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let debug = labelled(&rows, "debug");
    assert_eq!(
        (debug.len(), debug[0].message.as_str()),
        (1, "seen 200 in G 1-1")
    );
    let echo: Vec<String> = server.requests().iter().map(|r| r.query.clone()).collect();
    assert_eq!(echo, ["x=from-action"]);
}

const DYNATRACE: &str = r#"import org.apache.jmeter.util.JMeterUtils;
import org.apache.jmeter.protocol.http.control.HeaderManager;
import java.io;
String LSN = (bsh.args.length > 0) ? bsh.args[0] : "Test Scenario";
String VU = ctx.getThreadGroup().getName() + ctx.getThreadNum();
HeaderManager hm = sampler.getHeaderManager();
hm.removeHeaderNamed("x-old");
hm.add(new org.apache.jmeter.protocol.http.control.Header("x-test", "LSN=" + LSN + ";TSN=" + sampler.getName() + ";VU=" + VU));"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pre_processor_changes_the_request_headers() {
    // The header snippet real plans use (Dynatrace's test header): the request goes out without
    // the removed header and with the added one; `bsh.args` are the element's parameters.
    let server = TestServer::start().await;
    let pre = format!(
        r#"<BeanShellPreProcessor guiclass="TestBeanGUI" testclass="BeanShellPreProcessor" testname="header" enabled="true">
          <stringProp name="script">{}</stringProp>
          <stringProp name="parameters">Checkout</stringProp>
          <stringProp name="filename"></stringProp>
        </BeanShellPreProcessor>
        <hashTree/>"#,
        esc(DYNATRACE)
    );
    let children = format!(
        "{}{pre}",
        header_manager(&[("X-Old", "1"), ("X-Keep", "2")])
    );
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &http("S", "GET", "/ok", &[], "", &children),
        ),
    );
    run(&xml, server.port(), RunOptions::default()).await;
    let r = &server.requests()[0];
    assert_eq!(
        r.headers.get("x-test").map(String::as_str),
        Some("LSN=Checkout;TSN=S;VU=G0")
    );
    assert_eq!(r.headers.get("x-keep").map(String::as_str), Some("2"));
    assert!(!r.headers.contains_key("x-old"), "{:?}", r.headers);
}
