//! Whose fault a failure is: the one classification behind the CLI's exit codes and the gRPC
//! server's statuses (docs/reports.md "Exit codes", docs/api.md "Statuses").
//!
//! Each library says the [`Fault`] of its own error type next to it (`QueryError`, `StoreError`,
//! `ImportError`, `IngestError` implement [`HasFault`]); the binaries only map a `Fault` to an
//! exit code or a status. The rules for operating-system errors live here, once:
//! [`io_fault`] for a failure of the machine loadlake runs on, [`input_io_fault`] for a failure
//! to read a file the user named.

use std::error::Error;
use std::io::ErrorKind;

/// Who or what made an operation fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The caller's input: arguments, files, SQL that does not parse or plan.
    User,
    /// Something the caller named does not exist (a run id).
    NotFound,
    /// A limit was reached: the query memory limit, a full disk, a disk quota, a size cap.
    /// Retrying with a smaller request, or after space is freed, can succeed.
    Exhausted,
    /// The environment refused: a read-only file system, missing permissions, an I/O error of
    /// the device. Neither the input nor loadlake is wrong; an operator has to act.
    Environment,
    /// loadlake itself failed (a bug, or a store it cannot make sense of).
    Internal,
}

impl Fault {
    /// The more telling of two faults found in one error chain: an exhausted resource or the
    /// environment explains a failure better than a generic internal error, and anything
    /// specific beats the default of [`Fault::User`] for untyped errors.
    pub fn most_telling(self, other: Fault) -> Fault {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    fn rank(self) -> u8 {
        match self {
            Fault::User => 0,
            Fault::NotFound => 1,
            Fault::Internal => 2,
            Fault::Environment => 3,
            Fault::Exhausted => 4,
        }
    }
}

/// An error that knows its [`Fault`].
pub trait HasFault {
    /// Whose fault this error is.
    fn fault(&self) -> Fault;
}

/// Raw `errno` values that [`ErrorKind`] does not name on every platform.
#[cfg(target_os = "linux")]
mod errno {
    pub(super) const EPERM: i32 = 1;
    pub(super) const ENOMEM: i32 = 12;
    pub(super) const EACCES: i32 = 13;
    pub(super) const EFBIG: i32 = 27;
    pub(super) const ENOSPC: i32 = 28;
    pub(super) const EROFS: i32 = 30;
    pub(super) const EMFILE: i32 = 24;
    pub(super) const ENFILE: i32 = 23;
    pub(super) const EDQUOT: i32 = 122;
}

/// The fault of an operating-system error met while loadlake used its own files, the network or
/// memory: a full disk, a quota, a file-size limit, no memory or no file descriptors are
/// [`Fault::Exhausted`]; everything else (read-only file system, permissions, a device error, a
/// file that vanished) is [`Fault::Environment`]. An error that carries no OS error and says
/// the data is malformed is [`Fault::Internal`] (loadlake wrote or read something wrong).
pub fn io_fault(e: &std::io::Error) -> Fault {
    #[cfg(target_os = "linux")]
    if let Some(code) = e.raw_os_error() {
        return match code {
            errno::ENOSPC
            | errno::EDQUOT
            | errno::EFBIG
            | errno::ENOMEM
            | errno::EMFILE
            | errno::ENFILE => Fault::Exhausted,
            errno::EROFS | errno::EACCES | errno::EPERM => Fault::Environment,
            _ => kind_fault(e.kind()),
        };
    }
    kind_fault(e.kind())
}

fn kind_fault(kind: ErrorKind) -> Fault {
    match kind {
        ErrorKind::StorageFull
        | ErrorKind::QuotaExceeded
        | ErrorKind::FileTooLarge
        | ErrorKind::OutOfMemory => Fault::Exhausted,
        ErrorKind::InvalidData | ErrorKind::UnexpectedEof | ErrorKind::InvalidInput => {
            Fault::Internal
        }
        _ => Fault::Environment,
    }
}

/// The fault of an error reading or opening a file the **user named** (a JTL file, a plan, an
/// SLA file): a missing, unreadable or malformed file is the user's input ([`Fault::User`]);
/// exhaustion and device failures are classified as by [`io_fault`].
pub fn input_io_fault(e: &std::io::Error) -> Fault {
    match e.kind() {
        ErrorKind::NotFound
        | ErrorKind::PermissionDenied
        | ErrorKind::InvalidData
        | ErrorKind::InvalidInput
        | ErrorKind::UnexpectedEof
        | ErrorKind::IsADirectory
        | ErrorKind::NotADirectory
        | ErrorKind::InvalidFilename => Fault::User,
        _ => match io_fault(e) {
            Fault::Internal => Fault::User,
            other => other,
        },
    }
}

/// The fault of the first [`std::io::Error`] in `e`'s chain of sources (`e` included), if any:
/// how a library classifies an error of another crate (a sink's, Parquet's, Arrow's) that may
/// carry an OS error inside.
pub fn io_fault_in_chain(e: &(dyn Error + 'static)) -> Option<Fault> {
    first_io_error(e).map(io_fault)
}

/// The first [`std::io::Error`] in `e`'s chain of sources, `e` included.
pub fn first_io_error<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a std::io::Error> {
    let mut next: Option<&'a (dyn Error + 'static)> = Some(e);
    while let Some(cur) = next {
        if let Some(io) = cur.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        next = cur.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn os_errors_by_errno() {
        // errno values of Linux (asm-generic/errno-base.h, errno.h), written out as the truth.
        let cases = [
            (28, Fault::Exhausted),   // ENOSPC
            (122, Fault::Exhausted),  // EDQUOT
            (27, Fault::Exhausted),   // EFBIG
            (30, Fault::Environment), // EROFS
            (13, Fault::Environment), // EACCES
            (1, Fault::Environment),  // EPERM
            (5, Fault::Environment),  // EIO
            (2, Fault::Environment),  // ENOENT (one of our own files vanished)
        ];
        for (code, want) in cases {
            let e = std::io::Error::from_raw_os_error(code);
            assert_eq!(io_fault(&e), want, "errno {code}: {e}");
        }
    }

    #[test]
    fn errors_without_errno_by_kind() {
        let full = std::io::Error::new(ErrorKind::StorageFull, "disk full");
        assert_eq!(io_fault(&full), Fault::Exhausted);
        let ro = std::io::Error::new(ErrorKind::ReadOnlyFilesystem, "read-only");
        assert_eq!(io_fault(&ro), Fault::Environment);
        let garbled = std::io::Error::new(ErrorKind::InvalidData, "bad bytes");
        assert_eq!(io_fault(&garbled), Fault::Internal);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_named_input_file_is_the_users_unless_the_machine_failed() {
        for (code, want) in [
            (2, Fault::User),        // ENOENT: the user named a missing file
            (13, Fault::User),       // EACCES: the user named a file they cannot read
            (21, Fault::User),       // EISDIR
            (28, Fault::Exhausted),  // ENOSPC
            (5, Fault::Environment), // EIO
        ] {
            let e = std::io::Error::from_raw_os_error(code);
            assert_eq!(input_io_fault(&e), want, "errno {code}: {e}");
        }
        let garbled = std::io::Error::new(ErrorKind::InvalidData, "not UTF-8");
        assert_eq!(input_io_fault(&garbled), Fault::User);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("writing a part: {0}")]
    struct Wrapper(#[source] std::io::Error);

    #[cfg(target_os = "linux")]
    #[test]
    fn io_errors_are_found_inside_other_errors() {
        let wrapped = Wrapper(std::io::Error::from_raw_os_error(28));
        assert_eq!(io_fault_in_chain(&wrapped), Some(Fault::Exhausted));
        let plain = std::fmt::Error;
        assert_eq!(io_fault_in_chain(&plain), None);
    }

    #[test]
    fn the_most_telling_fault_wins() {
        assert_eq!(Fault::User.most_telling(Fault::Exhausted), Fault::Exhausted);
        assert_eq!(
            Fault::Environment.most_telling(Fault::Internal),
            Fault::Environment
        );
        assert_eq!(Fault::NotFound.most_telling(Fault::User), Fault::NotFound);
    }
}
