//! Whose fault a failure is, as the user sees it: the CLI's exit code (2 bad input, 3 the
//! environment / exhausted resources / loadlake) and the server's gRPC status, for real
//! failures — SQL naming a table that does not exist, a store on a read-only file system, and
//! scalar functions whose output would exceed the query memory limit (`--query-memory-mib`).

use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use tonic::Code;

use crate::common::*;
use crate::server::{Served, channel, runtime};

#[test]
fn sql_naming_an_unknown_table_is_bad_input() {
    let store = TestStore::new();
    let out = store.run(&["sql", "select * from nosuchtable"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("nosuchtable"), "stderr: {err}");
}

/// A tmpfs mounted on a directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }

    fn remount_read_only(&self) -> bool {
        Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_read_only_store_is_the_environment_not_bad_input() {
    // chmod does not stop root from writing, so the store lives on a tmpfs remounted read-only.
    let store = TestStore::new();
    let Some(tmpfs) = Tmpfs::mount(store.path()) else {
        eprintln!("skipped: mounting a tmpfs needs root (this test makes a read-only store)");
        return;
    };
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let jtl = jtl.to_str().expect("UTF-8 path");
    store.import(&[jtl, "--name", "before"]);
    if !tmpfs.remount_read_only() {
        eprintln!("skipped: remounting the tmpfs read-only failed");
        return;
    }
    let out = store.run(&["import", jtl, "--force"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    assert!(err.contains("Read-only file system"), "stderr: {err}");
    // What is there can still be read.
    let runs = store.sql("select name from runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["name"], "before");
}

/// The status code of a Flight SQL query that must fail: at planning (GetFlightInfo) or while
/// its batches stream (DoGet).
async fn flight_error(served: &Served, sql: &str) -> (Code, String) {
    let mut client = FlightSqlServiceClient::new(channel(served).await);
    let info = match client.execute(sql.to_string(), None).await {
        Ok(info) => info,
        Err(e) => {
            // The client reports a failed call as an ArrowError carrying the status.
            let text = e.to_string();
            let code = [
                Code::InvalidArgument,
                Code::NotFound,
                Code::ResourceExhausted,
                Code::Unavailable,
                Code::Internal,
            ]
            .into_iter()
            .find(|c| text.contains(c.description()))
            .unwrap_or(Code::Unknown);
            return (code, text);
        }
    };
    let endpoint = info.endpoint.into_iter().next().expect("an endpoint");
    let ticket = endpoint.ticket.expect("a ticket");
    let stream = match client.do_get(ticket).await {
        Ok(stream) => stream,
        Err(e) => return (Code::Unknown, e.to_string()),
    };
    match stream.try_collect::<Vec<_>>().await {
        Ok(batches) => {
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            panic!("{sql}: expected a failure, got {rows} rows");
        }
        Err(FlightError::Tonic(status)) => (status.code(), status.message().to_string()),
        Err(other) => (Code::Unknown, other.to_string()),
    }
}

#[test]
fn the_server_says_whose_fault_a_query_failure_is() {
    let store = TestStore::new();
    let served = Served::start(&store, &["--query-memory-mib", "64"]);
    runtime().block_on(async {
        let (code, text) = flight_error(&served, "select * from nosuchtable").await;
        assert_eq!(code, Code::InvalidArgument, "{text}");
        assert!(text.contains("nosuchtable"), "{text}");

        // Each asks for 1.5-3 times the 64 MiB limit (small enough that a server without the
        // limit answers instead of dying).
        for sql in [
            "select cardinality(range(1, 20000000))",
            "select length(repeat('x', 100000000))",
            "select cardinality(array_repeat(1, 10000000))",
        ] {
            let (code, text) = flight_error(&served, sql).await;
            assert_eq!(code, Code::ResourceExhausted, "{sql}: {text}");
            assert!(
                text.contains("the query memory limit is 67108864 bytes"),
                "{sql}: {text}"
            );
        }

        // Within the limit the same functions answer (hand-computed).
        let mut client = FlightSqlServiceClient::new(channel(&served).await);
        let info = client
            .execute("select cardinality(range(1, 11)) as n".to_string(), None)
            .await
            .expect("a small range");
        let ticket = info.endpoint[0].ticket.clone().expect("a ticket");
        let batches: Vec<_> = client
            .do_get(ticket)
            .await
            .expect("do_get")
            .try_collect()
            .await
            .expect("batches");
        let n =
            arrow::util::display::array_value_to_string(batches[0].column(0), 0).expect("display");
        assert_eq!(n, "10");
    });
}
