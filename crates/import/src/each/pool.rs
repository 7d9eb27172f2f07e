//! The back-fill's scheduler: several files imported at once, each as its own run on its own
//! thread, so that one run's fsyncs overlap the others' decoding and writing (a small file's
//! import is mostly waiting on the disk: seven fsyncs for a few ms of CPU).
//!
//! What stays as one file at a time would have it: outcomes are reported in file order; a file
//! with the same bytes as one still being imported waits for that one's outcome (skipped if it
//! was imported, tried itself if it failed); and a store failure stops the back-fill (the runs
//! in flight finish, and are reported). Every run keeps its own commit order (parts fsynced,
//! renamed, manifest last), so each is as durable as alone. Memory is bounded by the plain
//! bytes in flight ([`BYTES_IN_FLIGHT`]): a large or compressed file runs alone.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;

use loadlake_schema::fault::{Fault, HasFault};
use loadlake_store::{Store, content_hash};

use super::{EachOutcome, EachRequest, run_name};
use crate::ImportError;
use crate::run::{RowsDone, write_run};

/// Files imported at once when [`EachRequest::jobs`] is 0.
pub const DEFAULT_JOBS: usize = 16;

/// The most plain bytes (estimated) of the files in flight: a run holds up to a part of
/// decoded samples in memory (~1 KiB a row at its peak), so this keeps a back-fill's memory
/// near that of one 16 MiB import. A file that weighs more runs alone.
const BYTES_IN_FLIGHT: u64 = 16 << 20;

/// How many times its size a compressed file (or zip archive) is assumed to expand to.
const EXPANSION: u64 = 16;

/// Content hash → (run id, run name) of the runs that hold those bytes.
type Known = HashMap<String, (String, String)>;

/// A file ready to be imported: its index in the request, hash and weight.
struct Ready {
    index: usize,
    hash: String,
    weight: u64,
}

/// What a job sends back when its file is done; `None` if the job panicked (the panic then
/// reaches the caller when the back-fill's threads are joined).
struct Done {
    index: usize,
    outcome: Option<Result<EachOutcome, ImportError>>,
}

/// A job's way back to the dispatcher: sends its outcome, or `None` if dropped unsent (a
/// panic), so that the dispatcher never waits for a job that is gone.
struct Reply {
    index: usize,
    sender: Option<mpsc::Sender<Done>>,
}

impl Reply {
    fn send(mut self, outcome: Result<EachOutcome, ImportError>) {
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(Done {
                index: self.index,
                outcome: Some(outcome),
            });
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(Done {
                index: self.index,
                outcome: None,
            });
        }
    }
}

/// Outcomes, handed to `on_file` in file order as they become known.
struct InOrder<'a> {
    files: &'a [PathBuf],
    slots: Vec<Option<EachOutcome>>,
    next: usize,
    on_file: &'a mut dyn FnMut(&Path, &EachOutcome),
}

impl InOrder<'_> {
    fn record(&mut self, index: usize, outcome: EachOutcome) {
        self.slots[index] = Some(outcome);
        while let Some(Some(outcome)) = self.slots.get(self.next) {
            (self.on_file)(&self.files[self.next], outcome);
            self.next += 1;
        }
    }

    /// Reports the outcomes recorded after a gap (a file whose store failed), in order.
    fn report_the_rest(&mut self) {
        for (i, slot) in self.slots.iter().enumerate().skip(self.next) {
            if let Some(outcome) = slot {
                (self.on_file)(&self.files[i], outcome);
            }
        }
        self.next = self.slots.len();
    }

    /// Every outcome, in file order.
    fn into_outcomes(self) -> Vec<(PathBuf, EachOutcome)> {
        self.files
            .iter()
            .cloned()
            .zip(self.slots)
            .filter_map(|(file, outcome)| outcome.map(|o| (file, o)))
            .collect()
    }
}

/// The jobs running: their hashes and weights.
#[derive(Default)]
struct Flight {
    running: HashMap<usize, (String, u64)>,
    bytes: u64,
}

impl Flight {
    fn holds(&self, hash: &str) -> bool {
        self.running.values().any(|(h, _)| h == hash)
    }

    fn has_room(&self, weight: u64, jobs: usize) -> bool {
        self.running.is_empty()
            || (self.running.len() < jobs && self.bytes + weight <= BYTES_IN_FLIGHT)
    }

    fn start(&mut self, ready: &Ready) {
        self.bytes += ready.weight;
        self.running
            .insert(ready.index, (ready.hash.clone(), ready.weight));
    }

    fn finish(&mut self, index: usize) {
        if let Some((_, weight)) = self.running.remove(&index) {
            self.bytes -= weight;
        }
    }
}

/// Whether an error is the file's (reported, the back-fill goes on) rather than the store's.
fn is_the_files(e: &ImportError) -> bool {
    matches!(e.fault(), Fault::User | Fault::NotFound)
}

/// Adds the sources of an imported run to `known`.
fn learn(known: &mut Known, outcome: &EachOutcome) {
    if let EachOutcome::Imported(run) = outcome {
        for source in &run.sources {
            known
                .entry(source.content_hash.clone())
                .or_insert_with(|| (run.run_id.to_string(), run.name.clone()));
        }
    }
}

/// The estimated plain bytes of `file`: its size, [`EXPANSION`] times that when it starts
/// with a compression's or a zip archive's magic bytes.
fn weight(file: &Path) -> Result<u64, ImportError> {
    let read = |e| ImportError::Read {
        path: file.display().to_string(),
        source: e,
    };
    let mut f = std::fs::File::open(file).map_err(read)?;
    let size = f.metadata().map_err(read)?.len();
    let mut head = Vec::with_capacity(4);
    f.by_ref().take(4).read_to_end(&mut head).map_err(read)?;
    let packed = loadlake_ingest::is_compressed(&head) || crate::archive::is_zip_head(&head);
    Ok(if packed {
        size.saturating_mul(EXPANSION)
    } else {
        size
    })
}

/// A back-fill in progress: the dispatcher's state (on the calling thread).
struct Backfill<'s, 'a> {
    store: &'s Store,
    req: &'s EachRequest,
    jobs: usize,
    known: Known,
    flight: Flight,
    order: InOrder<'a>,
    done: mpsc::Receiver<Done>,
    /// The first store failure.
    failure: Option<ImportError>,
    /// No file is started any more (the store failed, or a job panicked).
    stopped: bool,
}

/// What [`Backfill::prepare`] makes of a file.
enum Prepared {
    /// To be imported.
    Ready(Ready),
    /// Settled without an import (skipped, or failed before).
    Settled(Box<EachOutcome>),
    /// The store failed: the back-fill stops.
    Stop,
}

impl Backfill<'_, '_> {
    /// Waits for one job to finish and records its outcome.
    fn receive_one(&mut self) {
        let Ok(Done { index, outcome }) = self.done.recv() else {
            // The dispatcher holds a sender itself: not reached.
            self.flight = Flight::default();
            return;
        };
        self.flight.finish(index);
        let outcome = match outcome {
            None => {
                self.stopped = true;
                return;
            }
            Some(Ok(outcome)) => outcome,
            Some(Err(e)) if is_the_files(&e) => EachOutcome::Failed(e),
            Some(Err(e)) => {
                tracing::error!("--each: {e}");
                self.failure.get_or_insert(e);
                self.stopped = true;
                return;
            }
        };
        if !self.req.template.force {
            learn(&mut self.known, &outcome);
        }
        self.order.record(index, outcome);
    }

    /// Hashes and weighs file `index`; settles it when its bytes are known already.
    fn prepare(&mut self, index: usize) -> Prepared {
        let file = &self.req.files[index];
        let prepared = (|| {
            if !file.is_file() {
                return Err(ImportError::NoSuchFile(file.clone()));
            }
            Ok((content_hash(file)?, weight(file)?))
        })();
        let (hash, weight) = match prepared {
            Ok(p) => p,
            Err(e) if is_the_files(&e) => {
                return Prepared::Settled(Box::new(EachOutcome::Failed(e)));
            }
            Err(e) => {
                self.failure.get_or_insert(e);
                self.stopped = true;
                return Prepared::Stop;
            }
        };
        // Same bytes as a file in flight: its outcome decides.
        while self.flight.holds(&hash) {
            self.receive_one();
        }
        if !self.req.template.force
            && let Some((run_id, name)) = self.known.get(&hash)
        {
            return Prepared::Settled(Box::new(EachOutcome::AlreadyImported {
                run_id: run_id.clone(),
                name: name.clone(),
            }));
        }
        Prepared::Ready(Ready {
            index,
            hash,
            weight: weight.min(BYTES_IN_FLIGHT),
        })
    }
}

/// Imports file `ready.index` of `req` as a run (the job of one thread).
fn import_one(
    store: &Store,
    req: &EachRequest,
    ready: &Ready,
    on_rows: RowsDone<'_>,
) -> Result<EachOutcome, ImportError> {
    let file = &req.files[ready.index];
    let mut one = req.template.clone();
    one.files = vec![file.clone()];
    one.source_names = None;
    if one.name.is_none() {
        one.name = Some(run_name(file, &req.base, req.name_from));
    }
    let names = [file.display().to_string()];
    // The hash is known (taken before, to skip files already imported): nothing to check.
    let no_check = |_: &[(String, String)]| Ok(());
    write_run(
        store,
        &one,
        &names,
        &[Some(ready.hash.clone())],
        &no_check,
        on_rows,
    )
    .map(EachOutcome::Imported)
}

/// Imports every file of `req` as its own run, up to `req.jobs` at once (see the module
/// documentation). `known` holds the hashes of the store's runs.
pub(super) fn run_all(
    store: &Store,
    req: &EachRequest,
    known: Known,
    on_rows: RowsDone<'_>,
    on_file: &mut dyn FnMut(&Path, &EachOutcome),
) -> Result<Vec<(PathBuf, EachOutcome)>, ImportError> {
    let rows = Mutex::new(on_rows);
    let (sender, done) = mpsc::channel();
    let mut backfill = Backfill {
        store,
        req,
        jobs: if req.jobs == 0 {
            DEFAULT_JOBS
        } else {
            req.jobs
        },
        known,
        flight: Flight::default(),
        order: InOrder {
            files: &req.files,
            slots: (0..req.files.len()).map(|_| None).collect(),
            next: 0,
            on_file,
        },
        done,
        failure: None,
        stopped: false,
    };
    std::thread::scope(|scope| {
        for index in 0..req.files.len() {
            if backfill.stopped {
                break;
            }
            let ready = match backfill.prepare(index) {
                Prepared::Ready(ready) => ready,
                Prepared::Settled(outcome) => {
                    backfill.order.record(index, *outcome);
                    continue;
                }
                Prepared::Stop => break,
            };
            while !backfill.flight.has_room(ready.weight, backfill.jobs) {
                backfill.receive_one();
            }
            if backfill.stopped {
                break;
            }
            backfill.flight.start(&ready);
            let reply = Reply {
                index,
                sender: Some(sender.clone()),
            };
            let (store, req, rows) = (backfill.store, backfill.req, &rows);
            scope.spawn(move || {
                let mut on_rows = |n: u64| {
                    if let Ok(mut f) = rows.lock() {
                        f(n);
                    }
                };
                reply.send(import_one(store, req, &ready, &mut on_rows));
            });
        }
        while !backfill.flight.running.is_empty() {
            backfill.receive_one();
        }
    });
    match backfill.failure {
        Some(e) => {
            backfill.order.report_the_rest();
            Err(e)
        }
        None => Ok(backfill.order.into_outcomes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(run: &str) -> EachOutcome {
        EachOutcome::AlreadyImported {
            run_id: run.into(),
            name: run.into(),
        }
    }

    #[test]
    fn outcomes_are_heard_in_file_order_whatever_order_they_settle_in() {
        let files: Vec<PathBuf> = ["a", "b", "c", "d"].iter().map(PathBuf::from).collect();
        let mut heard = Vec::new();
        let mut on_file = |f: &Path, _: &EachOutcome| heard.push(f.display().to_string());
        let mut order = InOrder {
            files: &files,
            slots: (0..4).map(|_| None).collect(),
            next: 0,
            on_file: &mut on_file,
        };
        order.record(2, skipped("c"));
        order.record(1, skipped("b"));
        order.record(0, skipped("a"));
        order.record(3, skipped("d"));
        let all = order.into_outcomes();
        assert_eq!(all.len(), 4);
        assert_eq!(heard, ["a", "b", "c", "d"]);
    }

    #[test]
    fn after_a_gap_the_rest_is_still_heard() {
        let files: Vec<PathBuf> = ["a", "b", "c"].iter().map(PathBuf::from).collect();
        let mut heard = Vec::new();
        let mut on_file = |f: &Path, _: &EachOutcome| heard.push(f.display().to_string());
        let mut order = InOrder {
            files: &files,
            slots: (0..3).map(|_| None).collect(),
            next: 0,
            on_file: &mut on_file,
        };
        order.record(0, skipped("a"));
        order.record(2, skipped("c"));
        order.report_the_rest();
        assert_eq!(heard, ["a", "c"]);
    }

    #[test]
    fn jobs_and_bytes_bound_the_flight_but_one_file_always_fits() {
        let ready = |index, weight| Ready {
            index,
            hash: format!("h{index}"),
            weight,
        };
        let mut flight = Flight::default();
        assert!(
            flight.has_room(BYTES_IN_FLIGHT, 2),
            "an empty flight takes anything"
        );
        flight.start(&ready(0, 1000));
        assert!(flight.has_room(1000, 2));
        assert!(
            !flight.has_room(BYTES_IN_FLIGHT - 999, 2),
            "16 MiB + 1 byte"
        );
        flight.start(&ready(1, 1000));
        assert!(!flight.has_room(1, 2), "two jobs running of two");
        assert!(flight.holds("h1") && !flight.holds("h2"));
        flight.finish(0);
        flight.finish(1);
        assert_eq!(flight.bytes, 0);
        assert!(flight.has_room(BYTES_IN_FLIGHT, 2));
    }

    #[test]
    fn compressed_files_weigh_more_than_their_size() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("r.jtl");
        let gz = dir.path().join("r.jtl.gz");
        std::fs::write(&plain, b"timeStamp,elapsed\n1,2\n").unwrap();
        std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]).unwrap();
        assert_eq!(weight(&plain).unwrap(), 22);
        assert_eq!(weight(&gz).unwrap(), 10 * EXPANSION);
    }
}
