//! Helpers shared by the integration tests in `tests/tests/`: where the tools that
//! `.ci/install` put on the machine live (a Python venv with kafka-python, Kafka's jars), and
//! the real clients as test drivers ([`clients`]).

use std::path::PathBuf;

pub mod clients;
pub mod dump_log;
pub mod kafka;
pub mod kafka_dirs;
pub mod kpp;
pub mod records;
pub mod segments;

/// The cache directory `.ci/install` installs into (`$KPP_CACHE`, default `~/.cache/kpp`).
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("KPP_CACHE") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".cache").join("kpp")
}

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
