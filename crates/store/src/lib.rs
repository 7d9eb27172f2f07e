//! The loadlake store: a directory that is the database.
//!
//! ```text
//! <root>/samples/run_id=<id>/part-<n>.parquet   Hive-style partitions, zstd, sorted by ts per part
//! <root>/runs/<id>.json                          run manifest (visible ⇒ run complete)
//! <root>/runs/<id>.rejects.jsonl                 rows that could not be imported
//! <root>/tmp/run_id=<id>/part-<n>.parquet       a run being written (readable: `live_samples`)
//! <root>/tmp/<id>.lock                           its writer's lock
//! ```
//!
//! A run becomes visible atomically: parts are written and fsynced under `tmp/`, the directory is
//! renamed into `samples/`, then the manifest is written to a temporary name, fsynced and renamed
//! into `runs/`. Readers list runs from manifests only; a crash at any point leaves nothing
//! visible, and the next writer removes what a dead writer left (its lock is free).

mod catalog;
mod compact;
mod error;
mod hash;
mod layout;
mod live;
mod writer;

pub use catalog::Store;
pub use error::StoreError;
pub use hash::content_hash;
pub use layout::Layout;
pub use live::{
    LIVE_STALE_AFTER, LiveCounts, LiveStat, LiveState, LiveStatus, StateChange, now_ms,
};
pub use writer::{RunDraft, RunWriter, WriterOptions};

#[cfg(test)]
mod tests;
