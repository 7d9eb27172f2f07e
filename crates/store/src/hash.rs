//! Content hashes of source files, to recognise a re-import of the same bytes.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use xxhash_rust::xxh3::Xxh3;

use crate::error::StoreError;

/// `xxh3-128:<hex>` of a file's bytes, read in chunks of up to 1 MiB (no more than the file
/// needs: a back-fill hashes thousands of small files).
pub fn content_hash(path: &Path) -> Result<String, StoreError> {
    let mut hasher = ContentHasher::default();
    hasher.read_rest(path)?;
    Ok(hasher.finish())
}

/// The [`content_hash`] of bytes fed in order, e.g. while a decoder reads the file, so that
/// the file is read once.
#[derive(Default)]
pub struct ContentHasher {
    hasher: Xxh3,
    bytes: u64,
}

impl ContentHasher {
    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// Bytes hashed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Hashes the bytes of the file at `path` from offset [`bytes`](Self::bytes) to its end
    /// (what a decoder that stopped early did not read).
    pub fn read_rest(&mut self, path: &Path) -> Result<(), StoreError> {
        let mut file = std::fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
        let len = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
        file.seek(SeekFrom::Start(self.bytes))
            .map_err(|e| StoreError::io(path, e))?;
        // No more than the rest of the file needs: a back-fill hashes thousands of small files.
        let mut buf = vec![0u8; len.saturating_sub(self.bytes).clamp(4096, 1 << 20) as usize];
        loop {
            let n = file.read(&mut buf).map_err(|e| StoreError::io(path, e))?;
            if n == 0 {
                return Ok(());
            }
            self.update(&buf[..n]);
        }
    }

    /// `xxh3-128:<hex>` of the bytes hashed.
    pub fn finish(&self) -> String {
        format!("xxh3-128:{:032x}", self.hasher.digest128())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_equal_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
        );
        std::fs::write(&a, b"1,2,3\n").unwrap();
        std::fs::write(&b, b"1,2,3\n").unwrap();
        std::fs::write(&c, b"1,2,4\n").unwrap();
        assert_eq!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
        assert_ne!(content_hash(&a).unwrap(), content_hash(&c).unwrap());
        assert!(content_hash(&a).unwrap().starts_with("xxh3-128:"));
    }

    /// Bytes hashed while read (in odd-sized pieces), then the rest from the file, give the
    /// file's hash; independent truth: xxh3-128 of the whole buffer in one call.
    #[test]
    fn hashing_while_reading_then_the_rest_equals_the_files_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let whole = format!("xxh3-128:{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes));
        assert_eq!(content_hash(&path).unwrap(), whole);
        let mut hasher = ContentHasher::default();
        let mut reader = std::fs::File::open(&path).unwrap();
        let mut piece = vec![0u8; 12_345];
        for _ in 0..10 {
            reader.read_exact(&mut piece).unwrap();
            hasher.update(&piece);
        }
        assert_eq!(hasher.bytes(), 123_450);
        hasher.read_rest(&path).unwrap();
        assert_eq!(hasher.bytes(), bytes.len() as u64);
        assert_eq!(hasher.finish(), whole);
    }
}
