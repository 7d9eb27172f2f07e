//! What the JSON API and the console change in the store: an upload (`POST /api/v1/runs`,
//! ImportFile's pipeline) makes the run a CLI import of the same file makes — by Python's
//! urllib and through the runs page's upload zone in headless Chromium; a delete
//! (`DELETE /api/v1/runs/{id}`, DeleteRun) needs the token and removes the run, from the API,
//! the runs list and the run page, each after a confirmation.

use serde_json::Value;

use super::Served;
use crate::common::*;

/// `loadlake serve` of `store` with the JSON API on a free port and the token `s3cret`.
fn serve_with_token(store: &TestStore) -> Served {
    let token_file = store.path().join("token");
    std::fs::write(&token_file, "s3cret\n").unwrap();
    Served::start(
        store,
        &[
            "--http",
            "127.0.0.1:0",
            "--token-file",
            token_file.to_str().unwrap(),
        ],
    )
}

/// `v` without the fields that name a run rather than describe its samples.
fn minus_identity(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("runId");
        o.remove("run_id");
    }
    v
}

/// The report and the `runs` entry of `run`: what a CLI import and an upload must agree on.
fn report_and_entry(store: &TestStore, run: &str) -> (Value, Value) {
    (
        minus_identity(store.json(&["report", run, "--format", "json"])),
        minus_identity(store.run_entry(run)),
    )
}

#[test]
fn an_upload_through_the_json_api_makes_the_run_a_cli_import_makes() {
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let jtl = jtl.to_str().unwrap();
    // The CLI's import, in a store of its own.
    let cli = TestStore::new();
    let imported = cli.import(&[jtl]);

    let store = TestStore::new();
    let served = serve_with_token(&store);
    let base = served.http.clone().expect("started with --http");
    let program = format!(
        r#"
import json, urllib.request, urllib.error
def post(path, data, token="s3cret"):
    headers = {{"Content-Type": "application/octet-stream"}}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request("{base}" + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return [r.status, json.load(r)]
    except urllib.error.HTTPError as e:
        return [e.code, json.load(e)]
data = open({jtl:?}, "rb").read()
print(json.dumps({{
    "first": post("/api/v1/runs?file_name=checkout.jtl", data),
    "again": post("/api/v1/runs?file_name=checkout.jtl", data),
    "tagged": post("/api/v1/runs?file_name=checkout.jtl&force=true&name=tagged&tags=env=ci&tags=team=shop", data),
    "garbage": post("/api/v1/runs?file_name=x.jtl", b"this is not a results file\n"),
    "bad_option": post("/api/v1/runs?format=pdf", data),
    "anon": post("/api/v1/runs?file_name=checkout.jtl&force=true", data, token=None),
    "wrong": post("/api/v1/runs?file_name=checkout.jtl&force=true", data, token="wrong"),
}}))
"#
    );
    let got = py_inline(&program);
    assert_eq!(got["first"][0], 200, "{got}");
    let answer = &got["first"][1];
    // checkout.jtl has 720 samples (721 lines: a header and 720 rows, counted by hand), 45
    // of them failed, as the CLI import says.
    assert_eq!(answer["samples"], 720, "{got}");
    assert_eq!(answer["rejected"], 0, "{got}");
    let run = answer["run_id"].as_str().expect("a run id").to_string();
    assert_ne!(run, imported);

    // The uploaded run's report and listing equal the CLI import's, field for field.
    let (cli_report, cli_entry) = report_and_entry(&cli, &imported);
    let (up_report, up_entry) = report_and_entry(&store, &run);
    assert_eq!(up_report, cli_report);
    assert_eq!(up_entry, cli_entry);
    assert_eq!(answer["errors"], cli_entry["errors"], "{got}");

    // The same bytes again: 409 as ImportFile's ALREADY_EXISTS; with force, a second run with
    // the name and tags of the query string.
    assert_eq!(got["again"][0], 409, "{got}");
    assert_eq!(got["again"][1]["code"], "ALREADY_EXISTS", "{got}");
    assert_eq!(got["tagged"][0], 200, "{got}");
    let tagged = store.run_entry(got["tagged"][1]["run_id"].as_str().unwrap());
    assert_eq!(tagged["name"], "tagged");
    assert_eq!(
        tagged["tags"],
        serde_json::json!({"env": "ci", "team": "shop"})
    );
    assert_eq!(tagged["samples"], 720);
    // Not a results file, an unknown format, no token, a wrong token: refused, no run made.
    assert_eq!(got["garbage"][0], 400, "{got}");
    assert_eq!(got["bad_option"][0], 400, "{got}");
    assert_eq!(got["anon"][0], 401, "{got}");
    assert_eq!(got["wrong"][0], 401, "{got}");
    let runs = store.json(&["runs", "--format", "json"]);
    assert_eq!(runs.as_array().map(Vec::len), Some(2), "{runs}");
}

#[test]
fn a_file_given_to_the_runs_pages_upload_zone_becomes_a_run() {
    if !crate::html::browser_available() {
        return;
    }
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let jtl = jtl.to_str().unwrap();
    let cli = TestStore::new();
    let imported = cli.import(&[jtl, "--name", "from the page"]);

    let store = TestStore::new();
    let served = serve_with_token(&store);
    let base = served.http.clone().expect("started with --http");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-upload");
    let seen = py_json(
        "console_upload_check.py",
        &[
            &base,
            "s3cret",
            jtl,
            "from the page",
            shots.to_str().unwrap(),
        ],
    );
    // The browser logs the refused drop's 409, nothing else.
    let errors: Vec<&str> = seen["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(errors.len(), 1, "{seen}");
    assert!(errors[0].contains("409"), "{seen}");
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["upload_error"], Value::Null, "{seen}");
    let run = seen["uploaded"]
        .as_str()
        .unwrap_or_else(|| panic!("{seen}"));

    // The new run is in the table, marked, with checkout.jtl's 720 samples (counted by hand).
    let row = &seen["row"];
    assert_eq!(row["run_id"], run, "{seen}");
    assert_eq!(row["marked"], true, "{seen}");
    assert_eq!(row["fields"]["samples"], "720", "{seen}");
    assert_eq!(row["fields"]["name"], "from the page", "{seen}");
    // The bar went to its end: every byte of the file was sent.
    let size = std::fs::metadata(jtl).unwrap().len() as f64;
    assert_eq!(seen["progress"]["max"].as_f64(), Some(size), "{seen}");
    assert_eq!(seen["progress"]["value"].as_f64(), Some(size), "{seen}");
    assert!(
        seen["status"]
            .as_str()
            .unwrap()
            .starts_with(&format!("run {run}: 720 samples")),
        "{seen}"
    );
    // The run the page made is the CLI's import of the same file.
    let (cli_report, cli_entry) = report_and_entry(&cli, &imported);
    let (up_report, up_entry) = report_and_entry(&store, run);
    assert_eq!(up_report, cli_report);
    assert_eq!(up_entry, cli_entry);
    // Dropped on the zone: the same bytes are refused with the server's reason; with "import
    // again", a second run of 720 samples.
    let refused = seen["drop_refused"]
        .as_str()
        .unwrap_or_else(|| panic!("{seen}"));
    assert!(refused.contains("already imported"), "{refused}");
    assert!(
        refused.ends_with("(tick “import again” to import it anyway)"),
        "{refused}"
    );
    let dropped = seen["dropped"].as_str().unwrap_or_else(|| panic!("{seen}"));
    assert_ne!(dropped, run);
    assert_eq!(seen["dropped_row"]["fields"]["samples"], "720", "{seen}");
    assert_eq!(seen["dropped_row"]["marked"], true, "{seen}");
    // Without the cookie the page sent the browser to the login first.
    assert_eq!(
        seen["login_url"],
        format!("{base}/login?next=%2F"),
        "{seen}"
    );
    // The screenshots are pages, not blank.
    for name in ["login", "runs-upload"] {
        let s = &seen["shots"][name];
        assert!(s["distinct_colors"].as_u64().unwrap() > 20, "{name}: {s}");
        assert!(
            s["nonwhite_fraction"].as_f64().unwrap() > 0.02,
            "{name}: {s}"
        );
    }
}

/// The run ids `loadlake runs --format json` lists, sorted.
fn listed(store: &TestStore) -> Vec<String> {
    let runs = store.json(&["runs", "--format", "json"]);
    let mut ids: Vec<String> = runs
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["run_id"].as_str().expect("an id").to_string())
        .collect();
    ids.sort();
    ids
}

/// Three imports of checkout.jtl (forced), named one, two, three, in that order.
fn three_runs(store: &TestStore) -> Vec<String> {
    let jtl = repo_root().join("sample-data/checkout.jtl");
    ["one", "two", "three"]
        .iter()
        .map(|name| store.import(&[jtl.to_str().unwrap(), "--force", "--name", name]))
        .collect()
}

/// `ids`, sorted.
fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn delete_through_the_json_api_needs_the_token_and_removes_the_run() {
    let store = TestStore::new();
    let runs = three_runs(&store);
    let served = serve_with_token(&store);
    let (gone, kept) = (&runs[0], &runs[1]);
    let delete = format!("DELETE:/api/v1/runs/{gone}");
    let refused: Vec<Value> = [None, Some("wrong")]
        .into_iter()
        .flat_map(|token| super::api::fetch(&served, token, std::slice::from_ref(&delete)))
        .collect();
    for answer in &refused {
        assert_eq!(answer["status"], 401, "{answer}");
    }
    // Refused: nothing left the store.
    assert_eq!(listed(&store), sorted(&runs.iter().collect::<Vec<_>>()));
    let got = super::api::fetch(
        &served,
        Some("s3cret"),
        &[
            delete.clone(),
            format!("/api/v1/runs/{gone}"),
            delete.clone(),
            "DELETE:/api/v1/runs/no-such-run".to_string(),
            format!("/api/v1/runs/{kept}"),
        ],
    );
    assert_eq!(got[0]["status"], 200, "{got:?}");
    assert_eq!(got[0]["body"], serde_json::json!({"deleted": true}));
    let statuses: Vec<&Value> = got.iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, [200, 404, 404, 404, 200], "{got:?}");
    // The CLI no longer sees it; the others stay.
    assert_eq!(listed(&store), sorted(&[&runs[1], &runs[2]]));
}

#[test]
fn runs_are_deleted_from_the_runs_list_and_the_run_page_after_a_confirmation() {
    if !crate::html::browser_available() {
        return;
    }
    let store = TestStore::new();
    let runs = three_runs(&store);
    let served = serve_with_token(&store);
    let base = served.http.clone().expect("started with --http");
    let (from_list, from_page) = (&runs[0], &runs[2]);
    let seen = py_json(
        "console_delete_check.py",
        &[&base, "s3cret", from_list, from_page],
    );
    for e in seen["errors"].as_array().unwrap() {
        assert!(e.as_str().unwrap().contains("401"), "{seen}");
    }
    assert_eq!(seen["blocked"], serde_json::json!([]), "{seen}");
    let shown = |v: &Value| {
        let ids: Vec<String> = v
            .as_array()
            .unwrap_or_else(|| panic!("{seen}"))
            .iter()
            .map(|id| id.as_str().unwrap().to_string())
            .collect();
        sorted(&ids.iter().collect::<Vec<_>>())
    };
    // Dismissed: still listed. Accepted: gone from the list, then from the run page.
    assert_eq!(
        shown(&seen["after_cancel"]),
        sorted(&runs.iter().collect::<Vec<_>>())
    );
    assert_eq!(shown(&seen["after_delete"]), sorted(&[&runs[1], &runs[2]]));
    assert_eq!(seen["page_url"], format!("{base}/"), "{seen}");
    assert_eq!(shown(&seen["after_page"]), [runs[1].clone()]);
    let dialogs = seen["dialogs"].as_array().unwrap();
    assert_eq!(dialogs.len(), 3, "{seen}");
    assert!(
        dialogs[0]
            .as_str()
            .unwrap()
            .starts_with(&format!("Delete run {from_list} (one, 720 samples)?")),
        "{seen}"
    );
    assert!(
        dialogs[2]
            .as_str()
            .unwrap()
            .starts_with(&format!("Delete run {from_page} (three, 720 samples)?")),
        "{seen}"
    );
    // The store agrees: only the second run is left.
    assert_eq!(listed(&store), [runs[1].clone()]);
}
