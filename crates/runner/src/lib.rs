//! loadlake's native load runner (first slice): runs a subset of JMeter test plans without
//! JMeter and streams every sample, in the canonical schema, into a
//! [`SampleSink`](loadlake_schema::SampleSink) — the same path imported JTL files take.
//!
//! Two steps:
//! 1. [`compile`] walks the enabled TestPlan tree of a [`loadlake_plan::Plan`] into a
//!    [`RunnablePlan`]: `${var}`, `${__P(…)}` and `${__property(…)}` substituted, HTTP Request
//!    Defaults and Header Managers merged, Constant Timers and Response Assertions attached to the
//!    samplers in their scope. Every enabled element outside the supported subset is refused with
//!    [`RunnerError::Unsupported`], never skipped. [`RunnablePlan::explain`] says what a run
//!    would do (`loadlake run --validate`).
//! 2. [`run`] executes it on the caller's tokio runtime: one task per virtual user, ramp-up
//!    spread evenly, loops and durations honoured, a keep-alive HTTP/1.1 client per user, and one
//!    JMeter-style sample per request (plus one per Transaction Controller).
//!
//! Supported elements: TestPlan (user-defined variables, `serialize_threadgroups`), Arguments
//! (User Defined Variables), ThreadGroup (threads, ramp-up, loops incl. forever, scheduler
//! duration and delay, `on_sample_error`), HTTPSamplerProxy (http only), HTTP Request Defaults,
//! HeaderManager, HTTP Cookie Manager (cookies set by responses; clear each iteration), Constant /
//! Uniform Random / Gaussian Random Timers,
//! ResponseAssertion (response data / code / message), Regular Expression Extractor (response
//! body; its variables are filled into later requests at run time),
//! TransactionController (non-parent mode), Simple Controller, Loop Controller. Listeners
//! (ResultCollector, Summariser) are recognised and ignored: the runner records every sample.
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

mod assertion;
mod compile;
mod compile_http;
mod cookies;
mod error;
mod extract;
mod http;
mod jtl;
mod model;
mod run;
mod vars;
mod vu;

pub use assertion::{ResponseAssertion, TestField};
pub use compile::compile;
pub use error::RunnerError;
pub use extract::RegexExtract;
pub use jtl::{JTL_COLUMNS, JtlError, JtlTee};
pub use model::{HttpStep, Loops, OnSampleError, RandomDelay, RunnablePlan, Step, ThreadGroupPlan};
pub use run::{BATCH_ROWS, FLUSH_EVERY, RunOptions, RunSummary, run};
