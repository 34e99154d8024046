// Prints a ConfigDef of the Kafka on the classpath, one config a line:
//   name TAB type TAB default TAB validator [TAB broker synonyms, comma-separated]
// `broker` (default): kafka.server.KafkaConfig.configDef(), the server.properties keys.
// `topic`: LogConfig.configDefCopy(), the topic configs, with the broker keys that set each
// one's default (ServerTopicConfigSynonyms.ALL_TOPIC_CONFIG_SYNONYMS, in precedence order).
// A default Kafka has none of is printed as <required>, null as null. Run with the source
// launcher:  java -cp "$KPP_CACHE/kafka-4.4.0/libs/*" tests/java/config/BrokerConfigDef.java topic
// Used by tests/tests/broker_config_kafka.rs to check klog::broker::config against Kafka.
import org.apache.kafka.common.config.ConfigDef;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

public class BrokerConfigDef {
    public static void main(String[] args) throws Exception {
        boolean topic = args.length > 0 && args[0].equals("topic");
        ConfigDef def = topic
            ? (ConfigDef) Class.forName("org.apache.kafka.storage.internals.log.LogConfig").getMethod("configDefCopy").invoke(null)
            : (ConfigDef) Class.forName("kafka.server.KafkaConfig").getMethod("configDef").invoke(null);
        @SuppressWarnings("unchecked")
        Map<String, List<?>> synonyms = topic
            ? (Map<String, List<?>>) Class.forName("org.apache.kafka.server.config.ServerTopicConfigSynonyms")
                .getField("ALL_TOPIC_CONFIG_SYNONYMS").get(null)
            : Map.of();
        for (ConfigDef.ConfigKey k : new TreeMap<>(def.configKeys()).values()) {
            String d = k.defaultValue == ConfigDef.NO_DEFAULT_VALUE ? "<required>" : String.valueOf(k.defaultValue);
            String v = k.validator == null ? "" : k.validator.toString();
            String line = k.name + "\t" + k.type + "\t" + d + "\t" + v;
            if (topic) {
                List<?> syn = synonyms.getOrDefault(k.name, List.of());
                String names = syn.stream().map(s -> {
                    try { return (String) s.getClass().getMethod("name").invoke(s); }
                    catch (Exception e) { throw new RuntimeException(e); }
                }).collect(Collectors.joining(","));
                line += "\t" + names;
            }
            System.out.println(line);
        }
    }
}
