import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.properties.MetaProperties;
import org.apache.kafka.server.util.KafkaScheduler;
import org.apache.kafka.storage.internals.checkpoint.CleanShutdownFileHandler;
import org.apache.kafka.storage.internals.checkpoint.OffsetCheckpointFile;
import org.apache.kafka.storage.internals.checkpoint.PartitionMetadataFile;
import org.apache.kafka.storage.internals.log.CleanerConfig;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.apache.kafka.storage.internals.log.LogDirFailureChannel;
import org.apache.kafka.storage.internals.log.LogManager;
import org.apache.kafka.storage.internals.log.ProducerStateManagerConfig;
import org.apache.kafka.storage.internals.log.UnifiedLog;
import org.apache.kafka.storage.log.metrics.BrokerTopicStats;
import org.apache.kafka.metadata.properties.PropertiesUtils;

/**
 * Reads a log directory klog's LogManager wrote with Kafka 4.4.0's own classes (for
 * tests/tests/log_dir_kafka.rs), one fact per line on stdout:
 *
 *   meta <node.id> <cluster.id> <directory.id>          (MetaProperties.Builder)
 *   clean <exists> <broker epoch or none>              (CleanShutdownFileHandler)
 *   checkpoint <file> <topic> <partition> <offset>     (OffsetCheckpointFile.read)
 *   metadata <dir> <topic id>                          (PartitionMetadataFile.read)
 *   log <topic> <partition> <log start> <log end> <recovery point> <topic id> <segments>
 *                                                      (Kafka's LogManager.startup loading it)
 *   done
 *
 * Kafka's LogManager then shuts down, rewriting both checkpoints and the clean shutdown
 * marker as a broker would. Usage: KlogLogDirReader <log dir> <topic>...
 */
public class KlogLogDirReader {
    public static void main(String[] args) throws Exception {
        File dir = new File(args[0]);
        LogDirFailureChannel failures = new LogDirFailureChannel(1);

        Properties props = PropertiesUtils.readPropertiesFile(new File(dir, "meta.properties").getPath());
        MetaProperties meta = new MetaProperties.Builder(props).build();
        System.out.println("meta " + meta.nodeId().getAsInt() + " " + meta.clusterId().get() + " "
            + meta.directoryId().get());

        CleanShutdownFileHandler clean = new CleanShutdownFileHandler(dir.getPath());
        boolean exists = clean.exists();
        System.out.println("clean " + exists + " " + (exists && clean.read().isPresent() ? clean.read().getAsLong() : "none"));

        for (String name : List.of("recovery-point-offset-checkpoint", "log-start-offset-checkpoint")) {
            Map<TopicPartition, Long> read = new OffsetCheckpointFile(new File(dir, name), failures).read();
            TreeMap<String, String> sorted = new TreeMap<>();
            read.forEach((tp, off) -> sorted.put(tp.topic() + " " + tp.partition(), tp.topic() + " " + tp.partition() + " " + off));
            for (String line : sorted.values()) System.out.println("checkpoint " + name + " " + line);
        }

        File[] children = dir.listFiles();
        List<String> names = new ArrayList<>();
        for (File f : children) if (f.isDirectory()) names.add(f.getName());
        names.sort(null);
        for (String n : names) {
            File md = new File(new File(dir, n), "partition.metadata");
            if (md.exists()) {
                System.out.println("metadata " + n + " " + new PartitionMetadataFile(md, failures).read().topicId());
            }
        }

        KafkaScheduler scheduler = new KafkaScheduler(1);
        scheduler.startup();
        LogManager manager = new LogManager(
            List.of(dir.getAbsoluteFile()), List.of(), resource -> new Properties(),
            new LogConfig(Map.of()), new CleanerConfig(false), 1,
            Long.MAX_VALUE, 60000L, 60000L, 300000L, 900000,
            new ProducerStateManagerConfig(86400000, false), 600000,
            scheduler, new BrokerTopicStats(), failures, Time.SYSTEM, false, 3600000L,
            (config, dirs, logs, channel, time) -> null);
        Set<String> topics = Set.of(java.util.Arrays.copyOfRange(args, 1, args.length));
        manager.startup(topics);
        TreeMap<String, String> logs = new TreeMap<>();
        for (UnifiedLog log : manager.allLogs()) {
            TopicPartition tp = log.topicPartition();
            logs.put(tp.topic() + " " + tp.partition(), "log " + tp.topic() + " " + tp.partition() + " "
                + log.logStartOffset() + " " + log.logEndOffset() + " " + log.recoveryPoint() + " "
                + log.topicId().map(Object::toString).orElse("none") + " " + log.numberOfSegments());
        }
        for (String line : logs.values()) System.out.println(line);
        manager.shutdown();
        scheduler.shutdown();
        System.out.println("done");
    }
}
