// A Kafka 4.4.0 Java producer for the capture test (tests/tests/client_captures.rs): it connects
// to the test's capture broker, asks for a topic's partitions, then produces one record per
// stdin line "KEY:VALUE" to partition 0 (with a header "i" = the line's index) with the given
// codec, idempotently (InitProducerId first), lingering so they go in one batch, and flushes.
// The broker records every request.
// Usage: java -cp <classes>:<kafka-clients libs>/* CaptureClient HOST:PORT TOPIC CODEC < lines
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class CaptureClient {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<String> lines = new java.util.ArrayList<>();
        for (String l; (l = in.readLine()) != null; ) {
            lines.add(l);
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "java-capture");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, args[2]);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1000");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "1048576");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            List<PartitionInfo> parts = producer.partitionsFor(args[1]);
            System.out.println("partitions: " + parts.size());
            for (int i = 0; i < lines.size(); i++) {
                String[] kv = lines.get(i).split(":", 2);
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(args[1], 0,
                    kv[0].getBytes(StandardCharsets.UTF_8), kv[1].getBytes(StandardCharsets.UTF_8));
                r.headers().add("i", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                producer.send(r);
            }
            producer.flush();
            System.out.println("produced: " + lines.size());
        }
    }
}
