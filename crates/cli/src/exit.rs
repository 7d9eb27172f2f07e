//! Exit codes (docs/cli.md): 0 success, 1 a gate failed (an SLA rule, or a regression with
//! `compare --fail-on-regression`), 2 bad input (arguments, files, unknown runs, invalid SQL),
//! 3 internal error (the store, a query's execution, rendering).

use std::process::ExitCode;

use datafusion::error::DataFusionError;
use loadlake_import::ImportError;
use loadlake_query::QueryError;
use loadlake_store::StoreError;

/// Whether a command's gate passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Pass,
    Fail,
}

impl Gate {
    /// `Fail` if `passed` is false.
    pub fn from_passed(passed: bool) -> Gate {
        if passed { Gate::Pass } else { Gate::Fail }
    }

    /// Exit code 0 or 1.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Gate::Pass => ExitCode::SUCCESS,
            Gate::Fail => ExitCode::from(1),
        }
    }
}

/// 3 when the error comes from loadlake or its environment, else 2 (the input was bad).
pub fn error_exit_code(e: &anyhow::Error) -> ExitCode {
    let internal = e.chain().any(|cause| {
        if let Some(q) = cause.downcast_ref::<QueryError>() {
            return match q {
                QueryError::DataFusion(d) => !is_users_mistake(d),
                QueryError::Arrow(_) => true,
                QueryError::Store(s) => store_is_internal(s),
                QueryError::ReadOnly(_) => false,
            };
        }
        if let Some(s) = cause.downcast_ref::<StoreError>() {
            return store_is_internal(s);
        }
        if let Some(i) = cause.downcast_ref::<ImportError>() {
            return match i {
                ImportError::Store(s) => store_is_internal(s),
                ImportError::Sink(_) => true,
                _ => false,
            };
        }
        cause
            .downcast_ref::<loadlake_report::ReportError>()
            .is_some()
    });
    ExitCode::from(if internal { 3 } else { 2 })
}

/// A store error is ours unless it is an unknown run (the user's).
fn store_is_internal(e: &StoreError) -> bool {
    !matches!(e, StoreError::NoSuchRun(_))
}

/// SQL that does not parse or plan is the user's; anything failing later is ours.
fn is_users_mistake(e: &DataFusionError) -> bool {
    match e {
        DataFusionError::SQL(..) | DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => {
            true
        }
        DataFusionError::Context(_, inner) => is_users_mistake(inner),
        _ => false,
    }
}
