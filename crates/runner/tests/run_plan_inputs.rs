//! Elements real plans bring that the runner takes since issue 21's corpus work: a protocol
//! placeholder left in a template (JMeter's MalformedURLException sample), the jp@gc JSON Path
//! Extractor, the CSS/JQuery Extractor, the Random Variable config element and multipart /
//! file-upload POSTs — run
//! against the recording test server on 127.0.0.1, expectations derived by hand from JMeter's
//! and the plugins' sources.

mod common;

use common::*;
use loadlake_runner::RunOptions;

/// A jp@gc JSON Path Extractor (`com.atlantbh…JSONPathExtractor`) reading the body.
fn jpgc_json(var: &str, path: &str, default: &str) -> String {
    format!(
        r#"<com.atlantbh.jmeter.plugins.jsonutils.jsonpathextractor.JSONPathExtractor guiclass="com.atlantbh.jmeter.plugins.jsonutils.jsonpathextractor.gui.JSONPathExtractorGui" testclass="com.atlantbh.jmeter.plugins.jsonutils.jsonpathextractor.JSONPathExtractor" testname="jp@gc {var}" enabled="true">
          <stringProp name="VAR">{var}</stringProp>
          <stringProp name="JSONPATH">{path}</stringProp>
          <stringProp name="DEFAULT">{default}</stringProp>
          <stringProp name="VARIABLE"></stringProp>
          <stringProp name="SUBJECT">BODY</stringProp>
        </com.atlantbh.jmeter.plugins.jsonutils.jsonpathextractor.JSONPathExtractor>
        <hashTree/>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jpgc_json_path_extractor_feeds_later_requests() {
    // The server's /json is {"items":[{"id":7,…},{"id":8,…}],"total":2}. The plugin's
    // process(): a definite path → the value; an indefinite one → the JSON array, _matchNr
    // and _1.._N; nothing found → the default.
    let server = TestServer::start().await;
    let extractors = jpgc_json("total", "total", "NF")
        + &jpgc_json("ids", "$.items[*].id", "NF")
        + &jpgc_json("none", "$.nope", "NF");
    let children = http("json", "GET", "/json", &[], "", &extractors)
        + &http(
            "use",
            "GET",
            "/use?t=${total}&all=${ids}&n=${ids_matchNr}&second=${ids_2}&none=${none}",
            &[],
            "",
            "",
        );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(rows.len(), 2);
    let used: Vec<String> = server
        .requests_to("/use")
        .into_iter()
        .map(|r| r.query)
        .collect();
    assert_eq!(used, ["t=2&all=[7,8]&n=2&second=8&none=NF"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_protocol_fails_each_sample_as_jmeter_does_without_sending() {
    // HTTPSamplerBase.getUrl: new URL("protocol", …) throws MalformedURLException("unknown
    // protocol: protocol"); sample() returns errorResult(e, new HTTPSampleResult()): code
    // "Non HTTP response code: java.net.MalformedURLException", message "Non HTTP response
    // message: unknown protocol: protocol", failed, and the new result's empty label.
    let server = TestServer::start().await;
    let placeholder = http("templated", "GET", "/never", &[], "", "")
        .replace(">http</stringProp>", ">PROTOCOL</stringProp>");
    let full_url = http(
        "full",
        "GET",
        "http://127.0.0.1:${__P(port)}/full",
        &[],
        "",
        "",
    )
    .replace(">http</stringProp>", ">PROTOCOL</stringProp>");
    let children = placeholder + &full_url + &http("after", "GET", "/after", &[], "", "");
    let xml = jmx(&[], &group("G", 1, 0, 2, "", &children));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let failed = labelled(&rows, "");
    assert_eq!(failed.len(), 2, "one per iteration: {rows:?}");
    for r in failed {
        assert_eq!(
            r.code.as_deref(),
            Some("Non HTTP response code: java.net.MalformedURLException")
        );
        assert_eq!(
            r.message,
            "Non HTTP response message: unknown protocol: protocol"
        );
        assert!(!r.success);
    }
    // A full URL in the path wins over the protocol; the placeholder sent nothing.
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/full", "/after", "/full", "/after"]);
}

/// The parts of a `multipart/form-data` body as Python's `email` package reads them (an
/// independent parser): one `name|filename|content type|payload` line per part, the payload
/// JSON-escaped (`\n` for a newline).
fn python_parts(content_type: &str, body: &str) -> Vec<String> {
    use std::io::Write;
    let script = r#"
import sys, json, email, email.policy
ct, body = sys.stdin.buffer.read().split(b"\n", 1)
msg = email.message_from_bytes(b"Content-Type: " + ct + b"\r\n\r\n" + body, policy=email.policy.HTTP)
assert msg.is_multipart(), "not multipart"
for p in msg.iter_parts():
    payload = p.get_payload(decode=True).decode("utf-8")
    print("%s|%s|%s|%s" % (p.get_param("name", header="content-disposition"), p.get_filename(), p.get_content_type(), json.dumps(payload, ensure_ascii=False)[1:-1]))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(format!("{content_type}\n{body}").as_bytes())
        .expect("write to python3");
    drop(input);
    let out = child.wait_with_output().expect("python3 ends");
    assert!(out.status.success(), "python3 failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// An `HTTPsampler.Files` element with one file.
fn files(path: &str, param: &str, mime: &str) -> String {
    format!(
        r#"<elementProp name="HTTPsampler.Files" elementType="HTTPFileArgs">
            <collectionProp name="HTTPFileArgs.files">
              <elementProp name="{path}" elementType="HTTPFileArg">
                <stringProp name="File.path">{path}</stringProp>
                <stringProp name="File.paramname">{param}</stringProp>
                <stringProp name="File.mimetype">{mime}</stringProp>
              </elementProp>
            </collectionProp>
          </elementProp>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_posts_and_file_uploads_reach_the_server_as_jmeter_sends_them() {
    // HTTPHC4Impl.sendPostData (2.13): multipart when DO_MULTIPART_POST or a named file; the
    // arguments first (blank names skipped), then the files (filename = the last path
    // component); one unnamed file and no arguments: the file is the body, with its MIME type.
    let dir = tempfile::tempdir().expect("temp dir");
    let upload = dir.path().join("report.csv");
    std::fs::write(&upload, "a,b\n1,2\n").expect("write upload");
    let raw = dir.path().join("payload.json");
    std::fs::write(&raw, r#"{"k":"${not rendered}"}"#).expect("write payload");
    let (upload, raw) = (upload.to_string_lossy(), raw.to_string_lossy());
    let server = TestServer::start().await;
    let utf8 = r#"<stringProp name="HTTPSampler.contentEncoding">UTF-8</stringProp>"#;
    let children = http(
        "form only",
        "POST",
        "/form",
        &[("title", "Grüße ${__threadNum}"), ("", "skipped")],
        &format!(r#"{utf8}<boolProp name="HTTPSampler.DO_MULTIPART_POST">true</boolProp>"#),
        "",
    ) + &http(
        "with file",
        "POST",
        "/upload",
        &[("kind", "csv")],
        &files(&upload, "file", "text/csv"),
        "",
    ) + &http(
        "as body",
        "POST",
        "/raw",
        &[],
        &files(&raw, "", "application/json"),
        "",
    );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert!(rows.iter().all(|r| r.success), "{rows:?}");
    let requests = server.requests();
    let by_path = |p: &str| {
        requests
            .iter()
            .find(|r| r.path == p)
            .unwrap_or_else(|| panic!("{p} not received"))
    };
    let form = by_path("/form");
    let ct = &form.headers["content-type"];
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    assert!(ct.ends_with("; charset=UTF-8"), "{ct}");
    assert_eq!(
        python_parts(ct, &form.body),
        ["title|None|text/plain|Grüße 1"]
    );
    let up = by_path("/upload");
    assert_eq!(
        python_parts(&up.headers["content-type"], &up.body),
        [
            "kind|None|text/plain|csv",
            "file|report.csv|text/csv|a,b\\n1,2\\n"
        ]
    );
    let body = by_path("/raw");
    assert_eq!(body.headers["content-type"], "application/json");
    assert_eq!(
        body.body, r#"{"k":"${not rendered}"}"#,
        "a file is sent as it is"
    );
}

#[test]
fn a_missing_upload_is_a_missing_data_file() {
    let xml = jmx(
        &[],
        &group(
            "G",
            1,
            0,
            1,
            "",
            &http(
                "up",
                "POST",
                "/u",
                &[],
                &files("/nonexistent/x.bin", "f", ""),
                "",
            ),
        ),
    );
    let err = compile(&xml, &[("port", "1")]).unwrap_err().to_string();
    assert!(err.contains("is not a readable file"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spaces_written_in_a_path_are_escaped_as_jmeter_5_does() {
    // ConversionUtils.sanitizeUrl (JMeter 5): new URI(scheme, userInfo, host, port, path,
    // query, ref) quotes the space; parentheses are legal and stay.
    let server = TestServer::start().await;
    let children = http(
        "s",
        "GET",
        "/sniff?step=Dummy (do nothing)&xml=Y",
        &[],
        "",
        "",
    );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert!(rows[0].success, "{rows:?}");
    let got: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.query))
        .collect();
    assert_eq!(
        got,
        [(
            "/sniff".to_string(),
            "step=Dummy%20(do%20nothing)&xml=Y".to_string()
        )]
    );
}

/// A CSS/JQuery Extractor (`HtmlExtractor`, JSoup) reading the body.
fn css_extractor(refname: &str, expr: &str, attribute: &str, n: i64, default: &str) -> String {
    format!(
        r#"<HtmlExtractor guiclass="HtmlExtractorGui" testclass="HtmlExtractor" testname="css {refname}" enabled="true">
          <stringProp name="HtmlExtractor.refname">{refname}</stringProp>
          <stringProp name="HtmlExtractor.expr">{expr}</stringProp>
          <stringProp name="HtmlExtractor.attribute">{attribute}</stringProp>
          <stringProp name="HtmlExtractor.default">{default}</stringProp>
          <boolProp name="HtmlExtractor.default_empty_value">false</boolProp>
          <stringProp name="HtmlExtractor.match_number">{n}</stringProp>
          <stringProp name="HtmlExtractor.extractor_impl"></stringProp>
          <stringProp name="Sample.scope">all</stringProp>
        </HtmlExtractor>
        <hashTree/>"#,
        expr = esc(expr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_css_extractor_reads_the_page_as_jsoup_does() {
    // PAGE_HTML, worked by hand with JMeter's HtmlExtractor.process / JSoupExtractor.extract
    // and jsoup's Element.text() and Node.attr(): hrefs in document order (HREF read ignoring
    // case), the text of the 2nd link with <br> as a space, the csrf value (jsoup compares
    // attribute values ignoring case: Login = login), the cell of the 2nd row (the tbody the
    // HTML5 tree builder adds is there for `>`), a space after the block <p> before the text
    // "Two" but none before the inline <span> ("One TwoThree"), the default
    // when nothing matches. Cross-checked for the selections and attributes with lxml's
    // cssselect, a second implementation.
    let server = TestServer::start().await;
    let extractors = css_extractor("links", "#nav > a.item", "href", -1, "NF")
        + &css_extractor("text", "a.item", "", 2, "NF")
        + &css_extractor(
            "csrf",
            "form[name=login] input[name=csrf]",
            "value",
            1,
            "NF",
        )
        + &css_extractor(
            "cell",
            "table.t > tbody > tr:nth-child(2) > td",
            "",
            1,
            "NF",
        )
        + &css_extractor("blocks", "#blocks", "", 0, "NF")
        + &css_extractor("none", "a.nothing", "href", 1, "NF");
    let args = [
        ("links", "${links_1},${links_3},${links_matchNr},${links}"),
        ("text", "${text}"),
        ("csrf", "${csrf}"),
        ("cell", "${cell}"),
        ("blocks", "${blocks}"),
        ("none", "${none}"),
    ];
    let children = http("page", "GET", "/page.html", &[], "", &extractors)
        + &http("use", "POST", "/use", &args, "", "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (_, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(rows.len(), 2);
    let used: Vec<String> = server
        .requests_to("/use")
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(
        used,
        [
            "links=%2Fa1%2C%2Fa3%2C3%2CNF&text=Second+line&csrf=tok-1&cell=c3&blocks=One+TwoThree&none=NF"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_css_selector_with_a_run_time_variable_is_rendered_for_each_sample() {
    // A Counter sets i = 1, 2, 3 in the group's three iterations; `#nav > a:nth-child(${i})`
    // picks the i-th link of PAGE_HTML (#nav's element children are the three links).
    let server = TestServer::start().await;
    let counter = r#"<CounterConfig guiclass="CounterConfigGui" testclass="CounterConfig" testname="i" enabled="true">
          <stringProp name="CounterConfig.start">1</stringProp>
          <stringProp name="CounterConfig.end"></stringProp>
          <stringProp name="CounterConfig.incr">1</stringProp>
          <stringProp name="CounterConfig.name">i</stringProp>
          <stringProp name="CounterConfig.format"></stringProp>
          <boolProp name="CounterConfig.per_user">true</boolProp>
        </CounterConfig>
        <hashTree/>"#;
    let pick = css_extractor("picked", "#nav > a:nth-child(${i})", "href", 1, "NF");
    let children = counter.to_string()
        + &http("page", "GET", "/page.html", &[], "", &pick)
        + &get("picked", "/picked?i=${i}&h=${picked}");
    let xml = jmx(&[], &group("G", 1, 0, 3, "", &children));
    run(&xml, server.port(), RunOptions::default()).await;
    let picked: Vec<String> = server
        .requests_to("/picked")
        .into_iter()
        .map(|r| r.query)
        .collect();
    assert_eq!(picked, ["i=1&h=/a1", "i=2&h=/a2", "i=3&h=/a3"]);
}

/// An XPath Extractor reading the body (`tolerant`: as HTML).
fn xpath_extractor(refname: &str, query: &str, n: &str, tolerant: bool) -> String {
    format!(
        r#"<XPathExtractor guiclass="XPathExtractorGui" testclass="XPathExtractor" testname="xpath {refname}" enabled="true">
          <stringProp name="XPathExtractor.default">NF</stringProp>
          <stringProp name="XPathExtractor.refname">{refname}</stringProp>
          <stringProp name="XPathExtractor.matchNumber">{n}</stringProp>
          <stringProp name="XPathExtractor.xpathQuery">{query}</stringProp>
          <boolProp name="XPathExtractor.validate">false</boolProp>
          <boolProp name="XPathExtractor.tolerant">{tolerant}</boolProp>
          <boolProp name="XPathExtractor.namespace">false</boolProp>
        </XPathExtractor>
        <hashTree/>"#,
        query = esc(query),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xpath_extractor_reads_xml_and_tolerant_html() {
    // DOC_XML and PAGE_HTML, worked by hand from XPathExtractor.process and
    // XPathUtil.putValuesForXPathInList (checked with lxml's XPath, a second implementation):
    // all ids (matchNumber empty = -1: ids = the first, ids_1, ids_2, ids_matchNr); the 2nd
    // price found by its local name (no namespaces: <p:price> is `price`); a number's string;
    // the default when nothing matches; the csrf value of the HTML page read tolerantly.
    let server = TestServer::start().await;
    let extractors = xpath_extractor("ids", "//item/@id", "", false)
        + &xpath_extractor("price", "//price", "2", false)
        + &xpath_extractor("n", "count(//item)", "-1", false)
        + &xpath_extractor("none", "//nope", "-1", false);
    let html = xpath_extractor(
        "csrf",
        "//form[@name='Login']/input[@name='csrf']/@value",
        "1",
        true,
    );
    let children = http("doc", "GET", "/doc.xml", &[], "", &extractors)
        + &http("page", "GET", "/page.html", &[], "", &html)
        + &get(
            "use",
            "/use?ids=${ids},${ids_1},${ids_2},${ids_matchNr}&price=${price}&n=${n}&none=${none}&csrf=${csrf}",
        );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    run(&xml, server.port(), RunOptions::default()).await;
    let used: Vec<String> = server
        .requests_to("/use")
        .into_iter()
        .map(|r| r.query)
        .collect();
    assert_eq!(used, ["ids=7,7,8,2&price=2&n=2&none=NF&csrf=tok-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throughput_shaping_timer_paces_to_its_schedule_and_then_stops_the_test() {
    // VariableThroughputTimer.getRPSForSecond for rows (5, 5, 1 s), (10, 10, 1 s): seconds 0
    // and 1 at 5 rps (the last second of a row is still in it), second 2 at 10, second 3 past
    // the schedule: the test stops. Two users looping forever share the one schedule
    // (NoThreadClone), so exactly 5 + 5 + 10 = 20 samples go, the users never waiting long
    // enough to miss a slot (the loopback server answers at once).
    let server = TestServer::start().await;
    let timer = r#"<kg.apc.jmeter.timers.VariableThroughputTimer guiclass="kg.apc.jmeter.timers.VariableThroughputTimerGui" testclass="kg.apc.jmeter.timers.VariableThroughputTimer" testname="shape" enabled="true">
          <collectionProp name="load_profile">
            <collectionProp name="1"><stringProp name="53">5</stringProp><stringProp name="53">5</stringProp><stringProp name="49">1</stringProp></collectionProp>
            <collectionProp name="2"><stringProp name="1567">10</stringProp><stringProp name="1567">10</stringProp><stringProp name="49">1</stringProp></collectionProp>
          </collectionProp>
        </kg.apc.jmeter.timers.VariableThroughputTimer>
        <hashTree/>"#;
    let children = timer.to_string() + &get("paced", "/paced");
    let xml = jmx(&[], &group("G", 2, 0, -1, "", &children));
    let started = std::time::Instant::now();
    // A bound far beyond the schedule, so that a timer that never stops fails, not hangs.
    let options = RunOptions {
        duration: Some(std::time::Duration::from_secs(20)),
        ..RunOptions::default()
    };
    let (_, rows) = run(&xml, server.port(), options).await;
    let took = started.elapsed();
    assert_eq!(server.count("/paced"), 20, "{took:?}");
    assert_eq!(rows.len(), 20);
    // Three schedule seconds, the first of them partly gone when the schedule began.
    assert!(
        took >= std::time::Duration::from_secs(2) && took < std::time::Duration::from_secs(5),
        "{took:?}"
    );
}
