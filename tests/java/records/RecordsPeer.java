// Record batches built and read by Apache Kafka's own Java code (kafka-clients 4.4.0:
// MemoryRecordsBuilder, DefaultRecordBatch, MemoryRecords), driven line by line through
// stdin/stdout by tests/tests/records_java.rs. Every answer ends with a line "OK" or "ERR <why>".
//
// Bytes are hex; "-" is null and "=" is empty. A record line is
//   R <timestamp> <key> <value> <header count> (<header key utf-8> <header value>)*
// and a read record line starts with its offset: R <offset> <timestamp> <key> <value> <n> ...
//
// Commands:
//   build <codec id> <base offset> <timestamp type 0|1> <log append time> <producer id>
//         <producer epoch> <base sequence> <transactional 0|1> <partition leader epoch>
//         <batch.size> <estimated compression ratio> <record count>
//     followed by <record count> R lines. Builds one batch as the producer does
//     (RecordAccumulator.append + ProducerBatch.tryAppend): the buffer, hence the write limit,
//     is max(batch.size, estimateSizeInBytesUpperBound(first record)); every record goes in
//     while hasRoomFor says so (the first always does); the producer state is set when the
//     batch is closed (Sender drain: setProducerState). Answers
//       ACCEPTED <records appended> LIMIT <write limit>
//       BATCH <bytes>
//   read <bytes of one or more batches>
//     ensureValid() on every batch; per batch a B line
//       B <base offset> <size in bytes> <partition leader epoch> <magic> <crc> <raw attributes>
//         <codec id> <timestamp type id> <transactional 0|1> <control 0|1> <last offset delta>
//         <base timestamp> <max timestamp> <producer id> <producer epoch> <base sequence> <count>
//     then its records as read R lines; finally END <bytes consumed by whole batches>.
//   rate <codec id>
//     RATE <CompressionRatioEstimator.estimation for a topic never seen> (what a new
//     ProducerBatch starts with).

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.AbstractRecords;
import org.apache.kafka.common.record.internal.CompressionRatioEstimator;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

public class RecordsPeer {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    static final class Rec {
        long ts;
        byte[] key;
        byte[] value;
        Header[] headers;
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 20);
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 20);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String[] f = line.split(" ");
            StringBuilder sb = new StringBuilder();
            try {
                switch (f[0]) {
                    case "build": build(f, in, sb); break;
                    case "read": read(unhex(f[1]), sb); break;
                    case "rate":
                        CompressionType t = CompressionType.forId(Integer.parseInt(f[1]));
                        sb.append("RATE ").append(CompressionRatioEstimator.estimation("kpp-fresh-topic", t)).append('\n');
                        break;
                    default: throw new IllegalArgumentException("unknown command " + f[0]);
                }
                sb.append("OK\n");
            } catch (Exception e) {
                sb.setLength(0);
                sb.append("ERR ").append(String.valueOf(e).replace('\n', ' ')).append('\n');
            }
            out.write(sb.toString());
            out.flush();
        }
    }

    static void build(String[] f, BufferedReader in, StringBuilder sb) throws Exception {
        CompressionType type = CompressionType.forId(Integer.parseInt(f[1]));
        long baseOffset = Long.parseLong(f[2]);
        TimestampType tsType = Integer.parseInt(f[3]) == 1 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
        long logAppendTime = Long.parseLong(f[4]);
        long producerId = Long.parseLong(f[5]);
        short producerEpoch = Short.parseShort(f[6]);
        int baseSequence = Integer.parseInt(f[7]);
        boolean transactional = Integer.parseInt(f[8]) == 1;
        int partitionLeaderEpoch = Integer.parseInt(f[9]);
        int batchSize = Integer.parseInt(f[10]);
        float ratio = Float.parseFloat(f[11]);
        int n = Integer.parseInt(f[12]);
        List<Rec> recs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) recs.add(parseRecord(in.readLine()));
        if (recs.isEmpty()) throw new IllegalArgumentException("no records");

        // The producer's default level for the codec.
        Compression compression = Compression.of(type).build();
        Rec first = recs.get(0);
        // RecordAccumulator.append: the new batch's buffer, whose capacity is the write limit.
        int size = Math.max(batchSize, AbstractRecords.estimateSizeInBytesUpperBound(
            RecordBatch.MAGIC_VALUE_V2, type, first.key, first.value, first.headers));
        ByteBuffer buffer = ByteBuffer.allocate(size);
        MemoryRecordsBuilder builder = new MemoryRecordsBuilder(buffer, RecordBatch.MAGIC_VALUE_V2, compression,
            tsType, baseOffset, logAppendTime, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
            RecordBatch.NO_SEQUENCE, false, false, partitionLeaderEpoch, buffer.capacity());
        // new ProducerBatch(...): setEstimatedCompressionRatio(CompressionRatioEstimator.estimation(...)).
        builder.setEstimatedCompressionRatio(ratio);
        int accepted = 0;
        for (Rec r : recs) {
            // ProducerBatch.tryAppend
            if (!builder.hasRoomFor(r.ts, r.key, r.value, r.headers)) break;
            builder.append(r.ts, r.key, r.value, r.headers);
            accepted++;
        }
        builder.setProducerState(producerId, producerEpoch, baseSequence, transactional);
        ByteBuffer built = builder.build().buffer();
        byte[] bytes = new byte[built.remaining()];
        built.duplicate().get(bytes);
        sb.append("ACCEPTED ").append(accepted).append(" LIMIT ").append(size).append('\n');
        sb.append("BATCH ").append(hex(bytes)).append('\n');
    }

    static void read(byte[] bytes, StringBuilder sb) {
        ByteBuffer all = ByteBuffer.wrap(bytes);
        int pos = 0;
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(all).batches()) {
            batch.ensureValid();
            if (!(batch instanceof DefaultRecordBatch))
                throw new IllegalArgumentException("not a v2 batch at " + pos);
            DefaultRecordBatch b = (DefaultRecordBatch) batch;
            short attributes = all.getShort(pos + 21);
            sb.append("B ").append(b.baseOffset()).append(' ').append(b.sizeInBytes())
                .append(' ').append(b.partitionLeaderEpoch()).append(' ').append(b.magic())
                .append(' ').append(b.checksum()).append(' ').append(attributes)
                .append(' ').append(b.compressionType().id).append(' ').append(b.timestampType().id)
                .append(' ').append(b.isTransactional() ? 1 : 0).append(' ').append(b.isControlBatch() ? 1 : 0)
                .append(' ').append(b.lastOffset() - b.baseOffset())
                .append(' ').append(b.baseTimestamp()).append(' ').append(b.maxTimestamp())
                .append(' ').append(b.producerId()).append(' ').append(b.producerEpoch())
                .append(' ').append(b.baseSequence()).append(' ').append(b.countOrNull()).append('\n');
            for (Record r : b) {
                r.ensureValid();
                sb.append("R ").append(r.offset()).append(' ').append(r.timestamp())
                    .append(' ').append(hex(r.key())).append(' ').append(hex(r.value()));
                Header[] hs = r.headers();
                sb.append(' ').append(hs.length);
                for (Header h : hs) {
                    sb.append(' ').append(hex(h.key().getBytes(StandardCharsets.UTF_8)))
                        .append(' ').append(hex(h.value()));
                }
                sb.append('\n');
            }
            pos += b.sizeInBytes();
        }
        sb.append("END ").append(pos).append('\n');
    }

    static Rec parseRecord(String line) {
        String[] f = line.split(" ");
        if (!f[0].equals("R")) throw new IllegalArgumentException("expected an R line: " + line);
        Rec r = new Rec();
        r.ts = Long.parseLong(f[1]);
        r.key = unhex(f[2]);
        r.value = unhex(f[3]);
        int nh = Integer.parseInt(f[4]);
        r.headers = new Header[nh];
        for (int i = 0; i < nh; i++) {
            byte[] k = unhex(f[5 + 2 * i]);
            String key = k == null ? null : new String(k, StandardCharsets.UTF_8);
            r.headers[i] = new RecordHeader(key, unhex(f[6 + 2 * i]));
        }
        return r;
    }

    static byte[] unhex(String s) {
        if (s.equals("-")) return null;
        if (s.equals("=")) return new byte[0];
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++)
            b[i] = (byte) ((Character.digit(s.charAt(2 * i), 16) << 4) | Character.digit(s.charAt(2 * i + 1), 16));
        return b;
    }

    static String hex(ByteBuffer b) {
        if (b == null) return "-";
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return hex(a);
    }

    static String hex(byte[] b) {
        if (b == null) return "-";
        if (b.length == 0) return "=";
        char[] c = new char[2 * b.length];
        for (int i = 0; i < b.length; i++) {
            c[2 * i] = HEX[(b[i] >> 4) & 15];
            c[2 * i + 1] = HEX[b[i] & 15];
        }
        return new String(c);
    }
}
