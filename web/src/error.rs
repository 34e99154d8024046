//! Errors and problems: every one names the file, the byte offset and the reason.

use serde::Serialize;

/// Why the model could not read something; the page shows it where it happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The byte source failed (the browser could not read the file slice).
    #[error("{file}: reading bytes {start}..{end} failed: {reason}")]
    Read {
        /// The file.
        file: String,
        /// The range asked for.
        start: u64,
        /// Its end (exclusive).
        end: u64,
        /// What the source said.
        reason: String,
    },
    /// The bytes are not what they should be.
    #[error("{file} at byte {offset}: {reason}")]
    Corrupt {
        /// The file (or pasted input's name).
        file: String,
        /// Where in it.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A request the caller made does not fit the data (a batch index past the end, ...).
    #[error("{file}: {reason}")]
    BadRequest {
        /// The file.
        file: String,
        /// What was wrong.
        reason: String,
    },
}

/// A problem found in a file: listed beside the data, never hiding what follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// The file the problem is in.
    pub file: String,
    /// The byte offset in that file (for index entries: the entry's position in the index).
    pub offset: u64,
    /// A short machine-readable kind (`crc`, `framing`, `resync`, `tail`, `index-offset`, ...).
    pub kind: &'static str,
    /// What is wrong, for a person.
    pub reason: String,
}

impl Problem {
    /// A problem of `kind` in `file` at `offset`.
    pub fn new(file: &str, offset: u64, kind: &'static str, reason: impl Into<String>) -> Self {
        Problem {
            file: file.to_owned(),
            offset,
            kind,
            reason: reason.into(),
        }
    }
}

impl From<InspectError> for Problem {
    fn from(e: InspectError) -> Self {
        match &e {
            InspectError::Read { file, start, .. } => {
                Problem::new(file, *start, "read", e.to_string())
            }
            InspectError::Corrupt { file, offset, .. } => {
                Problem::new(file, *offset, "corrupt", e.to_string())
            }
            InspectError::BadRequest { file, .. } => {
                Problem::new(file, 0, "request", e.to_string())
            }
        }
    }
}
