//! The OpenAPI document of the JSON API (`/api/v1/openapi.json`): served without the token by a
//! real `loadlake serve --http`, valid by openapi-spec-validator (Python, independent of the
//! server), every documented operation answered by its own handler (not the fallback), and
//! the same operations as the endpoint table of docs/api.md.

use std::collections::BTreeSet;

use serde_json::Value;

use super::api::serve_with_token;
use crate::common::*;

/// `[METHOD, PATH]` of every endpoint in the table of docs/api.md's JSON API section.
fn table_of_docs_api_md() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("docs/api.md")).expect("docs/api.md");
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter_map(|op| op.split_once(' '))
        .filter(|(_, path)| path.starts_with("/api/v1/"))
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

#[test]
fn the_openapi_document_is_open_valid_and_describes_every_route() {
    let store = TestStore::new();
    let served = serve_with_token(&store);
    let base = served.http.clone().expect("started with --http");

    // Fetched without the token, and valid.
    let check = py_json("openapi_check.py", &[&base]);
    assert_eq!(check["status"], 200, "{check}");
    assert_eq!(check["content_type"], "application/json", "{check}");
    assert!(
        check["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{check}"
    );
    assert_eq!(check["errors"], Value::Array(vec![]), "{check}");

    let operations: BTreeSet<(String, String)> = check["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|op| {
            (
                op[0].as_str().unwrap().to_string(),
                op[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(operations.len(), 21, "{operations:?}");
    // docs/api.md lists what the document describes, no more, no less.
    assert_eq!(operations, table_of_docs_api_md());

    // Each documented operation is served by a handler of its own: with the token and a run
    // that does not exist, none answers the fallback's "no such endpoint" nor 405.
    let specs: Vec<String> = operations
        .iter()
        .map(|(method, path)| {
            let path = path
                .replace("{run_id}", "no-such-run")
                .replace("{case_id}", "no-such-case");
            if method == "GET" {
                path
            } else {
                format!("{method}:{path}")
            }
        })
        .collect();
    let mut args = vec![base.as_str(), "s3cret"];
    args.extend(specs.iter().map(String::as_str));
    let answers = py_json("http_json.py", &args);
    for answer in answers.as_array().expect("answers") {
        let status = answer["status"].as_u64().unwrap_or(0);
        assert_ne!(status, 405, "{answer}");
        let message = answer["body"]["message"].as_str().unwrap_or("");
        assert!(!message.contains("no such endpoint"), "{answer}");
        assert!(status != 401, "{answer}");
    }
    // And an undocumented path under /api/v1 is the fallback.
    let other = py_json(
        "http_json.py",
        &[base.as_str(), "s3cret", "/api/v1/not-documented"],
    );
    assert_eq!(other[0]["status"], 404, "{other}");
}
