"""kafka-python as a test driver (tests/src/clients/kafka_python.rs).

  create-topics BOOTSTRAP NAME:PARTITIONS...   KafkaAdminClient.create_topics
  produce BOOTSTRAP TOPIC CODEC:ACKS:COUNT...   one KafkaProducer per spec, in order, each given
                                                the next COUNT records of stdin; D lines with
                                                indexes into all of stdin
  consume BOOTSTRAP TOPIC                       KafkaConsumer without a group: assign every
                                                partition, seek_to_beginning, end_offsets, poll
                                                until every position reaches its end; R, E lines
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

import lines


def create_topics(bootstrap, specs):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kpp-kafka-python-admin")
    topics = []
    for spec in specs:
        name, partitions = spec.rsplit(":", 1)
        topics.append(NewTopic(name, int(partitions), 1))
    result = admin.create_topics(topics, timeout_ms=30000)
    lines.note("created %s" % [t["name"] for t in result.get("topics", [])])
    admin.close()


def produce(bootstrap, topic, specs):
    records = lines.read_records()
    start = 0
    for spec in specs:
        codec, acks, count = spec.split(":")
        count = int(count)
        acks = "all" if acks == "-1" else int(acks)
        config = dict(
            bootstrap_servers=bootstrap,
            client_id="kpp-kafka-python-%s-acks%s" % (codec, acks),
            acks=acks,
            compression_type=None if codec == "none" else codec,
            linger_ms=10,
            max_block_ms=30000,
        )
        if acks != "all":
            # Idempotence needs acks=all; say so rather than have it silently turned off.
            config["enable_idempotence"] = False
        producer = KafkaProducer(**config)
        futures = []
        for i in range(start, start + count):
            p, k, v, h = records[i]
            futures.append((i, producer.send(topic, key=k, value=v, headers=h, partition=p)))
        producer.flush(timeout=60)
        for i, f in futures:
            md = f.get(timeout=60)
            lines.delivery(i, md.partition, md.offset)
        producer.close(timeout=10)
        start += count
    if start != len(records):
        raise SystemExit("specs cover %d records, stdin has %d" % (start, len(records)))


def consume(bootstrap, topic):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="kpp-kafka-python-consumer",
                             group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    deadline = time.time() + 30
    partitions = consumer.partitions_for_topic(topic)
    while not partitions:
        if time.time() > deadline:
            raise SystemExit("no partitions for %s" % topic)
        time.sleep(0.1)
        partitions = consumer.partitions_for_topic(topic)
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning()
    ends = consumer.end_offsets(tps)
    for tp in tps:
        lines.end_offset(tp.partition, ends[tp])
    deadline = time.time() + 90
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        if time.time() > deadline:
            raise SystemExit("timed out at %s of %s" % (
                {tp.partition: consumer.position(tp) for tp in tps},
                {tp.partition: ends[tp] for tp in tps}))
        for tp, msgs in consumer.poll(timeout_ms=500).items():
            for m in msgs:
                lines.record(m.partition, m.offset, m.timestamp, m.key, m.value, m.headers)
    consumer.close()


def main():
    mode, bootstrap = sys.argv[1], sys.argv[2]
    if mode == "create-topics":
        create_topics(bootstrap, sys.argv[3:])
    elif mode == "produce":
        produce(bootstrap, sys.argv[3], sys.argv[4:])
    elif mode == "consume":
        consume(bootstrap, sys.argv[3])
    else:
        raise SystemExit("unknown mode %r" % mode)


if __name__ == "__main__":
    main()
