//! Storage on a file system through `std::fs` (native and WASI).

use super::Storage;
use crate::error::StorageError;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Storage rooted at a directory of the file system. Uses only portable `std::fs` calls
/// (seek + read/write, `sync_all`, `set_len`), so it works natively and on `wasm32-wasip1`.
#[derive(Debug, Clone)]
pub struct FsStorage {
    root: PathBuf,
}

/// An open [`FsStorage`] file.
#[derive(Debug)]
pub struct FsFile {
    file: File,
    path: String,
    /// Where the OS file position is, to skip needless seeks.
    pos: Option<u64>,
}

fn io(op: &'static str, path: &str, e: &std::io::Error) -> StorageError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StorageError::NotFound {
            op,
            path: path.to_string(),
        }
    } else {
        StorageError::Io {
            op,
            path: path.to_string(),
            detail: e.to_string(),
        }
    }
}

impl FsStorage {
    /// Storage rooted at `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| io("create_dir", &root.display().to_string(), &e))?;
        Ok(FsStorage { root })
    }

    /// The root directory.
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    fn full(&self, path: &str) -> PathBuf {
        let mut p = self.root.clone();
        for part in path.split('/').filter(|s| !s.is_empty()) {
            p.push(part);
        }
        p
    }

    fn seek(file: &mut FsFile, pos: u64, op: &'static str) -> Result<(), StorageError> {
        if file.pos != Some(pos) {
            file.pos = None;
            file.file
                .seek(SeekFrom::Start(pos))
                .map_err(|e| io(op, &file.path, &e))?;
            file.pos = Some(pos);
        }
        Ok(())
    }
}

impl Storage for FsStorage {
    type File = FsFile;

    fn open(&mut self, path: &str, create: bool) -> Result<FsFile, StorageError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(self.full(path))
            .map_err(|e| io("open", path, &e))?;
        Ok(FsFile {
            file,
            path: path.to_string(),
            pos: None,
        })
    }

    fn exists(&mut self, path: &str) -> Result<bool, StorageError> {
        self.full(path)
            .try_exists()
            .map_err(|e| io("exists", path, &e))
    }

    fn len(&mut self, file: &mut FsFile) -> Result<u64, StorageError> {
        Ok(file
            .file
            .metadata()
            .map_err(|e| io("len", &file.path, &e))?
            .len())
    }

    fn read_at(
        &mut self,
        file: &mut FsFile,
        pos: u64,
        buf: &mut [u8],
    ) -> Result<usize, StorageError> {
        Self::seek(file, pos, "read_at")?;
        let mut n = 0;
        while n < buf.len() {
            match file.file.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    file.pos = None;
                    return Err(io("read_at", &file.path, &e));
                }
            }
        }
        file.pos = Some(pos + n as u64);
        Ok(n)
    }

    fn write_at(&mut self, file: &mut FsFile, pos: u64, data: &[u8]) -> Result<(), StorageError> {
        Self::seek(file, pos, "write_at")?;
        if let Err(e) = file.file.write_all(data) {
            file.pos = None;
            return Err(io("write_at", &file.path, &e));
        }
        file.pos = Some(pos + data.len() as u64);
        Ok(())
    }

    fn set_len(&mut self, file: &mut FsFile, len: u64) -> Result<(), StorageError> {
        file.pos = None;
        file.file
            .set_len(len)
            .map_err(|e| io("set_len", &file.path, &e))
    }

    fn sync(&mut self, file: &mut FsFile) -> Result<(), StorageError> {
        file.file.sync_all().map_err(|e| io("sync", &file.path, &e))
    }

    fn list(&mut self, dir: &str) -> Result<Vec<String>, StorageError> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.full(dir)).map_err(|e| io("list", dir, &e))? {
            let e = e.map_err(|e| io("list", dir, &e))?;
            if e.file_type().map_err(|e| io("list", dir, &e))?.is_file() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }

    fn remove(&mut self, path: &str) -> Result<(), StorageError> {
        std::fs::remove_file(self.full(path)).map_err(|e| io("remove", path, &e))
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        std::fs::rename(self.full(from), self.full(to)).map_err(|e| io("rename", from, &e))
    }

    fn create_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        std::fs::create_dir_all(self.full(dir)).map_err(|e| io("create_dir", dir, &e))
    }

    fn sync_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        // Opening a directory and fsyncing it makes its entries durable on Linux; elsewhere
        // (WASI, Windows) opening a directory as a file may be refused: then there is nothing
        // more std can do, and the rename/create is as durable as the platform makes it.
        match File::open(self.full(dir)) {
            Ok(d) => match d.sync_all() {
                Ok(()) => Ok(()),
                Err(e) if cfg!(unix) && !cfg!(target_os = "wasi") => Err(io("sync_dir", dir, &e)),
                Err(_) => Ok(()),
            },
            Err(e) if cfg!(unix) && !cfg!(target_os = "wasi") => Err(io("sync_dir", dir, &e)),
            Err(_) => Ok(()),
        }
    }

    fn list_dirs(&mut self, dir: &str) -> Result<Vec<String>, StorageError> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(self.full(dir)).map_err(|e| io("list_dirs", dir, &e))? {
            let e = e.map_err(|e| io("list_dirs", dir, &e))?;
            if e.file_type()
                .map_err(|e| io("list_dirs", dir, &e))?
                .is_dir()
            {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }

    fn rename_dir(&mut self, from: &str, to: &str) -> Result<(), StorageError> {
        let target = self.full(to);
        if target.exists() {
            return Err(StorageError::Io {
                op: "rename_dir",
                path: to.to_string(),
                detail: "the target exists".to_string(),
            });
        }
        std::fs::rename(self.full(from), target).map_err(|e| io("rename_dir", from, &e))
    }

    fn remove_dir(&mut self, dir: &str) -> Result<(), StorageError> {
        std::fs::remove_dir(self.full(dir)).map_err(|e| io("remove_dir", dir, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(alloc::format!("klog-fs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn file_operations() {
        let d = tmpdir("ops");
        let mut s = FsStorage::new(&d).unwrap();
        s.create_dir("t-0").unwrap();
        assert!(matches!(
            s.open("t-0/a", false),
            Err(StorageError::NotFound { .. })
        ));
        let mut f = s.open("t-0/a", true).unwrap();
        assert_eq!(s.append(&mut f, b"hello").unwrap(), 0);
        assert_eq!(s.append(&mut f, b" world").unwrap(), 5);
        s.write_at(&mut f, 0, b"J").unwrap();
        let mut buf = [0u8; 32];
        let n = s.read_at(&mut f, 0, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"Jello world");
        s.set_len(&mut f, 20).unwrap();
        assert_eq!(s.len(&mut f).unwrap(), 20);
        s.sync(&mut f).unwrap();
        s.rename("t-0/a", "t-0/b").unwrap();
        s.sync_dir("t-0").unwrap();
        assert_eq!(s.list("t-0").unwrap(), ["b"]);
        assert!(s.exists("t-0/b").unwrap());
        s.remove("t-0/b").unwrap();
        assert!(!s.exists("t-0/b").unwrap());
        s.open("t-0/c", true).unwrap();
        assert_eq!(s.list_dirs("").unwrap(), ["t-0"]);
        assert!(s.list("").unwrap().is_empty(), "directories are not files");
        s.rename_dir("t-0", "t-0.abc-delete").unwrap();
        assert_eq!(s.list_dirs("").unwrap(), ["t-0.abc-delete"]);
        assert!(s.remove_dir("t-0.abc-delete").is_err(), "not empty");
        s.remove("t-0.abc-delete/c").unwrap();
        s.remove_dir("t-0.abc-delete").unwrap();
        assert!(s.list_dirs("").unwrap().is_empty());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
