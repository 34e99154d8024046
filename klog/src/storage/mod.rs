//! The file-level storage klog writes to, and its implementations.
//!
//! [`Storage`] is deliberately small: open (or create) a file, its length, positioned reads and
//! writes, set its length (truncate or extend with zeros), sync it; list a directory, remove and
//! rename files, list, rename and remove directories. Paths are `/`-separated strings relative to the storage's root; directories
//! are created by [`Storage::create_dir`] (a no-op where directories are implicit).
//!
//! Implementations: [`MemStorage`] (in memory, with a live and a durable image, for tests and
//! crash simulation), [`FsStorage`] (`std` feature: `std::fs`, natively and under WASI), and
//! [`FaultyStorage`] (a seeded wrapper injecting faults into any other).

mod faulty;
#[cfg(feature = "std")]
mod fs;
mod mem;

pub use faulty::{FaultConfig, FaultyStorage};
#[cfg(feature = "std")]
pub use fs::{FsFile, FsStorage};
pub use mem::{MemFile, MemStorage};

use crate::error::StorageError;
use alloc::string::String;
use alloc::vec::Vec;

/// A file system as klog needs it.
///
/// Every method takes `&mut self`: a storage is owned by one log (or shared behind the
/// implementation's own handle, as [`MemStorage`] does). Durability: data written with
/// [`write_at`](Storage::write_at) or a length set with [`set_len`](Storage::set_len) may be lost
/// in a crash until [`sync`](Storage::sync) of that file returns. Creating, removing and renaming
/// are durable once [`sync_dir`](Storage::sync_dir) of the directory returns.
pub trait Storage {
    /// An open file.
    type File: core::fmt::Debug;

    /// Opens the file at `path`; with `create`, creates it (empty) when it is missing.
    /// Fails with [`StorageError::NotFound`] when it is missing and `create` is false.
    fn open(&mut self, path: &str, create: bool) -> Result<Self::File, StorageError>;

    /// Whether a file exists at `path`.
    fn exists(&mut self, path: &str) -> Result<bool, StorageError>;

    /// The file's length in bytes.
    fn len(&mut self, file: &mut Self::File) -> Result<u64, StorageError>;

    /// Reads up to `buf.len()` bytes at `pos`; returns how many were read (fewer only at the
    /// end of the file).
    fn read_at(
        &mut self,
        file: &mut Self::File,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<usize, StorageError>;

    /// Writes all of `data` at `pos`, extending the file (with zeros before `pos` if needed).
    fn write_at(
        &mut self,
        file: &mut Self::File,
        pos: u64,
        data: &[u8],
    ) -> Result<(), StorageError>;

    /// Truncates the file to `len` bytes, or extends it with zeros.
    fn set_len(&mut self, file: &mut Self::File, len: u64) -> Result<(), StorageError>;

    /// Makes the file's data and length durable.
    fn sync(&mut self, file: &mut Self::File) -> Result<(), StorageError>;

    /// Names (not paths) of the files directly inside directory `dir`, sorted.
    fn list(&mut self, dir: &str) -> Result<Vec<String>, StorageError>;

    /// Removes the file at `path`.
    fn remove(&mut self, path: &str) -> Result<(), StorageError>;

    /// Renames `from` to `to`, replacing `to` if it exists.
    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError>;

    /// Creates directory `dir` (and its parents) if missing.
    fn create_dir(&mut self, dir: &str) -> Result<(), StorageError>;

    /// Makes the creations, removals and renames in directory `dir` durable.
    fn sync_dir(&mut self, dir: &str) -> Result<(), StorageError>;

    /// Names (not paths) of the directories directly inside directory `dir`, sorted (a log
    /// directory's partitions).
    fn list_dirs(&mut self, dir: &str) -> Result<Vec<String>, StorageError>;

    /// Renames directory `from` to `to` (which must not exist), with everything in it; durable
    /// once [`sync_dir`](Storage::sync_dir) of the parent returns.
    fn rename_dir(&mut self, from: &str, to: &str) -> Result<(), StorageError>;

    /// Removes directory `dir`, which must be empty; durable once
    /// [`sync_dir`](Storage::sync_dir) of the parent returns.
    fn remove_dir(&mut self, dir: &str) -> Result<(), StorageError>;

    /// Appends `data` at the end of the file; returns the position it was written at.
    fn append(&mut self, file: &mut Self::File, data: &[u8]) -> Result<u64, StorageError> {
        let pos = self.len(file)?;
        self.write_at(file, pos, data)?;
        Ok(pos)
    }

    /// Reads exactly `buf.len()` bytes at `pos`, failing when the file is shorter.
    fn read_exact_at(
        &mut self,
        file: &mut Self::File,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<(), StorageError> {
        let n = self.read_at(file, pos, buf)?;
        if n == buf.len() {
            Ok(())
        } else {
            Err(StorageError::Io {
                op: "read_exact_at",
                path: alloc::format!("{file:?}"),
                detail: alloc::format!("wanted {} bytes at {pos}, file ends after {n}", buf.len()),
            })
        }
    }
}

/// Joins a directory and a name with `/` (an empty directory is the root).
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        String::from(name)
    } else {
        let mut s = String::with_capacity(dir.len() + 1 + name.len());
        s.push_str(dir.trim_end_matches('/'));
        s.push('/');
        s.push_str(name);
        s
    }
}
