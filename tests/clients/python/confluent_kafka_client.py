"""confluent-kafka (librdkafka) as a test driver (tests/src/clients/confluent_kafka.rs).

  produce BOOTSTRAP TOPIC CODEC:COUNT...   one idempotent Producer per spec, in order, each
                                           given the next COUNT records of stdin; a D line per
                                           delivery report (indexes into all of stdin)
  consume BOOTSTRAP TOPIC                  a Consumer that assigns every partition at
                                           OFFSET_BEGINNING and reads to the high watermarks
                                           (get_watermark_offsets); R, E lines. librdkafka
                                           refuses a consumer without group.id, so it has one,
                                           but it never subscribes, joins or commits.
"""
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

import lines


def produce(bootstrap, topic, specs):
    records = lines.read_records()
    start = 0
    for spec in specs:
        codec, count = spec.split(":")
        count = int(count)
        producer = Producer({
            "bootstrap.servers": bootstrap,
            "client.id": "kpp-confluent-kafka-%s" % codec,
            "enable.idempotence": True,
            "compression.type": codec,
            "linger.ms": 10,
            "message.timeout.ms": 60000,
        })
        failures = []

        def report(index):
            def on_delivery(err, msg):
                if err is not None:
                    failures.append("record %d: %s" % (index, err))
                else:
                    lines.delivery(index, msg.partition(), msg.offset())
            return on_delivery

        for i in range(start, start + count):
            p, k, v, h = records[i]
            while True:
                try:
                    producer.produce(topic, key=k, value=v, headers=h,
                                     partition=-1 if p is None else p, on_delivery=report(i))
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
        left = producer.flush(60)
        if left or failures:
            raise SystemExit("%s: %d undelivered, failures: %s" % (codec, left, failures[:5]))
        start += count
    if start != len(records):
        raise SystemExit("specs cover %d records, stdin has %d" % (start, len(records)))


def consume(bootstrap, topic):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "client.id": "kpp-confluent-kafka-consumer",
        "group.id": "kpp-assign-only",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    })
    md = consumer.list_topics(topic, timeout=30).topics[topic]
    if md.error is not None:
        raise KafkaException(md.error)
    partitions = sorted(md.partitions)
    ends = {}
    for p in partitions:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        ends[p] = high
        lines.end_offset(p, high)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    next_offset = {p: 0 for p in partitions}
    deadline = time.time() + 90
    while any(next_offset[p] < ends[p] for p in partitions):
        if time.time() > deadline:
            raise SystemExit("timed out at %s of %s" % (next_offset, ends))
        for m in consumer.consume(num_messages=500, timeout=0.5):
            if m.error() is not None:
                raise KafkaException(m.error())
            _, ts = m.timestamp()
            lines.record(m.partition(), m.offset(), ts, m.key(), m.value(), m.headers())
            next_offset[m.partition()] = m.offset() + 1
    consumer.close()


def main():
    mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "produce":
        produce(bootstrap, topic, sys.argv[4:])
    elif mode == "consume":
        consume(bootstrap, topic)
    else:
        raise SystemExit("unknown mode %r" % mode)


if __name__ == "__main__":
    main()
