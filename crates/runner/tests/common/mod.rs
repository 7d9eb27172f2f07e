//! Test support: a small hyper HTTP/1.1 server on 127.0.0.1 that records what it receives
//! (the independent truth the runner's samples are checked against), JMX builders in JMeter 5.x
//! shape, and a reader that turns the sink's Arrow batches into plain rows.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int32Type, Int64Type, TimestampMillisecondType};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use loadlake_runner::{RunOptions, RunSummary, RunnablePlan};
use loadlake_schema::SampleBatch;
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub at: Instant,
}

/// What the server has seen.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub requests: Vec<Received>,
    pub connections: usize,
    /// `/capacity`: the earliest time the next answer may go out.
    pub next_slot: Option<Instant>,
}

/// Answers a second `/capacity` serves at most.
pub(crate) const CAPACITY_PER_SECOND: u32 = 100;

/// The test server; routes: `/notfound` 404, `/error` 500, `/slow` waits 2 s, `/delay50` waits
/// 50 ms, `/capacity` waits ≥ 100 ms and serves at most [`CAPACITY_PER_SECOND`] a second,
/// `/redirect` 302 → `/echo`, `/stall-20th` answers its 20th request after 1 s, `/json` a JSON body (ids 7 and 8) with header `X-Token: t-42`,
/// `/page.html` [`PAGE_HTML`], `/doc.xml` [`DOC_XML`], anything else 200 echoing method, query
/// and body.
pub(crate) struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
}

impl TestServer {
    pub(crate) async fn start() -> TestServer {
        TestServer::listen(None).await
    }

    /// The same server behind TLS, with a self-signed certificate for 127.0.0.1 (the runner,
    /// like JMeter, accepts any certificate).
    pub(crate) async fn start_tls() -> TestServer {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
        TestServer::listen(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
    }

    async fn listen(tls: Option<tokio_rustls::TlsAcceptor>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let state = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                state.lock().unwrap().connections += 1;
                let state = state.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(state.clone(), req));
                    // Header names as most servers send them (`X-Token`, not `x-token`): the
                    // runner shows them as they come, like JMeter.
                    let mut conn = http1::Builder::new();
                    conn.title_case_headers(true);
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = conn.serve_connection(TokioIo::new(stream), svc).await;
                            }
                        }
                        None => {
                            let _ = conn.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                });
            }
        });
        TestServer { addr, seen }
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Requests per path.
    pub(crate) fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in &self.seen.lock().unwrap().requests {
            *out.entry(r.path.clone()).or_insert(0) += 1;
        }
        out
    }

    pub(crate) fn count(&self, path: &str) -> usize {
        self.counts().get(path).copied().unwrap_or(0)
    }

    pub(crate) fn requests(&self) -> Vec<Received> {
        self.seen.lock().unwrap().requests.clone()
    }

    /// The requests to `path`, in the order they came.
    pub(crate) fn requests_to(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub(crate) fn connections(&self) -> usize {
        self.seen.lock().unwrap().connections
    }
}

async fn handle(
    state: Arc<Mutex<Seen>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    let echo = format!("method={method};query={query};body={body}");
    let nth_of_path = {
        let mut seen = state.lock().unwrap();
        seen.requests.push(Received {
            method,
            path: path.clone(),
            query: query.clone(),
            headers,
            body,
            at,
        });
        seen.requests.iter().filter(|r| r.path == path).count()
    };
    if path == "/stall-20th" && nth_of_path == 20 {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (status, text) = match path.as_str() {
        "/notfound" => (StatusCode::NOT_FOUND, "no such page".to_string()),
        "/error" => (StatusCode::INTERNAL_SERVER_ERROR, "boom".to_string()),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            (StatusCode::OK, "late".to_string())
        }
        "/delay50" => {
            tokio::time::sleep(Duration::from_millis(50)).await;
            (StatusCode::OK, "after 50 ms".to_string())
        }
        "/capacity" => {
            // At most CAPACITY_PER_SECOND answers a second, each at least 100 ms after its
            // request: requests take slots 1/CAPACITY apart, so beyond that rate they queue.
            let slot = {
                let mut seen = state.lock().unwrap();
                let earliest = at + Duration::from_millis(100);
                let slot = seen.next_slot.map_or(earliest, |s| s.max(earliest));
                seen.next_slot = Some(slot + Duration::from_secs(1) / CAPACITY_PER_SECOND);
                slot
            };
            tokio::time::sleep_until(slot.into()).await;
            (StatusCode::OK, "served".to_string())
        }
        "/token" => (StatusCode::OK, "token=abc123; id=7; id=8".to_string()),
        "/json" => {
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", "application/json")
                .header("X-Token", "t-42")
                .body(Full::new(Bytes::from_static(
                    br#"{"items":[{"id":7,"name":"a"},{"id":8,"name":"b"}],"total":2}"#,
                )))
                .unwrap();
            return Ok(resp);
        }
        "/page.html" | "/doc.xml" => {
            let (kind, text) = if path == "/doc.xml" {
                ("application/xml", DOC_XML)
            } else {
                ("text/html; charset=utf-8", PAGE_HTML)
            };
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", kind)
                .body(Full::new(Bytes::from_static(text.as_bytes())))
                .unwrap();
            return Ok(resp);
        }
        "/set-cookie" => {
            // A cookie whose value says where it was set: `session=<query>`.
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header("Set-Cookie", format!("session=s{query}; Path=/; HttpOnly"))
                .header("Set-Cookie", "other=x; Path=/elsewhere")
                .body(Full::new(Bytes::from_static(b"cookie set")))
                .unwrap();
            return Ok(resp);
        }
        "/site.html" => {
            // `?broken` adds a resource that answers 404.
            let page = SITE_HTML.replace(
                "<!--broken-->",
                if query == "broken" {
                    r#"<img src="/res/missing.gif">"#
                } else {
                    ""
                },
            );
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(Full::new(Bytes::from(page)))
                .unwrap();
            return Ok(resp);
        }
        "/nested.html" | "/res/inner.html" | "/res/style.css" => {
            // A page with a stylesheet and a frame that has resources of their own; the frame
            // frames itself.
            let (kind, text) = match path.as_str() {
                "/nested.html" => ("text/html", NESTED_HTML),
                "/res/inner.html" => (
                    "text/html",
                    r#"<img src="deep.png"><iframe src="/res/inner.html"></iframe>"#,
                ),
                _ => ("text/css", r#"body { background: url("bg2.png") }"#),
            };
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header("Content-Type", kind)
                .body(Full::new(Bytes::from_static(text.as_bytes())))
                .unwrap();
            return Ok(resp);
        }
        p if p.starts_with("/res/missing") => (StatusCode::NOT_FOUND, "no such resource".into()),
        p if p.starts_with("/res/slow") => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            (StatusCode::OK, "slow resource".to_string())
        }
        p if p.starts_with("/res/cookie") => {
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header("Set-Cookie", format!("res=from{}; Path=/", &p[11..]))
                .body(Full::new(Bytes::from_static(b"cookie")))
                .unwrap();
            return Ok(resp);
        }
        "/redirect" => {
            let resp = Response::builder()
                .status(StatusCode::FOUND)
                .header("Location", "/echo")
                .body(Full::new(Bytes::new()))
                .unwrap();
            return Ok(resp);
        }
        _ => (StatusCode::OK, echo),
    };
    let resp = Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text)))
        .unwrap();
    Ok(resp)
}

/// The HTML page `/page.html` serves (for the CSS/JQuery Extractor).
pub(crate) const PAGE_HTML: &str = r#"<!DOCTYPE html>
<html><head><title>Shop</title><script>var a = "<a class='item' href='/script'>";</script></head>
<body><div id="nav"><a href="/a1" class="item">First   link</a>
<a HREF="/a2" class="item">Second<br>line</a>
<a href="/a3" class="item other"><b>Third</b> link</a></div>
<table class="t"><tr><td>c1</td><td>c2</td></tr><tr><td>c3</td><td>c4</td></tr></table>
<form name="Login"><input name="csrf" value="tok-1"></form>
<div id="blocks"><p>One</p>Two<span>Three</span></div></body></html>"#;

/// The HTML page `/site.html` serves (for embedded resources): ten resources JMeter's HTML
/// parser finds (one of them twice), four it does not; `?broken` adds `/res/missing.gif` (404).
pub(crate) const SITE_HTML: &str = r#"<!DOCTYPE html>
<html><head><link rel="stylesheet" href="/res/site.css"><link rel="alternate" href="/res/alternate">
<script src="res/app.js"></script><script>var s = '<img src="/res/in-script.png">';</script></head>
<body background="/res/bg.png"><img src="/res/logo.png"><img src="/res/logo.png">
<input type="image" src="/res/button.png"><input type="text" src="/res/not-an-image">
<div style="background: url('/res/div.png')"><a href="/res/link">a link</a></div>
<iframe src="/res/frame.html"></iframe><img src="/res/slow-1.png"><img src="/res/slow-2.png">
<!--broken--><base href="/res/deep/"><img src="after-base.png"></body></html>"#;

/// The HTML page `/nested.html` serves: a stylesheet naming an image, a frame naming an image
/// and itself, an image.
pub(crate) const NESTED_HTML: &str = r#"<html><head><link rel="stylesheet" href="/res/style.css"></head>
<body><iframe src="/res/inner.html"></iframe><img src="/res/top.png"></body></html>"#;

/// The XML document `/doc.xml` serves (for the XPath Extractor).
pub(crate) const DOC_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<shop xmlns:p="urn:price"><item id="7"><name>apple</name><p:price>1.5</p:price></item><item id="8"><name>pear  tree</name><p:price>2</p:price></item><token>t-99</token></shop>"#;

// ---------------------------------------------------------------- JMX builders (JMeter 5.x)

/// Text escaped for XML (attribute values and element text).
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn args_xml(prop: &str, args: &[(&str, &str)]) -> String {
    let members: String = args
        .iter()
        .map(|(n, v)| {
            format!(
                r#"<elementProp name="{n}" elementType="HTTPArgument">
                  <boolProp name="HTTPArgument.always_encode">false</boolProp>
                  <stringProp name="Argument.value">{v}</stringProp>
                  <stringProp name="Argument.metadata">=</stringProp>
                  <boolProp name="HTTPArgument.use_equals">true</boolProp>
                  <stringProp name="Argument.name">{n}</stringProp>
                </elementProp>"#,
                n = esc(n),
                v = esc(v)
            )
        })
        .collect();
    format!(
        r#"<elementProp name="{prop}" elementType="Arguments" guiclass="HTTPArgumentsPanel" testclass="Arguments" enabled="true">
            <collectionProp name="Arguments.arguments">{members}</collectionProp>
          </elementProp>"#
    )
}

/// A whole plan: user-defined variables and the TestPlan's children.
pub(crate) fn jmx(udv: &[(&str, &str)], children: &str) -> String {
    let vars: String = udv
        .iter()
        .map(|(n, v)| {
            format!(
                r#"<elementProp name="{n}" elementType="Argument">
                  <stringProp name="Argument.name">{n}</stringProp>
                  <stringProp name="Argument.value">{v}</stringProp>
                  <stringProp name="Argument.metadata">=</stringProp>
                </elementProp>"#,
                n = esc(n),
                v = esc(v)
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<jmeterTestPlan version="1.2" properties="5.0" jmeter="5.6.3">
  <hashTree>
    <TestPlan guiclass="TestPlanGui" testclass="TestPlan" testname="Runner test" enabled="true">
      <boolProp name="TestPlan.functional_mode">false</boolProp>
      <boolProp name="TestPlan.serialize_threadgroups">false</boolProp>
      <elementProp name="TestPlan.user_defined_variables" elementType="Arguments" guiclass="ArgumentsPanel" testclass="Arguments" testname="User Defined Variables" enabled="true">
        <collectionProp name="Arguments.arguments">{vars}</collectionProp>
      </elementProp>
    </TestPlan>
    <hashTree>{children}</hashTree>
  </hashTree>
</jmeterTestPlan>"#
    )
}

/// A thread group; `extra` holds more `ThreadGroup.*` props (scheduler, duration, on error).
pub(crate) fn group(
    name: &str,
    threads: u32,
    ramp: u32,
    loops: i64,
    extra: &str,
    children: &str,
) -> String {
    format!(
        r#"<ThreadGroup guiclass="ThreadGroupGui" testclass="ThreadGroup" testname="{name}" enabled="true">
        <elementProp name="ThreadGroup.main_controller" elementType="LoopController" guiclass="LoopControlPanel" testclass="LoopController" testname="Loop Controller" enabled="true">
          <boolProp name="LoopController.continue_forever">false</boolProp>
          <stringProp name="LoopController.loops">{loops}</stringProp>
        </elementProp>
        <stringProp name="ThreadGroup.num_threads">{threads}</stringProp>
        <stringProp name="ThreadGroup.ramp_time">{ramp}</stringProp>
        {extra}
      </ThreadGroup>
      <hashTree>{children}</hashTree>"#
    )
}

/// An HTTP sampler to the test server (port from `${__P(port)}`); `extra` holds more
/// `HTTPSampler.*` props.
pub(crate) fn http(
    name: &str,
    method: &str,
    path: &str,
    args: &[(&str, &str)],
    extra: &str,
    children: &str,
) -> String {
    format!(
        r#"<HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="{name}" enabled="true">
          {args}
          <stringProp name="HTTPSampler.domain">127.0.0.1</stringProp>
          <stringProp name="HTTPSampler.port">${{__P(port)}}</stringProp>
          <stringProp name="HTTPSampler.protocol">http</stringProp>
          <stringProp name="HTTPSampler.path">{path}</stringProp>
          <stringProp name="HTTPSampler.method">{method}</stringProp>
          <boolProp name="HTTPSampler.use_keepalive">true</boolProp>
          {extra}
        </HTTPSamplerProxy>
        <hashTree>{children}</hashTree>"#,
        args = args_xml("HTTPsampler.Arguments", args),
        path = esc(path)
    )
}

/// HTTP Request Defaults.
pub(crate) fn defaults(props: &[(&str, &str)], args: &[(&str, &str)]) -> String {
    let props: String = props
        .iter()
        .map(|(n, v)| format!(r#"<stringProp name="{n}">{}</stringProp>"#, esc(v)))
        .collect();
    format!(
        r#"<ConfigTestElement guiclass="HttpDefaultsGui" testclass="ConfigTestElement" testname="HTTP Request Defaults" enabled="true">
          {args}{props}
        </ConfigTestElement>
        <hashTree/>"#,
        args = args_xml("HTTPsampler.Arguments", args)
    )
}

pub(crate) fn header_manager(headers: &[(&str, &str)]) -> String {
    let members: String = headers
        .iter()
        .map(|(n, v)| {
            format!(
                r#"<elementProp name="" elementType="Header">
                  <stringProp name="Header.name">{}</stringProp>
                  <stringProp name="Header.value">{}</stringProp>
                </elementProp>"#,
                esc(n),
                esc(v)
            )
        })
        .collect();
    format!(
        r#"<HeaderManager guiclass="HeaderPanel" testclass="HeaderManager" testname="HTTP Header Manager" enabled="true">
          <collectionProp name="HeaderManager.headers">{members}</collectionProp>
        </HeaderManager>
        <hashTree/>"#
    )
}

/// A Regular Expression Extractor on the response body.
pub(crate) fn regex_extractor(
    refname: &str,
    regex: &str,
    template: &str,
    n: i64,
    default: &str,
) -> String {
    format!(
        r#"<RegexExtractor guiclass="RegexExtractorGui" testclass="RegexExtractor" testname="Extract {refname}" enabled="true">
          <stringProp name="RegexExtractor.useHeaders">false</stringProp>
          <stringProp name="RegexExtractor.refname">{refname}</stringProp>
          <stringProp name="RegexExtractor.regex">{regex}</stringProp>
          <stringProp name="RegexExtractor.template">{template}</stringProp>
          <stringProp name="RegexExtractor.default">{default}</stringProp>
          <stringProp name="RegexExtractor.match_number">{n}</stringProp>
        </RegexExtractor>
        <hashTree/>"#,
        regex = esc(regex),
    )
}

/// An HTTP Cookie Manager.
pub(crate) fn cookie_manager(clear_each_iteration: bool) -> String {
    format!(
        r#"<CookieManager guiclass="CookiePanel" testclass="CookieManager" testname="HTTP Cookie Manager" enabled="true">
          <collectionProp name="CookieManager.cookies"/>
          <boolProp name="CookieManager.clearEachIteration">{clear_each_iteration}</boolProp>
        </CookieManager>
        <hashTree/>"#
    )
}

/// A Uniform (`uniform`) or Gaussian Random Timer: `offset` ms plus a random part of `range` ms.
pub(crate) fn random_timer(uniform: bool, offset: u64, range: f64) -> String {
    let (class, gui) = if uniform {
        ("UniformRandomTimer", "UniformRandomTimerGui")
    } else {
        ("GaussianRandomTimer", "GaussianRandomTimerGui")
    };
    format!(
        r#"<{class} guiclass="{gui}" testclass="{class}" testname="{class}" enabled="true">
          <stringProp name="ConstantTimer.delay">{offset}</stringProp>
          <stringProp name="RandomTimer.range">{range}</stringProp>
        </{class}>
        <hashTree/>"#
    )
}

pub(crate) fn timer(ms: u64) -> String {
    format!(
        r#"<ConstantTimer guiclass="ConstantTimerGui" testclass="ConstantTimer" testname="Think {ms}" enabled="true">
          <stringProp name="ConstantTimer.delay">{ms}</stringProp>
        </ConstantTimer>
        <hashTree/>"#
    )
}

/// A Response Assertion; `field` is e.g. `Assertion.response_code`.
pub(crate) fn assertion(
    name: &str,
    field: &str,
    test_type: i64,
    strings: &[&str],
    assume_success: bool,
) -> String {
    let members: String = strings
        .iter()
        .map(|s| format!(r#"<stringProp name="0">{}</stringProp>"#, esc(s)))
        .collect();
    format!(
        r#"<ResponseAssertion guiclass="AssertionGui" testclass="ResponseAssertion" testname="{name}" enabled="true">
          <collectionProp name="Asserion.test_strings">{members}</collectionProp>
          <stringProp name="Assertion.custom_message"></stringProp>
          <stringProp name="Assertion.test_field">{field}</stringProp>
          <boolProp name="Assertion.assume_success">{assume_success}</boolProp>
          <intProp name="Assertion.test_type">{test_type}</intProp>
        </ResponseAssertion>
        <hashTree/>"#
    )
}

pub(crate) fn transaction(name: &str, include_timers: bool, children: &str) -> String {
    format!(
        r#"<TransactionController guiclass="TransactionControllerGui" testclass="TransactionController" testname="{name}" enabled="true">
          <boolProp name="TransactionController.includeTimers">{include_timers}</boolProp>
          <boolProp name="TransactionController.parent">false</boolProp>
        </TransactionController>
        <hashTree>{children}</hashTree>"#
    )
}

pub(crate) fn simple(name: &str, children: &str) -> String {
    format!(
        r#"<GenericController guiclass="LogicControllerGui" testclass="GenericController" testname="{name}" enabled="true"/>
        <hashTree>{children}</hashTree>"#
    )
}

/// An HTTP GET sampler named `name` for `path`, without headers, arguments or body.
pub(crate) fn get(name: &str, path: &str) -> String {
    http(name, "GET", path, &[], "", "")
}

/// An Interleave Controller named `name` over `children` (one child per pass, in turn).
pub(crate) fn interleave_controller(name: &str, children: &str) -> String {
    format!(
        r#"<InterleaveControl guiclass="InterleaveControlGui" testclass="InterleaveControl" testname="{name}" enabled="true">
          <intProp name="InterleaveControl.style">1</intProp>
        </InterleaveControl>
        <hashTree>{children}</hashTree>"#
    )
}

pub(crate) fn loop_controller(name: &str, loops: i64, children: &str) -> String {
    format!(
        r#"<LoopController guiclass="LoopControlPanel" testclass="LoopController" testname="{name}" enabled="true">
          <boolProp name="LoopController.continue_forever">true</boolProp>
          <stringProp name="LoopController.loops">{loops}</stringProp>
        </LoopController>
        <hashTree>{children}</hashTree>"#
    )
}

// ---------------------------------------------------------------- compiling, running, reading

pub(crate) fn compile(
    xml: &str,
    props: &[(&str, &str)],
) -> Result<RunnablePlan, loadlake_runner::RunnerError> {
    let plan: loadlake_plan::Plan = xml.parse().unwrap();
    let props = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    loadlake_runner::compile(&plan, &props)
}

/// Runs `plan` into `sink`, failing the test when it takes longer than `limit`.
pub(crate) async fn run_into(
    plan: &RunnablePlan,
    options: RunOptions,
    sink: &mut dyn loadlake_schema::SampleSink,
    limit: Duration,
) -> RunSummary {
    tokio::time::timeout(limit, loadlake_runner::run(plan, options, sink))
        .await
        .unwrap_or_else(|_| panic!("run took more than {limit:?}"))
        .unwrap()
}

/// Compiles and runs `xml` with `-Jport=<server port>`; every test run is bounded to 5 s.
pub(crate) async fn run(xml: &str, port: u16, options: RunOptions) -> (RunSummary, Vec<Row>) {
    run_with_props(xml, port, &[], options).await
}

/// [`run`] with more `-J` properties.
pub(crate) async fn run_with_props(
    xml: &str,
    port: u16,
    props: &[(&str, &str)],
    options: RunOptions,
) -> (RunSummary, Vec<Row>) {
    let port = port.to_string();
    let mut all = vec![("port", port.as_str())];
    all.extend_from_slice(props);
    let plan = compile(xml, &all).unwrap();
    let mut batches: Vec<SampleBatch> = Vec::new();
    let summary = run_into(&plan, options, &mut batches, Duration::from_secs(5)).await;
    assert!(
        batches
            .iter()
            .all(|b| b.num_rows() <= loadlake_runner::BATCH_ROWS)
    );
    (summary, rows(&batches))
}

/// One sample, read back from the batches.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub row: i64,
    pub ts: i64,
    pub elapsed: i64,
    pub latency: i64,
    pub connect: i64,
    pub idle: i64,
    pub intended_elapsed: Option<i64>,
    pub label: String,
    pub case_name: String,
    pub thread: String,
    pub kind: String,
    pub code: Option<String>,
    pub message: String,
    pub success: bool,
    pub failure_message: Option<String>,
    pub error_class: String,
    pub bytes_received: i64,
    pub bytes_sent: i64,
    pub grp_threads: i32,
    pub all_threads: i32,
    pub url: Option<String>,
    pub parent_row: Option<i64>,
}

pub(crate) fn rows(batches: &[SampleBatch]) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches {
        let i64c = |n: &str| {
            b.column_by_name(n)
                .unwrap()
                .as_primitive::<Int64Type>()
                .clone()
        };
        let i32c = |n: &str| {
            b.column_by_name(n)
                .unwrap()
                .as_primitive::<Int32Type>()
                .clone()
        };
        let strc = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
        let opt = |a: &arrow::array::StringArray, i: usize| {
            (!a.is_null(i)).then(|| a.value(i).to_string())
        };
        let ts = b
            .column_by_name("ts")
            .unwrap()
            .as_primitive::<TimestampMillisecondType>()
            .clone();
        let (row, elapsed, latency, connect, idle) = (
            i64c("row"),
            i64c("elapsed_ms"),
            i64c("latency_ms"),
            i64c("connect_ms"),
            i64c("idle_ms"),
        );
        let (label, case, thread, kind) = (
            strc("label"),
            strc("case_name"),
            strc("thread"),
            strc("kind"),
        );
        let (code, msg, fail, class, url) = (
            strc("response_code"),
            strc("response_message"),
            strc("failure_message"),
            strc("error_class"),
            strc("url"),
        );
        let intended = i64c("intended_elapsed_ms");
        let (br, bs) = (i64c("bytes_received"), i64c("bytes_sent"));
        let (grp, all) = (i32c("grp_threads"), i32c("all_threads"));
        let success = b.column_by_name("success").unwrap().as_boolean().clone();
        let parent = i64c("parent_row");
        for i in 0..b.num_rows() {
            out.push(Row {
                row: row.value(i),
                ts: ts.value(i),
                elapsed: elapsed.value(i),
                latency: latency.value(i),
                connect: connect.value(i),
                idle: idle.value(i),
                intended_elapsed: (!intended.is_null(i)).then(|| intended.value(i)),
                label: label.value(i).to_string(),
                case_name: case.value(i).to_string(),
                thread: thread.value(i).to_string(),
                kind: kind.value(i).to_string(),
                code: opt(&code, i),
                message: msg.value(i).to_string(),
                success: success.value(i),
                failure_message: opt(&fail, i),
                error_class: class.value(i).to_string(),
                bytes_received: br.value(i),
                bytes_sent: bs.value(i),
                grp_threads: grp.value(i),
                all_threads: all.value(i),
                url: opt(&url, i),
                parent_row: (!parent.is_null(i)).then(|| parent.value(i)),
            });
        }
    }
    out
}

/// Rows with `label`.
pub(crate) fn labelled<'a>(rows: &'a [Row], label: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r.label == label).collect()
}
