//! `klog dump [--print-data-log] FILE...`: prints segment files the way Kafka's
//! `kafka-dump-log.sh` (`DumpLogSegments --deep-iteration`) does: batches, records, index
//! entries, and the errors found.

use kproto::records::{Batches, DEFAULT_MAX_UNCOMPRESSED};
use std::process::ExitCode;

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn base_of(path: &str) -> u64 {
    let name = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    name.parse().unwrap_or(0)
}

fn dump_log(path: &str, data: &[u8], print_data: bool) -> bool {
    println!("Log starting offset: {}", base_of(path));
    let mut ok = true;
    let mut walk = Batches::new(data);
    for item in walk.by_ref() {
        let b = match item {
            Ok(b) => b,
            Err(e) => {
                println!("Found invalid batch: {e}");
                return false;
            }
        };
        let valid = b.validate().is_ok();
        ok &= valid;
        let ts_type = match b.timestamp_type() {
            kproto::records::TimestampType::CreateTime => "CreateTime",
            kproto::records::TimestampType::LogAppendTime => "LogAppendTime",
        };
        let codec = b.compression().map(|c| c.name()).unwrap_or("unknown");
        println!(
            "baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {} producerId: {} producerEpoch: {} partitionLeaderEpoch: {} isTransactional: {} isControl: {} deleteHorizonMs: OptionalLong.empty position: {} {ts_type}: {} size: {} magic: 2 compresscodec: {codec} crc: {} isvalid: {valid}",
            b.base_offset(), b.last_offset(), b.record_count(), b.base_sequence(), b.last_sequence(),
            b.producer_id(), b.producer_epoch(), b.partition_leader_epoch(), b.is_transactional(),
            b.is_control(), b.position(), b.max_timestamp(), b.size(), b.crc()
        );
        let mut scratch = Vec::new();
        match b.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED) {
            Ok(recs) => {
                for (i, r) in recs.enumerate() {
                    match r {
                        Ok(r) => {
                            let seq = if b.base_sequence() < 0 {
                                -1
                            } else {
                                b.base_sequence().wrapping_add(i as i32)
                            };
                            let keys: Vec<String> = r
                                .headers
                                .iter()
                                .map(|h| String::from_utf8_lossy(h.key).into_owned())
                                .collect();
                            let mut line = format!(
                                "| offset: {} {ts_type}: {} keySize: {} valueSize: {} sequence: {seq} headerKeys: [{}]",
                                r.offset,
                                r.timestamp,
                                r.key.map_or(-1, |k| k.len() as i64),
                                r.value.map_or(-1, |v| v.len() as i64),
                                keys.join(",")
                            );
                            if print_data {
                                if let Some(k) = r.key {
                                    line.push_str(&format!(" key: {}", String::from_utf8_lossy(k)));
                                }
                                line.push_str(&format!(
                                    " payload: {}",
                                    r.value.map(String::from_utf8_lossy).unwrap_or_default()
                                ));
                            }
                            println!("{line}");
                        }
                        Err(e) => {
                            println!("Found invalid record: {e}");
                            ok = false;
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                println!("Found invalid records: {e}");
                ok = false;
            }
        }
    }
    if !walk.remainder().is_empty() {
        println!(
            "Found {} invalid bytes at the end of {path}",
            walk.remainder().len()
        );
        ok = false;
    }
    ok
}

fn dump_index(path: &str, data: &[u8], time: bool) -> bool {
    let base = base_of(path);
    let size = if time { 12 } else { 8 };
    let mut ok = data.len() % size == 0;
    let (mut last_off, mut last_x) = (None::<u64>, None::<i64>);
    for e in data.chunks_exact(size) {
        if time {
            let ts = i64::from_be_bytes(e[0..8].try_into().expect("8 bytes"));
            let off = base + u64::from(be_u32(&e[8..12]));
            if ts == 0 && off == base && last_off.is_some() {
                break; // zero-filled preallocated tail
            }
            println!("timestamp: {ts} offset: {off}");
            ok &= last_x.is_none_or(|l| ts >= l) && last_off.is_none_or(|l| off >= l);
            (last_off, last_x) = (Some(off), Some(ts));
        } else {
            let off = base + u64::from(be_u32(&e[0..4]));
            let pos = be_u32(&e[4..8]);
            if off == base && pos == 0 && last_off.is_some() {
                break;
            }
            println!("offset: {off} position: {pos}");
            ok &= last_off.is_none_or(|l| off > l) && last_x.is_none_or(|l| i64::from(pos) > l);
            (last_off, last_x) = (Some(off), Some(i64::from(pos)));
        }
    }
    if !ok {
        println!(
            "Index {path} is inconsistent: entries must increase and fill whole {size}-byte slots"
        );
    }
    ok
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("dump") || args.len() < 2 {
        eprintln!("usage: klog dump [--print-data-log] FILE...   (.log, .index, .timeindex)");
        return ExitCode::from(2);
    }
    let print_data = args.iter().any(|a| a == "--print-data-log");
    let mut all_ok = true;
    for path in args[1..].iter().filter(|a| !a.starts_with("--")) {
        println!("Dumping {path}");
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{path}: {e}");
                all_ok = false;
                continue;
            }
        };
        all_ok &= if path.ends_with(".log") {
            dump_log(path, &data, print_data)
        } else if path.ends_with(".timeindex") {
            dump_index(path, &data, true)
        } else if path.ends_with(".index") {
            dump_index(path, &data, false)
        } else {
            eprintln!("{path}: not a .log, .index or .timeindex file");
            false
        };
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
