//! In-memory storage with a live image and a durable image.

use super::Storage;
use crate::error::StorageError;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use kproto::rng::Rng;

#[derive(Debug, Clone, Default)]
struct Inode {
    live: Vec<u8>,
    durable: Vec<u8>,
    dirty: bool,
}

#[derive(Debug, Clone, Default)]
struct MemFs {
    /// Path -> inode, as the running program sees it.
    names: BTreeMap<String, u64>,
    /// Path -> inode, as a crash would leave it (updated by `sync_dir`).
    durable_names: BTreeMap<String, u64>,
    inodes: BTreeMap<u64, Inode>,
    next_inode: u64,
    ops: u64,
    syncs: u64,
    record: bool,
    images: Vec<MemFs>,
}

/// An open [`MemStorage`] file: its inode number and the path it was opened with.
#[derive(Debug, Clone)]
pub struct MemFile {
    inode: u64,
    path: String,
}

/// Storage in memory. Each file has a live image (what reads see) and a durable image (what
/// the last [`sync`](Storage::sync) kept); directory entries likewise (what the last
/// [`sync_dir`](Storage::sync_dir) kept). [`crash`](MemStorage::crash) returns the storage a
/// crash would leave: durable images only. Cloning shares the same files (a handle), so a
/// test can keep one clone while a log owns another.
#[derive(Debug, Clone, Default)]
pub struct MemStorage(Rc<RefCell<MemFs>>);

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

fn to_usize(v: u64, op: &'static str, path: &str) -> Result<usize, StorageError> {
    usize::try_from(v).map_err(|_| StorageError::Io {
        op,
        path: String::from(path),
        detail: alloc::format!("position {v} does not fit in memory"),
    })
}

impl MemStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Storage operations so far (every trait method call counts one).
    pub fn ops(&self) -> u64 {
        self.0.borrow().ops
    }

    /// Successful `sync` and `sync_dir` calls so far.
    pub fn syncs(&self) -> u64 {
        self.0.borrow().syncs
    }

    /// From now on, keep a copy of the whole storage right after every successful sync (for
    /// crash-point tests: [`take_sync_images`](MemStorage::take_sync_images)).
    pub fn record_syncs(&self, on: bool) {
        self.0.borrow_mut().record = on;
    }

    /// The copies kept by [`record_syncs`](MemStorage::record_syncs), oldest first; the `n`th
    /// (from 0) is the storage right after sync number `n + 1`.
    pub fn take_sync_images(&self) -> Vec<MemStorage> {
        let imgs = core::mem::take(&mut self.0.borrow_mut().images);
        imgs.into_iter()
            .map(|fs| MemStorage(Rc::new(RefCell::new(fs))))
            .collect()
    }

    /// An independent copy of the storage in its current state (live and durable images).
    pub fn fork(&self) -> MemStorage {
        let mut fs = self.0.borrow().clone();
        fs.images.clear();
        fs.record = false;
        MemStorage(Rc::new(RefCell::new(fs)))
    }

    /// The storage a crash would leave now: durable directory entries and durable file
    /// contents only (an independent copy).
    pub fn crash(&self) -> MemStorage {
        self.crash_inner(None)
    }

    /// Like [`crash`](MemStorage::crash), but as if the system had written back part of the
    /// unsynced data before dying: for each file whose live image extends its durable image, a
    /// seeded random prefix of the unsynced tail survives (so tails can be torn anywhere).
    pub fn crash_torn(&self, seed: u64) -> MemStorage {
        self.crash_inner(Some(Rng::new(seed)))
    }

    fn crash_inner(&self, mut rng: Option<Rng>) -> MemStorage {
        let fs = self.0.borrow();
        let mut out = MemFs {
            names: fs.durable_names.clone(),
            durable_names: fs.durable_names.clone(),
            next_inode: fs.next_inode,
            ..MemFs::default()
        };
        for (&id, ino) in &fs.inodes {
            let mut data = ino.durable.clone();
            if let Some(rng) = rng.as_mut() {
                if ino.live.len() > data.len() && ino.live.starts_with(&data) {
                    let extra = ino.live.len() - data.len();
                    let keep = rng.below(extra as u64 + 1) as usize;
                    data.extend_from_slice(&ino.live[ino.durable.len()..ino.durable.len() + keep]);
                }
            }
            out.inodes.insert(
                id,
                Inode {
                    durable: data.clone(),
                    live: data,
                    dirty: false,
                },
            );
        }
        MemStorage(Rc::new(RefCell::new(out)))
    }

    /// The live contents of the file at `path` (tests and tools).
    pub fn contents(&self, path: &str) -> Option<Vec<u8>> {
        let fs = self.0.borrow();
        let id = fs.names.get(path)?;
        fs.inodes.get(id).map(|i| i.live.clone())
    }

    /// Replaces the live contents of the file at `path`, creating it (tests: corrupt a file).
    pub fn put(&self, path: &str, data: &[u8]) {
        let mut fs = self.0.borrow_mut();
        let id = match fs.names.get(path) {
            Some(&id) => id,
            None => {
                let id = fs.next_inode;
                fs.next_inode += 1;
                fs.names.insert(String::from(path), id);
                fs.durable_names.insert(String::from(path), id);
                id
            }
        };
        let ino = fs.inodes.entry(id).or_default();
        ino.live = data.to_vec();
        ino.durable = data.to_vec();
    }

    /// Every live path, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.0.borrow().names.keys().cloned().collect()
    }

    fn with<R>(&self, f: impl FnOnce(&mut MemFs) -> R) -> R {
        let mut fs = self.0.borrow_mut();
        fs.ops += 1;
        f(&mut fs)
    }

    fn after_sync(fs: &mut MemFs) {
        fs.syncs += 1;
        if fs.record {
            let mut img = fs.clone();
            img.images.clear();
            img.record = false;
            fs.images.push(img);
        }
    }
}

fn inode<'a>(
    fs: &'a mut MemFs,
    f: &MemFile,
    op: &'static str,
) -> Result<&'a mut Inode, StorageError> {
    fs.inodes
        .get_mut(&f.inode)
        .ok_or_else(|| StorageError::NotFound {
            op,
            path: f.path.clone(),
        })
}

impl Storage for MemStorage {
    type File = MemFile;

    fn open(&mut self, path: &str, create: bool) -> Result<MemFile, StorageError> {
        self.with(|fs| {
            if let Some(&id) = fs.names.get(path) {
                return Ok(MemFile {
                    inode: id,
                    path: String::from(path),
                });
            }
            if !create {
                return Err(StorageError::NotFound {
                    op: "open",
                    path: String::from(path),
                });
            }
            let id = fs.next_inode;
            fs.next_inode += 1;
            fs.inodes.insert(id, Inode::default());
            fs.names.insert(String::from(path), id);
            Ok(MemFile {
                inode: id,
                path: String::from(path),
            })
        })
    }

    fn exists(&mut self, path: &str) -> Result<bool, StorageError> {
        self.with(|fs| Ok(fs.names.contains_key(path)))
    }

    fn len(&mut self, file: &mut MemFile) -> Result<u64, StorageError> {
        self.with(|fs| Ok(inode(fs, file, "len")?.live.len() as u64))
    }

    fn read_at(
        &mut self,
        file: &mut MemFile,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<usize, StorageError> {
        self.with(|fs| {
            let ino = inode(fs, file, "read_at")?;
            let len = ino.live.len() as u64;
            if pos >= len {
                return Ok(0);
            }
            let start = to_usize(pos, "read_at", &file.path)?;
            let n = buf.len().min(ino.live.len() - start);
            buf[..n].copy_from_slice(&ino.live[start..start + n]);
            Ok(n)
        })
    }

    fn write_at(&mut self, file: &mut MemFile, pos: u64, data: &[u8]) -> Result<(), StorageError> {
        self.with(|fs| {
            let ino = inode(fs, file, "write_at")?;
            let start = to_usize(pos, "write_at", &file.path)?;
            let end = start
                .checked_add(data.len())
                .ok_or_else(|| StorageError::Io {
                    op: "write_at",
                    path: file.path.clone(),
                    detail: String::from("end position overflows"),
                })?;
            if ino.live.len() < end {
                ino.live.resize(end, 0);
            }
            ino.live[start..end].copy_from_slice(data);
            ino.dirty = true;
            Ok(())
        })
    }

    fn set_len(&mut self, file: &mut MemFile, len: u64) -> Result<(), StorageError> {
        self.with(|fs| {
            let n = to_usize(len, "set_len", &file.path)?;
            let ino = inode(fs, file, "set_len")?;
            ino.live.resize(n, 0);
            ino.dirty = true;
            Ok(())
        })
    }

    fn sync(&mut self, file: &mut MemFile) -> Result<(), StorageError> {
        self.with(|fs| {
            let ino = inode(fs, file, "sync")?;
            if ino.dirty {
                ino.durable.clone_from(&ino.live);
                ino.dirty = false;
            }
            Self::after_sync(fs);
            Ok(())
        })
    }

    fn list(&mut self, dir: &str) -> Result<Vec<String>, StorageError> {
        self.with(|fs| {
            let mut out = Vec::new();
            for p in fs.names.keys() {
                if parent(p) == dir.trim_end_matches('/') {
                    let name = if dir.is_empty() {
                        p.as_str()
                    } else {
                        &p[dir.trim_end_matches('/').len() + 1..]
                    };
                    out.push(String::from(name));
                }
            }
            Ok(out)
        })
    }

    fn remove(&mut self, path: &str) -> Result<(), StorageError> {
        self.with(|fs| {
            fs.names
                .remove(path)
                .map(|_| ())
                .ok_or_else(|| StorageError::NotFound {
                    op: "remove",
                    path: String::from(path),
                })
        })
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        self.with(|fs| {
            let id = fs
                .names
                .remove(from)
                .ok_or_else(|| StorageError::NotFound {
                    op: "rename",
                    path: String::from(from),
                })?;
            fs.names.insert(String::from(to), id);
            Ok(())
        })
    }

    fn create_dir(&mut self, _dir: &str) -> Result<(), StorageError> {
        self.with(|_| Ok(()))
    }

    fn sync_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        self.with(|fs| {
            let d = dir.trim_end_matches('/');
            fs.durable_names.retain(|p, _| parent(p) != d);
            let live: Vec<(String, u64)> = fs
                .names
                .iter()
                .filter(|(p, _)| parent(p) == d)
                .map(|(p, &id)| (p.clone(), id))
                .collect();
            fs.durable_names.extend(live);
            Self::after_sync(fs);
            Ok(())
        })
    }

    /// Directories are implicit: the first path components under `dir` of the live files.
    fn list_dirs(&mut self, dir: &str) -> Result<Vec<String>, StorageError> {
        self.with(|fs| {
            let d = dir.trim_end_matches('/');
            let mut out: Vec<String> = Vec::new();
            for p in fs.names.keys() {
                let rest = if d.is_empty() {
                    p.as_str()
                } else if let Some(r) = p.strip_prefix(d).and_then(|r| r.strip_prefix('/')) {
                    r
                } else {
                    continue;
                };
                if let Some((first, _)) = rest.split_once('/') {
                    if out.last().map(String::as_str) != Some(first) {
                        out.push(String::from(first));
                    }
                }
            }
            out.sort();
            out.dedup();
            Ok(out)
        })
    }

    /// Moves every file under `from/` to `to/`. In this model a directory rename is atomic
    /// and durable at once (the live and the durable entries move together): a crash sees
    /// the directory under one name or the other, never both or neither.
    fn rename_dir(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        self.with(|fs| {
            let (from, to) = (from.trim_end_matches('/'), to.trim_end_matches('/'));
            let under = |m: &BTreeMap<String, u64>, d: &str| -> Vec<String> {
                m.keys()
                    .filter(|p| p.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
                    .cloned()
                    .collect()
            };
            if !under(&fs.names, to).is_empty() {
                return Err(StorageError::Io {
                    op: "rename_dir",
                    path: String::from(to),
                    detail: String::from("the target exists"),
                });
            }
            let live = under(&fs.names, from);
            if live.is_empty() {
                return Err(StorageError::NotFound {
                    op: "rename_dir",
                    path: String::from(from),
                });
            }
            for map in [&mut fs.names, &mut fs.durable_names] {
                for p in under(map, from) {
                    let id = map.remove(&p).expect("listed");
                    map.insert(alloc::format!("{to}{}", &p[from.len()..]), id);
                }
            }
            Ok(())
        })
    }

    /// Directories are implicit: succeeds when no live file is left under `dir`.
    fn remove_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        self.with(|fs| {
            let d = dir.trim_end_matches('/');
            if fs
                .names
                .keys()
                .any(|p| p.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
            {
                return Err(StorageError::Io {
                    op: "remove_dir",
                    path: String::from(d),
                    detail: String::from("directory not empty"),
                });
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_and_durable_images() {
        let mut s = MemStorage::new();
        let mut f = s.open("t-0/a.log", true).unwrap();
        s.write_at(&mut f, 0, b"hello").unwrap();
        s.sync(&mut f).unwrap();
        s.sync_dir("t-0").unwrap();
        s.append(&mut f, b" world").unwrap();
        assert_eq!(s.contents("t-0/a.log").unwrap(), b"hello world");
        let c = s.crash();
        assert_eq!(c.contents("t-0/a.log").unwrap(), b"hello");
        // a file created but never made durable in its directory is gone after a crash
        let mut g = s.open("t-0/b.log", true).unwrap();
        s.write_at(&mut g, 0, b"x").unwrap();
        s.sync(&mut g).unwrap();
        assert!(s.crash().contents("t-0/b.log").is_none());
        s.sync_dir("t-0").unwrap();
        assert_eq!(s.crash().contents("t-0/b.log").unwrap(), b"x");
        assert_eq!(s.list("t-0").unwrap(), ["a.log", "b.log"]);
        assert_eq!(s.syncs(), 4);
        // directories: implicit, renamed atomically with their files (durable at once)
        assert_eq!(s.list_dirs("").unwrap(), ["t-0"]);
        s.rename_dir("t-0", "t-0.x-delete").unwrap();
        assert_eq!(s.list_dirs("").unwrap(), ["t-0.x-delete"]);
        assert_eq!(s.crash().contents("t-0.x-delete/a.log").unwrap(), b"hello");
        assert!(s.rename_dir("t-0", "u-0").is_err());
        assert!(s.remove_dir("t-0.x-delete").is_err(), "not empty");
        s.remove("t-0.x-delete/a.log").unwrap();
        s.remove("t-0.x-delete/b.log").unwrap();
        s.remove_dir("t-0.x-delete").unwrap();
        assert!(s.list_dirs("").unwrap().is_empty());
    }

    #[test]
    fn torn_crash_keeps_a_prefix_of_the_unsynced_tail() {
        let mut s = MemStorage::new();
        let mut f = s.open("a", true).unwrap();
        s.write_at(&mut f, 0, b"abc").unwrap();
        s.sync(&mut f).unwrap();
        s.sync_dir("").unwrap();
        s.append(&mut f, b"defghij").unwrap();
        let mut seen = alloc::collections::BTreeSet::new();
        for seed in 0..64 {
            let c = s.crash_torn(seed).contents("a").unwrap();
            assert!(b"abcdefghij".starts_with(&c) && c.len() >= 3);
            seen.insert(c.len());
        }
        assert!(seen.len() > 3, "torn lengths vary with the seed: {seen:?}");
    }

    #[test]
    fn rename_and_remove_and_sync_images() {
        let mut s = MemStorage::new();
        s.record_syncs(true);
        let mut f = s.open("d/x.tmp", true).unwrap();
        s.write_at(&mut f, 2, b"zz").unwrap();
        assert_eq!(s.contents("d/x.tmp").unwrap(), b"\0\0zz");
        s.sync(&mut f).unwrap();
        s.rename("d/x.tmp", "d/x").unwrap();
        s.sync_dir("d").unwrap();
        assert!(!s.exists("d/x.tmp").unwrap());
        s.remove("d/x").unwrap();
        assert!(matches!(
            s.remove("d/x"),
            Err(StorageError::NotFound { .. })
        ));
        let imgs = s.take_sync_images();
        assert_eq!(imgs.len(), 2);
        assert!(imgs[0].crash().contents("d/x").is_none());
        assert_eq!(imgs[1].crash().contents("d/x").unwrap(), b"\0\0zz");
        let mut buf = [0u8; 8];
        assert_eq!(s.read_at(&mut f, 1, &mut buf).unwrap(), 3);
        s.set_len(&mut f, 1).unwrap();
        assert_eq!(s.len(&mut f).unwrap(), 1);
        assert_eq!(super::super::join("d", "x"), "d/x");
    }
}
