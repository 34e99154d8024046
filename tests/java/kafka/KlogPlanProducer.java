// Executes a produce plan against a real Apache Kafka 4.4.0 broker with Kafka's own Java client,
// for tests/src/kafka_dirs.rs (which writes the plan and knows every record in it). Built by
// .ci/install.d/35-kafka-broker.sh. The plan decides everything (records, batching points,
// transactions); this program only carries it out in order, one step at a time, and reports the
// offsets Kafka gave, so the partition a test later reads is known record by record.
//
// Usage: KlogPlanProducer BOOTSTRAP PLAN_FILE
// Plan lines (space-separated; BYTES is `-` for null or `x` followed by hex, so `x` is empty):
//   topic NAME PARTITIONS [CONFIG=VALUE...]        create a topic (Admin.createTopics)
//   producer NAME CODEC idempotent                 an idempotent producer (acks=all)
//   producer NAME CODEC transactional TXN_ID       a transactional producer (initTransactions)
//   begin NAME                                     beginTransaction
//   send NAME TOPIC PARTITION TIMESTAMP KEY VALUE [HKEY HVALUE...]   KEY, VALUE, HVALUE: BYTES;
//                                                  HKEY: hex of the UTF-8 header key
//   flush NAME                                     flush, then wait for every send's offset
//   commit NAME TOPIC PARTITION / abort NAME TOPIC PARTITION
//                                                  end the transaction, then wait until the
//                                                  partition's end offset moved past the marker
//   close NAME
//   lso TOPIC PARTITION                            wait until the last stable offset (a
//                                                  read_committed end offset) equals the log end
// Output on stdout, one fact per line:
//   created NAME
//   offset SEND_INDEX OFFSET       SEND_INDEX counts the plan's send lines from 0
//   marker NAME COMMIT|ABORT OFFSET
//   end TOPIC PARTITION LOG_END_OFFSET LAST_STABLE_OFFSET
//   done
// Producers linger 60 s with a 256 KiB batch.size, so batches end at a flush or when full.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class KlogPlanProducer {
    static byte[] bytes(String s) {
        if (s.equals("-")) return null;
        if (!s.startsWith("x") || s.length() % 2 != 1) throw new IllegalArgumentException("bad BYTES " + s);
        byte[] b = new byte[(s.length() - 1) / 2];
        for (int k = 0; k < b.length; k++) {
            b[k] = (byte) Integer.parseInt(s.substring(1 + 2 * k, 3 + 2 * k), 16);
        }
        return b;
    }

    static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "klog-plan-" + isolation);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    static long endOffset(KafkaConsumer<byte[], byte[]> c, TopicPartition tp) {
        return c.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
    }

    /** Polls `c`'s end offset of `tp` until it equals `want`; fails after 60 s. */
    static void awaitEnd(KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long want, String what)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        long got;
        while ((got = endOffset(c, tp)) != want) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException(what + ": end offset of " + tp + " is " + got + ", expected " + want);
            }
            Thread.sleep(20);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: KlogPlanProducer BOOTSTRAP PLAN_FILE");
            System.exit(2);
        }
        String bootstrap = args[0];
        List<String> plan = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
        Map<String, KafkaProducer<byte[], byte[]>> producers = new HashMap<>();
        Map<String, List<Future<RecordMetadata>>> pending = new HashMap<>();
        Map<String, List<Integer>> pendingIndex = new HashMap<>();
        int sendIndex = 0;
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(ap);
             KafkaConsumer<byte[], byte[]> uncommitted = consumer(bootstrap, "read_uncommitted");
             KafkaConsumer<byte[], byte[]> committed = consumer(bootstrap, "read_committed")) {
            for (String line : plan) {
                if (line.isBlank()) continue;
                String[] w = line.split(" ");
                switch (w[0]) {
                    case "topic": {
                        Map<String, String> configs = new HashMap<>();
                        for (int k = 3; k < w.length; k++) {
                            String[] kv = w[k].split("=", 2);
                            configs.put(kv[0], kv[1]);
                        }
                        NewTopic t = new NewTopic(w[1], Integer.parseInt(w[2]), (short) 1).configs(configs);
                        admin.createTopics(List.of(t)).all().get(60, TimeUnit.SECONDS);
                        System.out.println("created " + w[1]);
                        break;
                    }
                    case "producer": {
                        Properties p = new Properties();
                        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                        p.put(ProducerConfig.CLIENT_ID_CONFIG, "klog-plan-" + w[1]);
                        p.put(ProducerConfig.ACKS_CONFIG, "all");
                        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
                        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, w[2]);
                        p.put(ProducerConfig.LINGER_MS_CONFIG, "60000");
                        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
                        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "4194304");
                        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                        if (w[3].equals("transactional")) {
                            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, w[4]);
                        } else if (!w[3].equals("idempotent")) {
                            throw new IllegalArgumentException("producer kind " + w[3]);
                        }
                        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
                        if (w[3].equals("transactional")) producer.initTransactions();
                        producers.put(w[1], producer);
                        pending.put(w[1], new ArrayList<>());
                        pendingIndex.put(w[1], new ArrayList<>());
                        break;
                    }
                    case "begin":
                        producers.get(w[1]).beginTransaction();
                        break;
                    case "send": {
                        List<Header> headers = new ArrayList<>();
                        for (int k = 7; k + 1 < w.length; k += 2) {
                            headers.add(new RecordHeader(new String(bytes("x" + w[k]), StandardCharsets.UTF_8), bytes(w[k + 1])));
                        }
                        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(w[2], Integer.parseInt(w[3]),
                            Long.parseLong(w[4]), bytes(w[5]), bytes(w[6]), headers);
                        pending.get(w[1]).add(producers.get(w[1]).send(r));
                        pendingIndex.get(w[1]).add(sendIndex++);
                        break;
                    }
                    case "flush": {
                        producers.get(w[1]).flush();
                        List<Future<RecordMetadata>> sent = pending.get(w[1]);
                        for (int k = 0; k < sent.size(); k++) {
                            RecordMetadata md = sent.get(k).get(60, TimeUnit.SECONDS);
                            System.out.println("offset " + pendingIndex.get(w[1]).get(k) + " " + md.offset());
                        }
                        sent.clear();
                        pendingIndex.get(w[1]).clear();
                        break;
                    }
                    case "commit":
                    case "abort": {
                        TopicPartition tp = new TopicPartition(w[2], Integer.parseInt(w[3]));
                        long before = endOffset(uncommitted, tp);
                        if (w[0].equals("commit")) producers.get(w[1]).commitTransaction();
                        else producers.get(w[1]).abortTransaction();
                        awaitEnd(uncommitted, tp, before + 1, w[0] + " " + w[1]);
                        System.out.println("marker " + w[1] + " " + w[0].toUpperCase() + " " + before);
                        break;
                    }
                    case "close":
                        producers.remove(w[1]).close(Duration.ofSeconds(60));
                        break;
                    case "lso": {
                        TopicPartition tp = new TopicPartition(w[1], Integer.parseInt(w[2]));
                        long leo = endOffset(uncommitted, tp);
                        awaitEnd(committed, tp, leo, "last stable offset");
                        System.out.println("end " + w[1] + " " + w[2] + " " + leo + " " + leo);
                        break;
                    }
                    default:
                        throw new IllegalArgumentException("plan line: " + line);
                }
            }
        }
        for (KafkaProducer<byte[], byte[]> p : producers.values()) p.close(Duration.ofSeconds(60));
        System.out.println("done");
    }
}
