//! Walking the batches of a segment file through a [`Storage`], in chunks.

use crate::error::StorageError;
use crate::storage::Storage;
use alloc::vec::Vec;
use kproto::records::{BatchView, Batches, RecordError, LOG_OVERHEAD};

/// How much of a segment is read at a time (more when one batch is larger).
const CHUNK: usize = 256 << 10;

/// Where a walk over a segment's batches ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScanEnd {
    /// Every batch up to the end position was whole and readable.
    Complete,
    /// The callback asked to stop before the batch at this position.
    Stopped(u32),
    /// The bytes at this position are not a whole batch: a torn tail or a corrupt header.
    Invalid(u32, RecordError),
}

/// Reads the batches of `file` in `start..end`, calling `f(position, batch)` for each whole
/// batch; `f` returns `Ok(false)` to stop before that batch. CRCs are not checked here.
pub(crate) fn scan<S, E>(
    st: &mut S,
    file: &mut S::File,
    start: u32,
    end: u32,
    mut f: impl FnMut(u32, BatchView<&[u8]>) -> Result<bool, E>,
) -> Result<ScanEnd, E>
where
    S: Storage,
    E: From<StorageError>,
{
    let mut pos = start;
    let mut buf: Vec<u8> = Vec::new();
    let mut want = CHUNK;
    while pos < end {
        let len = want.min((end - pos) as usize);
        buf.resize(len, 0);
        let n = st.read_at(file, u64::from(pos), &mut buf)?;
        buf.truncate(n);
        if n == 0 {
            return Ok(ScanEnd::Invalid(
                pos,
                RecordError::Truncated {
                    offset: pos as usize,
                    expected: "the rest of the segment",
                },
            ));
        }
        let mut walk = Batches::new(&buf);
        for item in walk.by_ref() {
            match item {
                Ok(batch) => {
                    let at = pos + batch.position() as u32;
                    if !f(at, batch)? {
                        return Ok(ScanEnd::Stopped(at));
                    }
                }
                Err(e) => {
                    let at = pos + walk.position() as u32;
                    return Ok(ScanEnd::Invalid(at, e));
                }
            }
        }
        let consumed = walk.position() as u32;
        let rest = walk.remainder();
        pos += consumed;
        if rest.is_empty() {
            want = CHUNK;
            continue;
        }
        // a partial batch: is it cut by the end of the file, or by the chunk?
        let claimed = if rest.len() >= LOG_OVERHEAD {
            let size = i32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]);
            Some(i64::from(size) + LOG_OVERHEAD as i64)
        } else {
            None
        };
        let left = i64::from(end - pos);
        match claimed {
            Some(total) if total <= left && total > rest.len() as i64 => want = total as usize,
            _ if (rest.len() as i64) < left && consumed > 0 => want = CHUNK,
            _ => {
                return Ok(ScanEnd::Invalid(
                    pos,
                    RecordError::Truncated {
                        offset: pos as usize,
                        expected: "a whole batch before the end of the segment",
                    },
                ))
            }
        }
    }
    Ok(ScanEnd::Complete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemStorage;
    use alloc::vec;
    use kproto::records::{BatchBuilder, BatchConfig};

    /// A segment ending in 12 to 16 bytes of a batch header whose length field is negative:
    /// the walk ends there as an invalid tail (it used to take the negative claimed size, cast
    /// to a huge read length, as "read more" and loop forever; found by fuzzing recovery).
    #[test]
    fn a_partial_header_with_a_negative_length_ends_the_walk() {
        let mut b = BatchBuilder::new(BatchConfig::default());
        b.try_append(1_700_000_000_000, Some(b"k"), Some(&[7u8; 300]), &[])
            .unwrap();
        let seg = b.finish().unwrap();
        let whole = seg.len() as u32;
        for tail in 12..17usize {
            let mut data = seg.clone();
            let mut header = vec![0u8; tail];
            header[8..12].copy_from_slice(&(-842_150_451i32).to_be_bytes());
            data.extend_from_slice(&header);
            let mut st = MemStorage::new();
            st.put("t-0/00000000000000000000.log", &data);
            let mut f = st.open("t-0/00000000000000000000.log", false).unwrap();
            let mut seen = 0;
            let end = scan::<_, StorageError>(&mut st, &mut f, 0, data.len() as u32, |_, _| {
                seen += 1;
                Ok(true)
            })
            .unwrap();
            assert_eq!(seen, 1, "tail of {tail} bytes");
            assert!(
                matches!(end, ScanEnd::Invalid(at, _) if at == whole),
                "tail of {tail}: {end:?}"
            );
        }
    }
}
