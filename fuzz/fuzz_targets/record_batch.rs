//! The record batch readers over arbitrary bytes: the v2 batch walk and view (header fields,
//! CRC, records after decompression with a 1 MiB cap, control records), the legacy message
//! set walk with wrapped messages, and the owned parse/emit. Errors are fine; panics, hangs and
//! unbounded allocations are not.
#![no_main]

use bytes::Bytes;
use kproto::records::legacy::{Entries, Entry};
use kproto::records::{control, Batches, RecordBatch};
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut scratch = Vec::new();
    let mut walk = Batches::new(data);
    for b in walk.by_ref() {
        let Ok(b) = b else { break };
        let _ = (b.base_offset(), b.last_offset(), b.last_sequence(), b.max_timestamp(), b.attributes());
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
                let back = RecordBatch::parse(&Bytes::from(again), CAP).expect("an emitted batch parses");
                assert_eq!(back, owned);
            }
        }
    }
    let _ = walk.remainder();
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
