//! The record batch readers over arbitrary bytes: the v2 batch walk and view (header fields,
//! CRC, records after decompression with a 1 MiB cap, control records), the legacy message
//! set walk with wrapped messages, and the owned parse/emit. Errors are fine; panics, hangs and
//! unbounded allocations are not. The strict walk (`Batches::complete`, for a Produce
//! request's records) agrees with the lenient one and fails exactly at a partial tail;
//! `encode` into a `BufMut` writes what `emit` does, `encoded_len` bytes of it.
#![no_main]

use bytes::Bytes;
use kproto::records::legacy::{Entries, Entry};
use kproto::records::{control, Batches, RecordBatch, RecordError};
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut scratch = Vec::new();
    let mut walk = Batches::new(data);
    for b in walk.by_ref() {
        let Ok(b) = b else { break };
        let _ = (
            b.base_offset(),
            b.last_offset(),
            b.last_sequence(),
            b.max_timestamp(),
            b.attributes(),
        );
        let crc_ok = b.validate().is_ok();
        if let Ok(records) = b.records(&mut scratch, CAP) {
            for r in records {
                let Ok(r) = r else { break };
                let _ = r.headers.iter().count();
                if b.is_control() {
                    let _ = control::parse_control_record(&r);
                }
            }
        }
        if crc_ok {
            if let Ok(owned) = RecordBatch::parse(&Bytes::copy_from_slice(b.as_bytes()), CAP) {
                let again = owned.emit().expect("a parsed batch emits");
                // Encoding into a BufMut gives the same bytes, encoded_len of them.
                let mut into = Vec::new();
                owned.encode(&mut into).expect("a parsed batch encodes");
                assert_eq!(into, again);
                assert_eq!(
                    owned.encoded_len().expect("a parsed batch has a length"),
                    again.len()
                );
                let back =
                    RecordBatch::parse(&Bytes::from(again), CAP).expect("an emitted batch parses");
                assert_eq!(back, owned);
            }
        }
    }
    let _ = walk.remainder();
    let mut lenient = Batches::new(data);
    let lenient_items: Vec<_> = lenient.by_ref().collect();
    let strict: Vec<_> = Batches::complete(data).collect();
    let tail = lenient.remainder();
    if tail.is_empty() || lenient_items.last().is_some_and(Result::is_err) {
        assert_eq!(strict, lenient_items);
    } else {
        assert_eq!(strict.len(), lenient_items.len() + 1);
        assert_eq!(strict[..lenient_items.len()], lenient_items[..]);
        assert!(matches!(
            strict[lenient_items.len()],
            Err(RecordError::Incomplete { offset, available, .. })
                if offset == data.len() - tail.len() && available == tail.len()
        ));
    }
    for e in Entries::new(data) {
        match e {
            Ok(Entry::Legacy(m)) => {
                let _ = m.validate();
                let _ = m.records(&mut scratch, CAP);
            }
            Ok(Entry::V2(_)) => {}
            Err(_) => break,
        }
    }
});
