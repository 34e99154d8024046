//! Writes a small partition log to a directory (for `kpp dump` and Kafka's DumpLogSegments):
//! `cargo run -p klog --example write_segment -- DIR`.

use klog::{FsStorage, Log, LogConfig};
use kproto::records::{BatchBuilder, BatchConfig};

fn main() {
    let dir = std::env::args().nth(1).expect("usage: write_segment DIR");
    let st = FsStorage::new(&dir).expect("storage");
    let cfg = LogConfig {
        index_interval_bytes: 100,
        ..LogConfig::default()
    };
    let (mut log, _) = Log::open(st, "demo", 0, cfg, 1_700_000_000_000).expect("open");
    for i in 0..20i64 {
        let mut b = BatchBuilder::new(BatchConfig {
            producer_id: 7,
            producer_epoch: 0,
            base_sequence: (i * 3) as i32,
            ..BatchConfig::default()
        });
        for r in 0..3 {
            let v = format!("value-{i}-{r}");
            b.try_append(
                1_700_000_000_000 + i * 10 + r,
                Some(b"key"),
                Some(v.as_bytes()),
                &[("h", Some(b"x"))],
            )
            .expect("append");
        }
        log.append(&mut b.finish().expect("batch"), 1_700_000_000_000 + i)
            .expect("append");
    }
    log.close(1_700_000_001_000).expect("close");
}
