//! klog's `.timeindex` reader over arbitrary bytes: open (the last entry read back), every entry,
//! lookups by timestamp, the sanity check, truncation and appends. Input: 8 bytes of base offset,
//! 8 of a timestamp, 8 of an offset, then the file. Errors are fine; panics are not.
#![no_main]

use klog::index::TimeIndex;
use klog::MemStorage;
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
    let ts = i64::from_be_bytes(take::<8>(&mut data));
    let offset = u64::from_be_bytes(take::<8>(&mut data));
    let mut st = MemStorage::new();
    let path = "t-0/00000000000000000000.timeindex";
    st.put(path, data);
    let Ok(mut idx) = TimeIndex::open(&mut st, path, base) else {
        return;
    };
    assert_eq!(u64::from(idx.entries()), data.len() as u64 / 12);
    for n in 0..idx.entries() {
        let _ = idx.entry(n);
    }
    let last = idx.last_entry();
    if idx.entries() > 0 {
        assert_eq!(last, idx.entry(idx.entries() - 1));
    }
    let _ = idx.sanity_check(offset);
    for t in [ts, i64::MIN, -1, 0, last.timestamp, i64::MAX] {
        let _ = idx.lookup(t);
    }
    idx.truncate_to(offset);
    let _ = idx.maybe_append(&mut st, ts, offset, false);
    let _ = idx.lookup(ts);
});
