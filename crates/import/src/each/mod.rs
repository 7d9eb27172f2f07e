//! Back-fills (`loadlake import --each PATTERN`, issue 18): many files, one run each, named from
//! their paths, several imported at once (`pool.rs`). Files whose bytes a run already holds are
//! skipped and counted (the store's content hashes are read once, not once per file); a file
//! that cannot be imported is reported and the others go on; only a store that fails (a full
//! disk) stops the back-fill.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use loadlake_schema::RunManifest;
use loadlake_store::Store;

use crate::run::RowsDone;
use crate::{ImportError, ImportRequest};

mod pool;

pub use pool::DEFAULT_JOBS;

/// What names each run of a back-fill.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NameFrom {
    /// The file's path under the pattern's directory (`build-12/results.jtl.gz` for
    /// `ci/**/*.jtl*` matching `ci/build-12/results.jtl.gz`).
    #[default]
    Path,
    /// The file's name (`results.jtl.gz`).
    File,
    /// The file's name without its compression suffix and extension (`results`).
    Stem,
}

/// A back-fill: every file becomes its own run.
#[derive(Debug, Clone, Default)]
pub struct EachRequest {
    /// The files, in the order they are imported.
    pub files: Vec<PathBuf>,
    /// The directory [`NameFrom::Path`] names are relative to (the pattern's own directory).
    pub base: PathBuf,
    /// How runs are named when `template.name` is not set.
    pub name_from: NameFrom,
    /// Name (every run's, when set), tags, decoding and the reject policy of each run;
    /// its `files` and `source_names` are not used.
    pub template: ImportRequest,
    /// Files imported at once (0: [`DEFAULT_JOBS`]).
    pub jobs: usize,
}

/// What became of one file of a back-fill.
#[derive(Debug)]
pub enum EachOutcome {
    /// Imported as this run.
    Imported(RunManifest),
    /// Its bytes are already in this run (an earlier import, or an earlier file of this one).
    AlreadyImported { run_id: String, name: String },
    /// It could not be imported (its input's fault); nothing of it is in the store.
    Failed(ImportError),
}

/// The files a `--each` pattern matches (`*`, `?`, `[ab]`, `**` for any directories), sorted,
/// and the pattern's directory (its components before the first wildcard).
pub fn files_matching(pattern: &str) -> Result<(PathBuf, Vec<PathBuf>), ImportError> {
    let bad = |reason: String| ImportError::Pattern {
        pattern: pattern.to_string(),
        reason,
    };
    let paths = glob::glob(pattern).map_err(|e| bad(e.to_string()))?;
    let mut files = Vec::new();
    for entry in paths {
        match entry {
            Ok(path) if path.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) => tracing::warn!("--each: {e}; skipped"),
        }
    }
    if files.is_empty() {
        return Err(bad("matches no file".to_string()));
    }
    files.sort();
    Ok((pattern_base(pattern), files))
}

/// A pattern's directory: its components before the first one with a wildcard (the parent of
/// a pattern without any).
fn pattern_base(pattern: &str) -> PathBuf {
    let path = Path::new(pattern);
    let mut base = PathBuf::new();
    for component in path.components() {
        let text = component.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[']) {
            return base;
        }
        base.push(component);
    }
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The run name of `file` under `how`.
fn run_name(file: &Path, base: &Path, how: NameFrom) -> String {
    let file_name = || {
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.display().to_string())
    };
    match how {
        NameFrom::Path => {
            let relative = file.strip_prefix(base).unwrap_or(file);
            let parts: Vec<_> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            parts.join("/")
        }
        NameFrom::File => file_name(),
        NameFrom::Stem => {
            let name = file_name();
            let lower = name.to_ascii_lowercase();
            let plain = [".gz", ".zst", ".zstd", ".bz2", ".zip"]
                .iter()
                .find(|s| lower.ends_with(*s) && lower.len() > s.len())
                .map_or(name.as_str(), |s| &name[..name.len() - s.len()]);
            match plain.rfind('.') {
                Some(dot) if dot > 0 => plain[..dot].to_string(),
                _ => plain.to_string(),
            }
        }
    }
}

/// Imports every file of `req` as its own run, up to `req.jobs` at once; outcomes in file
/// order. `on_rows` hears of every batch written, `on_file` of every file done (in file
/// order). Returns each file's outcome; fails only when the store does (whatever is committed
/// by then stays, and the runs in flight finish).
pub fn import_each(
    store: &Store,
    req: &EachRequest,
    on_rows: RowsDone<'_>,
    on_file: &mut dyn FnMut(&Path, &EachOutcome),
) -> Result<Vec<(PathBuf, EachOutcome)>, ImportError> {
    // The content hashes of every visible run, read once.
    let mut known = HashMap::new();
    if !req.template.force {
        for run in store.runs()? {
            for source in &run.sources {
                known
                    .entry(source.content_hash.clone())
                    .or_insert_with(|| (run.run_id.to_string(), run.name.clone()));
            }
        }
    }
    pool::run_all(store, req, known, on_rows, on_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patterns_directory_stops_at_the_first_wildcard() {
        assert_eq!(pattern_base("ci/**/*.jtl*"), PathBuf::from("ci"));
        assert_eq!(pattern_base("a/b/r?n.jtl"), PathBuf::from("a/b"));
        assert_eq!(pattern_base("*.jtl"), PathBuf::new());
        assert_eq!(pattern_base("a/b/c.jtl"), PathBuf::from("a/b"));
    }

    #[test]
    fn run_names_from_path_file_and_stem() {
        let file = Path::new("ci/build-12/shop/results.jtl.gz");
        let base = Path::new("ci");
        assert_eq!(
            run_name(file, base, NameFrom::Path),
            "build-12/shop/results.jtl.gz"
        );
        assert_eq!(run_name(file, base, NameFrom::File), "results.jtl.gz");
        assert_eq!(run_name(file, base, NameFrom::Stem), "results");
        let dated = Path::new("ci/run.2024-01-01.jtl");
        assert_eq!(run_name(dated, base, NameFrom::Stem), "run.2024-01-01");
        assert_eq!(run_name(Path::new("x/a.ZIP"), base, NameFrom::Stem), "a");
        assert_eq!(run_name(Path::new(".jtl"), base, NameFrom::Stem), ".jtl");
        // A file outside the base (given besides the pattern) keeps its whole path.
        assert_eq!(
            run_name(Path::new("other/r.jtl"), base, NameFrom::Path),
            "other/r.jtl"
        );
    }
}
