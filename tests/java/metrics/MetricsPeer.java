// Replays a producer metrics event stream through kafka-clients' own Metrics/Sensor/stats,
// built as Sender.SenderMetrics, Selector.SelectorMetrics and RecordAccumulator build them
// (group producer-metrics, MetricConfig samples 2, window 30 s), for
// tests/tests/producer_metrics_java.rs. Compiled by .ci/install.d/34-java-metrics.sh.
//
// stdin, one event per line (times in ms of a virtual clock):
//   P <now> <n> <size>,<records>,<ratio>,<queueMs>,<maxRecordSize> ... one node's request
//   L <now> <latency>   E <now> <records>   T <now> <records>   X <now> (batch split)
//   WS|WR <now> <bytes> (socket write/read)   CS|CR <now> <bytes> (completed send/receive)
//   U <available> <total> (buffer gauges)     C <now> (checkpoint)
// stdout, per checkpoint: "C <now>" then "<metric name> <hex of Double.doubleToLongBits>" per
// metric in the order of the NAMES array, then "END" after the last event.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.Max;
import org.apache.kafka.common.metrics.stats.Meter;
import org.apache.kafka.common.metrics.stats.WindowedCount;
import org.apache.kafka.common.utils.Time;

public class MetricsPeer {
    static final String GROUP = "producer-metrics";
    static final String[] NAMES = {
        "batch-size-avg", "batch-size-max", "compression-rate-avg", "record-queue-time-avg",
        "record-queue-time-max", "request-latency-avg", "request-latency-max", "record-send-total",
        "record-send-rate", "records-per-request-avg", "record-retry-total", "record-retry-rate",
        "record-error-total", "record-error-rate", "record-size-max", "record-size-avg",
        "batch-split-total", "batch-split-rate", "network-io-total", "network-io-rate",
        "outgoing-byte-total", "outgoing-byte-rate", "request-total", "request-rate",
        "request-size-avg", "request-size-max", "incoming-byte-total", "incoming-byte-rate",
        "response-total", "response-rate", "buffer-total-bytes", "buffer-available-bytes",
    };

    /** A clock that moves only when told to. */
    static final class VirtualTime implements Time {
        long ms;
        public long milliseconds() { return ms; }
        public long nanoseconds() { return TimeUnit.MILLISECONDS.toNanos(ms); }
        public void sleep(long d) { ms += d; }
        public void waitObject(Object o, Supplier<Boolean> c, long deadlineMs) {
            throw new UnsupportedOperationException("virtual time");
        }
    }

    static Metrics metrics;
    static long bufferAvailable, bufferTotal;

    static MetricName n(String name) {
        return metrics.metricName(name, GROUP, name, Collections.emptyMap());
    }

    static Sensor avgMax(String sensor, String avg, String max) {
        Sensor s = metrics.sensor(sensor);
        if (avg != null) s.add(n(avg), new Avg());
        if (max != null) s.add(n(max), new Max());
        return s;
    }

    public static void main(String[] args) throws Exception {
        VirtualTime time = new VirtualTime();
        MetricConfig config = new MetricConfig().samples(2).timeWindow(30000, TimeUnit.MILLISECONDS);
        metrics = new Metrics(config, Collections.emptyList(), time);
        // Sender.SenderMetrics
        Sensor batchSize = avgMax("batch-size", "batch-size-avg", "batch-size-max");
        Sensor compression = avgMax("compression-rate", "compression-rate-avg", null);
        Sensor queueTime = avgMax("queue-time", "record-queue-time-avg", "record-queue-time-max");
        Sensor requestTime = avgMax("request-time", "request-latency-avg", "request-latency-max");
        Sensor recordsPerRequest = metrics.sensor("records-per-request");
        recordsPerRequest.add(new Meter(n("record-send-rate"), n("record-send-total")));
        recordsPerRequest.add(n("records-per-request-avg"), new Avg());
        Sensor retries = metrics.sensor("record-retries");
        retries.add(new Meter(n("record-retry-rate"), n("record-retry-total")));
        Sensor errors = metrics.sensor("errors");
        errors.add(new Meter(n("record-error-rate"), n("record-error-total")));
        Sensor recordSize = metrics.sensor("record-size");
        recordSize.add(n("record-size-max"), new Max());
        recordSize.add(n("record-size-avg"), new Avg());
        Sensor split = metrics.sensor("batch-split-rate");
        split.add(new Meter(n("batch-split-rate"), n("batch-split-total")));
        // Selector.SelectorMetrics
        Sensor transferred = metrics.sensor("bytes-sent-received");
        transferred.add(new Meter(new WindowedCount(), n("network-io-rate"), n("network-io-total")));
        Sensor bytesSent = metrics.sensor("bytes-sent", transferred);
        bytesSent.add(new Meter(n("outgoing-byte-rate"), n("outgoing-byte-total")));
        Sensor requestsSent = metrics.sensor("requests-sent");
        requestsSent.add(new Meter(new WindowedCount(), n("request-rate"), n("request-total")));
        requestsSent.add(n("request-size-avg"), new Avg());
        requestsSent.add(n("request-size-max"), new Max());
        Sensor bytesReceived = metrics.sensor("bytes-received", transferred);
        bytesReceived.add(new Meter(n("incoming-byte-rate"), n("incoming-byte-total")));
        Sensor responses = metrics.sensor("responses-received");
        responses.add(new Meter(new WindowedCount(), n("response-rate"), n("response-total")));
        // RecordAccumulator's buffer gauges
        metrics.addMetric(n("buffer-total-bytes"), (c, now) -> (double) bufferTotal);
        metrics.addMetric(n("buffer-available-bytes"), (c, now) -> (double) bufferAvailable);

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintStream out = new PrintStream(new java.io.BufferedOutputStream(System.out), false, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String[] f = line.split(" ");
            if (f[0].equals("U")) {
                bufferAvailable = Long.parseLong(f[1]);
                bufferTotal = Long.parseLong(f[2]);
                continue;
            }
            long now = Long.parseLong(f[1]);
            time.ms = now;
            switch (f[0]) {
                case "P": {
                    int count = Integer.parseInt(f[2]);
                    long records = 0;
                    for (int i = 0; i < count; i++) {
                        String[] b = f[3 + i].split(",");
                        batchSize.record(Long.parseLong(b[0]), now);
                        queueTime.record(Long.parseLong(b[3]), now);
                        compression.record(Double.parseDouble(b[2]));
                        recordSize.record(Long.parseLong(b[4]), now);
                        records += Long.parseLong(b[1]);
                    }
                    recordsPerRequest.record(records, now);
                    break;
                }
                case "L": requestTime.record(Long.parseLong(f[2]), now); break;
                case "E": errors.record(Long.parseLong(f[2]), now); break;
                case "T": retries.record(Long.parseLong(f[2]), now); break;
                case "X": split.record(); break;
                case "WS": bytesSent.record(Long.parseLong(f[2]), now, false); break;
                case "WR": bytesReceived.record(Long.parseLong(f[2]), now, false); break;
                case "CS": requestsSent.record(Long.parseLong(f[2]), now, false); break;
                case "CR": responses.record(Long.parseLong(f[2]), now, false); break;
                case "C": {
                    out.println("C " + now);
                    for (String name : NAMES) {
                        double v = (Double) metrics.metric(n(name)).metricValue();
                        out.println(name + " " + Long.toHexString(Double.doubleToLongBits(v)));
                    }
                    break;
                }
                default: throw new IllegalArgumentException("unknown event: " + line);
            }
        }
        out.println("END");
        out.flush();
    }
}
