// Kafka's Java client 4.4.0 as a test driver (tests/src/clients/java.rs). Records in and results
// out in the driver line format (tests/src/clients/lines.rs).
//
//   produce BOOTSTRAP TOPIC < records   KafkaProducer with its defaults (idempotence on,
//                                       acks=all); a D line per record from its send callback
//   consume BOOTSTRAP TOPIC             KafkaConsumer without group.id: assign every partition,
//                                       seekToBeginning, endOffsets, poll until every position
//                                       reaches its end offset; E and R lines
//   admin BOOTSTRAP TOPIC PARTITIONS GROW_TO RECORDS MAX_AT DELETE_BEFORE [--config K=V]...
//         [--set K=V]... [--delete K]...
//                                       Admin: createTopics (PARTITIONS, the --config configs),
//                                       describeConfigs, incrementalAlterConfigs (--set, --delete),
//                                       describeConfigs, createPartitions (GROW_TO); a producer
//                                       writes RECORDS records to every partition, record j at
//                                       BASE + j s except record MAX_AT at BASE + 2 h (BASE = now
//                                       - 3 h); listOffsets earliest, latest, max timestamp and
//                                       for BASE + (MAX_AT + 1) s + 500 ms; deleteRecords before
//                                       DELETE_BEFORE in every partition; listOffsets earliest;
//                                       deleteTopics, waiting until listTopics no longer has it.
//                                       An A line per result (tests/src/clients/java.rs reads
//                                       them).
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DeleteRecordsResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class JavaClients {
    private static final HexFormat HEX = HexFormat.of();
    private static final PrintStream OUT =
        new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);

    /** A record from a stdin line. */
    record In(Integer partition, byte[] key, byte[] value, List<String[]> headers) {}

    private static byte[] nullable(String f) {
        return f.equals("-") ? null : f.equals("=") ? new byte[0] : HEX.parseHex(f);
    }

    private static String show(byte[] b) {
        return b == null ? "-" : b.length == 0 ? "=" : HEX.formatHex(b);
    }

    private static List<In> readRecords() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<In> out = new ArrayList<>();
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isEmpty()) continue;
            String[] f = line.split("\t", -1);
            List<String[]> headers = new ArrayList<>();
            if (!f[3].isEmpty()) {
                for (String pair : f[3].split(",")) {
                    headers.add(pair.split(":", -1));
                }
            }
            out.add(new In(f[0].equals("-") ? null : Integer.valueOf(f[0]), nullable(f[1]), nullable(f[2]), headers));
        }
        return out;
    }

    private static Properties producerProps(String bootstrap, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    private static void produce(String bootstrap, String topic) throws Exception {
        List<In> records = readRecords();
        Properties p = producerProps(bootstrap, "kpp-java-producer");
        ProducerConfig effective = new ProducerConfig(p);
        OUT.println("#\tenable.idempotence=" + effective.getBoolean(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)
            + " acks=" + effective.getString(ProducerConfig.ACKS_CONFIG));
        ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < records.size(); i++) {
                In r = records.get(i);
                ProducerRecord<byte[], byte[]> pr = new ProducerRecord<>(topic, r.partition(), r.key(), r.value());
                for (String[] h : r.headers()) {
                    pr.headers().add(new String(nullable(h[0]), StandardCharsets.UTF_8), nullable(h[1]));
                }
                final int index = i;
                producer.send(pr, (md, e) -> {
                    if (e != null) {
                        failures.add("record " + index + ": " + e);
                    } else {
                        lines.add("D\t" + index + "\t" + md.partition() + "\t" + md.offset());
                    }
                });
            }
            producer.flush();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException(failures.size() + " sends failed, first: " + failures.peek());
        }
        lines.forEach(OUT::println);
        OUT.flush();
    }

    private static void consume(String bootstrap, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "kpp-java-consumer");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                tps.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps, Duration.ofSeconds(30));
            for (TopicPartition tp : tps) {
                OUT.println("E\t" + tp.partition() + "\t" + ends.get(tp));
            }
            long deadline = System.currentTimeMillis() + 90_000;
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("timed out before the end offsets " + ends);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    StringBuilder h = new StringBuilder();
                    for (Header header : r.headers()) {
                        if (h.length() > 0) h.append(',');
                        h.append(show(header.key().getBytes(StandardCharsets.UTF_8)))
                            .append(':').append(show(header.value()));
                    }
                    OUT.println("R\t" + r.partition() + "\t" + r.offset() + "\t" + r.timestamp() + "\t"
                        + show(r.key()) + "\t" + show(r.value()) + "\t" + h);
                }
            }
        }
        OUT.flush();
    }

    private static void a(Object... fields) {
        StringBuilder s = new StringBuilder("A");
        for (Object f : fields) s.append('\t').append(f);
        OUT.println(s);
        OUT.flush();
    }

    private static void describeConfigs(Admin admin, ConfigResource res, String when, Set<String> names) throws Exception {
        Config config = admin.describeConfigs(List.of(res)).all().get().get(res);
        for (String name : new java.util.TreeSet<>(names)) {
            ConfigEntry e = config.get(name);
            a("config", when, name, e == null ? "-" : e.value(), e == null ? "-" : e.source());
        }
    }

    private static Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> listOffsets(
            Admin admin, List<TopicPartition> tps, OffsetSpec spec) throws Exception {
        Map<TopicPartition, OffsetSpec> q = new HashMap<>();
        for (TopicPartition tp : tps) q.put(tp, spec);
        return admin.listOffsets(q).all().get();
    }

    private static void admin(String bootstrap, String topic, String[] args) throws Exception {
        int partitions = Integer.parseInt(args[0]);
        int growTo = Integer.parseInt(args[1]);
        int records = Integer.parseInt(args[2]);
        int maxAt = Integer.parseInt(args[3]);
        long deleteBefore = Long.parseLong(args[4]);
        Map<String, String> configs = new TreeMap<>();
        List<AlterConfigOp> ops = new ArrayList<>();
        Set<String> names = new java.util.TreeSet<>();
        for (int i = 5; i < args.length; i += 2) {
            String v = args[i + 1];
            String[] kv = v.split("=", 2);
            names.add(kv[0]);
            switch (args[i]) {
                case "--config" -> configs.put(kv[0], kv[1]);
                case "--set" -> ops.add(new AlterConfigOp(new ConfigEntry(kv[0], kv[1]), AlterConfigOp.OpType.SET));
                case "--delete" -> ops.add(new AlterConfigOp(new ConfigEntry(kv[0], null), AlterConfigOp.OpType.DELETE));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "kpp-java-admin");
        try (Admin admin = Admin.create(p)) {
            CreateTopicsResult created = admin.createTopics(
                List.of(new NewTopic(topic, partitions, (short) 1).configs(configs)));
            created.all().get();
            a("created", topic, created.numPartitions(topic).get(), created.topicId(topic).get());

            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            describeConfigs(admin, res, "created", names);
            admin.incrementalAlterConfigs(Map.of(res, ops)).all().get();
            describeConfigs(admin, res, "altered", names);

            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(growTo))).all().get();
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            int led = 0;
            for (TopicPartitionInfo info : d.partitions()) if (info.leader() != null) led++;
            a("described", topic, d.partitions().size(), led);

            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < growTo; i++) tps.add(new TopicPartition(topic, i));
            long base = System.currentTimeMillis() - 3 * 3600_000L;
            a("base-timestamp", base);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps(bootstrap, "kpp-java-admin-producer"))) {
                for (TopicPartition tp : tps) {
                    for (int j = 0; j < records; j++) {
                        long ts = j == maxAt ? base + 2 * 3600_000L : base + j * 1000L;
                        byte[] value = ("partition " + tp.partition() + " record " + j + " " + "x".repeat(200 + 37 * j))
                            .getBytes(StandardCharsets.UTF_8);
                        producer.send(new ProducerRecord<>(topic, tp.partition(), ts, ("k" + j).getBytes(StandardCharsets.UTF_8), value)).get();
                    }
                }
            }
            var earliest = listOffsets(admin, tps, OffsetSpec.earliest());
            var latest = listOffsets(admin, tps, OffsetSpec.latest());
            var maxTs = listOffsets(admin, tps, OffsetSpec.maxTimestamp());
            long target = base + (maxAt + 1) * 1000L + 500;
            var byTs = listOffsets(admin, tps, OffsetSpec.forTimestamp(target));
            for (TopicPartition tp : tps) {
                a("offsets", tp.partition(), earliest.get(tp).offset(), latest.get(tp).offset(),
                    maxTs.get(tp).offset(), maxTs.get(tp).timestamp() - base,
                    byTs.get(tp).offset(), byTs.get(tp).timestamp() - base);
            }

            Map<TopicPartition, RecordsToDelete> del = new HashMap<>();
            for (TopicPartition tp : tps) del.put(tp, RecordsToDelete.beforeOffset(deleteBefore));
            DeleteRecordsResult deleted = admin.deleteRecords(del);
            for (TopicPartition tp : tps) {
                a("deleted-records", tp.partition(), deleted.lowWatermarks().get(tp).get().lowWatermark());
            }
            var after = listOffsets(admin, tps, OffsetSpec.earliest());
            for (TopicPartition tp : tps) a("earliest-after-delete", tp.partition(), after.get(tp).offset());

            admin.deleteTopics(List.of(topic)).all().get();
            long deadline = System.currentTimeMillis() + 30_000;
            Collection<String> names2;
            while ((names2 = admin.listTopics().names().get()).contains(topic)) {
                if (System.currentTimeMillis() > deadline) throw new IllegalStateException(topic + " still listed");
                Thread.sleep(100);
            }
            a("deleted-topic", topic, names2.size());
        }
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "produce" -> produce(args[1], args[2]);
            case "consume" -> consume(args[1], args[2]);
            case "admin" -> admin(args[1], args[2], java.util.Arrays.copyOfRange(args, 3, args.length));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
