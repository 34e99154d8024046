//! The real-client scenarios (`tests/src/clients/suite.rs`, over the drivers in
//! `tests/src/clients/`) proven against a real Apache Kafka 4.4.0 broker (KRaft, one node, from
//! the Maven jars: `tests/src/kafka.rs`), so that the broker tests can point the same scenarios
//! at `kpp serve` and expect the same: one broker start, then every scenario once, each on its
//! own topic, each read-back compared record by record with what was sent.
//!
//! - kcat: `-L`; 10,000 keyed messages with headers through `-P` (idempotent, lz4); `-C -e`;
//! - kafka-python: a producer per codec (none, gzip, snappy, lz4, zstd) × acks 0, 1, all;
//!   a consumer with `assign` reads all fifteen runs back;
//! - confluent-kafka: an idempotent producer per codec, delivery reports dense per partition;
//!   a consumer with `assign`;
//! - kafkajs: an idempotent (gzip) and a non-idempotent (acks=1) producer; kcat reads back;
//! - the Java client 4.4.0: `KafkaProducer` with its defaults, `KafkaConsumer` without a group,
//!   and the `Admin` walk (createTopics ... deleteTopics) with every result checked;
//! - Kafka's own `kafka-topics.sh` and `kafka-configs.sh` classes: create, alter, describe,
//!   delete, list.
//!
//! Then Kafka's log directory shows the batches each topic holds: the codecs and producers
//! (idempotent or not) the scenarios asked for, and every record.
//!
//! Run with `--nocapture` to see the client versions and each scenario's time.

// A test harness: it reads the clock to report the total time (nothing is asserted on times).
#![allow(clippy::disallowed_methods)]

use integration_tests::clients::suite;
use integration_tests::kafka::{Broker, KafkaInstall, TempDir, KAFKA_VERSION};
use std::time::{Duration, Instant};

#[test]
fn every_client_scenario_reads_back_from_kafka_4_4_0_what_it_sent() {
    let install = KafkaInstall::locate();
    let tmp = TempDir::new("clients-kafka-reference");
    let start = Instant::now();
    let mut broker = Broker::start(&install, tmp.path(), &[], Duration::from_secs(120));
    let bootstrap = broker.bootstrap();
    println!("Kafka {KAFKA_VERSION} started in {:?}", broker.started_in);
    suite::create_topics(&bootstrap);
    let outcomes = suite::run_all(&bootstrap);
    let stop = broker.stop(Duration::from_secs(60));
    println!(
        "all clients against one broker in {:.1} s (broker stop {:?}, clean: {})",
        start.elapsed().as_secs_f64(),
        stop.elapsed,
        stop.clean_shutdown
    );
    suite::assert_all_passed(&outcomes);
    println!("{}", suite::assert_batches_as_sent(&broker.log_dir));
    // The JVM exits with 128 + SIGTERM after running Kafka's shutdown hook.
    assert!(
        (stop.status.success() || stop.status.code() == Some(143)) && stop.clean_shutdown,
        "the broker did not stop cleanly: {stop:?}"
    );
}
