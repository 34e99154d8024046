//! klog's `.index` reader over arbitrary bytes: open (entry count from the length), every entry,
//! lookups, the sanity check against a log size, truncation and appends. Input: 8 bytes of base
//! offset, 8 of a lookup target, 4 of a log size, then the file. Errors are fine; panics are not,
//! and the answers must hold together (a lookup never lands past its target's entry).
#![no_main]

use klog::index::OffsetIndex;
use klog::{MemStorage, Storage};
use libfuzzer_sys::fuzz_target;

fn take<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut b = [0u8; N];
    let n = data.len().min(N);
    b[..n].copy_from_slice(&data[..n]);
    *data = &data[n..];
    b
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let base = u64::from_be_bytes(take::<8>(&mut data)) >> 2;
    let target = u64::from_be_bytes(take::<8>(&mut data));
    let log_size = u64::from(u32::from_be_bytes(take::<4>(&mut data)));
    let mut st = MemStorage::new();
    let path = "t-0/00000000000000000000.index";
    st.put(path, data);
    let Ok(mut idx) = OffsetIndex::open(&mut st, path, base) else {
        return;
    };
    assert_eq!(u64::from(idx.entries()), data.len() as u64 / 8);
    for n in 0..idx.entries() {
        let _ = idx.entry(n);
    }
    let _ = idx.last_offset();
    let sane = idx.sanity_check(log_size).is_ok();
    for t in [
        target,
        base,
        base.saturating_add(1),
        idx.last_offset(),
        u64::MAX,
    ] {
        let hit = idx.lookup(t);
        if sane && t >= base {
            assert!(hit.offset <= t.max(base), "lookup({t}) = {hit:?}");
        }
    }
    idx.truncate_to(target);
    let _ = idx.append(target, log_size as u32);
    let _ = idx.lookup(target);
    let _ = st.list("t-0");
});
