//! `loadlake import --follow FILE`: a JTL (CSV or XML) that JMeter is still writing, imported as a live
//! run (crates/import's `import_follow`); Ctrl-C commits what was read.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use loadlake_import::FollowRequest;
use loadlake_schema::RunManifest;
use loadlake_store::Store;

use super::request_of;
use crate::args::ImportArgs;

/// A flag set when Ctrl-C is pressed (watched by a thread of its own).
fn ctrl_c_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("starting the Ctrl-C watcher")?;
    let set = Arc::clone(&flag);
    std::thread::spawn(move || {
        if runtime.block_on(tokio::signal::ctrl_c()).is_ok() {
            set.store(true, Ordering::Relaxed);
        }
    });
    Ok(flag)
}

/// `30s`, `1.5s`.
fn humantime(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// Follows the one file of `args` until it stops growing, then returns the committed run.
pub(super) fn import_follow(store: &Store, args: &ImportArgs) -> anyhow::Result<RunManifest> {
    let [file] = args.files.as_slice() else {
        bail!("--follow takes one JTL file");
    };
    if file.as_os_str() == "-" {
        bail!("--follow reads a file, not standard input");
    }
    let request = FollowRequest {
        file: file.clone(),
        idle: Duration::from_millis(u64::try_from(args.mode.idle).unwrap_or(0)),
        jmeter_log: args.mode.jmeter_log.clone(),
        template: request_of(args)?,
    };
    let stop = ctrl_c_flag()?;
    let mut started = |run_id: &str| {
        eprintln!(
            "following {} as run {run_id} (live: loadlake status {run_id}); it is committed when \
             the file has not grown for {}, when JMeter says the run ended{}, on Ctrl-C or on \
             loadlake stop {run_id}",
            file.display(),
            humantime(request.idle),
            request
                .jmeter_log
                .as_ref()
                .map(|l| format!(" (in {} or an XML file's </testResults>)", l.display()))
                .unwrap_or_else(|| " (an XML file's </testResults>)".into())
        )
    };
    Ok(loadlake_import::import_follow(
        store,
        &request,
        &mut started,
        &stop,
    )?)
}
