//! A disk that fills up (a small tmpfs mounted by the test; needs root, else skipped with a
//! message): a sample stream gets a clear RESOURCE_EXHAUSTED, an import fails with exit 3
//! (the environment, not the input), nothing acknowledged is lost, and once space is freed the
//! store recovers the stream's run and imports work again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use loadlake_server::pb;
use loadlake_server::pb::ingest_service_client::IngestServiceClient;
use tonic::Code;

use super::crash::{assert_every_run_whole, assert_tmp_empty};
use super::streams::{ipc, ipc_samples, open, start_stream};
use super::{Served, channel, runtime};
use crate::common::*;

/// A tmpfs of `size` mounted on `dir`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the disk is full (or `limit` bytes); returns the bytes written.
fn fill(path: &Path, limit: usize) -> usize {
    let mut f = std::fs::File::create(path).expect("create filler");
    let block = vec![0u8; 64 * 1024];
    let mut written = 0;
    while written < limit {
        match f.write(&block) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n,
        }
    }
    let _ = f.sync_all();
    written
}

#[test]
fn a_full_disk_fails_streams_and_imports_cleanly_and_loses_nothing_acknowledged() {
    let store = TestStore::new();
    let Some(_tmpfs) = Tmpfs::mount(store.path(), "8m") else {
        eprintln!("skipped: mounting a tmpfs needs root (this test fills a small disk)");
        return;
    };
    // Leave about 1.5 MB for the store.
    let filler = store.path().join("filler");
    fill(&filler, 6_500_000);

    let served = Served::start(&store, &[]);
    let (acked, run_id, refused) = runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&served).await);
        let (tx, mut acks) = start_stream(&mut ingest, open("", "filling", "")).await;
        let (mut acked, mut run_id, mut refused) = (0, String::new(), None);
        for n in 0..5_000 {
            if tx
                .send(ipc(ipc_samples("GET /full", n * 500, 500)))
                .await
                .is_err()
            {
                break;
            }
            match acks.message().await {
                Ok(Some(ack)) => (acked, run_id) = (ack.samples, ack.run_id),
                Ok(None) => break,
                Err(status) => {
                    refused = Some(status);
                    break;
                }
            }
        }
        (acked, run_id, refused)
    });
    let refused = refused.expect("the stream filled the disk and was refused");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused}");
    assert!(
        acked > 0,
        "some batches were acknowledged before the disk filled"
    );

    // The last bytes too: an import now cannot write its first part.
    let last = store.path().join("filler-2");
    fill(&last, 8 << 20);
    let jtl = repo_root().join("sample-data/checkout.jtl");
    let out = store.run(&[
        "import",
        jtl.to_str().expect("utf-8"),
        "--name",
        "while full",
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No space left"), "{stderr}");
    // An upload too: a clear RESOURCE_EXHAUSTED, not "bad input".
    let upload = runtime().block_on(async {
        let mut ingest = IngestServiceClient::new(channel(&served).await);
        let chunk = pb::ImportFileChunk {
            options: Some(pb::ImportOptions {
                file_name: "checkout.jtl".into(),
                force: true,
                ..Default::default()
            }),
            data: std::fs::read(&jtl).expect("fixture"),
        };
        ingest.import_file(futures::stream::iter(vec![chunk])).await
    });
    let refused = upload.expect_err("an upload onto a full disk fails");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused}");
    drop(served);

    // Space freed: the next open finishes the stream's run with every acknowledged sample.
    std::fs::remove_file(&filler).expect("free space");
    std::fs::remove_file(&last).expect("free space");
    let runs = assert_every_run_whole(&store);
    let (kept, status) = runs.get(&run_id).expect("the streamed run is listed");
    assert!(*kept >= acked, "kept {kept} of {acked} acknowledged");
    assert_eq!(status, "incomplete");
    assert_tmp_empty(&store);
    // And the store takes imports again.
    let id = store.import(&[jtl.to_str().expect("utf-8"), "--name", "after"]);
    assert_eq!(store.run_entry(&id)["samples"], 720);
}

#[test]
fn a_live_run_on_a_full_disk_fails_cleanly_and_keeps_what_it_wrote() {
    let tick = Tick::new();
    let Some(_tmpfs) = Tmpfs::mount(tick.store.path(), "4m") else {
        eprintln!("skipped: mounting a tmpfs needs root (this test fills a small disk)");
        return;
    };
    // About 300 KB left: a few seconds of parts, written once a second.
    fill(&tick.store.path().join("filler"), 3_900_000);
    let out = tick.run(&["-Jthink=2", "-Jloops=-1", "--duration", "60s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the run failed: {stderr}");
    assert_eq!(
        out.status.code(),
        Some(3),
        "the environment's fault: {stderr}"
    );
    assert!(stderr.contains("No space left"), "{stderr}");

    std::fs::remove_file(tick.store.path().join("filler")).expect("free space");
    let runs = assert_every_run_whole(&tick.store);
    assert_eq!(
        runs.len(),
        1,
        "the run's written parts are one run: {runs:?}"
    );
    let (samples, status) = runs.values().next().expect("one run");
    assert!(*samples > 0, "it had written parts before the disk filled");
    assert_eq!(status, "incomplete");
    assert_tmp_empty(&tick.store);
}
