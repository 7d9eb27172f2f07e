//! Runs against a local hyper server: request counts, bodies, headers, defaults, property
//! substitution, assertions, redirects and keep-alive, checked against what the server received.

mod common;

use common::*;
use loadlake_runner::RunOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_times_loops_is_the_exact_request_count() {
    let server = TestServer::start().await;
    let xml = jmx(
        &[],
        &group(
            "Users",
            3,
            0,
            4,
            "",
            &(http("A", "GET", "/a", &[("x", "1")], "", "") + &http("B", "GET", "/b", &[], "", "")),
        ),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(server.count("/a"), 12);
    assert_eq!(server.count("/b"), 12);
    assert_eq!((summary.samples, summary.errors), (24, 0));
    assert_eq!(rows.len(), 24);
    assert!(
        server
            .requests()
            .iter()
            .filter(|r| r.path == "/a")
            .all(|r| r.query == "x=1")
    );
    let rows_in_order: Vec<i64> = rows.iter().map(|r| r.row).collect();
    assert_eq!(rows_in_order, (0..24).collect::<Vec<i64>>());
    for t in ["Users 1-1", "Users 1-2", "Users 1-3"] {
        assert_eq!(rows.iter().filter(|r| r.thread == t).count(), 8, "{t}");
    }
    let url_a = format!("http://127.0.0.1:{}/a?x=1", server.port());
    for r in &rows {
        assert!(r.success && r.error_class == "success", "{r:?}");
        assert_eq!((r.code.as_deref(), r.message.as_str()), (Some("200"), "OK"));
        assert_eq!((r.kind.as_str(), r.case_name.as_str()), ("sample", "Users"));
        assert!(r.elapsed >= r.latency && r.latency >= 0 && r.connect >= 0);
        assert!((1..=3).contains(&r.grp_threads) && r.all_threads == r.grp_threads);
        assert!(r.bytes_sent > 0);
        if r.label == "A" {
            assert_eq!(r.url.as_deref(), Some(url_a.as_str()));
            // The echoed body "method=GET;query=x=1;body=" plus at least a status line and headers.
            assert!(r.bytes_received > "method=GET;query=x=1;body=".len() as i64 + 17);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_form_raw_body_and_header_manager_arrive_as_sent() {
    let server = TestServer::start().await;
    let raw = r#"{"k": "v & w"}"#;
    let samplers = http(
        "Form",
        "POST",
        "/form",
        &[("a", "1"), ("b", "hello world&more")],
        "",
        "",
    ) + &http(
        "Raw",
        "POST",
        "/raw",
        &[("", raw)],
        r#"<boolProp name="HTTPSampler.postBodyRaw">true</boolProp>"#,
        &header_manager(&[("Content-Type", "application/json")]),
    );
    let children = header_manager(&[("X-Test", "42"), ("Accept", "text/plain")]) + &samplers;
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (2, 0));
    let reqs = server.requests();
    let form = reqs.iter().find(|r| r.path == "/form").unwrap();
    assert_eq!(form.method, "POST");
    assert_eq!(form.body, "a=1&b=hello+world%26more");
    assert_eq!(
        form.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let raw_req = reqs.iter().find(|r| r.path == "/raw").unwrap();
    assert_eq!(raw_req.body, raw);
    assert_eq!(raw_req.headers["content-type"], "application/json");
    for r in &reqs {
        assert_eq!(r.headers["x-test"], "42");
        assert_eq!(r.headers["accept"], "text/plain");
    }
    // Bytes sent cover at least the request line and the body.
    let form_row = labelled(&rows, "Form")[0];
    assert!(form_row.bytes_sent > ("POST /form HTTP/1.1\r\n".len() + form.body.len()) as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_merge_and_properties_substitute() {
    let server = TestServer::start().await;
    let defaults = defaults(
        &[
            ("HTTPSampler.domain", "127.0.0.1"),
            ("HTTPSampler.port", "${__P(port)}"),
            ("HTTPSampler.path", "/default-path"),
        ],
        &[("d", "1")],
    );
    // A sampler with every connection field empty inherits them from the defaults.
    let bare = r#"<HTTPSamplerProxy guiclass="HttpTestSampleGui" testclass="HTTPSamplerProxy" testname="Bare" enabled="true">
          <stringProp name="HTTPSampler.domain"></stringProp>
          <stringProp name="HTTPSampler.port"></stringProp>
          <stringProp name="HTTPSampler.path"></stringProp>
          <stringProp name="HTTPSampler.method">GET</stringProp>
        </HTTPSamplerProxy>
        <hashTree/>"#;
    let own = http(
        "Own ${WHO}",
        "GET",
        "/u/${WHO}",
        &[("q", "${__property(missing,,fallback)}")],
        "",
        "",
    );
    let xml = jmx(
        &[("WHO", "${__P(who,nobody)}")],
        &(defaults + &group("G", 1, 0, 1, "", &(bare.to_string() + &own))),
    );
    let port = server.port().to_string();
    let plan = compile(&xml, &[("port", &port), ("who", "alice")]).unwrap();
    let mut batches = Vec::new();
    let summary = loadlake_runner::run(&plan, RunOptions::default(), &mut batches)
        .await
        .unwrap();
    assert_eq!((summary.samples, summary.errors), (2, 0));
    let reqs = server.requests();
    let bare_req = reqs.iter().find(|r| r.path == "/default-path").unwrap();
    assert_eq!(bare_req.query, "d=1");
    let own_req = reqs.iter().find(|r| r.path == "/u/alice").unwrap();
    assert_eq!(own_req.query, "q=fallback&d=1");
    let rows = rows(&batches);
    assert_eq!(labelled(&rows, "Own alice").len(), 1);
    assert!(plan.explain().contains("variable WHO = \"alice\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_assertions_pass_fail_and_negate() {
    let server = TestServer::start().await;
    let code_200 = assertion("Code is 200", "Assertion.response_code", 8, &["200"], false);
    let has_get = assertion(
        "Has GET",
        "Assertion.response_data",
        2,
        &["method=G.T"],
        false,
    );
    let not_get = assertion(
        "No GET",
        "Assertion.response_data",
        6,
        &["method=GET"],
        false,
    );
    let accept_404 = assertion("404 ok", "Assertion.response_code", 8, &["404"], true);
    // In the group's scope: applies to every sampler.
    let not_teapot = assertion(
        "Not teapot",
        "Assertion.response_message",
        6,
        &["Teapot"],
        false,
    );
    let children = not_teapot
        + &http("Missing", "GET", "/notfound", &[], "", &code_200)
        + &http("Echo ok", "GET", "/echo", &[], "", &has_get)
        + &http("Echo not", "GET", "/echo", &[], "", &not_get)
        + &http("Missing ok", "GET", "/notfound", &[], "", &accept_404)
        + &http("Error", "GET", "/error", &[], "", "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (5, 3));
    let get = |l: &str| labelled(&rows, l)[0].clone();
    let missing = get("Missing");
    assert!(!missing.success);
    assert_eq!(missing.error_class, "http_4xx");
    assert_eq!(
        missing.failure_message.as_deref(),
        Some(
            "Test failed: code expected to equal /\n\n****** received  : [[[404]]]\n\n****** comparison: [[[200]]]\n\n/"
        )
    );
    let ok = get("Echo ok");
    assert!(ok.success && ok.failure_message.is_none());
    let not = get("Echo not");
    assert!(!not.success);
    assert_eq!(not.error_class, "assertion");
    assert_eq!(
        not.failure_message.as_deref(),
        Some("Test failed: text expected not to contain /method=GET/")
    );
    let accepted = get("Missing ok");
    assert!(accepted.success, "{accepted:?}");
    assert_eq!(accepted.code.as_deref(), Some("404"));
    let error = get("Error");
    assert!(!error.success && error.failure_message.is_none());
    assert_eq!(
        (
            error.code.as_deref(),
            error.message.as_str(),
            error.error_class.as_str()
        ),
        (Some("500"), "Internal Server Error", "http_5xx")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_followed_only_when_asked() {
    let server = TestServer::start().await;
    let follow = r#"<boolProp name="HTTPSampler.follow_redirects">true</boolProp>"#;
    let children = http("Follow", "GET", "/redirect", &[], follow, "")
        + &http("Stay", "GET", "/redirect", &[], "", "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (2, 0));
    assert_eq!((server.count("/redirect"), server.count("/echo")), (2, 1));
    let followed = labelled(&rows, "Follow")[0];
    assert_eq!(followed.code.as_deref(), Some("200"));
    assert_eq!(
        followed.url,
        Some(format!("http://127.0.0.1:{}/echo", server.port()))
    );
    assert_eq!(labelled(&rows, "Stay")[0].code.as_deref(), Some("302"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_requests_reach_a_tls_server_with_a_self_signed_certificate() {
    let server = TestServer::start_tls().await;
    let url = |path: &str| format!("https://127.0.0.1:{}{path}", server.port());
    let children = http("Secure", "POST", &url("/secure"), &[("a", "1")], "", "")
        + &http("Full URL", "GET", &url("/full"), &[], "", "");
    let xml = jmx(&[], &group("G", 2, 0, 3, "", &children));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (12, 0), "{rows:?}");
    assert_eq!((server.count("/secure"), server.count("/full")), (6, 6));
    // Keep-alive over TLS: one connection per user.
    assert_eq!(server.connections(), 2);
    let secure = labelled(&rows, "Secure");
    assert_eq!(
        secure[0].url,
        Some(format!("https://127.0.0.1:{}/secure", server.port()))
    );
    assert!(server.requests().iter().any(|r| r.body == "a=1"));
    // The first request of each user pays the TCP + TLS handshake in its connect time.
    assert!(rows.iter().filter(|r| r.connect > 0).count() <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_keeps_its_connection_alive() {
    let server = TestServer::start().await;
    let xml = jmx(
        &[],
        &group("G", 2, 0, 5, "", &http("A", "GET", "/a", &[], "", "")),
    );
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(summary.samples, 10);
    assert_eq!(server.connections(), 2);
    // Reused connections report no connect time.
    for t in ["G 1-1", "G 1-2"] {
        let mine: Vec<_> = rows.iter().filter(|r| r.thread == t).collect();
        assert_eq!(mine.len(), 5);
        assert!(mine[1..].iter().all(|r| r.connect == 0), "{mine:?}");
    }
}

/// The `cookie` header of each request to `path`, in arrival order.
fn cookies_sent(server: &TestServer, path: &str) -> Vec<Option<String>> {
    let mut seen = server.requests_to(path);
    seen.sort_by_key(|r| r.at);
    seen.into_iter()
        .map(|r| r.headers.get("cookie").cloned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_manager_sends_back_what_responses_set() {
    // One user, 2 loops: /set-cookie?1 then /echo. The first /set-cookie has no cookie yet; every
    // /echo gets the session set just before (the cookie of /elsewhere is never sent here).
    for clear in [false, true] {
        let server = TestServer::start().await;
        let steps = cookie_manager(clear)
            + &http("Set", "GET", "/set-cookie", &[("n", "1")], "", "")
            + &http("Echo", "GET", "/echo", &[], "", "");
        let xml = jmx(&[], &group("Users", 1, 0, 2, "", &steps));
        let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
        assert_eq!(summary.errors, 0);
        let session = Some("session=sn=1".to_string());
        assert_eq!(
            cookies_sent(&server, "/echo"),
            [session.clone(), session.clone()]
        );
        let second = if clear { None } else { session.clone() };
        assert_eq!(
            cookies_sent(&server, "/set-cookie"),
            [None, second],
            "clear = {clear}"
        );
    }
    // Without a Cookie Manager no cookie is ever sent.
    let server = TestServer::start().await;
    let steps =
        http("Set", "GET", "/set-cookie", &[], "", "") + &http("Echo", "GET", "/echo", &[], "", "");
    let xml = jmx(&[], &group("Users", 1, 0, 2, "", &steps));
    run(&xml, server.port(), RunOptions::default()).await;
    assert!(cookies_sent(&server, "/echo").iter().all(Option::is_none));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extracted_values_are_sent_by_later_requests() {
    let server = TestServer::start().await;
    // /token answers "token=abc123; id=7; id=8".
    let extractors = regex_extractor("tok", r"token=(\w+)", "$1$", 1, "NOTFOUND")
        + &regex_extractor("id", r"id=(\d)", "$1$", -1, "none")
        + &regex_extractor("nope", r"zzz(\d)", "$1$", 1, "NOTFOUND");
    let steps = http("Login", "GET", "/token", &[], "", &extractors)
        + &http(
            "Use",
            "GET",
            "/echo",
            &[
                ("t", "${tok}"),
                ("ids", "${id_1}-${id_2}-${id_matchNr}"),
                ("n", "${nope}"),
                ("u", "${unset}"),
            ],
            "",
            &header_manager(&[("X-Token", "${tok}")]),
        );
    let xml = jmx(&[], &group("Users", 1, 0, 1, "", &steps));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!(summary.errors, 0);
    let used = server.requests_to("/echo");
    assert_eq!(used.len(), 1);
    assert_eq!(
        used[0].query,
        "t=abc123&ids=7-8-2&n=NOTFOUND&u=$%7Bunset%7D"
    );
    assert_eq!(
        used[0].headers.get("x-token").map(String::as_str),
        Some("abc123")
    );
}
