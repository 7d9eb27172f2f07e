//! The console's login and the CSRF rule of `loadlake serve --http`, with Python's http.client
//! (redirects not followed, headers as given): with `--token-file`, pages without the token go
//! to the login page and the API answers 401; the login form's right token sets an HttpOnly,
//! SameSite=Strict cookie with which pages and API calls work; a wrong token or cookie is
//! refused; a change (upload, delete, stop) with the cookie needs `X-Loadlake-Console`, and one
//! from another origin is refused even with the bearer token — and without a token too.

use serde_json::{Value, json};

use super::Served;
use super::api::serve_with_token;
use crate::common::*;

/// Sends `requests` (`{"method", "path", "headers", "body"}`) to the `--http` address of
/// `served`; the answers (`http_exchange.py`).
fn exchange(served: &Served, requests: Value) -> Vec<Value> {
    let base = served.http.as_deref().expect("started with --http");
    let address = base.trim_start_matches("http://");
    let out = py_json("http_exchange.py", &[address, &requests.to_string()]);
    out.as_array().expect("a list of answers").clone()
}

/// Each answer's status.
fn statuses(answers: &[Value]) -> Vec<u64> {
    answers
        .iter()
        .map(|a| a["status"].as_u64().unwrap_or(0))
        .collect()
}

/// A request with `headers`.
fn req(method: &str, path: &str, headers: Value) -> Value {
    json!({"method": method, "path": path, "headers": headers})
}

/// A login form post of `token`.
fn login(path: &str, token: &str, headers: Value) -> Value {
    let mut headers = headers;
    headers["Content-Type"] = json!("application/x-www-form-urlencoded");
    json!({"method": "POST", "path": path, "headers": headers, "body": format!("token={token}")})
}

#[test]
fn with_a_token_pages_and_api_need_the_login_cookie_and_changes_pass_the_csrf_rule() {
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let jtl = jtl.to_str().unwrap();
    let run = store.import(&[jtl, "--name", "kept"]);
    let doomed = store.import(&[jtl, "--force", "--name", "doomed"]);
    let served = serve_with_token(&store);
    let base = served.http.clone().expect("started with --http");
    let host = base.trim_start_matches("http://").to_string();

    // Nothing: pages to the login (back to where they were), the API 401, the login open.
    let anon = exchange(
        &served,
        json!([
            req("GET", "/", json!({})),
            req("GET", &format!("/runs/{run}?x=1"), json!({})),
            req("GET", "/console/console.js", json!({})),
            req("GET", "/api/v1/runs", json!({})),
            req("GET", "/login", json!({})),
            req("GET", "/console/console.css", json!({})),
            req("GET", "/api/v1/health", json!({})),
        ]),
    );
    assert_eq!(
        statuses(&anon),
        [303, 303, 303, 401, 200, 200, 200],
        "{anon:?}"
    );
    assert_eq!(anon[0]["location"], "/login?next=%2F");
    assert_eq!(
        anon[1]["location"],
        format!("/login?next=%2Fruns%2F{run}%3Fx%3D1")
    );
    assert_eq!(anon[3]["body"]["code"], "UNAUTHENTICATED", "{anon:?}");
    assert!(
        anon[4]["body"]
            .as_str()
            .unwrap()
            .contains("id=\"token-form\"")
    );

    // The login: a wrong token is 401 and no cookie; the right one, a cookie and back.
    let next = format!("/login?next=%2Fruns%2F{run}");
    let logins = exchange(
        &served,
        json!([
            login(&next, "wrong", json!({})),
            login(&next, "s3cret", json!({})),
            login("/login?next=//evil.example/", "s3cret", json!({})),
            login(&next, "s3cret", json!({"Origin": "http://evil.example"})),
        ]),
    );
    assert_eq!(statuses(&logins), [401, 303, 303, 403], "{logins:?}");
    assert_eq!(logins[0]["set_cookie"], Value::Null);
    assert!(
        logins[0]["body"]
            .as_str()
            .unwrap()
            .contains(r#"<p id="login-error" class="error">"#),
        "the form says the token was wrong"
    );
    assert_eq!(logins[1]["location"], format!("/runs/{run}"));
    assert_eq!(logins[2]["location"], "/", "no redirect off this server");
    assert_eq!(logins[3]["set_cookie"], Value::Null);
    let set = logins[1]["set_cookie"]
        .as_str()
        .expect("a cookie")
        .to_string();
    let attributes: Vec<&str> = set.split(';').map(str::trim).collect();
    for want in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&want), "{set}");
    }
    let cookie = attributes[0].to_string();
    assert!(cookie.starts_with("loadlake_session="), "{set}");
    assert!(
        !cookie.contains("s3cret"),
        "the token is not in the cookie as text: {set}"
    );

    // With the cookie: pages and reads work; a wrong cookie is refused.
    let with = |extra: Value| {
        let mut h = json!({"Cookie": cookie});
        for (k, v) in extra.as_object().unwrap() {
            h[k] = v.clone();
        }
        h
    };
    let reads = exchange(
        &served,
        json!([
            req("GET", "/", with(json!({}))),
            req("GET", &format!("/runs/{run}"), with(json!({}))),
            req("GET", "/api/v1/runs", with(json!({}))),
            req(
                "GET",
                "/api/v1/runs",
                json!({"Cookie": "loadlake_session=00"})
            ),
            req("GET", "/", json!({"Cookie": "loadlake_session=00"})),
            req(
                "GET",
                "/api/v1/runs",
                with(json!({"Authorization": "Bearer wrong"}))
            ),
        ]),
    );
    assert_eq!(
        statuses(&reads),
        [200, 200, 200, 401, 303, 401],
        "{reads:?}"
    );
    assert_eq!(reads[2]["body"]["total"], 2, "{reads:?}");

    // Changes with the cookie: without the console's header, or from another origin, 403 and
    // nothing changes; with the header (and this server's Origin, as a browser sends it), done.
    let evil = "http://evil.example";
    let same = format!("http://{host}");
    let delete = format!("/api/v1/runs/{doomed}");
    let stop = format!("/api/v1/runs/{run}/stop");
    let changes = exchange(
        &served,
        json!([
            req("DELETE", &delete, with(json!({}))),
            req("POST", &stop, with(json!({}))),
            req("POST", "/api/v1/runs?file_name=x.jtl", with(json!({}))),
            req(
                "DELETE",
                &delete,
                with(json!({"X-Loadlake-Console": "1", "Origin": evil}))
            ),
            req(
                "DELETE",
                &delete,
                json!({"Authorization": "Bearer s3cret", "Origin": evil})
            ),
            req(
                "DELETE",
                &delete,
                json!({"Origin": same, "X-Loadlake-Console": "1"})
            ),
        ]),
    );
    assert_eq!(
        statuses(&changes),
        [403, 403, 403, 403, 403, 401],
        "{changes:?}"
    );
    for refused in &changes[..5] {
        assert_eq!(refused["body"]["code"], "PERMISSION_DENIED", "{refused}");
    }
    assert_eq!(
        store
            .json(&["runs", "--format", "json"])
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let done = exchange(
        &served,
        json!([
            req(
                "POST",
                &stop,
                with(json!({"X-Loadlake-Console": "1", "Origin": same}))
            ),
            req(
                "DELETE",
                &delete,
                with(json!({"X-Loadlake-Console": "1", "Origin": same}))
            ),
            req("POST", "/logout", with(json!({}))),
        ]),
    );
    // The stop passed the checks and reached StopRun: the run is not running.
    assert_eq!(statuses(&done), [400, 200, 303], "{done:?}");
    assert_eq!(done[0]["body"]["code"], "FAILED_PRECONDITION", "{done:?}");
    assert_eq!(done[1]["body"], json!({"deleted": true}));
    assert_eq!(done[2]["location"], "/login");
    let dropped = done[2]["set_cookie"].as_str().unwrap_or("");
    assert!(dropped.contains("Max-Age=0"), "{dropped}");
    let left = store.json(&["runs", "--format", "json"]);
    assert_eq!(left[0]["run_id"], run.as_str(), "{left}");
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{left}");
}

#[test]
fn without_a_token_pages_are_open_and_cross_origin_changes_still_refused() {
    let store = TestStore::new();
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let run = store.import(&[jtl.to_str().unwrap()]);
    let served = Served::start(&store, &["--http", "127.0.0.1:0"]);
    let delete = format!("/api/v1/runs/{run}");
    let got = exchange(
        &served,
        json!([
            req("GET", "/", json!({})),
            req("GET", "/login?next=%2Fsql", json!({})),
            req("DELETE", &delete, json!({"Origin": "http://evil.example"})),
            req(
                "POST",
                "/api/v1/runs?file_name=x.jtl",
                json!({"Origin": "null"})
            ),
        ]),
    );
    assert_eq!(statuses(&got), [200, 303, 403, 403], "{got:?}");
    assert_eq!(got[1]["location"], "/sql");
    assert_eq!(
        store
            .json(&["runs", "--format", "json"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // curl sends no Origin: let through (there is no token to ask for).
    let curl = exchange(&served, json!([req("DELETE", &delete, json!({}))]));
    assert_eq!(statuses(&curl), [200], "{curl:?}");
}
