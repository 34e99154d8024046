//! A seeded fault-injecting wrapper around any [`Storage`].

use super::Storage;
use crate::error::StorageError;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kproto::rng::Rng;

/// Which faults [`FaultyStorage`] injects, and the seed that decides where.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// The seed of the wrapper's PRNG: the same seed and the same calls give the same faults.
    pub seed: u64,
    /// Every operation after this many fails (the disk went away).
    pub fail_after_ops: Option<u64>,
    /// Chance per million that a write stores only a prefix of its data, then fails.
    pub torn_write_ppm: u32,
    /// Chance per million that a write silently flips one bit of its data.
    pub bit_flip_ppm: u32,
    /// Chance per million that a sync fails (and does not sync).
    pub sync_fail_ppm: u32,
}

/// Wraps a storage and injects the faults of a [`FaultConfig`]. The faults injected so far are
/// listed by [`faults`](FaultyStorage::faults), so a failing test can print what happened; the
/// seed replays it.
#[derive(Debug)]
pub struct FaultyStorage<S> {
    inner: S,
    cfg: FaultConfig,
    rng: Rng,
    ops: u64,
    faults: Vec<String>,
}

impl<S: Storage> FaultyStorage<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, cfg: FaultConfig) -> Self {
        let rng = Rng::new(cfg.seed);
        FaultyStorage {
            inner,
            cfg,
            rng,
            ops: 0,
            faults: Vec::new(),
        }
    }

    /// The wrapped storage.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Descriptions of the faults injected so far.
    pub fn faults(&self) -> &[String] {
        &self.faults
    }

    /// Turns every fault off (to recover through the same wrapper).
    pub fn heal(&mut self) {
        self.cfg = FaultConfig {
            seed: self.cfg.seed,
            ..FaultConfig::default()
        };
    }

    fn tick(&mut self, op: &'static str, path: &dyn core::fmt::Debug) -> Result<(), StorageError> {
        self.ops += 1;
        if let Some(n) = self.cfg.fail_after_ops {
            if self.ops > n {
                return Err(self.fault(op, path, "fail after N ops"));
            }
        }
        Ok(())
    }

    fn fault(
        &mut self,
        op: &'static str,
        path: &dyn core::fmt::Debug,
        what: &'static str,
    ) -> StorageError {
        let path = format!("{path:?}");
        self.faults
            .push(format!("op #{} {op} {path}: {what}", self.ops));
        StorageError::Injected {
            op,
            path,
            op_no: self.ops,
            what,
        }
    }
}

impl<S: Storage> Storage for FaultyStorage<S> {
    type File = S::File;

    fn open(&mut self, path: &str, create: bool) -> Result<S::File, StorageError> {
        self.tick("open", &path)?;
        self.inner.open(path, create)
    }

    fn exists(&mut self, path: &str) -> Result<bool, StorageError> {
        self.tick("exists", &path)?;
        self.inner.exists(path)
    }

    fn len(&mut self, file: &mut S::File) -> Result<u64, StorageError> {
        self.tick("len", file)?;
        self.inner.len(file)
    }

    fn read_at(
        &mut self,
        file: &mut S::File,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<usize, StorageError> {
        self.tick("read_at", file)?;
        self.inner.read_at(file, pos, buf)
    }

    fn write_at(&mut self, file: &mut S::File, pos: u64, data: &[u8]) -> Result<(), StorageError> {
        self.tick("write_at", file)?;
        if !data.is_empty() && self.rng.chance_per_million(self.cfg.torn_write_ppm) {
            let keep = self.rng.below(data.len() as u64) as usize;
            self.inner.write_at(file, pos, &data[..keep])?;
            return Err(self.fault("write_at", file, "torn write"));
        }
        if !data.is_empty() && self.rng.chance_per_million(self.cfg.bit_flip_ppm) {
            let mut copy = data.to_vec();
            let bit = self.rng.below(copy.len() as u64 * 8);
            copy[(bit / 8) as usize] ^= 1 << (bit % 8);
            let _ = self.fault("write_at", file, "bit flip");
            return self.inner.write_at(file, pos, &copy);
        }
        self.inner.write_at(file, pos, data)
    }

    fn set_len(&mut self, file: &mut S::File, len: u64) -> Result<(), StorageError> {
        self.tick("set_len", file)?;
        self.inner.set_len(file, len)
    }

    fn sync(&mut self, file: &mut S::File) -> Result<(), StorageError> {
        self.tick("sync", file)?;
        if self.rng.chance_per_million(self.cfg.sync_fail_ppm) {
            return Err(self.fault("sync", file, "failed sync"));
        }
        self.inner.sync(file)
    }

    fn list(&mut self, dir: &str) -> Result<Vec<String>, StorageError> {
        self.tick("list", &dir)?;
        self.inner.list(dir)
    }

    fn remove(&mut self, path: &str) -> Result<(), StorageError> {
        self.tick("remove", &path)?;
        self.inner.remove(path)
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        self.tick("rename", &from)?;
        self.inner.rename(from, to)
    }

    fn create_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        self.tick("create_dir", &dir)?;
        self.inner.create_dir(dir)
    }

    fn sync_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        self.tick("sync_dir", &dir)?;
        if self.rng.chance_per_million(self.cfg.sync_fail_ppm) {
            return Err(self.fault("sync_dir", &dir, "failed sync"));
        }
        self.inner.sync_dir(dir)
    }

    fn list_dirs(&mut self, dir: &str) -> Result<Vec<String>, StorageError> {
        self.tick("list_dirs", &dir)?;
        self.inner.list_dirs(dir)
    }

    fn rename_dir(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        self.tick("rename_dir", &from)?;
        self.inner.rename_dir(from, to)
    }

    fn remove_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        self.tick("remove_dir", &dir)?;
        self.inner.remove_dir(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemStorage;

    #[test]
    fn fail_after_n_ops() {
        let mem = MemStorage::new();
        let mut s = FaultyStorage::new(
            mem.clone(),
            FaultConfig {
                fail_after_ops: Some(2),
                ..FaultConfig::default()
            },
        );
        let mut f = s.open("a", true).unwrap();
        s.write_at(&mut f, 0, b"x").unwrap();
        let e = s.sync(&mut f).unwrap_err();
        assert!(
            matches!(
                e,
                StorageError::Injected {
                    op: "sync",
                    op_no: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(s.faults().len(), 1);
        s.heal();
        s.sync(&mut f).unwrap();
    }

    #[test]
    fn torn_writes_and_bit_flips_replay_from_the_seed() {
        let run = |seed| {
            let mem = MemStorage::new();
            let mut s = FaultyStorage::new(
                mem.clone(),
                FaultConfig {
                    seed,
                    torn_write_ppm: 200_000,
                    bit_flip_ppm: 200_000,
                    ..FaultConfig::default()
                },
            );
            let mut f = s.open("a", true).unwrap();
            let mut errs = 0;
            for i in 0..50u8 {
                let pos = s.len(&mut f).unwrap();
                if s.write_at(&mut f, pos, &[i; 16]).is_err() {
                    errs += 1;
                }
            }
            (errs, s.faults().to_vec(), mem.contents("a").unwrap())
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert!(
            a.0 > 0 && a.1.iter().any(|f| f.contains("bit flip")),
            "{:?}",
            a.1
        );
        assert_ne!(a.2, run(8).2);
    }
}
