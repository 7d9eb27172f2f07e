//! "Retrieve All Embedded Resources" against a local server serving an HTML page
//! ([`common::SITE_HTML`]): what the server received (which resources, how often, with which
//! headers, when), and the samples written — the page's sample as JMeter's container with a
//! `subsample` row per page and resource pointing at it.

mod common;

use std::time::Duration;

use common::*;
use loadlake_runner::RunOptions;

/// The resources of `/site.html` JMeter's HTML parser finds, in the order found.
const FOUND: [&str; 10] = [
    "/res/site.css",
    "/res/app.js",
    "/res/bg.png",
    "/res/logo.png",
    "/res/button.png",
    "/res/div.png",
    "/res/frame.html",
    "/res/slow-1.png",
    "/res/slow-2.png",
    "/res/deep/after-base.png",
];

/// Paths the page names that are not embedded resources.
const NOT_FOUND: [&str; 4] = [
    "/res/alternate",
    "/res/in-script.png",
    "/res/not-an-image",
    "/res/link",
];

const RETRIEVE: &str = r#"<boolProp name="HTTPSampler.image_parser">true</boolProp>"#;

/// When the server received the (first) request for `path`.
fn arrival(server: &TestServer, path: &str) -> std::time::Instant {
    server.requests_to(path)[0].at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_resource_is_fetched_once_after_the_page_and_recorded_under_it() {
    let server = TestServer::start().await;
    let page = http(
        "Page",
        "GET",
        "/site.html",
        &[],
        RETRIEVE,
        &header_manager(&[("X-Test", "h1")]),
    );
    let xml = jmx(&[], &group("G", 1, 0, 2, "", &page));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    // Two pages, each with its ten resources (the logo named twice is fetched once).
    assert_eq!(server.count("/site.html"), 2);
    for path in FOUND {
        assert_eq!(server.count(path), 2, "{path}");
    }
    for path in NOT_FOUND {
        assert_eq!(server.count(path), 0, "{path}");
    }
    assert_eq!(server.requests().len(), 22);
    // The resources carry the sampler's headers; one after another, on the page's connection.
    for r in server.requests() {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.headers.get("x-test").map(String::as_str),
            Some("h1"),
            "{r:?}"
        );
    }
    assert_eq!(server.connections(), 1);
    let slow_gap = arrival(&server, "/res/slow-2.png") - arrival(&server, "/res/slow-1.png");
    assert!(slow_gap >= Duration::from_millis(300), "{slow_gap:?}");

    // Samples count the pages only; the rows hold each page and its 11 sub-results.
    assert_eq!((summary.samples, summary.errors), (2, 0));
    assert_eq!(rows.len(), 2 * 12);
    let base = format!("http://127.0.0.1:{}", server.port());
    for parent in labelled(&rows, "Page") {
        assert_eq!((parent.kind.as_str(), parent.parent_row), ("sample", None));
        assert!(parent.success);
        assert_eq!(
            (parent.code.as_deref(), parent.message.as_str()),
            (Some("200"), "OK")
        );
        let subs: Vec<&Row> = rows
            .iter()
            .filter(|r| r.parent_row == Some(parent.row))
            .collect();
        let labels: Vec<String> = subs.iter().map(|r| r.label.clone()).collect();
        let wanted: Vec<String> = (0..=10).map(|n| format!("Page-{n}")).collect();
        assert_eq!(labels, wanted);
        // The page first, then the resources in the order found; rows right after the parent.
        let urls: Vec<String> = subs.iter().filter_map(|r| r.url.clone()).collect();
        let mut expected = vec![format!("{base}/site.html")];
        expected.extend(FOUND.iter().map(|p| format!("{base}{p}")));
        assert_eq!(urls, expected);
        for (i, s) in subs.iter().enumerate() {
            assert_eq!(s.row, parent.row + 1 + i as i64);
            assert_eq!((s.kind.as_str(), s.success), ("subsample", true));
            assert_eq!(s.thread, parent.thread);
        }
        // The page's sample spans its resources and holds their bytes.
        let received: i64 = subs.iter().map(|r| r.bytes_received).sum();
        let sent: i64 = subs.iter().map(|r| r.bytes_sent).sum();
        assert_eq!((parent.bytes_received, parent.bytes_sent), (received, sent));
        let end = subs.iter().map(|r| r.ts + r.elapsed).max().unwrap_or(0);
        assert_eq!(parent.ts, subs[0].ts);
        assert_eq!(parent.ts + parent.elapsed, end);
        assert!(
            parent.elapsed >= 600,
            "two slow resources in a row: {parent:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_turn_on_parallel_downloads_patterns_filter_and_a_404_fails_the_page() {
    let server = TestServer::start().await;
    let settings = defaults(
        &[
            ("HTTPSampler.image_parser", "true"),
            ("HTTPSampler.concurrentDwn", "true"),
            ("HTTPSampler.concurrentPool", "3"),
            // Names without a `/` after /res/ (not /res/deep/…), of images and pages only …
            (
                "HTTPSampler.embedded_url_re",
                r".*/res/[a-z0-9-]+\.(png|gif|html)",
            ),
            // … but not the background.
            ("HTTPSampler.embedded_url_exclude_re", r".*/bg\.png"),
        ],
        &[],
    );
    let page = http("Page", "GET", "/site.html?broken", &[], "", "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &(settings + &page)));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    let fetched = [
        "/res/logo.png",
        "/res/button.png",
        "/res/div.png",
        "/res/frame.html",
        "/res/slow-1.png",
        "/res/slow-2.png",
        "/res/missing.gif",
    ];
    for path in fetched {
        assert_eq!(server.count(path), 1, "{path}");
    }
    for path in [
        "/res/site.css",
        "/res/app.js",
        "/res/bg.png",
        "/res/deep/after-base.png",
    ] {
        assert_eq!(server.count(path), 0, "{path}");
    }
    assert_eq!(server.requests().len(), 1 + fetched.len());
    // The two slow resources were asked for at the same time, on connections of their own.
    let a = arrival(&server, "/res/slow-1.png");
    let b = arrival(&server, "/res/slow-2.png");
    let gap = if a > b { a - b } else { b - a };
    assert!(gap < Duration::from_millis(250), "{gap:?}");
    assert!(server.connections() >= 3, "{}", server.connections());

    assert_eq!((summary.samples, summary.errors), (1, 1));
    let parent = labelled(&rows, "Page")[0];
    assert!(!parent.success);
    assert_eq!(parent.code.as_deref(), Some("200"));
    let missing = format!("http://127.0.0.1:{}/res/missing.gif", server.port());
    // JMeter 2.13 keeps the page's message (tests/data/runner/fidelity/resources.jmx).
    assert_eq!(parent.message, "OK");
    let subs: Vec<&Row> = rows
        .iter()
        .filter(|r| r.parent_row == Some(parent.row))
        .collect();
    assert_eq!(subs.len(), 1 + fetched.len());
    let failed: Vec<&&Row> = subs.iter().filter(|r| !r.success).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].label.as_str(), failed[0].code.as_deref()),
        ("Page-7", Some("404"))
    );
    assert_eq!(failed[0].url.as_deref(), Some(missing.as_str()));
    // In parallel, the page's sample lasts about one slow resource, not two.
    assert!(parent.elapsed >= 300 && parent.elapsed < 580, "{parent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_and_stylesheets_have_their_resources_fetched_down_to_jmeters_depth() {
    let server = TestServer::start().await;
    let page = http("Nested", "GET", "/nested.html", &[], RETRIEVE, "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &page));
    // JMeter 5's parsers: stylesheets are looked into too.
    let (summary, rows) = run_with_props(
        &xml,
        server.port(),
        &[("HTTPResponse.parsers", "htmlParser wmlParser cssParser")],
        RunOptions::default(),
    )
    .await;
    // The frame at depths 1 to 6 (JMeter looks into resources down to depth 5), its image at
    // depths 2 to 6; the stylesheet's image once.
    assert_eq!(server.count("/res/inner.html"), 6);
    assert_eq!(server.count("/res/deep.png"), 5);
    for path in [
        "/nested.html",
        "/res/style.css",
        "/res/bg2.png",
        "/res/top.png",
    ] {
        assert_eq!(server.count(path), 1, "{path}");
    }
    assert_eq!((summary.samples, summary.errors), (1, 0));
    // The sample, its page, the stylesheet (itself and its image under it), the frames (each
    // one itself, its image and the next frame; the deepest alone: 5 × 3 + 1 rows), the image.
    assert_eq!(rows.len(), 1 + 1 + 3 + 16 + 1);
    let top = labelled(&rows, "Nested")[0];
    let under = |parent: i64| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r.parent_row == Some(parent))
            .collect()
    };
    let css = under(top.row)[1];
    assert!(
        css.url
            .as_deref()
            .is_some_and(|u| u.ends_with("/res/style.css"))
    );
    let css_subs: Vec<(&str, Option<&str>)> = under(css.row)
        .iter()
        .map(|r| (r.label.as_str(), r.url.as_deref()))
        .collect();
    let base = format!("http://127.0.0.1:{}", server.port());
    let (css_url, bg_url) = (
        format!("{base}/res/style.css"),
        format!("{base}/res/bg2.png"),
    );
    assert_eq!(
        css_subs,
        [
            ("Nested-0", Some(css_url.as_str())),
            ("Nested-1", Some(bg_url.as_str()))
        ]
    );
    // The stylesheet's row holds its image's bytes.
    let css_subs_bytes: i64 = under(css.row).iter().map(|r| r.bytes_received).sum();
    assert_eq!(css.bytes_received, css_subs_bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stylesheets_are_not_looked_into_by_default_as_in_jmeter_2_13() {
    let server = TestServer::start().await;
    let page = http("Nested", "GET", "/nested.html", &[], RETRIEVE, "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &page));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    // 2.13's `HTTPResponse.parsers` is `htmlParser wmlParser`: the stylesheet is fetched, its
    // image is not.
    assert_eq!(server.count("/res/style.css"), 1);
    assert_eq!(server.count("/res/bg2.png"), 0);
    assert_eq!((summary.samples, summary.errors), (1, 0));
}

#[test]
fn embedded_resource_settings_that_cannot_be_run_are_refused() {
    let refused_with = |extra: &str, children: &str| {
        let page = http(
            "Page",
            "GET",
            "/site.html",
            &[],
            &format!("{RETRIEVE}{extra}"),
            children,
        );
        compile(&jmx(&[], &group("G", 1, 0, 1, "", &page)), &[("port", "1")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let refused = |extra: &str| refused_with(extra, "");
    let pool = refused(
        r#"<boolProp name="HTTPSampler.concurrentDwn">true</boolProp>
           <stringProp name="HTTPSampler.concurrentPool">0</stringProp>"#,
    );
    assert!(
        pool.contains("\"Page\"") && pool.contains("HTTPSampler.concurrentPool"),
        "{pool}"
    );
    let pattern =
        refused(r#"<stringProp name="HTTPSampler.embedded_url_re">(?&lt;=x)y</stringProp>"#);
    assert!(
        pattern.contains("\"Page\"") && pattern.contains("HTTPSampler.embedded_url_re"),
        "{pattern}"
    );
    // Not this element's, but of the sampler: a response kept as its MD5 hash.
    let md5 = refused(r#"<boolProp name="HTTPSampler.md5">true</boolProp>"#);
    assert!(
        md5.contains("\"Page\"") && md5.contains("HTTPSampler.md5"),
        "{md5}"
    );
    // An assertion over the sample and its sub-results.
    let all = assertion("Every part", "Assertion.response_code", 8, &["200"], false).replace(
        "</ResponseAssertion>",
        r#"<stringProp name="Assertion.scope">all</stringProp></ResponseAssertion>"#,
    );
    let scope = refused_with("", &all);
    assert!(
        scope.contains("\"Every part\"") && scope.contains("Assertion.scope"),
        "{scope}"
    );
    // --validate says what is fetched.
    let described = compile(
        &jmx(
            &[],
            &group(
                "G",
                1,
                0,
                1,
                "",
                &http(
                    "Page",
                    "GET",
                    "/site.html",
                    &[],
                    &format!(
                        r#"{RETRIEVE}<boolProp name="HTTPSampler.concurrentDwn">true</boolProp>
                        <stringProp name="HTTPSampler.concurrentPool">4</stringProp>
                        <stringProp name="HTTPSampler.embedded_url_exclude_re">.*\.png</stringProp>"#
                    ),
                    "",
                ),
            ),
        ),
        &[("port", "1")],
    )
    .map(|p| p.explain())
    .unwrap_or_default();
    assert!(
        described
            .contains(r"embedded resources (at most 4 at once, not URLs matching ^(?:.*\.png)$)"),
        "{described}"
    );
    // Without a pool size that is wrong, a pattern Rust cannot read or scope all, the plan
    // compiles.
    assert_eq!(refused(""), "");
    assert_eq!(refused_with("", &all.replace(">all<", ">parent<")), "");
}
