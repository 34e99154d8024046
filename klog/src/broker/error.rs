//! What can stop the broker core: opening its log directory, or shutting it down.

use alloc::string::String;

use crate::error::StorageError;
use crate::log::LogError;
use crate::log_dir::LogDirError;

/// The broker could not open or shut down its log directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// A partition's log failed to open, recover or close.
    #[error("partition {topic}-{partition}: {source}")]
    Log {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// What failed.
        source: LogError,
    },
    /// The log directory failed outside any one partition (`meta.properties`, a checkpoint,
    /// a directory that is not a partition's).
    #[error("log directory: {0}")]
    LogDir(alloc::boxed::Box<LogDirError>),
    /// The storage failed outside any partition (listing the directory, the cluster metadata
    /// file).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The broker's cluster metadata file is not what this broker writes.
    #[error("{file}: line {line}: {what}")]
    MetadataFile {
        /// The file's name.
        file: &'static str,
        /// The 1-based line number.
        line: usize,
        /// What is wrong there.
        what: String,
    },
}
