//! `loadlake import`: wires files → decoders → a threaded run writer → commit.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use loadlake_ingest::{CaseResolver, DecodeOptions, JtlFormat, RejectLog, decode_file};
use loadlake_schema::{RunManifest, RunStatus, SourceFile, ThreadedSink};
use loadlake_store::{RunDraft, Store, WriterOptions, content_hash};

use crate::cli::{ImportArgs, ImportOutput, InputFormat};

/// Batches waiting between the decoding thread and the Parquet-writing thread.
const PIPELINE_DEPTH: usize = 4;

/// Parses `--delimiter`: one character, or `\t` / `tab`.
fn parse_delimiter(d: &str) -> anyhow::Result<u8> {
    match d {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
        _ => bail!("--delimiter must be one ASCII character or \\t, not '{d}'"),
    }
}

fn parse_tags(tags: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    tags.iter()
        .map(|t| match t.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => bail!("--tag must be KEY=VALUE, not '{t}'"),
        })
        .collect()
}

/// Reads the plan: thread groups become cases; its summary goes into the manifest.
fn load_plan(path: &Path) -> anyhow::Result<(CaseResolver, serde_json::Value)> {
    let plan = loadlake_plan::Plan::from_path(path)
        .with_context(|| format!("reading the plan {}", path.display()))?;
    let groups = plan
        .thread_groups()
        .into_iter()
        .filter(|g| g.enabled)
        .map(|g| (g.name.clone(), g.samplers.clone()));
    let resolver = CaseResolver::from_plan(groups);
    let mut summary = serde_json::to_value(plan.summary()).context("summarising the plan")?;
    if let Some(obj) = summary.as_object_mut() {
        obj.insert("path".into(), path.display().to_string().into());
    }
    Ok((resolver, summary))
}

fn decode_options(args: &ImportArgs, cases: CaseResolver) -> anyhow::Result<DecodeOptions> {
    Ok(DecodeOptions {
        format: args.input_format.map(|f| match f {
            InputFormat::Csv => JtlFormat::Csv,
            InputFormat::Xml => JtlFormat::Xml,
        }),
        columns: args.columns.clone(),
        jmeter_version: args.jmeter_version.clone(),
        delimiter: args.delimiter.as_deref().map(parse_delimiter).transpose()?,
        timestamp_format: args.timestamp_format.clone(),
        timezone: args.timezone.parse().map_err(|_| {
            anyhow::anyhow!(
                "unknown --timezone '{}' (use an IANA name such as Europe/Paris)",
                args.timezone
            )
        })?,
        cases,
        ..DecodeOptions::default()
    })
}

/// Refuses files whose bytes are already in the store (or repeated on the command line).
fn check_duplicates(store: &Store, files: &[(&Path, String)], force: bool) -> anyhow::Result<()> {
    for (i, (path, hash)) in files.iter().enumerate() {
        if let Some((other, _)) = files[..i].iter().find(|(_, h)| h == hash) {
            bail!(
                "{} and {} have the same bytes; give each file once",
                other.display(),
                path.display()
            );
        }
        if force {
            continue;
        }
        if let Some(run) = store.find_source_hash(hash)? {
            bail!(
                "{} was already imported as run {} ('{}'): same bytes ({hash}); pass --force to import it again",
                path.display(),
                run.run_id,
                run.name
            );
        }
    }
    Ok(())
}

/// Imports `args.files` as one run and returns its manifest.
pub fn import_files(store: &Store, args: &ImportArgs) -> anyhow::Result<RunManifest> {
    for f in &args.files {
        if !f.is_file() {
            bail!("{}: no such file", f.display());
        }
    }
    let tags = parse_tags(&args.tags)?;
    let (cases, plan) = match &args.plan {
        Some(p) => {
            let (c, s) = load_plan(p)?;
            (c, Some(s))
        }
        None => (CaseResolver::default(), None),
    };
    let opts = decode_options(args, cases)?;
    let hashed = args
        .files
        .iter()
        .map(|f| Ok((f.as_path(), content_hash(f)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    check_duplicates(store, &hashed, args.force)?;

    let writer = store.begin_run(WriterOptions::default())?;
    let run_id = writer.run_id().clone();
    let mut sink = ThreadedSink::spawn(writer, PIPELINE_DEPTH);
    let mut rejects = RejectLog::new(args.strict, args.max_errors);
    let mut sources = Vec::new();
    let mut next_row = 0i64;
    for (path, hash) in &hashed {
        let report = decode_file(path, &opts, next_row, &mut sink, &mut rejects)?;
        next_row += report.samples as i64;
        for w in &report.warnings {
            tracing::warn!("{}: {w}", path.display());
        }
        let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        sources.push(SourceFile {
            path: path.display().to_string(),
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
    let writer = sink.finish().context("writing samples to the store")?;
    if next_row == 0 {
        let first = rejects
            .rejects
            .first()
            .map(|r| r.describe())
            .unwrap_or_default();
        bail!(
            "no sample could be imported (run {run_id} abandoned){}",
            if first.is_empty() {
                String::new()
            } else {
                format!("; first problem: {first}")
            }
        );
    }
    let name = args.name.clone().unwrap_or_else(|| {
        args.files[0]
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run_id.to_string())
    });
    let draft = RunDraft {
        name,
        tags,
        status: RunStatus::Complete,
        sources,
        plan,
    };
    Ok(writer.commit(draft, &rejects.rejects)?)
}

/// `loadlake import`: imports, then prints the run id (or manifest) on stdout.
pub fn run(store: &Store, args: &ImportArgs) -> anyhow::Result<()> {
    let m = import_files(store, args)?;
    eprintln!(
        "imported {} samples ({} failed, {} rows rejected) from {} file(s) as run {}",
        m.samples,
        m.errors,
        m.rejects.count,
        m.sources.len(),
        m.run_id
    );
    if m.rejects.count > 0 {
        eprintln!(
            "rejected rows are listed in {}",
            store.layout().rejects_path(&m.run_id).display()
        );
    }
    match args.format {
        ImportOutput::Id => println!("{}", m.run_id),
        ImportOutput::Json => println!("{}", serde_json::to_string_pretty(&m)?),
    }
    Ok(())
}
