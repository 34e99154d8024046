//! `kpp`: the project's command.
//!
//! - `kpp serve [--data-dir DIR] [--listen HOST:PORT] [--config server.properties]
//!   [--override key=value]... [--metrics HOST:PORT]`: runs the broker (`klog::broker` over `klog::server`) until
//!   SIGINT or SIGTERM, then shuts it down cleanly (every log flushed and closed) and exits 0.
//!   The configuration is Kafka's: the file's pairs first, then `--data-dir` (`log.dirs`) and
//!   `--listen` (`listeners=PLAINTEXT://HOST:PORT`), then each `--override` in order (a later
//!   value for a key wins). A value Kafka would refuse stops it with an error naming the key;
//!   keys it does not use are logged as warnings, as Kafka logs them. Logs go to stderr
//!   (`RUST_LOG` filters them, `info` by default). `--metrics` serves Prometheus metrics
//!   (`GET /metrics`, text format 0.0.4, Kafka's metric names as the JMX exporter renders
//!   them; see `klog::server::metrics`) on its own address.
//! - `kpp dump ...`: prints log segments, indexes and snapshots as Kafka's
//!   `kafka-dump-log.sh` does (see the `dump` module).

mod dump;
mod serve;

use std::process::ExitCode;

/// The usage text of `kpp` itself.
const USAGE: &str = "usage: kpp serve [--data-dir DIR] [--listen HOST:PORT] [--config FILE] \
                     [--override KEY=VALUE]... [--metrics HOST:PORT]\n       kpp dump [--deep-iteration] \
                     [--print-data-log] [--skip-record-metadata] [--verify-index-only] \
                     [--files F1,F2,...] [FILE...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dump") => dump::run(&args[1..]),
        Some("serve") => serve::run(&args[1..]),
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
