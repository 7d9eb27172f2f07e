//! `loadlake import`: arguments → an [`ImportRequest`] for crates/import → the run id; with
//! `--each`, a back-fill of one run per file (`each.rs`); with `--follow`, a file still being
//! written as a live run (`follow.rs`).

mod each;
mod follow;

use anyhow::{Context, bail};
use loadlake_import::{ImportRequest, load_plan};
use loadlake_ingest::{CaseResolver, DecodeOptions, JtlFormat};
use loadlake_schema::RunManifest;
use loadlake_store::Store;

use crate::args::{ImportArgs, ImportOutput, InputFormat, parse_tags};

/// Parses `--delimiter`: one character, or `\t` / `tab`.
fn parse_delimiter(d: &str) -> anyhow::Result<u8> {
    match d {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ if d.len() == 1 && d.is_ascii() => Ok(d.as_bytes()[0]),
        _ => bail!("--delimiter must be one ASCII character or \\t, not '{d}'"),
    }
}

fn decode_options(args: &ImportArgs, cases: CaseResolver) -> anyhow::Result<DecodeOptions> {
    Ok(DecodeOptions {
        format: args.input_format.map(|f| match f {
            InputFormat::Csv => JtlFormat::Csv,
            InputFormat::Xml => JtlFormat::Xml,
            InputFormat::K6Json => JtlFormat::K6Json,
            InputFormat::K6Csv => JtlFormat::K6Csv,
            InputFormat::Gatling => JtlFormat::Gatling,
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

/// The request `args` describe, its files aside (`--plan` read, tags and options parsed).
fn request_of(args: &ImportArgs) -> anyhow::Result<ImportRequest> {
    let tags = parse_tags(&args.tags)?;
    let (cases, plan) = match &args.plan {
        Some(p) => {
            let (c, s) = load_plan(p)?;
            (c, Some(s))
        }
        None => (CaseResolver::default(), None),
    };
    Ok(ImportRequest {
        files: Vec::new(),
        source_names: None,
        name: args.name.clone(),
        tags,
        decode: decode_options(args, cases)?,
        plan,
        strict: args.strict,
        max_errors: args.max_errors,
        force: args.force,
    })
}

/// Imports `args.files` as one run (crates/import) and returns its manifest.
pub(crate) fn import_run(store: &Store, args: &ImportArgs) -> anyhow::Result<RunManifest> {
    let mut request = request_of(args)?;
    // `-`: standard input, spooled to a file of the store first (the decoders sniff, and the
    // duplicate check hashes, the whole content).
    let _stdin_spool = if args.files.iter().any(|f| f.as_os_str() == "-") {
        if args.files.len() > 1 {
            bail!("'-' (standard input) cannot be imported together with files: import it alone");
        }
        let mut spool = store.spool_file().context("spooling standard input")?;
        std::io::copy(&mut std::io::stdin().lock(), spool.as_file_mut())
            .context("reading standard input into the store's spool")?;
        request.files = vec![spool.path().to_path_buf()];
        request.source_names = Some(vec!["stdin".to_string()]);
        Some(spool)
    } else {
        request.files = args.files.clone();
        None
    };
    Ok(loadlake_import::import_files(store, &request)?)
}

/// On object storage, after an import: removes the objects of runs deleted more than
/// [`loadlake_store::DELETED_RUN_GRACE`] ago and what imports killed more than
/// [`loadlake_store::ORPHAN_GRACE`] ago left (parts no manifest lists). Best effort: a failure
/// is logged, the import stands.
fn sweep_orphans(store: &Store) {
    if !store.is_remote() {
        return;
    }
    match store.purge_deleted(loadlake_store::DELETED_RUN_GRACE) {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed the objects of {n} deleted run(s)"),
        Err(e) => tracing::warn!("removing the objects of deleted runs: {e}"),
    }
    match store.collect_garbage(loadlake_store::ORPHAN_GRACE) {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} object(s) of imports that never committed"),
        Err(e) => tracing::warn!("removing what killed imports left: {e}"),
    }
}

/// `loadlake import`: imports, then prints the run id (or manifest) on stdout; with `--each`,
/// every file as its own run.
pub(crate) fn import_files(store: &Store, args: &ImportArgs) -> anyhow::Result<()> {
    if let Some(pattern) = &args.mode.each {
        let imported = each::import_each(store, args, pattern);
        sweep_orphans(store);
        return imported;
    }
    let m = if args.mode.follow {
        follow::import_follow(store, args)?
    } else {
        import_run(store, args)?
    };
    sweep_orphans(store);
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
            store.rejects_location(&m.run_id)
        );
    }
    match args.format {
        ImportOutput::Id => println!("{}", m.run_id),
        ImportOutput::Json => println!("{}", serde_json::to_string_pretty(&m)?),
    }
    Ok(())
}
