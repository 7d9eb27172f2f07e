//! Where run rollups are kept: `rollups/run_id=<id>/rollup.parquet`, in a local directory or
//! on object storage. The query layer computes them (crates/query's `rollups.rs`); the store
//! only keeps the bytes, each written whole or not at all.

use std::fs::{self, File};
use std::io::Write;

use bytes::Bytes;
use loadlake_schema::RunId;
use object_store::PutMode;

use crate::catalog::Store;
use crate::error::StoreError;
use crate::remote::rollup_key;

/// The file name of a run's rollup inside its partition.
const ROLLUP_FILE: &str = "rollup.parquet";

impl Store {
    /// Whether run `id` has its rollup.
    pub fn has_rollup(&self, id: &RunId) -> Result<bool, StoreError> {
        match self.remote() {
            Some(remote) => remote.exists(&rollup_key(id.as_str())),
            None => Ok(self.layout().run_rollup_dir(id).join(ROLLUP_FILE).exists()),
        }
    }

    /// Keeps `bytes` as run `id`'s rollup: an atomic PUT on object storage; locally a
    /// temporary file (not `*.parquet`, so the `rollups` table never lists it), fsynced and
    /// renamed. Two writers of one rollup write the same content.
    pub fn put_rollup(&self, id: &RunId, bytes: Vec<u8>) -> Result<(), StoreError> {
        if let Some(remote) = self.remote() {
            remote.put(
                &rollup_key(id.as_str()),
                Bytes::from(bytes),
                PutMode::Overwrite,
            )?;
            return Ok(());
        }
        let dir = self.layout().run_rollup_dir(id);
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let tmp = dir.join(format!("rollup.tmp-{}", std::process::id()));
        let path = dir.join(ROLLUP_FILE);
        let written = File::create(&tmp)
            .and_then(|mut f| {
                f.write_all(&bytes)?;
                f.sync_all()
            })
            .and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io(&path, e));
        }
        Ok(())
    }
}
