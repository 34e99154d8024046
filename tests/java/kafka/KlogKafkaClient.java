// Drives a real Apache Kafka 4.4.0 broker for cli/tests/klog_kafka_klog_reads_kafka.rs, all in one JVM (a JVM
// start costs more than the work). Built by .ci/install.d/35-kafka-broker.sh.
//   produce: creates the topics with Kafka's own TopicCommand and produces a deterministic set of
//            records with five idempotent producers (one per compression.type);
//   consume: fetches every record of each topic from offset 0 and compares it with the same
//            generator (records past those the producers sent were appended by klog);
// then both ask Kafka's own GetOffsetShell for offsets by timestamp.
//
// Usage: KlogKafkaClient produce|consume BOOTSTRAP BASE_TS TIMES TOPIC_SPEC...
//   BASE_TS     the CreateTime of record 0
//   TIMES       comma-separated GetOffsetShell --time values (-1 latest, -2 earliest, -3 max, ms)
//   TOPIC_SPEC  name:records:salt[:config=value...]   (each config goes to TopicCommand --config;
//               message.timestamp.type=LogAppendTime also tells consume not to expect CreateTimes)
// Output on stdout, one fact per line (the test parses it):
//   created <topic>                          TopicCommand said "Created topic <topic>."
//   produced <topic> <records> <chunks>      every record acknowledged at offset == its index
//   appendtime <topic> <offset> <timestamp>  RecordMetadata.timestamp() (LogAppendTime topics)
//   consumed <topic> <records> <mismatches>  (and up to 20 "mismatch <topic> <offset> <what>")
//   asked <time>                             GetOffsetShell --time <time> ran; its lines follow:
//   gos <time> <topic>:<partition>:<offset>  (no line for a topic: no offset for that time)
//   done
//
// The records (mirrored by the generator in klog_kafka_klog_reads_kafka.rs; change both together): record i of a
// topic with salt s is sent by the producer of codec CODECS[c % 5] where c is its chunk (chunk c
// holds 1 + mix(s * 1000003 + c) % 120 consecutive records; each chunk is flushed before the next,
// so the offsets are the indexes), with
//   timestamp  BASE_TS + 3 i, minus 50 when i % 13 == 7 (some timestamps go backwards)
//   key        null when i % 11 == 3, else "key-<i>"
//   value      null when i % 17 == 5, else 50 + mix(s * 1000033 + i) % 1400 pseudo-random bytes:
//              byte k is bits 8(k % 8).. of mix(s << 32 + i << 16 + k / 8)
//   headers    i % 3 == 0: none; 1: id=<i>; 2: id=<i>, h-null=null, h-empty=""
// mix is SplitMix64's output function applied to (x + golden gamma), all arithmetic wrapping.

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.internals.Exit;

public final class KlogKafkaClient {
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};

    static long mix(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static int chunkLen(long salt, long c) {
        return 1 + (int) Long.remainderUnsigned(mix(salt * 1000003L + c), 120);
    }

    static long timestamp(long base, long i) {
        return base + 3 * i - (i % 13 == 7 ? 50 : 0);
    }

    static byte[] key(long i) {
        return i % 11 == 3 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(long salt, long i) {
        if (i % 17 == 5) return null;
        int len = 50 + (int) Long.remainderUnsigned(mix(salt * 1000033L + i), 1400);
        byte[] v = new byte[len];
        long w = 0;
        for (int k = 0; k < len; k++) {
            if (k % 8 == 0) w = mix((salt << 32) + (i << 16) + k / 8);
            v[k] = (byte) (w >>> (8 * (k % 8)));
        }
        return v;
    }

    static List<Header> headers(long i) {
        List<Header> h = new ArrayList<>();
        if (i % 3 >= 1) h.add(new RecordHeader("id", Long.toString(i).getBytes(StandardCharsets.UTF_8)));
        if (i % 3 == 2) {
            h.add(new RecordHeader("h-null", (byte[]) null));
            h.add(new RecordHeader("h-empty", new byte[0]));
        }
        return h;
    }

    /** Runs a Kafka tool's main in this JVM; returns its stdout, fails on a non-zero exit. */
    static String tool(String what, ToolMain main, String... args) throws Exception {
        int[] code = {0};
        Exit.setExitProcedure((status, message) -> code[0] = status);
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            main.run(args);
        } finally {
            System.setOut(out);
            Exit.resetExitProcedure();
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        if (code[0] != 0) {
            throw new IllegalStateException(what + " exited with " + code[0] + ": " + text);
        }
        return text;
    }

    interface ToolMain {
        void run(String[] args) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5 || !List.of("produce", "consume").contains(args[0])) {
            System.err.println("usage: KlogKafkaClient produce|consume BOOTSTRAP BASE_TS TIMES TOPIC_SPEC...");
            System.exit(2);
        }
        String bootstrap = args[1];
        long base = Long.parseLong(args[2]);
        List<String> times = new ArrayList<>(List.of(args[3].split(",")));
        List<String[]> topics = new ArrayList<>();
        for (int a = 4; a < args.length; a++) topics.add(args[a].split(":"));
        if (args[0].equals("produce")) {
            createTopics(bootstrap, topics);
            produce(bootstrap, base, topics, times);
        } else {
            for (String[] t : topics) consume(bootstrap, base, t);
        }
        for (String time : times) {
            System.out.println("asked " + time);
            String out = tool("GetOffsetShell", org.apache.kafka.tools.GetOffsetShell::main,
                "--bootstrap-server", bootstrap, "--topic", "klog-.*", "--time", time);
            for (String line : out.split("\n")) {
                if (!line.isBlank()) System.out.println("gos " + time + " " + line.trim());
            }
        }
        System.out.println("done");
    }

    static boolean isAppendTime(String[] t) {
        return List.of(t).contains("message.timestamp.type=LogAppendTime");
    }

    static void createTopics(String bootstrap, List<String[]> topics) throws Exception {
        for (String[] t : topics) {
            List<String> cmd = new ArrayList<>(List.of("--bootstrap-server", bootstrap, "--create",
                "--topic", t[0], "--partitions", "1", "--replication-factor", "1"));
            for (int k = 3; k < t.length; k++) {
                cmd.add("--config");
                cmd.add(t[k]);
            }
            String out = tool("TopicCommand", org.apache.kafka.tools.TopicCommand::main,
                cmd.toArray(new String[0]));
            if (!out.contains("Created topic " + t[0] + ".")) {
                throw new IllegalStateException("TopicCommand: " + out);
            }
            System.out.println("created " + t[0]);
        }
    }

    static void produce(String bootstrap, long base, List<String[]> topics, List<String> times) throws Exception {
        List<KafkaProducer<byte[], byte[]>> producers = new ArrayList<>();
        for (String codec : CODECS) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "klog-kafka-" + codec);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
            // batches end at batch.size or at a chunk's flush, nowhere else
            p.put(ProducerConfig.LINGER_MS_CONFIG, "60000");
            p.put(ProducerConfig.BATCH_SIZE_CONFIG, "16384");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            producers.add(new KafkaProducer<>(p));
        }
        for (String[] t : topics) {
            String topic = t[0];
            long n = Long.parseLong(t[1]);
            long salt = Long.parseLong(t[2]);
            boolean appendTime = isAppendTime(t);
            long i = 0;
            long chunks = 0;
            List<Long> appendTimes = new ArrayList<>();
            while (i < n) {
                long end = Math.min(n, i + chunkLen(salt, chunks));
                KafkaProducer<byte[], byte[]> producer = producers.get((int) (chunks % CODECS.length));
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (long j = i; j < end; j++) {
                    sent.add(producer.send(new ProducerRecord<>(topic, 0, timestamp(base, j), key(j),
                        value(salt, j), headers(j))));
                }
                producer.flush();
                for (long j = i; j < end; j++) {
                    RecordMetadata md = sent.get((int) (j - i)).get();
                    if (md.offset() != j) {
                        throw new IllegalStateException(topic + ": record " + j + " got offset " + md.offset());
                    }
                    if (appendTime) {
                        System.out.println("appendtime " + topic + " " + j + " " + md.timestamp());
                        appendTimes.add(md.timestamp());
                    }
                }
                i = end;
                chunks++;
            }
            System.out.println("produced " + topic + " " + n + " " + chunks);
            if (appendTime && !appendTimes.isEmpty()) {
                // ask for times the test cannot know in advance: the broker's append times
                int m = appendTimes.size();
                for (long ts : new long[] {appendTimes.get(0), appendTimes.get(m / 3),
                        appendTimes.get(m / 2) + 1, appendTimes.get(m - 1), appendTimes.get(m - 1) + 1}) {
                    times.add(Long.toString(ts));
                }
            }
        }
        for (KafkaProducer<byte[], byte[]> p : producers) p.close();
    }

    /** Fetches every record of partition 0 from offset 0 and compares it with the generator. */
    static void consume(String bootstrap, long base, String[] t) throws Exception {
        String topic = t[0];
        long n = Long.parseLong(t[1]);
        long salt = Long.parseLong(t[2]);
        boolean appendTime = isAppendTime(t);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "klog-kafka-consumer");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CHECK_CRCS_CONFIG, "true");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        TopicPartition tp = new TopicPartition(topic, 0);
        long next = 0;
        long mismatches = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            if (end != n) {
                System.out.println("mismatch " + topic + " end-offset " + end + " expected " + n);
                mismatches++;
            }
            long deadline = System.currentTimeMillis() + 120_000;
            while (next < end && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    String what = null;
                    List<Header> want = headers(next);
                    Header[] got = r.headers().toArray();
                    boolean headersEqual = got.length == want.size();
                    for (int k = 0; headersEqual && k < got.length; k++) {
                        headersEqual = got[k].key().equals(want.get(k).key())
                            && Arrays.equals(got[k].value(), want.get(k).value());
                    }
                    if (r.offset() != next) what = "offset " + r.offset();
                    else if (!Arrays.equals(r.key(), key(next))) what = "key";
                    else if (!Arrays.equals(r.value(), value(salt, next))) what = "value";
                    else if (!headersEqual) what = "headers";
                    else if (r.timestampType() != (appendTime ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME)) {
                        what = "timestamp type " + r.timestampType();
                    } else if (!appendTime && r.timestamp() != timestamp(base, next)) what = "timestamp " + r.timestamp();
                    if (what != null) {
                        if (mismatches < 20) System.out.println("mismatch " + topic + " " + next + " " + what);
                        mismatches++;
                    }
                    next = r.offset() + 1;
                }
            }
        }
        System.out.println("consumed " + topic + " " + next + " " + mismatches);
    }
}
