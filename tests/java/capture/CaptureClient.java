// A Kafka 4.4.0 Java producer that connects to a broker and asks for a topic's partitions: the
// capture test (tests/tests/client_captures.rs) records the ApiVersions and Metadata requests it
// sends. Usage: java -cp <classes>:<kafka-clients libs>/* CaptureClient HOST:PORT TOPIC
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class CaptureClient {
    public static void main(String[] args) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "java-capture");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            List<PartitionInfo> parts = producer.partitionsFor(args[1]);
            System.out.println("partitions: " + parts.size());
        }
    }
}
