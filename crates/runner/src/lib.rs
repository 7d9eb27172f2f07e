//! loadlake's native load runner: runs JMeter test plans without JMeter and streams every
//! sample, in the canonical schema, into a [`SampleSink`](loadlake_schema::SampleSink) — the same
//! path imported JTL files take.
//!
//! Two steps:
//! 1. [`compile`] (or [`compile_at`], for plans that read CSV files) walks the enabled TestPlan
//!    tree of a [`loadlake_plan::Plan`] into a [`RunnablePlan`]: what is fixed is substituted
//!    (`${var}`, `${__P(…)}`), what changes per request becomes a run-time template, HTTP Request
//!    Defaults and Header Managers are merged, and timers, assertions and extractors are attached
//!    to the samplers in their scope. Every enabled element outside the supported set is refused
//!    with [`RunnerError::Unsupported`], never skipped. [`RunnablePlan::explain`] says what a run
//!    would do (`loadlake run --validate`).
//! 2. [`run`] executes it on the caller's tokio runtime: setUp groups, then the regular groups,
//!    then tearDown groups; one task per virtual user, ramp-up spread evenly, loops and durations
//!    honoured, a keep-alive HTTP/1.1 client (http and https) per user, and one JMeter-style
//!    sample per request (plus one per Transaction Controller).
//!
//! The supported elements, functions and the known differences from JMeter are listed in
//! `docs/runner.md`; `tests/e2e/fidelity.rs` compares runs with real JMeter 2.13 on the same plans.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::BTreeMap;
//! let plan = loadlake_plan::Plan::from_path("plan.jmx".as_ref())?;
//! let props = BTreeMap::from([("users".to_string(), "5".to_string())]);
//! let runnable = loadlake_runner::compile(&plan, &props)?;
//! println!("{}", runnable.explain());
//! let mut batches = Vec::new();
//! let summary = loadlake_runner::run(&runnable, Default::default(), &mut batches).await?;
//! println!("{} samples, {} errors", summary.samples, summary.errors);
//! # Ok(()) }
//! ```

mod compile;
mod elements;
mod error;
mod explain;
mod http;
mod jtl;
mod kpi;
mod model;
mod run;
mod sample;
mod script;
mod text;
mod vu;

pub use compile::{DataFiles, compile, compile_at, compile_with};
pub use elements::assertions::response_assertion::{ResponseAssertion, TestField};
pub use elements::extractors::regex_boundary::RegexExtract;
pub use elements::scripts::ScriptElement;
pub use error::{Refusal, RunnerError};
pub use jtl::{JTL_COLUMNS, JtlError, JtlTee};
pub use kpi::peak::{PeakReport, PeakSeeking, StepReport};
pub use kpi::rules::RuleWatch;
pub use model::ScriptStep;
pub use model::{
    ActionStep, DataFile, Dummy, FlowAction, HttpRequest, HttpStep, LocalSampler, LocalStep, Loops,
    OnSampleError, ParallelStep, RandomDelay, RunnablePlan, Step, ThreadGroupPlan, Timers,
};
pub use run::arrival::ArrivalRate;
pub use run::{BATCH_ROWS, CHANNEL_DEPTH, FLUSH_EVERY, RunOptions, RunSummary, run};
pub use vu::Split;
