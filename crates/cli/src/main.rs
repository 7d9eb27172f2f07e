//! `loadlake`: import JMeter results into a Parquet store and ask SQL questions across runs.
//!
//! This binary only parses arguments, wires the crates together and chooses the output format;
//! data goes to stdout, diagnostics to stderr.

mod args;
mod commands;
mod engine;
mod exit;
mod output;
mod render;
mod run_ref;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use args::{Cli, Command};
use commands::{
    agent, cases, compare, curve, delete, import, quickstart, report, run, runs, serve, sql,
    status, trend,
};
use exit::Gate;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server must outlive whoever reads its diagnostics; the other commands are filters.
    if !matches!(cli.command, Command::Serve(_)) {
        restore_default_sigpipe();
    }
    init_tracing(cli.verbose);
    match run_command(cli) {
        Ok(gate) => gate.exit_code(),
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            exit::error_exit_code(&e)
        }
    }
}

/// The error and its causes, each cause once (some libraries repeat their source in their text).
fn error_chain(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Rust ignores SIGPIPE, so `loadlake sql … | head` would end in a "broken pipe" panic; a Unix
/// filter should simply stop when its reader goes away, as with the default action.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called in main before any other thread exists (argument parsing starts none);
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOADLAKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A closed stderr must not turn a log line into a panic (the server keeps serving).
        .log_internal_errors(false)
        .with_target(false)
        .without_time()
        .init();
}

/// Runs the command; `Gate::Fail` when its gate (SLA, regressions) failed.
fn run_command(cli: Cli) -> anyhow::Result<Gate> {
    let location = cli.store_location()?;
    let workers = cli.workers()?;
    engine::use_workers(workers.clone());
    let open_store = || {
        loadlake_store::Store::open_location(&location)
            .with_context(|| format!("opening the store at {location}"))
    };
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")
    };
    // The load generator on one CPU (a container limit, `taskset`): a single-threaded scheduler
    // costs less per request than a multi-threaded one with one worker, and nothing is lost.
    let load_runtime = || {
        if std::thread::available_parallelism().is_ok_and(|n| n.get() == 1) {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")
        } else {
            runtime()
        }
    };
    let pass = |r: anyhow::Result<()>| r.map(|()| Gate::Pass);
    match cli.command {
        Command::Import(args) => pass(import::import_files(&open_store()?, &args)),
        Command::Runs(args) => {
            let store = open_store()?;
            pass(runtime()?.block_on(runs::list_runs(&store, &args)))
        }
        Command::Sql(args) => {
            let query = sql::sql_text(&args)?;
            let store = open_store()?;
            pass(runtime()?.block_on(sql::run_sql(&store, &query, args.format)))
        }
        Command::Report(args) => {
            let store = open_store()?;
            runtime()?.block_on(report::report(&store, &args))
        }
        Command::Cases(args) => {
            let store = open_store()?;
            pass(runtime()?.block_on(cases::list_cases(&store, &args)))
        }
        Command::Detail(args) => {
            let store = open_store()?;
            pass(runtime()?.block_on(cases::show_detail(&store, &args)))
        }
        Command::Curve(args) => {
            let store = open_store()?;
            pass(runtime()?.block_on(curve::show_curve(&store, &args)))
        }
        Command::Compare(args) => {
            let store = open_store()?;
            runtime()?.block_on(compare::compare_runs(&store, &args))
        }
        Command::Trend(args) => {
            let store = open_store()?;
            pass(runtime()?.block_on(trend::show_trend(&store, &args)))
        }
        Command::Run(args) => pass(run::run_plan(&open_store()?, &args, &load_runtime()?)),
        Command::Status(args) => pass(status::show_status(&open_store()?, &args)),
        Command::Stop(args) => pass(status::stop_run(&open_store()?, &args)),
        Command::Delete(args) => pass(delete::delete_runs(&open_store()?, &args)),
        Command::Agent(args) => {
            let token = args
                .token_file
                .as_deref()
                .map(args::read_token)
                .transpose()?;
            pass(load_runtime()?.block_on(agent::join_as_agent(&args, token)))
        }
        Command::Serve(args) => {
            pass(runtime()?.block_on(serve::serve(location.clone(), &args, workers)))
        }
        Command::Quickstart(args) => {
            pass(quickstart::quickstart(&open_store()?, &args, &runtime()?))
        }
    }
}
