/*
 * rdkafka_perf: Kafka's ProducerPerformance over librdkafka, for the producer benchmark of
 * BENCHMARKS.md. Same flags where they exist, same payload (record-size bytes of random
 * 'A'..'Z'), same summary line:
 *
 *   N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
 *   P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th.
 *
 * Latency is per record, from rd_kafka_produce() to its delivery report, as Java's is from
 * send() to the callback. With --warmup-records W the first W records are left out of the
 * figures (Java's "steady state" line), so connecting and the first metadata do not count. librdkafka's queue is bounded to 32 MiB by default
 * (queue.buffering.max.kbytes=32768), as Java's buffer.memory, so an unthrottled run measures
 * the same kind of queueing. Any librdkafka property can be given as -X key=value.
 *
 *   cc -O2 -o rdkafka_perf rdkafka_perf.c -lrdkafka
 *   ./rdkafka_perf --bootstrap-server 127.0.0.1:9092 --topic t --num-records 1000000 \
 *       --record-size 100 --throughput -1 -X acks=all
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t *sent_at;   /* per record: when it was handed to librdkafka */
static int32_t *latency_ms;
static long delivered, failed, warmup, steady;
static int64_t latency_sum, latency_max;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    long i = (long)(intptr_t)m->_private;
    if (m->err) {
        if (failed++ < 5)
            fprintf(stderr, "record %ld failed: %s\n", i, rd_kafka_err2str(m->err));
        return;
    }
    delivered++;
    if (i < warmup) return; /* --warmup-records: not in the steady-state figures */
    int64_t l = (now_us() - sent_at[i]) / 1000;
    latency_ms[steady++] = (int32_t)l;
    latency_sum += l;
    if (l > latency_max) latency_max = l;
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void usage(void) {
    fprintf(stderr, "usage: rdkafka_perf --bootstrap-server HOST:PORT --topic T --num-records N "
                    "--record-size B [--throughput R] [--warmup-records W] [-X key=value]...\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *bootstrap = NULL, *topic = NULL;
    long num = -1, size = -1;
    double throughput = -1;
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "queue.buffering.max.kbytes", "32768", err, sizeof err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--bootstrap-server")) bootstrap = v;
        else if (!strcmp(a, "--topic")) topic = v;
        else if (!strcmp(a, "--num-records")) num = atol(v);
        else if (!strcmp(a, "--record-size")) size = atol(v);
        else if (!strcmp(a, "--throughput")) throughput = atof(v);
        else if (!strcmp(a, "--warmup-records")) warmup = atol(v);
        else if (!strcmp(a, "-X")) {
            char kv[1024];
            snprintf(kv, sizeof kv, "%s", v);
            char *eq = strchr(kv, '=');
            if (!eq) usage();
            *eq = 0;
            if (rd_kafka_conf_set(conf, kv, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s\n", err);
                return 2;
            }
        } else usage();
    }
    if (!bootstrap || !topic || num <= 0 || size < 0 || warmup < 0 || warmup >= num) usage();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        return 1;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    sent_at = malloc(sizeof(int64_t) * num);
    latency_ms = malloc(sizeof(int32_t) * num);
    char *payload = malloc(size ? size : 1);
    srand(1);
    for (long j = 0; j < size; j++) payload[j] = (char)('A' + rand() % 26);

    int64_t start = now_us(), steady_start = start;
    for (long i = 0; i < num; i++) {
        if (i == warmup) steady_start = now_us();
        if (throughput > 0) {
            /* hold back until record i is due at the given rate */
            int64_t due = start + (int64_t)(i * 1e6 / throughput);
            while (now_us() < due) rd_kafka_poll(rk, 0);
        }
        sent_at[i] = now_us();
        while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload,
                                (size_t)size, NULL, 0, (void *)(intptr_t)i) == -1) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                return 1;
            }
            rd_kafka_poll(rk, 1); /* the queue is full: wait for deliveries, as send() blocks */
        }
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 600 * 1000);
    double secs = (now_us() - steady_start) / 1e6;
    if (delivered + failed != num) {
        fprintf(stderr, "%ld of %ld records got no delivery report\n", num - delivered - failed, num);
        return 1;
    }
    qsort(latency_ms, steady, sizeof(int32_t), cmp_i32);
#define PCT(p) (steady ? latency_ms[(long)((p) * (steady - 1))] : 0)
    printf("%ld %srecords sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max "
           "latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.\n",
           steady, warmup ? "steady state " : "", steady / secs,
           steady * (double)size / secs / (1024.0 * 1024.0),
           steady ? (double)latency_sum / steady : 0.0, (double)latency_max, PCT(0.5),
           PCT(0.95), PCT(0.99), PCT(0.999));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}
