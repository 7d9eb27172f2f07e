//! `loadlake import --each PATTERN`: a back-fill, one run per file (crates/import's
//! `import_each`), with a progress bar (files, rows, MB/s, ETA) when stderr is a terminal and
//! none in a pipe; failures are reported as they happen, a summary line closes, and any failed
//! file makes the command fail (exit 2) after the others are imported.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use loadlake_import::{EachOutcome, EachRequest, NameFrom, files_matching, import_each as each};
use loadlake_store::Store;

use super::request_of;
use crate::args::{ImportArgs, ImportOutput, NameFromArg};

/// The counters the progress bar's message shows.
#[derive(Default)]
struct Counts {
    files: AtomicU64,
    rows: AtomicU64,
}

impl Counts {
    fn message(&self, total_files: usize) -> String {
        format!(
            "{}/{total_files} files, {} rows",
            self.files.load(Ordering::Relaxed),
            self.rows.load(Ordering::Relaxed)
        )
    }
}

/// A bar over the files' bytes on a terminal, a hidden one otherwise.
fn progress_bar(total_bytes: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{wide_bar} {percent:>3}% {binary_bytes_per_sec} ETA {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The files of the back-fill: those the pattern matches, then the FILEs given besides it (a
/// shell that expanded the pattern itself leaves its matches there), each once.
fn files_of(args: &ImportArgs, pattern: &str) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    if args.files.iter().any(|f| f.as_os_str() == "-") {
        bail!("'-' (standard input) cannot be imported with --each: import it alone");
    }
    let (base, mut files) = files_matching(pattern)?;
    for file in &args.files {
        if !files.contains(file) {
            files.push(file.clone());
        }
    }
    Ok((base, files))
}

/// The line that reports a file that failed: the error, with the file's path first unless the
/// error names it already.
fn failure_line(file: &Path, error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    let path = file.display().to_string();
    if text.contains(&path) {
        format!("failed: {text}")
    } else {
        format!("failed: {path}: {text}")
    }
}

/// `loadlake import --each PATTERN …`.
pub(super) fn import_each(store: &Store, args: &ImportArgs, pattern: &str) -> anyhow::Result<()> {
    let (base, files) = files_of(args, pattern)?;
    let total_files = files.len();
    let total_bytes = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let request = EachRequest {
        files,
        base,
        name_from: match args.mode.name_from {
            NameFromArg::Path => NameFrom::Path,
            NameFromArg::File => NameFrom::File,
            NameFromArg::Stem => NameFrom::Stem,
        },
        template: request_of(args)?,
        jobs: args.mode.jobs.map_or(0, usize::from),
    };

    let bar = progress_bar(total_bytes);
    let counts = Arc::new(Counts::default());
    bar.set_message(counts.message(total_files));
    let (rows_bar, rows_counts) = (bar.clone(), Arc::clone(&counts));
    let mut on_rows = move |n: u64| {
        rows_counts.rows.fetch_add(n, Ordering::Relaxed);
        rows_bar.set_message(rows_counts.message(total_files));
    };
    let mut on_file = |file: &Path, outcome: &EachOutcome| {
        counts.files.fetch_add(1, Ordering::Relaxed);
        bar.inc(std::fs::metadata(file).map(|m| m.len()).unwrap_or(0));
        bar.set_message(counts.message(total_files));
        match outcome {
            EachOutcome::Imported(m) if m.rejects.count > 0 => bar.suspend(|| {
                eprintln!(
                    "{}: {} rows rejected in run {} (listed in {})",
                    file.display(),
                    m.rejects.count,
                    m.run_id,
                    store.rejects_location(&m.run_id)
                )
            }),
            EachOutcome::Imported(_) => {}
            EachOutcome::AlreadyImported { run_id, name } => tracing::info!(
                "{}: skipped, already imported as run {run_id} ('{name}')",
                file.display()
            ),
            EachOutcome::Failed(e) => bar.suspend(|| eprintln!("{}", failure_line(file, e))),
        }
    };
    let result = each(store, &request, &mut on_rows, &mut on_file);
    bar.finish_and_clear();
    let outcomes = result?;

    let mut manifests = Vec::new();
    let (mut skipped, mut failed) = (0, 0);
    for (_, outcome) in outcomes {
        match outcome {
            EachOutcome::Imported(m) => manifests.push(m),
            EachOutcome::AlreadyImported { .. } => skipped += 1,
            EachOutcome::Failed(_) => failed += 1,
        }
    }
    match args.format {
        ImportOutput::Id => {
            for m in &manifests {
                println!("{}", m.run_id);
            }
        }
        ImportOutput::Json => println!("{}", serde_json::to_string_pretty(&manifests)?),
    }
    let rows: u64 = manifests.iter().map(|m| m.samples).sum();
    eprintln!(
        "imported {}, skipped {skipped} already imported, failed {failed} (of {total_files} files; {rows} samples)",
        manifests.len()
    );
    if failed > 0 {
        bail!("{failed} of {total_files} files could not be imported (listed above)");
    }
    Ok(())
}
