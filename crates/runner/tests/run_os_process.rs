//! The OS Process Sampler running `/bin/sh` on this machine (no network): exit codes as
//! response codes, the expected code checked, the output as the body (read by an extractor and
//! sent to a local server), the environment and directory given, a timeout, a command that
//! cannot start.

mod common;

use common::*;
use loadlake_runner::RunOptions;

/// An OS Process Sampler running `sh -c script`; `extra` holds more `SystemSampler.*` props
/// (e.g. the environment).
fn shell(name: &str, script: &str, extra: &str, children: &str) -> String {
    format!(
        r#"<SystemSampler guiclass="SystemSamplerGui" testclass="SystemSampler" testname="{name}" enabled="true">
          <stringProp name="SystemSampler.command">sh</stringProp>
          <elementProp name="SystemSampler.arguments" elementType="Arguments" guiclass="ArgumentsPanel" testclass="Arguments" enabled="true">
            <collectionProp name="Arguments.arguments">
              <elementProp name="" elementType="Argument"><stringProp name="Argument.name"></stringProp><stringProp name="Argument.value">-c</stringProp><stringProp name="Argument.metadata">=</stringProp></elementProp>
              <elementProp name="" elementType="Argument"><stringProp name="Argument.name"></stringProp><stringProp name="Argument.value">{script}</stringProp><stringProp name="Argument.metadata">=</stringProp></elementProp>
            </collectionProp>
          </elementProp>
          {extra}
        </SystemSampler>
        <hashTree>{children}</hashTree>"#,
        script = esc(script)
    )
}

/// `checkReturnCode` with `expected`.
fn expect(code: i64) -> String {
    format!(
        r#"<boolProp name="SystemSampler.checkReturnCode">true</boolProp>
           <stringProp name="SystemSampler.expectedReturnCode">{code}</stringProp>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_answer_with_their_exit_code_and_output() {
    let server = TestServer::start().await;
    let env = r#"<elementProp name="SystemSampler.environment" elementType="Arguments" guiclass="ArgumentsPanel" testclass="Arguments" enabled="true">
            <collectionProp name="Arguments.arguments">
              <elementProp name="GREETING" elementType="Argument"><stringProp name="Argument.name">GREETING</stringProp><stringProp name="Argument.value">hello ${who}</stringProp><stringProp name="Argument.metadata">=</stringProp></elementProp>
            </collectionProp>
          </elementProp>
          <stringProp name="SystemSampler.directory">/tmp</stringProp>"#;
    let children = shell(
        "Greet",
        r#"echo "$GREETING from $(pwd)"; echo oops >&2; exit 3"#,
        &(expect(3) + env),
        &regex_extractor("said", "^(.*) from", "$1$", 1, "none"),
    ) + &http("Tell", "GET", "/tell", &[("said", "${said}")], "", "")
        + &shell("Wrong code", "exit 3", &expect(0), "")
        + &shell("Unchecked", "exit 4", "", "")
        + &shell(
            "Too long",
            "sleep 3",
            r#"<stringProp name="SystemSampler.timeout">200</stringProp>"#,
            "",
        )
        + r#"<SystemSampler guiclass="SystemSamplerGui" testclass="SystemSampler" testname="Missing" enabled="true">
              <stringProp name="SystemSampler.command">/nonexistent/command</stringProp>
            </SystemSampler>
            <hashTree/>"#;
    let xml = jmx(&[("who", "world")], &group("G", 1, 0, 1, "", &children));
    let (summary, rows) = run(&xml, server.port(), RunOptions::default()).await;
    assert_eq!((summary.samples, summary.errors), (6, 3));
    // The output went through the extractor to the server.
    assert_eq!(server.requests_to("/tell")[0].query, "said=hello%20world");
    let row = |label: &str| labelled(&rows, label)[0].clone();
    let greet = row("Greet");
    assert!(greet.success);
    assert_eq!(
        (greet.code.as_deref(), greet.message.as_str()),
        (Some("3"), "OK")
    );
    // "hello world from /tmp\n" and "oops\n".
    assert_eq!(greet.bytes_received, 22 + 5);
    let wrong = row("Wrong code");
    assert!(!wrong.success);
    assert_eq!(
        (wrong.code.as_deref(), wrong.message.as_str()),
        (
            Some("3"),
            "Uexpected return code.  Expected [0]. Actual [3]."
        )
    );
    let unchecked = row("Unchecked");
    assert!(unchecked.success);
    assert_eq!(unchecked.code.as_deref(), Some("4"));
    let long = row("Too long");
    assert_eq!(
        (
            long.code.as_deref().unwrap_or(""),
            long.message.as_str(),
            long.success
        ),
        (
            "",
            "System Sampler Interupted whilst executing System Call: \
             java.lang.InterruptedException: Process timeout out after 200 milliseconds",
            false
        )
    );
    assert!(long.elapsed >= 200 && long.elapsed < 2000, "{long:?}");
    let missing = row("Missing");
    // JMeter 2.13 sets no response code (tests/data/runner/fidelity/resources.jmx).
    assert_eq!(missing.code.as_deref().unwrap_or(""), "");
    assert!(
        missing.message.starts_with(
            "Exception occured whilst executing System Call: java.io.IOException: Cannot run \
             program \"/nonexistent/command\""
        ) && missing
            .message
            .ends_with("error=2, No such file or directory"),
        "{}",
        missing.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_streams_go_to_and_come_from_the_files_named() {
    let dir = std::env::temp_dir().join(format!("loadlake-os-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    std::fs::write(path("in.txt"), "from a file\n").unwrap();
    let stream = |prop: &str, file: &str| {
        format!(
            r#"<stringProp name="SystemSampler.{prop}">{}</stringProp>"#,
            esc(&path(file))
        )
    };
    let script = "cat; echo err >&2";
    let children = shell(
        "Both to one",
        script,
        &(stream("stdin", "in.txt") + &stream("stdout", "both.txt")),
        "",
    ) + &shell(
        "Apart",
        script,
        &(stream("stdin", "in.txt") + &stream("stdout", "out.txt") + &stream("stderr", "err.txt")),
        "",
    ) + &shell("Read", script, &stream("stdin", "in.txt"), "")
        + &shell(
            "No folder",
            script,
            &stream("stdout", "missing/out.txt"),
            "",
        );
    let xml = jmx(&[], &group("G", 1, 0, 1, "", &children));
    let (summary, rows) = run(&xml, 1, RunOptions::default()).await;
    let file = |name: &str| std::fs::read_to_string(path(name)).unwrap_or_default();
    // Without an error file, the error follows the output into its file; the body is empty.
    assert_eq!(file("both.txt"), "from a file\nerr\n");
    assert_eq!(
        (file("out.txt"), file("err.txt")),
        ("from a file\n".to_string(), "err\n".to_string())
    );
    let row = |label: &str| labelled(&rows, label)[0].clone();
    assert_eq!(
        (
            row("Both to one").bytes_received,
            row("Apart").bytes_received
        ),
        (0, 0)
    );
    // Read: the input file's text, then the error's.
    assert_eq!(
        row("Read").bytes_received,
        ("from a file\n".len() + "err\n".len()) as i64
    );
    let missing = row("No folder");
    assert_eq!(missing.code.as_deref().unwrap_or(""), "");
    assert_eq!(
        missing.message,
        format!(
            "Exception occured whilst executing System Call: java.io.FileNotFoundException: {} \
             (No such file or directory)",
            path("missing/out.txt")
        )
    );
    assert_eq!((summary.samples, summary.errors), (4, 1));
    let _ = std::fs::remove_dir_all(&dir);
}
