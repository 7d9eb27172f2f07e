//! RegEx User Parameters against a local server: the arguments of the HTTP samplers in its
//! scope take the values a Regular Expression Extractor found, by name, as the server receives
//! them; outside its scope, or before the extractor ran, the plan's values go out.

mod common;

use common::*;
use loadlake_runner::RunOptions;

/// A RegEx User Parameters element reading the matches of `refname`.
fn regex_user_parameters(refname: &str, names: u32, values: u32) -> String {
    format!(
        r#"<RegExUserParameters guiclass="RegExUserParametersGui" testclass="RegExUserParameters" testname="RegEx User Parameters" enabled="true">
          <stringProp name="RegExUserParameters.regex_ref_name">{refname}</stringProp>
          <stringProp name="RegExUserParameters.param_names_gr_nr">{names}</stringProp>
          <stringProp name="RegExUserParameters.param_values_gr_nr">{values}</stringProp>
        </RegExUserParameters>
        <hashTree/>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_named_by_the_matches_take_their_values() {
    let server = TestServer::start().await;
    let params = regex_user_parameters("p", 1, 2);
    let form = |name: &str, path: &str, children: &str| {
        http(
            name,
            "POST",
            path,
            &[("toto", "old 1"), ("tutu", "old2"), ("keep", "k")],
            "",
            children,
        )
    };
    // The echo server answers `method=GET;query=q=toto:new1,tutu:new%202;body=`.
    let source = http(
        "Source",
        "GET",
        "/source",
        &[("q", "toto:new1,tutu:new 2")],
        "",
        &regex_extractor("p", r"(\w+):([\w%]+)", "$1$", -1, "none"),
    );
    let children = form("Early", "/early", &params)
        + &source
        + &form("Target", "/target", &params)
        + &form("Plain", "/plain", "");
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (summary, _) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (4, 0));
    let body = |path: &str| server.requests_to(path)[0].body.clone();
    // Before the extractor ran there is nothing to take: the plan's values, form-encoded.
    assert_eq!(body("/early"), "toto=old+1&tutu=old2&keep=k");
    // toto and tutu by the matches' names (the value as extracted, form-encoded: % as %25),
    // keep as written.
    assert_eq!(body("/target"), "toto=new1&tutu=new%25202&keep=k");
    // Out of its scope, nothing changes.
    assert_eq!(body("/plain"), "toto=old+1&tutu=old2&keep=k");
}
