//! Where the model's bytes come from: a file it asks for byte ranges, never for all of it.

use crate::error::InspectError;

/// A file read by ranges: in the browser a `File` read with `File.slice` in a worker, natively
/// a byte slice. The model asks only for what it needs (a chunk of a segment, one batch, an
/// index), so memory stays bounded by the chunk and the largest batch, whatever the file size.
pub trait ByteSource {
    /// The file's name, for errors.
    fn name(&self) -> &str;
    /// The file's length in bytes.
    fn len(&self) -> u64;
    /// Whether the file is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads bytes `start..end` (`end <= len()`); must return exactly `end - start` bytes.
    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, InspectError>;
}

/// Reads `start..end` clamped to the file, checking the source returned what was asked.
pub(crate) fn read_clamped(
    src: &mut dyn ByteSource,
    start: u64,
    end: u64,
) -> Result<Vec<u8>, InspectError> {
    let len = src.len();
    let (s, e) = (start.min(len), end.min(len));
    let bytes = src.read_range(s, e)?;
    if bytes.len() as u64 != e - s {
        return Err(InspectError::Read {
            file: src.name().to_owned(),
            start: s,
            end: e,
            reason: format!("the source returned {} bytes", bytes.len()),
        });
    }
    Ok(bytes)
}

/// A file held in memory (pasted bytes, records found inside a frame, native tests).
#[derive(Debug, Clone)]
pub struct SliceSource<T> {
    name: String,
    data: T,
    /// The largest range read so far (what a scan needed at once).
    pub max_read: u64,
    /// How many ranges were read.
    pub reads: u64,
}

impl<T: AsRef<[u8]>> SliceSource<T> {
    /// A source named `name` over `data`.
    pub fn new(name: impl Into<String>, data: T) -> Self {
        SliceSource {
            name: name.into(),
            data,
            max_read: 0,
            reads: 0,
        }
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        self.data.as_ref()
    }
}

impl<T: AsRef<[u8]>> ByteSource for SliceSource<T> {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.data.as_ref().len() as u64
    }

    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, InspectError> {
        let d = self.data.as_ref();
        let bad = |reason: &str| InspectError::Read {
            file: self.name.clone(),
            start,
            end,
            reason: reason.to_owned(),
        };
        if start > end || end > d.len() as u64 {
            return Err(bad("the range is outside the file"));
        }
        self.max_read = self.max_read.max(end - start);
        self.reads += 1;
        Ok(d[start as usize..end as usize].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_source_reads_ranges_and_rejects_outside() {
        let mut s = SliceSource::new("f.log", vec![1u8, 2, 3, 4]);
        assert_eq!(s.read_range(1, 3).unwrap(), [2, 3]);
        assert_eq!(s.max_read, 2);
        let e = s.read_range(3, 9).unwrap_err();
        assert!(e.to_string().contains("f.log: reading bytes 3..9"), "{e}");
        assert_eq!(read_clamped(&mut s, 2, 100).unwrap(), [3, 4]);
    }
}
