//! klog's producer `.snapshot` reader over arbitrary bytes (the CRC is fixed up first when the
//! input's first byte is odd, so that the fuzzer gets past it): a snapshot that loads must encode
//! to a snapshot that loads to the same state, and the duplicate and sequence checks a later
//! append runs must not panic on any entry it holds.
#![no_main]

use klog::producer_state::ProducerStateManager;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 && bytes.len() >= 10 {
        let crc = kproto::records::crc::crc32c(&bytes[6..]);
        bytes[2..6].copy_from_slice(&crc.to_be_bytes());
    }
    let offset = u64::from(mode >> 1) * 1000;
    let Ok(state) = ProducerStateManager::decode_snapshot("t-0/x.snapshot", offset, &bytes) else {
        return;
    };
    let again = state.encode_snapshot();
    let back = ProducerStateManager::decode_snapshot("t-0/x.snapshot", offset, &again)
        .expect("klog's own snapshot of a loaded state loads");
    assert_eq!(back.producers(), state.producers(), "snapshot round trip");
    for (&pid, e) in state.producers() {
        let last = e.last_seq();
        for (first, end) in [
            (last, last),
            (last.wrapping_add(1), last.wrapping_add(5)),
            (0, 0),
            (i32::MAX, i32::MAX),
            (last.wrapping_sub(3), last),
        ] {
            let _ = state.check(pid, e.epoch, first, end);
            let _ = state.check(pid, e.epoch.wrapping_add(1), first, end);
            let _ = e.find_duplicate(e.epoch, first, end);
        }
    }
    let _ = state.first_unstable_offset();
});
