/*
 * kproto conformance harness (Java side).
 *
 * Reads one JSON object per line from stdin and writes exactly one line per input line to stdout,
 * using Apache Kafka's own generated message classes (kafka-clients) to serialize / deserialize.
 * See README.md in this directory for the line protocol and the JSON conventions.
 *
 * The same source compiles and runs against kafka-clients 3.9.x and 4.x: it only names classes that
 * exist (in the same package) in both, and reaches everything else by reflection.
 */

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Readable;
import org.apache.kafka.common.protocol.SendBuilder;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

public final class Conformance {
    private static final String PKG = "org.apache.kafka.common.message.";
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    /**
     * Plain Jackson defaults (ints that fit in 32 bits become IntNode, larger ones LongNode, numbers
     * with a fraction or exponent DoubleNode), except that the non-finite doubles NaN / Infinity /
     * -Infinity are read and written as bare tokens (Jackson would otherwise reject them on input
     * and print them as strings on output, which the float64 converter then rejects).
     */
    private static final ObjectMapper MAPPER = JsonMapper.builder()
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
        .build();

    /** Per data class: its JsonConverter read/write, its (Readable, short) constructor, its version range. */
    private static final class Codec {
        final Class<?> dataClass;
        final Method jsonRead;   // static XxxData read(JsonNode, short)
        final Method jsonWrite;  // static JsonNode write(XxxData, short)
        final Constructor<?> readCtor; // XxxData(Readable, short)
        final short lowest;
        final short highest;

        Codec(Class<?> dataClass) throws ReflectiveOperationException {
            this.dataClass = dataClass;
            Class<?> conv = Class.forName(PKG + dataClass.getSimpleName() + "JsonConverter");
            this.jsonRead = conv.getMethod("read", JsonNode.class, short.class);
            this.jsonWrite = conv.getMethod("write", dataClass, short.class);
            this.readCtor = dataClass.getConstructor(Readable.class, short.class);
            Message proto = (Message) dataClass.getConstructor().newInstance();
            this.lowest = proto.lowestSupportedVersion();
            this.highest = proto.highestSupportedVersion();
        }
    }

    private static final Map<String, Codec> CODECS = new HashMap<>();

    private static Codec codecFor(String kind, int apiKey) throws ReflectiveOperationException {
        String key = kind + ":" + apiKey;
        Codec c = CODECS.get(key);
        if (c == null) {
            Class<?> cls;
            switch (kind) {
                case "request":
                    cls = ApiMessageType.fromApiKey((short) apiKey).newRequest().getClass();
                    break;
                case "response":
                    cls = ApiMessageType.fromApiKey((short) apiKey).newResponse().getClass();
                    break;
                case "requestHeader":
                    cls = Class.forName(PKG + "RequestHeaderData");
                    break;
                case "responseHeader":
                    cls = Class.forName(PKG + "ResponseHeaderData");
                    break;
                default:
                    throw new IllegalArgumentException("unknown \"t\": " + kind);
            }
            c = new Codec(cls);
            CODECS.put(key, c);
        }
        return c;
    }

    private static short checkedVersion(Codec c, int v) {
        if (v < c.lowest || v > c.highest) {
            throw new UnsupportedOperationException("version " + v + " of " + c.dataClass.getSimpleName()
                + " is outside its supported range " + c.lowest + ".." + c.highest);
        }
        return (short) v;
    }

    private static int intField(JsonNode line, String name) {
        JsonNode n = line.get(name);
        if (n == null || !n.isInt()) {
            throw new IllegalArgumentException("missing or non-integer \"" + name + "\"");
        }
        return n.intValue();
    }

    /** Handles one input line; returns the output line (without newline). */
    static String handle(String text) throws Throwable {
        JsonNode line = MAPPER.readTree(text);
        if (line == null || !line.isObject()) {
            throw new IllegalArgumentException("input line is not a JSON object");
        }
        JsonNode tNode = line.get("t");
        if (tNode == null || !tNode.isTextual()) {
            throw new IllegalArgumentException("missing \"t\"");
        }
        String t = tNode.asText();
        if (t.equals("versions")) {
            return "OK " + MAPPER.writeValueAsString(versionTable());
        }
        if (t.equals("requestFrame") || t.equals("responseFrame")) {
            return frame(line, t.equals("requestFrame"));
        }
        if (t.equals("schema")) {
            return schema(line);
        }
        boolean decode = t.startsWith("decode");
        String kind = decode ? Character.toLowerCase(t.charAt(6)) + t.substring(7) : t;
        int k = (kind.equals("requestHeader") || kind.equals("responseHeader")) ? 0 : intField(line, "k");
        Codec c = codecFor(kind, k);
        short version = checkedVersion(c, intField(line, "v"));
        if (!decode) {
            JsonNode j = line.get("j");
            if (j == null) {
                throw new IllegalArgumentException("missing \"j\"");
            }
            Message msg = (Message) c.jsonRead.invoke(null, j, version);
            ObjectSerializationCache cache = new ObjectSerializationCache();
            int size = msg.size(cache, version);
            ByteBuffer buf = ByteBuffer.allocate(size);
            msg.write(new ByteBufferAccessor(buf), cache, version);
            if (buf.position() != size) {
                throw new IllegalStateException("size() said " + size + " but write() wrote " + buf.position());
            }
            JsonNode echo = line.get("echo");
            if (echo != null && echo.asBoolean()) {
                return "OK " + hex(buf.array(), size) + " " + MAPPER.writeValueAsString(kafkaJson(c, msg, version));
            }
            return "OK " + hex(buf.array(), size);
        } else {
            JsonNode h = line.get("hex");
            if (h == null || !h.isTextual()) {
                throw new IllegalArgumentException("missing \"hex\"");
            }
            ByteBuffer buf = ByteBuffer.wrap(unhex(h.asText()));
            Message msg = (Message) c.readCtor.newInstance(new ByteBufferAccessor(buf), version);
            if (buf.hasRemaining()) {
                throw new IllegalStateException("TrailingBytes: " + buf.remaining()
                    + " byte(s) left unread after decoding " + buf.position());
            }
            return "OK " + MAPPER.writeValueAsString(kafkaJson(c, msg, version));
        }
    }

    /** What Kafka's JsonConverter writes for msg (records with their bytes, see patchRecords). */
    private static JsonNode kafkaJson(Codec c, Message msg, short version) throws ReflectiveOperationException {
        JsonNode out = (JsonNode) c.jsonWrite.invoke(null, msg, version);
        patchRecords(msg, out);
        return out;
    }

    /**
     * A whole frame as Kafka's network layer sends it: header "h" (at header version "hv") and body
     * "j" (api key "k", version "v") read through their JsonConverters, then SendBuilder's
     * buildRequestSend / buildResponseSend (the size prefix, the header, the body, records
     * zero-copy) written out through a channel. Answers "OK <hex of the frame> <JSON>", the JSON
     * being {"h": ..., "j": ...} as Kafka's JsonConverters write back the messages they read.
     */
    private static String frame(JsonNode line, boolean request) throws Throwable {
        int k = intField(line, "k");
        Codec hc = codecFor(request ? "requestHeader" : "responseHeader", 0);
        Codec bc = codecFor(request ? "request" : "response", k);
        short hv = checkedVersion(hc, intField(line, "hv"));
        short v = checkedVersion(bc, intField(line, "v"));
        JsonNode hj = line.get("h");
        JsonNode bj = line.get("j");
        if (hj == null || bj == null) {
            throw new IllegalArgumentException("missing \"h\" or \"j\"");
        }
        Message header = (Message) hc.jsonRead.invoke(null, hj, hv);
        Message body = (Message) bc.jsonRead.invoke(null, bj, v);
        Send send;
        if (request) {
            RequestHeaderData hd = (RequestHeaderData) header;
            if (hd.requestApiVersion() != v || hd.requestApiKey() != k) {
                throw new IllegalArgumentException("header names key " + hd.requestApiKey() + " v"
                    + hd.requestApiVersion() + ", the line k" + k + " v" + v);
            }
            send = SendBuilder.buildRequestSend(new RequestHeader(hd, hv), body);
        } else {
            send = SendBuilder.buildResponseSend(new ResponseHeader((ResponseHeaderData) header, hv), body, v);
        }
        Collect ch = new Collect();
        while (!send.completed()) {
            send.writeTo(ch);
        }
        byte[] bytes = ch.out.toByteArray();
        if (bytes.length != send.size()) {
            throw new IllegalStateException("Send.size() said " + send.size() + " but " + bytes.length + " were written");
        }
        ObjectNode back = MAPPER.createObjectNode();
        back.set("h", kafkaJson(hc, header, hv));
        back.set("j", kafkaJson(bc, body, v));
        return "OK " + hex(bytes, bytes.length) + " " + MAPPER.writeValueAsString(back);
    }

    /**
     * The fields of a message at a version as Kafka's compiled schema has them
     * (XxxData.SCHEMAS[v]): {"t":"schema","kind":"request"|"response"|"requestHeader"|
     * "responseHeader","k":K,"v":V} answers "OK [paths]", sorted, nested fields as
     * "topics/partitions/index", tagged fields as "name@tag".
     */
    private static String schema(JsonNode line) throws Throwable {
        JsonNode kindNode = line.get("kind");
        if (kindNode == null || !kindNode.isTextual()) {
            throw new IllegalArgumentException("missing \"kind\"");
        }
        String kind = kindNode.asText();
        int k = kind.endsWith("Header") ? 0 : intField(line, "k");
        Codec c = codecFor(kind, k);
        short v = checkedVersion(c, intField(line, "v"));
        Object[] schemas = (Object[]) c.dataClass.getField("SCHEMAS").get(null);
        List<String> out = new ArrayList<>();
        schemaPaths((org.apache.kafka.common.protocol.types.Schema) schemas[v], "", out);
        java.util.Collections.sort(out);
        return "OK " + MAPPER.writeValueAsString(out);
    }

    private static void schemaPaths(org.apache.kafka.common.protocol.types.Schema schema, String prefix, List<String> out)
            throws ReflectiveOperationException {
        for (org.apache.kafka.common.protocol.types.BoundField bf : schema.fields()) {
            org.apache.kafka.common.protocol.types.Field f = bf.def;
            if (f.type instanceof org.apache.kafka.common.protocol.types.TaggedFields) {
                // TaggedFields.fields() is public in 4.x only; the map is its "fields" member in both.
                Field m = org.apache.kafka.common.protocol.types.TaggedFields.class.getDeclaredField("fields");
                m.setAccessible(true);
                @SuppressWarnings("unchecked")
                Map<Integer, org.apache.kafka.common.protocol.types.Field> tagged =
                    (Map<Integer, org.apache.kafka.common.protocol.types.Field>) m.get(f.type);
                for (Map.Entry<Integer, org.apache.kafka.common.protocol.types.Field> e : tagged.entrySet()) {
                    out.add(prefix + e.getValue().name + "@" + e.getKey());
                    nested(e.getValue().type, prefix + e.getValue().name + "/", out);
                }
                continue;
            }
            out.add(prefix + f.name);
            nested(f.type, prefix + f.name + "/", out);
        }
    }

    private static void nested(org.apache.kafka.common.protocol.types.Type t, String prefix, List<String> out)
            throws ReflectiveOperationException {
        if (t instanceof org.apache.kafka.common.protocol.types.Schema) {
            schemaPaths((org.apache.kafka.common.protocol.types.Schema) t, prefix, out);
        } else if (t.isArray() && t.arrayElementType().isPresent()
                && t.arrayElementType().get() instanceof org.apache.kafka.common.protocol.types.Schema) {
            schemaPaths((org.apache.kafka.common.protocol.types.Schema) t.arrayElementType().get(), prefix, out);
        }
    }

    /** A channel that keeps what is written to it. */
    private static final class Collect implements TransferableChannel {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        @Override
        public boolean hasPendingWrites() {
            return false;
        }

        @Override
        public long transferFrom(FileChannel fc, long position, long count) throws IOException {
            ByteBuffer b = ByteBuffer.allocate((int) count);
            while (b.hasRemaining()) {
                if (fc.read(b, position + b.position()) < 0) {
                    break;
                }
            }
            b.flip();
            return write(b);
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            byte[] b = new byte[n];
            src.get(b);
            out.write(b, 0, n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    /** {"<apiKey>": {"name": "Produce", "request": [lo, hi], "response": [lo, hi]}, ...} as this kafka-clients has them. */
    private static ObjectNode versionTable() {
        ObjectNode out = MAPPER.createObjectNode();
        for (ApiMessageType t : ApiMessageType.values()) {
            Message req;
            Message resp;
            try {
                req = t.newRequest();
                resp = t.newResponse();
            } catch (RuntimeException e) {
                continue; // e.g. keys 4-7 in 4.x: still enumerated, but no longer instantiable
            }
            ObjectNode e = out.putObject(Short.toString(t.apiKey()));
            e.put("name", t.name);
            e.putArray("request").add(req.lowestSupportedVersion()).add(req.highestSupportedVersion());
            e.putArray("response").add(resp.lowestSupportedVersion()).add(resp.highestSupportedVersion());
        }
        return out;
    }

    // ---- records fix-up for decode output -------------------------------------------------------
    // Kafka's XxxJsonConverter.write(msg, version) emits every `records` field as an EMPTY binary
    // (""), not its bytes. So that decode output round-trips into encode input, we replace each
    // non-null records field in the JSON with the base64 of its actual bytes (MemoryRecords.buffer()).
    // BaseRecords lives in a different package in 3.9 and 4.x, so it is recognised by simple name.

    private static final Map<Class<?>, List<Field>> RELEVANT = new HashMap<>();
    private static final Map<Class<?>, Boolean> HAS_RECORDS = new IdentityHashMap<>();

    private static boolean isRecordsType(Class<?> t) {
        for (Class<?> x = t; x != null; x = x.getSuperclass()) {
            if (x.getSimpleName().equals("BaseRecords")) {
                return true;
            }
        }
        return false;
    }

    /** Element class of a List<X> field or of an XCollection extends ImplicitLinkedHashMultiCollection<X>. */
    private static Class<?> elementClass(Field f) {
        Type g = f.getGenericType();
        if (!(g instanceof ParameterizedType)) {
            g = f.getType().getGenericSuperclass();
        }
        if (g instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) g).getActualTypeArguments();
            if (args.length == 1 && args[0] instanceof Class) {
                return (Class<?>) args[0];
            }
        }
        return null;
    }

    private static boolean hasRecords(Class<?> cls) {
        Boolean b = HAS_RECORDS.get(cls);
        if (b != null) {
            return b;
        }
        HAS_RECORDS.put(cls, Boolean.FALSE); // cycle guard
        boolean any = false;
        for (Field f : relevantFields(cls)) {
            Class<?> t = f.getType();
            if (isRecordsType(t)) {
                any = true;
            } else if (Message.class.isAssignableFrom(t)) {
                any |= hasRecords(t);
            } else {
                Class<?> e = elementClass(f);
                any |= e != null && Message.class.isAssignableFrom(e) && hasRecords(e);
            }
        }
        HAS_RECORDS.put(cls, any);
        return any;
    }

    private static List<Field> relevantFields(Class<?> cls) {
        List<Field> r = RELEVANT.get(cls);
        if (r == null) {
            r = new ArrayList<>();
            for (Field f : cls.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getName().startsWith("_")) {
                    continue;
                }
                Class<?> t = f.getType();
                if (isRecordsType(t) || Message.class.isAssignableFrom(t) || Iterable.class.isAssignableFrom(t)) {
                    f.setAccessible(true);
                    r.add(f);
                }
            }
            RELEVANT.put(cls, r);
        }
        return r;
    }

    private static void patchRecords(Object msg, JsonNode json) throws ReflectiveOperationException {
        if (msg == null || !(json instanceof ObjectNode) || !hasRecords(msg.getClass())) {
            return;
        }
        ObjectNode obj = (ObjectNode) json;
        for (Field f : relevantFields(msg.getClass())) {
            JsonNode sub = obj.get(f.getName());
            Object v = f.get(msg);
            if (sub == null || v == null) {
                continue;
            }
            if (isRecordsType(f.getType())) {
                ByteBuffer b = ((ByteBuffer) v.getClass().getMethod("buffer").invoke(v)).duplicate();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                obj.set(f.getName(), new BinaryNode(bytes));
            } else if (v instanceof Message) {
                patchRecords(v, sub);
            } else if (v instanceof Iterable && sub.isArray()) {
                int i = 0;
                for (Object e : (Iterable<?>) v) {
                    if (!(e instanceof Message)) {
                        break;
                    }
                    patchRecords(e, sub.get(i++));
                }
            }
        }
    }

    // ---- hex ------------------------------------------------------------------------------------

    private static String hex(byte[] b, int len) {
        char[] out = new char[len * 2];
        for (int i = 0; i < len; i++) {
            out[2 * i] = HEX[(b[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX[b[i] & 0xf];
        }
        return new String(out);
    }

    private static byte[] unhex(String s) {
        if ((s.length() & 1) != 0) {
            throw new IllegalArgumentException("odd-length hex");
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(s.charAt(2 * i), 16);
            int lo = Character.digit(s.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("bad hex digit near offset " + (2 * i));
            }
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    // ---- main loop ------------------------------------------------------------------------------

    private static String oneLine(Throwable e) {
        while ((e instanceof InvocationTargetException || e instanceof ExceptionInInitializerError)
                && e.getCause() != null) {
            e = e.getCause();
        }
        String m = e.getMessage();
        String s = e.getClass().getName() + (m == null ? "" : ": " + m);
        return s.replace('\r', ' ').replace('\n', ' ');
    }

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
        String text;
        while ((text = in.readLine()) != null) {
            String result;
            try {
                result = handle(text);
            } catch (Throwable e) {
                result = "ERR " + oneLine(e);
            }
            out.write(result);
            out.write('\n');
            // Batch mode: flush only when no more input is immediately available, so a caller that
            // writes one line and waits for its answer (interactive use) never deadlocks.
            if (!in.ready()) {
                out.flush();
            }
        }
        out.flush();
    }
}
