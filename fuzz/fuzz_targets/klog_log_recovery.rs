//! klog's recovery (`Log::open` after an unclean stop) over arbitrary partition directories in
//! `MemStorage`. The first input byte picks the shape:
//! - even: the rest is cut by two 16-bit lengths into a `.log`, its `.index` and its
//!   `.timeindex`, taken as they are;
//! - odd: a seeded valid log (uncompressed, snappy and lz4 batches, idempotent and
//!   transactional producers, COMMIT and ABORT markers) split into two segments, with real or
//!   arbitrary indexes, then damaged by the remaining bytes (bit flips, overwritten bytes, a cut
//!   tail, trailing garbage), or for short inputs by up to three damages drawn from the seed.
//!
//! Bit 1 of the first byte adds a recovery-point checkpoint, bit 2 an arbitrary producer
//! snapshot. Errors are fine; panics are not, and a log that opens must hold together: its
//! segments in order and ending at the log end offset, every offset from the log start to the
//! log end readable as CRC-valid batches in order, an append landing at the log end offset, and a
//! clean close reopening to the same log without any recovery.
#![no_main]

use klog::{Log, LogConfig, MemStorage};
use kproto::records::control::end_transaction_marker_batch;
use kproto::records::{BatchBuilder, BatchConfig, Batches, Compression};
use kproto::rng::Rng;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000_000;
const DIR: &str = "t-0";

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 1 << 20,
        segment_index_bytes: 4096,
        index_interval_bytes: 512,
        ..LogConfig::default()
    }
}

fn file(base: u64, suffix: &str) -> String {
    format!("{DIR}/{base:020}{suffix}")
}

fn take_u16(data: &mut &[u8]) -> usize {
    let v = match data {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
        _ => 0,
    };
    *data = data.get(2..).unwrap_or_default();
    v
}

fn split<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let n = n.min(data.len());
    let (head, tail) = data.split_at(n);
    *data = tail;
    head
}

/// A valid log of `n` batches from `rng` (offsets from 0): data batches of every codec from
/// three producers (none, idempotent, transactional) and markers ending the transactions.
fn valid_log(rng: &mut Rng, n: usize) -> (Vec<u8>, Vec<(u64, usize)>) {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    let mut next = 0i64;
    let mut seqs = [0i32; 3];
    let mut open_txn = false;
    for b in 0..n {
        starts.push((next as u64, out.len()));
        if open_txn && rng.chance(3) {
            let m = end_transaction_marker_batch(rng.bool(), 0, 3000, 0, next, 0, NOW + b as i64)
                .expect("marker");
            out.extend_from_slice(&m);
            next += 1;
            open_txn = false;
            continue;
        }
        let who = rng.below(3) as usize;
        let (pid, epoch, seq, txn) = match who {
            0 => (-1, -1, -1, false),
            1 => (2000, 1, seqs[1], false),
            _ => (3000, 0, seqs[2], true),
        };
        let mut builder = BatchBuilder::new(BatchConfig {
            base_offset: next,
            // the cheap codecs: generation cost is fuzzing time lost (recovery checks CRCs and
            // headers, not the records inside)
            compression: [Compression::None, Compression::Snappy, Compression::Lz4]
                [rng.below(3) as usize],
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            transactional: txn,
            write_limit: 1 << 20,
            ..BatchConfig::default()
        });
        let count = 1 + rng.below(8) as i32;
        for r in 0..count {
            let mut value = vec![0u8; rng.below(300) as usize];
            rng.fill(&mut value);
            let key = format!("k{b}-{r}");
            builder
                .try_append(
                    NOW - 1000 + (b * 10) as i64 + i64::from(r),
                    Some(key.as_bytes()),
                    (!rng.chance(9)).then_some(&value[..]),
                    &[("h", Some(b"v"))],
                )
                .expect("append to a new batch");
        }
        out.extend_from_slice(&builder.finish().expect("batch"));
        if who > 0 {
            seqs[who] += count;
        }
        open_txn |= txn;
        next += i64::from(count);
    }
    (out, starts)
}

/// Offset and time index bytes for `log` (based at `base`), an entry per batch.
fn indexes(log: &[u8], base: u64) -> (Vec<u8>, Vec<u8>) {
    let (mut idx, mut tidx) = (Vec::new(), Vec::new());
    let mut max_ts = i64::MIN;
    for b in Batches::new(log).map_while(Result::ok) {
        let rel = (b.last_offset() as u64).wrapping_sub(base) as u32;
        idx.extend_from_slice(&rel.to_be_bytes());
        idx.extend_from_slice(&(b.position() as u32).to_be_bytes());
        if b.max_timestamp() > max_ts {
            max_ts = b.max_timestamp();
            tidx.extend_from_slice(&max_ts.to_be_bytes());
            tidx.extend_from_slice(&rel.to_be_bytes());
        }
    }
    (idx, tidx)
}

fn structured(st: &MemStorage, mut data: &[u8]) {
    let mut seed = [0u8; 8];
    let s = split(&mut data, 8);
    seed[..s.len()].copy_from_slice(s);
    let mut rng = Rng::new(u64::from_be_bytes(seed));
    let n = 1 + rng.below(16) as usize;
    let (log, starts) = valid_log(&mut rng, n);
    // two segments, cut at a batch boundary
    let (cut_offset, cut_at) = starts[rng.below(starts.len() as u64) as usize];
    let segs: Vec<(u64, Vec<u8>)> = if cut_at == 0 {
        vec![(0, log)]
    } else {
        vec![
            (0, log[..cut_at].to_vec()),
            (cut_offset, log[cut_at..].to_vec()),
        ]
    };
    let arbitrary_indexes = rng.chance(4);
    let last = segs.len() - 1;
    for (k, (base, mut bytes)) in segs.into_iter().enumerate() {
        let (mut idx, mut tidx) = indexes(&bytes, base);
        if arbitrary_indexes {
            let i = take_u16(&mut data) % 256;
            idx = split(&mut data, i).to_vec();
            let t = take_u16(&mut data) % 256;
            tidx = split(&mut data, t).to_vec();
        }
        // damage: op (1 byte) + position (2 bytes) + value (1 byte), on the last segment only
        // (earlier ones are damaged through the arbitrary indexes)
        // (short inputs draw up to three ops from the seed instead)
        let mut drawn = if data.len() < 4 { rng.below(4) } else { 0 };
        while k == last && (data.len() >= 4 || drawn > 0) && !bytes.is_empty() {
            let (op, pos, v) = if data.len() >= 4 {
                let op = (data[0], u16::from_be_bytes([data[1], data[2]]), data[3]);
                data = &data[4..];
                op
            } else {
                drawn -= 1;
                let r = rng.next_u64();
                (r as u8, (r >> 8) as u16, (r >> 24) as u8)
            };
            let pos = usize::from(pos) % bytes.len();
            match op % 4 {
                0 => bytes[pos] ^= 1 << (v % 8),
                1 => bytes[pos] = v,
                2 => bytes.truncate(pos),
                _ => bytes.extend(std::iter::repeat_n(v, usize::from(v % 64))),
            }
            if bytes.is_empty() {
                break;
            }
        }
        st.put(&file(base, ".log"), &bytes);
        if !idx.is_empty() || rng.bool() {
            st.put(&file(base, ".index"), &idx);
        }
        if !tidx.is_empty() || rng.bool() {
            st.put(&file(base, ".timeindex"), &tidx);
        }
    }
}

fn raw(st: &MemStorage, mut data: &[u8]) {
    let l = take_u16(&mut data);
    let i = take_u16(&mut data);
    let log = split(&mut data, l);
    let idx = split(&mut data, i);
    st.put(&file(0, ".log"), log);
    st.put(&file(0, ".index"), idx);
    st.put(&file(0, ".timeindex"), data);
}

/// Everything a recovered log must satisfy.
fn check(log: &mut Log<MemStorage>) {
    let (start, end) = (log.log_start_offset(), log.log_end_offset());
    assert!(start <= end, "log start {start} > log end {end}");
    let mut prev_next = None;
    for seg in log.segments() {
        if let Some(p) = prev_next {
            assert!(
                seg.base_offset() >= p,
                "segment {} overlaps the one before",
                seg.base_offset()
            );
        }
        assert!(seg.next_offset() >= seg.base_offset());
        prev_next = Some(seg.next_offset());
    }
    assert_eq!(
        prev_next,
        Some(end),
        "the active segment ends at the log end offset"
    );
    let mut at = start;
    let mut rounds = 0;
    while at < end {
        rounds += 1;
        assert!(rounds < 10_000, "reads make no progress at {at}");
        let data = log.read(at, 1 << 16).expect("read inside the log");
        assert!(
            !data.is_empty(),
            "nothing read at {at} below the log end {end}"
        );
        let mut walk = Batches::new(&data);
        let mut got = 0;
        for b in walk.by_ref() {
            let b = b.expect("a recovered batch reads");
            b.validate().expect("a recovered batch is valid");
            assert!(
                b.last_offset() as u64 >= at,
                "batch ending {} before {at}",
                b.last_offset()
            );
            at = b.last_offset() as u64 + 1;
            got += 1;
        }
        assert!(
            got > 0 && walk.remainder().is_empty(),
            "whole batches at {at}"
        );
    }
    assert_eq!(at, end, "the last batch ends at the log end offset");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let st = MemStorage::new();
    let mut rest = rest;
    if mode & 2 != 0 {
        let n = take_u16(&mut rest) % 64;
        st.put(
            "recovery-point-offset-checkpoint",
            format!("0\n1\nt 0 {n}\n").as_bytes(),
        );
    }
    if mode & 4 != 0 {
        let n = take_u16(&mut rest) % 512;
        let snap = split(&mut rest, n).to_vec();
        st.put(&file(u64::from(mode >> 3), ".snapshot"), &snap);
    }
    if mode & 1 == 0 {
        raw(&st, rest);
    } else {
        structured(&st, rest);
    }
    let Ok((mut log, _report)) = Log::open(st, "t", 0, config(), NOW) else {
        return;
    };
    check(&mut log);
    let end = log.log_end_offset();
    let mut b = BatchBuilder::new(BatchConfig::default());
    b.try_append(NOW, Some(b"k"), Some(b"after recovery"), &[])
        .expect("append");
    let mut bytes = b.finish().expect("batch");
    if let Ok(info) = log.append(&mut bytes, NOW) {
        assert_eq!(
            info.first_offset, end,
            "an append after recovery lands at the log end"
        );
        check(&mut log);
    }
    let end = log.log_end_offset();
    let Ok(st) = log.close(NOW + 1) else {
        return;
    };
    let (mut again, report) =
        Log::open(st, "t", 0, config(), NOW + 2).expect("a cleanly closed log opens");
    assert_eq!(
        again.log_end_offset(),
        end,
        "the log end after a clean close"
    );
    assert_eq!(
        report.truncated_bytes, 0,
        "nothing cut after a clean close: {report:?}"
    );
    assert!(
        report.deleted_segments.is_empty(),
        "nothing deleted after a clean close: {report:?}"
    );
    check(&mut again);
});
