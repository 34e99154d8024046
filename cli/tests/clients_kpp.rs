//! The real-client scenarios (`tests/src/clients/suite.rs`, proven against Apache Kafka 4.4.0
//! by `tests/tests/clients_kafka_reference.rs`) against `kpp serve`: one broker start, then
//! every scenario once, each on its own topic, each read-back compared record by record with
//! what was sent; then the log directory shows the batches each topic holds (the codecs and
//! producers the scenarios asked for, every record), read the way Kafka's are.
//!
//! Run with `--nocapture` to see the client versions and each scenario's time.

// A test harness: it reads the clock to report the total time (nothing is asserted on times).
#![allow(clippy::disallowed_methods)]

use integration_tests::clients::suite;
use integration_tests::kafka::TempDir;
use integration_tests::kpp::Kpp;
use std::time::Instant;

#[test]
fn every_client_scenario_reads_back_from_kpp_what_it_sent() {
    let tmp = TempDir::new("clients-kpp");
    let data = tmp.path().join("data");
    let start = Instant::now();
    let kpp = Kpp::start(env!("CARGO_BIN_EXE_kpp"), &data, &[]);
    let bootstrap = kpp.addr.to_string();
    suite::create_topics(&bootstrap);
    let outcomes = suite::run_all(&bootstrap);
    let (status, log) = kpp.sigterm();
    println!(
        "all clients against kpp serve in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    suite::assert_all_passed(&outcomes);
    assert!(
        status.success(),
        "kpp serve did not exit cleanly: {status}\n{log}"
    );
    println!("{}", suite::assert_batches_as_sent(&data));
}
