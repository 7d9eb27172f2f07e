//! The layout reused across requests: requests whose tags change (in values, in names, within one
//! time, back and forth) get the columns their own tags say, by hand; and a randomized check of
//! [`Layout`] against looking each tag up by name.

use std::collections::{BTreeMap, BTreeSet};

use loadlake_schema::col;

use super::{Col, Layouts};
use crate::k6::tests::{decode, request};
use crate::k6::{COLUMN_TAGS, Tags, tag};
use fastrand::Rng;

use crate::test_support::{Pick, strs, vars};

/// `Some` strings.
fn some(v: &[Option<&str>]) -> Vec<Option<String>> {
    v.iter().map(|s| s.map(str::to_string)).collect()
}

/// A successful request's Point values (duration 2 ms).
const OK: [f64; 9] = [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0];
/// A failed one's.
const FAILED: [f64; 9] = [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 1.0];

// Five requests ending at the same time, their tags changing between them: in names (1 → 2), in
// values only (2 → 3, 4 → 5), not at all (3 → 4: the very same text, one generation of the
// reader for both requests), back to the first names (5). Each sample has its own request's
// values: label = name, else url (3: name empty); error and error-free vars by hand.
#[test]
fn tags_changing_between_requests_of_one_time() {
    let t = "2025-03-01T09:00:01Z";
    let mut s = String::new();
    s += &request(
        t,
        r#"{"name":"a","scenario":"s","status":"200","x":"1"}"#,
        "",
        OK,
    );
    s += &request(
        t,
        r#"{"error":"boom","name":"b","status":"500","url":"u1","y":"2"}"#,
        "",
        FAILED,
    );
    let third = r#"{"error":"","name":"","status":"404","url":"u2","y":"3"}"#;
    s += &request(t, third, "", FAILED);
    s += &request(t, third, "", FAILED);
    s += &request(
        t,
        r#"{"name":"a2","scenario":"s2","status":"201","x":""}"#,
        "",
        OK,
    );
    let (b, rejects, report) = decode(&s);
    let b = b.unwrap();
    assert_eq!(rejects, []);
    assert_eq!(report.samples, 5);
    assert_eq!(
        strs(&b, col::LABEL),
        some(&[Some("a"), Some("b"), Some("u2"), Some("u2"), Some("a2")])
    );
    assert_eq!(
        strs(&b, col::RESPONSE_CODE),
        some(&[
            Some("200"),
            Some("500"),
            Some("404"),
            Some("404"),
            Some("201")
        ])
    );
    assert_eq!(
        strs(&b, col::RESPONSE_MESSAGE),
        some(&[None, Some("boom"), None, None, None])
    );
    assert_eq!(
        strs(&b, col::URL),
        some(&[None, Some("u1"), Some("u2"), Some("u2"), None])
    );
    assert_eq!(
        strs(&b, col::CASE_NAME),
        some(&[Some("s"), None, None, None, Some("s2")])
    );
    assert_eq!(vars(&b, 0), ["x=1"]);
    assert_eq!(vars(&b, 1), ["y=2"]);
    assert_eq!(vars(&b, 2), ["y=3"]);
    assert_eq!(vars(&b, 3), ["y=3"]);
    assert_eq!(vars(&b, 4), Vec::<String>::new());
    assert_eq!(
        report.columns,
        ["error", "name", "scenario", "status", "url", "x", "y"]
    );
}

// The thread is the metadata's `vu` when there is one (even empty: then none), else the tag's.
#[test]
fn metadata_vu_wins_over_tag_vu() {
    let mut s = String::new();
    for (second, tags, meta) in [
        (
            1,
            r#"{"name":"a","vu":"3"}"#,
            r#","metadata":{"iter":"0","vu":"7"}"#,
        ),
        (2, r#"{"name":"a","vu":"3"}"#, ""),
        (3, r#"{"name":"a","vu":"5"}"#, r#","metadata":{"vu":""}"#),
        (4, r#"{"name":"a"}"#, r#","metadata":{"vu":"9"}"#),
        (5, r#"{"name":"a"}"#, ""),
    ] {
        s += &request(&format!("2025-03-01T09:00:0{second}Z"), tags, meta, OK);
    }
    let (b, rejects, report) = decode(&s);
    let b = b.unwrap();
    assert_eq!(rejects, []);
    assert_eq!(
        strs(&b, col::THREAD),
        some(&[Some("7"), Some("3"), None, Some("9"), None])
    );
    assert_eq!(vars(&b, 0), ["iter=0"]);
    assert_eq!(vars(&b, 1), Vec::<String>::new());
    assert_eq!(report.columns, ["iter", "name", "vu"]);
}

// The columns are the names of the imported requests' tags and metadata: a group with the same
// names as the request after it does not stand for the request's; a name only a rejected
// request has (line 11: an http_reqs Point alone) is none; `error` and `zz`, only in the last
// request, are.
#[test]
fn columns_are_the_names_of_imported_requests() {
    let mut s = String::new();
    s += r#"{"metric":"group_duration","type":"Point","data":{"time":"2025-03-01T09:00:01Z","value":5,"tags":{"group":"::g","name":"n"}}}"#;
    s += "\n";
    s += &request(
        "2025-03-01T09:00:02Z",
        r#"{"group":"::g","name":"a"}"#,
        "",
        OK,
    );
    s += &request(
        "2025-03-01T09:00:03Z",
        r#"{"name":"b","only_rejected":"1"}"#,
        "",
        OK,
    )
    .lines()
    .next()
    .map(|l| format!("{l}\n"))
    .unwrap();
    s += &request(
        "2025-03-01T09:00:04Z",
        r#"{"group":"::g","name":"a"}"#,
        "",
        OK,
    );
    s += &request(
        "2025-03-01T09:00:05Z",
        r#"{"error":"e","name":"c","zz":"1"}"#,
        "",
        FAILED,
    );
    let (b, rejects, report) = decode(&s);
    let b = b.unwrap();
    let lines: Vec<u64> = rejects.iter().map(|r| r.line).collect();
    assert_eq!(lines, [11]);
    assert_eq!(
        strs(&b, col::LABEL),
        some(&[Some("g"), Some("a"), Some("a"), Some("c")])
    );
    assert_eq!(
        strs(&b, col::RESPONSE_MESSAGE),
        some(&[None, None, None, Some("e")])
    );
    assert_eq!(report.columns, ["error", "group", "name", "zz"]);
}

/// Sorted, de-duplicated tags of names drawn from `names`, values from `values`.
fn random_tags(rng: &mut Rng, names: &[&str], values: &[&str]) -> Tags {
    let mut tags = BTreeMap::new();
    for _ in 0..rng.usize(..names.len() + 1) {
        tags.insert(rng.pick(names).to_string(), rng.pick(values).to_string());
    }
    tags.into_iter().collect()
}

// Whatever tags and metadata follow one another (new names, earlier names again, more sets of
// names than are kept, with or without generations), the layout gives what looking each tag up
// by name does, and the names it notes are all the names it was given.
#[test]
fn layout_matches_looking_tags_up_by_name() {
    let names = [
        "error",
        "error_code",
        "expected_response",
        "iter",
        "method",
        "name",
        "scenario",
        "status",
        "url",
        "vu",
        "zz",
    ];
    let values = ["", "1", "x"];
    let looked_up = [
        (Col::Name, "name"),
        (Col::Url, "url"),
        (Col::Status, "status"),
        (Col::Error, "error"),
        (Col::ErrorCode, "error_code"),
        (Col::ExpectedResponse, "expected_response"),
        (Col::Scenario, "scenario"),
        (Col::Vu, "vu"),
    ];
    let mut rng = Rng::with_seed(0x9e37_79b9_7f4a_7c15);
    let mut layouts = Layouts::default();
    let mut generation = 0;
    let (mut tags, mut meta) = (Tags::new(), Tags::new());
    // The last sets of names given, to give again with other values.
    let mut earlier: Vec<(Tags, Tags)> = Vec::new();
    let (mut given, mut noted) = (BTreeSet::new(), BTreeSet::new());
    for round in 0..3000 {
        match rng.usize(..4) {
            0 => {} // the same tags: the same generation
            1 if !earlier.is_empty() => {
                (tags, meta) = earlier[rng.usize(..earlier.len())].clone();
                for (_, v) in tags.iter_mut().chain(meta.iter_mut()) {
                    *v = rng.pick(&values).to_string();
                }
                generation += 1;
            }
            _ => {
                tags = random_tags(&mut rng, &names, &values);
                meta = random_tags(&mut rng, &["iter", "vu", "zz"], &values);
                earlier.push((tags.clone(), meta.clone()));
                if earlier.len() > 12 {
                    earlier.remove(0);
                }
                generation += 1;
            }
        }
        let known = (round % 3 != 0).then_some(generation);
        given.extend(tags.iter().chain(&meta).map(|(k, _)| k.clone()));
        let layout = layouts.fit(&tags, &meta, known);
        noted.extend(layout.names_noted().cloned());
        let layout = layouts.last();
        for (c, name) in looked_up {
            assert_eq!(layout.get(&tags, c), tag(&tags, name), "{name} in {tags:?}");
        }
        assert_eq!(
            layout.vu(&tags, &meta),
            tag(&meta, "vu").or_else(|| tag(&tags, "vu"))
        );
        let expected: Vec<(&str, &str)> = tags
            .iter()
            .chain(&meta)
            .filter(|(k, v)| !v.is_empty() && !COLUMN_TAGS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(layout.vars(&tags, &meta), expected);
        assert_eq!(noted, given);
    }
}
