//! The import pipeline shared by `loadlake import` and the gRPC `ImportFile`: JTL files (plain,
//! compressed, or the JTL members of zip archives) → decoders (crates/ingest, on the calling
//! thread) → a [`ThreadedSink`] → the store's run writer (crates/store, on its own thread) → one
//! committed run. Re-imports of the same bytes are refused unless forced; rejected rows are kept
//! with the run. [`import_each`] back-fills many files, one run each; [`import_follow`] follows
//! a JTL CSV still being written as a live run. (docs/glossary.md tells
//! "import", this pipeline, from "ingest", the decoders' crate and the gRPC service.)
//!
//! [`ThreadedSink`]: loadlake_schema::ThreadedSink

mod archive;
mod each;
mod fault;
mod follow;
mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use loadlake_ingest::{CaseResolver, DecodeOptions, IngestError};
use loadlake_plan::PlanError;
use loadlake_schema::{RunManifest, SinkError};
use loadlake_store::{Store, StoreError};

pub use archive::MAX_RATIO;
pub use each::{DEFAULT_JOBS, EachOutcome, EachRequest, NameFrom, files_matching, import_each};
pub use follow::{FollowRequest, import_follow};
pub use run::RowsDone;

/// Why an import failed. Nothing is left in the store when it does.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: no such file")]
    NoSuchFile(PathBuf),
    #[error(
        "{0}: a directory without a simulation.log; loadlake imports result files, and Gatling results folders (the folder holding simulation.log)"
    )]
    Directory(PathBuf),
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{first} and {second} have the same bytes; give each file once")]
    SameBytes { first: String, second: String },
    #[error(
        "{path} was already imported as run {run_id} ('{name}'): same bytes ({hash}); pass --force to import it again"
    )]
    AlreadyImported {
        path: String,
        run_id: String,
        name: String,
        hash: String,
    },
    #[error("reading the plan {path}: {source}")]
    Plan {
        path: String,
        #[source]
        source: PlanError,
    },
    #[error("{archive}: not a readable zip archive: {source}")]
    Zip {
        archive: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error(
        "{archive}: member {member} cannot be read ({source}); unpack it and import the file itself"
    )]
    ZipMember {
        archive: String,
        member: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error(
        "{archive}: member {member} expands past {limit} bytes from {stored} stored bytes, more than {ratio} times (a zip bomb?); nothing was imported",
        ratio = MAX_RATIO
    )]
    ZipBomb {
        archive: String,
        member: String,
        stored: u64,
        limit: u64,
    },
    #[error("{archive}: the zip archive holds no JMeter result file ({skipped})")]
    NoJtlInArchive { archive: String, skipped: String },
    #[error(
        "{file}: {reason}; following stopped: the {samples} samples read before are committed as run {run_id} (status incomplete)"
    )]
    FollowBroken {
        file: String,
        reason: String,
        run_id: String,
        samples: u64,
    },
    #[error(
        "{0}: --follow reads JMeter JTL files (CSV or XML); import a k6 or Gatling file once the tool has finished writing it"
    )]
    FollowFormat(String),
    #[error("--each '{pattern}': {reason}")]
    Pattern { pattern: String, reason: String },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing samples to the store: {0}")]
    Sink(#[from] SinkError),
    #[error("no sample could be imported (run {run_id} abandoned){first_problem}")]
    NothingImported {
        run_id: String,
        first_problem: String,
    },
}

/// What to import and how.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The files; all become one run.
    pub files: Vec<PathBuf>,
    /// How each source is named in the manifest (default: its path), e.g. an uploaded file's
    /// original name.
    pub source_names: Option<Vec<String>>,
    /// Run name (default: the first source's file name).
    pub name: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub decode: DecodeOptions,
    /// Summary of the plan the cases came from, kept in the manifest.
    pub plan: Option<serde_json::Value>,
    /// Stop at the first rejected row.
    pub strict: bool,
    /// Give up after this many rejected rows.
    pub max_errors: u64,
    /// Import bytes that are already in the store.
    pub force: bool,
}

/// Reads a JMX plan: its enabled thread groups become cases; its summary goes into the manifest.
pub fn load_plan(path: &Path) -> Result<(CaseResolver, serde_json::Value), ImportError> {
    let fail = |source| ImportError::Plan {
        path: path.display().to_string(),
        source,
    };
    let plan = loadlake_plan::Plan::from_path(path).map_err(fail)?;
    let groups = plan
        .thread_groups()
        .into_iter()
        .filter(|g| g.enabled)
        .map(|g| (g.name.clone(), g.samplers.clone()));
    let resolver = CaseResolver::from_plan(groups);
    let mut summary = serde_json::to_value(plan.summary()).unwrap_or_default();
    if let Some(obj) = summary.as_object_mut() {
        obj.insert("path".into(), path.display().to_string().into());
    }
    Ok((resolver, summary))
}

/// Refuses files whose bytes are already in the store (or given twice).
fn check_duplicates(
    store: &Store,
    files: &[(String, String)],
    force: bool,
) -> Result<(), ImportError> {
    for (i, (name, hash)) in files.iter().enumerate() {
        if let Some((other, _)) = files[..i].iter().find(|(_, h)| h == hash) {
            return Err(ImportError::SameBytes {
                first: other.clone(),
                second: name.clone(),
            });
        }
        if force {
            continue;
        }
        if let Some(run) = store.find_source_hash(hash)? {
            return Err(ImportError::AlreadyImported {
                path: name.clone(),
                run_id: run.run_id.to_string(),
                name: run.name,
                hash: hash.clone(),
            });
        }
    }
    Ok(())
}

/// The name each file of `req` has in the run: `req.source_names`, else its path.
fn source_names(req: &ImportRequest) -> Vec<String> {
    match &req.source_names {
        Some(names) if names.len() == req.files.len() => names.clone(),
        _ => req.files.iter().map(|f| f.display().to_string()).collect(),
    }
}

/// `req` with each Gatling results folder (`gatling-results/run-xyz/`) replaced by the
/// `simulation.log` in it; `None` when no file is a directory.
fn gatling_folders(req: &ImportRequest) -> Result<Option<ImportRequest>, ImportError> {
    if !req.files.iter().any(|f| f.is_dir()) {
        return Ok(None);
    }
    let mut r = req.clone();
    for f in &mut r.files {
        if f.is_dir() {
            let log = f.join("simulation.log");
            if !log.is_file() {
                return Err(ImportError::Directory(f.clone()));
            }
            *f = log;
        }
    }
    Ok(Some(r))
}

/// Imports `req.files` as one run and returns its manifest. A zip archive's JTL members are
/// sources of that run, each with the archive's content hash. Files whose bytes are already in
/// the store (or given twice) are refused after decoding, before anything is committed.
pub fn import_files(store: &Store, req: &ImportRequest) -> Result<RunManifest, ImportError> {
    let resolved;
    let req = match gatling_folders(req)? {
        Some(r) => {
            resolved = r;
            &resolved
        }
        None => req,
    };
    if let Some(missing) = req.files.iter().find(|f| !f.is_file()) {
        return Err(ImportError::NoSuchFile(missing.clone()));
    }
    let names = source_names(req);
    // Hashed while decoded (one read of each file); duplicates refused before the commit.
    let known = vec![None; req.files.len()];
    let check = |hashed: &[(String, String)]| check_duplicates(store, hashed, req.force);
    run::write_run(store, req, &names, &known, &check, &mut |_| {})
}
