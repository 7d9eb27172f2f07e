//! The loadlake store: a directory that is the database.
//!
//! ```text
//! <root>/samples/run_id=<id>/part-<n>.parquet   Hive-style partitions, zstd, sorted by ts per part
//! <root>/runs/<id>.json                          run manifest (visible ⇒ run complete)
//! <root>/runs/<id>.rejects.jsonl                 rows that could not be imported
//! <root>/tmp/run_id=<id>/part-<n>.parquet       a run being written (readable: `live_samples`)
//! <root>/tmp/<id>.lock                           its writer's lock
//! <root>/tmp/<id>.draft.json                     what to commit it as if its writer dies
//! <root>/tmp/upload-*                            spooled uploads (locked while in use)
//! <root>/deleted/<id>                            tombstone: run deleted, samples kept a while
//! <root>/rollups/run_id=<id>/rollup.parquet      a committed run's rollup (written when needed)
//! <root>/rollups/merged/<gen>.json               consolidated rollups of many runs (merged_rollups.rs)
//! ```
//!
//! A store on object storage has the same keys under its prefix (`samples/`, `runs/`,
//! `rollups/`, `deleted/<id>`; no `tmp/`), committed manifest-last (`remote.rs`); its runs are
//! deleted with tombstones too (`remote_deletion.rs`).
//!
//! A run becomes visible atomically: parts are written and fsynced under `tmp/`, the directory is
//! renamed into `samples/`, then the manifest is written to a temporary name, fsynced and renamed
//! into `runs/`. Readers list runs from manifests only, so no run is ever half visible.
//!
//! Acknowledged means durable: a writer that acknowledges samples (streams, live runs) records a
//! draft of its run, and when it dies the next opener of the store commits its complete parts
//! as an `incomplete` run ([`recover`](crate::Store::recover)). What a writer that acknowledged
//! nothing (an import) left is removed.

mod catalog;
mod compact;
mod deletion;
mod error;
mod fault;
mod filter;
mod hash;
mod layout;
mod live;
mod live_publisher;
mod location;
mod manifests;
mod merged_rollups;
mod part_encode;
mod part_gather;
mod part_order;
mod recover;
mod remote;
mod remote_deletion;
mod remote_gc;
mod remote_live;
mod remote_writer;
mod rollup_files;
mod writer;

pub use catalog::Store;
pub use deletion::DELETED_RUN_GRACE;
pub use error::StoreError;
pub use filter::{NameMatch, RunFilter, parse_tag, started_ms};
pub use hash::{ContentHasher, content_hash};
pub use layout::Layout;
pub use live::{
    LIVE_STALE_AFTER, LiveCounts, LiveStat, LiveState, LiveStatus, StateChange, now_ms,
};
pub use live_publisher::{LivePublisher, STOPPED_BY_REQUEST, StageNamer};
pub use location::{LocationError, StoreLocation, parse_location};
pub use merged_rollups::{MergedRollup, RollupObject, RollupSnapshot};
pub use remote::ObjectStorage;
pub use remote_gc::ORPHAN_GRACE;
pub use remote_live::{DRAFT_HEARTBEAT, REMOTE_WRITER_STALE_AFTER};
pub use writer::{RunDraft, RunWriter, WriterOptions};

#[cfg(test)]
mod remote_deletion_tests;
#[cfg(test)]
mod remote_live_tests;
#[cfg(test)]
mod remote_tests;
#[cfg(test)]
mod snapshot_redactions;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;
