// Prints Kafka's broker ConfigDef (kafka.server.KafkaConfig.configDef()) of the Kafka on the
// classpath, one config a line: name TAB type TAB default TAB validator. A default Kafka has
// none of is printed as <required>, null as null. Run with the source launcher:
//   java -cp "$KPP_CACHE/kafka-4.4.0/libs/*" tests/java/config/BrokerConfigDef.java
// Used by tests/tests/broker_config_kafka.rs to check klog::broker::config against Kafka.
import org.apache.kafka.common.config.ConfigDef;
import java.util.TreeMap;

public class BrokerConfigDef {
    public static void main(String[] args) throws Exception {
        ConfigDef def = (ConfigDef) Class.forName("kafka.server.KafkaConfig").getMethod("configDef").invoke(null);
        for (ConfigDef.ConfigKey k : new TreeMap<>(def.configKeys()).values()) {
            String d = k.defaultValue == ConfigDef.NO_DEFAULT_VALUE ? "<required>" : String.valueOf(k.defaultValue);
            String v = k.validator == null ? "" : k.validator.toString();
            System.out.println(k.name + "\t" + k.type + "\t" + d + "\t" + v);
        }
    }
}
