//! The import pipeline shared by `loadlake import` and the gRPC `ImportFile`: JTL files →
//! decoders (crates/ingest, on the calling thread) → a [`ThreadedSink`] → the store's run writer
//! (crates/store, on its own thread) → one committed run. Re-imports of the same bytes are
//! refused unless forced; rejected rows are kept with the run. (docs/glossary.md tells "import",
//! this pipeline, from "ingest", the decoders' crate and the gRPC service.)

mod fault;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use loadlake_ingest::{CaseResolver, DecodeOptions, IngestError, RejectLog, decode_file};
use loadlake_plan::PlanError;
use loadlake_schema::{RunManifest, RunStatus, SinkError, SourceFile, ThreadedSink};
use loadlake_store::{RunDraft, Store, StoreError, WriterOptions, content_hash};

/// Batches waiting between the decoding thread and the Parquet-writing thread.
const PIPELINE_DEPTH: usize = 4;

/// Why an import failed. Nothing is left in the store when it does.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: no such file")]
    NoSuchFile(PathBuf),
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

/// Imports `req.files` as one run and returns its manifest.
pub fn import_files(store: &Store, req: &ImportRequest) -> Result<RunManifest, ImportError> {
    if let Some(missing) = req.files.iter().find(|f| !f.is_file()) {
        return Err(ImportError::NoSuchFile(missing.clone()));
    }
    let names: Vec<String> = match &req.source_names {
        Some(names) if names.len() == req.files.len() => names.clone(),
        _ => req.files.iter().map(|f| f.display().to_string()).collect(),
    };
    let hashed = req
        .files
        .iter()
        .zip(&names)
        .map(|(f, name)| Ok((name.clone(), content_hash(f)?)))
        .collect::<Result<Vec<_>, ImportError>>()?;
    check_duplicates(store, &hashed, req.force)?;

    let writer = store.begin_run(WriterOptions::default())?;
    let run_id = writer.run_id().clone();
    let mut sink = ThreadedSink::spawn(writer, PIPELINE_DEPTH);
    let mut rejects = RejectLog::new(req.strict, req.max_errors);
    let mut sources = Vec::new();
    let mut next_row = 0i64;
    for (path, (name, hash)) in req.files.iter().zip(&hashed) {
        let report = decode_file(path, &req.decode, next_row, &mut sink, &mut rejects)?;
        next_row += report.samples as i64;
        for w in &report.warnings {
            tracing::warn!("{name}: {w}");
        }
        let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        sources.push(SourceFile {
            path: name.clone(),
            size_bytes,
            content_hash: hash.clone(),
            format: report
                .format
                .map(|f| f.as_str())
                .unwrap_or("csv")
                .to_string(),
            columns: report.columns,
            has_header: report.has_header,
            delimiter: report.delimiter.map(|d| (d as char).to_string()),
            samples: report.samples,
            rejected: report.rejected,
            warnings: report.warnings,
        });
    }
    let writer = sink.finish()?;
    if next_row == 0 {
        let first = rejects
            .rejects
            .first()
            .map(|r| format!("; first problem: {}", r.describe()))
            .unwrap_or_default();
        return Err(ImportError::NothingImported {
            run_id: run_id.to_string(),
            first_problem: first,
        });
    }
    let name = req.name.clone().unwrap_or_else(|| {
        Path::new(&names[0])
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run_id.to_string())
    });
    let draft = RunDraft {
        name,
        tags: req.tags.clone(),
        status: RunStatus::Complete,
        sources,
        plan: req.plan.clone(),
    };
    Ok(writer.commit(draft, &rejects.rejects)?)
}
