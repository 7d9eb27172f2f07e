//! Exit codes (docs/reports.md "Exit codes"): 0 success, 1 a gate failed (an SLA rule, or a
//! regression with `compare --fail-on-regression`), 2 bad input (arguments, files, unknown runs,
//! SQL that does not parse or plan), 3 anything else: the environment (a read-only store,
//! permissions), exhausted resources (a full disk, a quota, the query memory limit) or
//! loadlake itself. Whose fault an error is, is decided once by the libraries
//! ([`loadlake_schema::fault`]); this file only maps a [`Fault`] to a code.

use std::error::Error;
use std::process::ExitCode;

use datafusion::error::DataFusionError;
use loadlake_import::ImportError;
use loadlake_ingest::IngestError;
use loadlake_query::{QueryError, datafusion_fault};
use loadlake_schema::fault::{Fault, HasFault, input_io_fault, io_fault_in_chain};
use loadlake_store::StoreError;

/// Whether a command's gate passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    Pass,
    Fail,
}

impl Gate {
    /// `Fail` if `passed` is false.
    pub(crate) fn from_passed(passed: bool) -> Gate {
        if passed { Gate::Pass } else { Gate::Fail }
    }

    /// Exit code 0 or 1.
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Gate::Pass => ExitCode::SUCCESS,
            Gate::Fail => ExitCode::from(1),
        }
    }
}

/// 2 when the input was bad (the user's fault, or an unknown run), 3 otherwise.
pub(crate) fn error_exit_code(e: &anyhow::Error) -> ExitCode {
    ExitCode::from(fault_code(fault_of(e)))
}

/// The exit code of a fault.
fn fault_code(fault: Fault) -> u8 {
    match fault {
        Fault::User | Fault::NotFound => 2,
        Fault::Exhausted | Fault::Environment | Fault::Internal => 3,
    }
}

/// The fault of the outermost cause that knows its fault (a library error classifies its own
/// sources); an error no library typed (arguments, messages of the CLI itself) is the user's.
fn fault_of(e: &anyhow::Error) -> Fault {
    e.chain().find_map(cause_fault).unwrap_or(Fault::User)
}

fn cause_fault(cause: &(dyn Error + 'static)) -> Option<Fault> {
    if let Some(e) = cause.downcast_ref::<QueryError>() {
        return Some(e.fault());
    }
    if let Some(e) = cause.downcast_ref::<ImportError>() {
        return Some(e.fault());
    }
    if let Some(e) = cause.downcast_ref::<IngestError>() {
        return Some(e.fault());
    }
    if let Some(e) = cause.downcast_ref::<StoreError>() {
        return Some(e.fault());
    }
    if let Some(e) = cause.downcast_ref::<loadlake_schema::SinkError>() {
        return Some(e.fault());
    }
    if let Some(e) = cause.downcast_ref::<DataFusionError>() {
        return Some(datafusion_fault(e));
    }
    if let Some(e) = cause.downcast_ref::<loadlake_report::job::JobError>() {
        return Some(e.fault());
    }
    if let Some(e) = cause.downcast_ref::<loadlake_report::ReportError>() {
        return Some(io_fault_in_chain(e).unwrap_or(Fault::Internal));
    }
    // A bare OS error: the CLI read or wrote a path the user gave.
    cause.downcast_ref::<std::io::Error>().map(input_io_fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_map_to_the_documented_codes() {
        assert_eq!(fault_code(Fault::User), 2);
        assert_eq!(fault_code(Fault::NotFound), 2);
        assert_eq!(fault_code(Fault::Exhausted), 3);
        assert_eq!(fault_code(Fault::Environment), 3);
        assert_eq!(fault_code(Fault::Internal), 3);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_during_an_import_is_not_bad_input() {
        let import = ImportError::Ingest(IngestError::Sink {
            file: "big.jtl".into(),
            source: loadlake_schema::SinkError::new(StoreError::Io {
                path: "/store/tmp/run_id=x/part-1.parquet".into(),
                source: std::io::Error::from_raw_os_error(28), // ENOSPC
            }),
        });
        let e = anyhow::Error::new(import).context("importing big.jtl");
        assert_eq!(fault_of(&e), Fault::Exhausted);
        assert_eq!(fault_code(fault_of(&e)), 3);
    }

    #[test]
    fn sql_mistakes_inside_context_are_the_users() {
        let plan = DataFusionError::Plan("table 'nosuchtable' not found".into());
        let wrapped = DataFusionError::Context("planning".into(), Box::new(plan));
        let e = anyhow::Error::new(QueryError::DataFusion(wrapped));
        assert_eq!(fault_of(&e), Fault::User);
        let untyped = anyhow::anyhow!("--last must be positive");
        assert_eq!(fault_of(&untyped), Fault::User);
    }
}
