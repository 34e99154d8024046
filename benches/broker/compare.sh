#!/usr/bin/env bash
# The broker benchmark of BENCHMARKS.md: the same load against `kpp serve` and against Apache
# Kafka 4.4.0 (KRaft, one combined node, from the Maven jars .ci/install puts in $KPP_CACHE), in
# one run. Load: Kafka's own ProducerPerformance (1,000,000 records of 100 B and of 1 KiB, acks=1
# and acks=all, unthrottled; then 1 KiB acks=all at a fixed RATE for latency, from
# ProducerPerformance and from benches/producer/rdkafka_perf.c), then kcat -C -e reading each
# topic back. Prints one
# markdown table: MB/s, records/s, p50/p99 produce latency, consumer MB/s, broker peak RSS.
#
#   bash benches/broker/compare.sh            # ~7 min on the 2-core VM
#   RECORDS=200000 bash benches/broker/compare.sh   # a shorter run
#
# Not a test: nothing here asserts a speed. Needs `bash .ci/install` (Java, the Kafka jars).
set -euo pipefail
cd "$(dirname "$0")/../.."
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
LIBS="$KPP_CACHE/kafka-4.4.0/libs"
RECORDS="${RECORDS:-1000000}"
RATE="${RATE:-20000}"                # records/s of the fixed-rate latency row (1 KiB, acks=all)
RATE_RECORDS="${RATE_RECORDS:-300000}"
WORK="$(mktemp -d /tmp/kpp-broker-bench.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
[ -f "$LIBS/kafka_2.13-4.4.0.jar" ] || { echo "no Kafka jars in $LIBS: run bash .ci/install" >&2; exit 1; }

cargo build --release -p kpp --bin kpp >&2
cc -O2 -o "$WORK/rdkafka_perf" benches/producer/rdkafka_perf.c -lrdkafka
KPP="${CARGO_TARGET_DIR:-target}/release/kpp"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
java_tool() { java -Xmx512M -cp "$LIBS/*" -Dlog4j2.configurationFile="$WORK/log4j2.properties" "$@"; }
cat > "$WORK/log4j2.properties" <<'L4J'
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %m%n
L4J

wait_port() { for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
# CPU seconds per thread name of a process ("kpp-broker-core 12.3 s, tokio-runtime-w 20.1 s")
thread_cpu() {
  local hz; hz=$(getconf CLK_TCK)
  for t in /proc/"$1"/task/*; do
    # comm may hold spaces: the fields after the closing parenthesis are fixed
    local stat comm rest; stat=$(cat "$t/stat"); comm=${stat#*(}; comm=${comm%)*}; rest=${stat##*) }
    set -- $rest; echo "$comm $(( ${12} + ${13} ))"
  done | awk -v hz="$hz" '{c[$1]+=$2} END {for (k in c) printf "%s %.1f s, ", k, c[k]/hz}'
}
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

start_kafka() {
  local port=$1 cport; cport=$(free_port)
  mkdir -p "$WORK/kafka"
  cat > "$WORK/kafka/server.properties" <<P
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$WORK/kafka/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
P
  java_tool kafka.tools.StorageTool format --cluster-id a2xvZy1rYWZrYS10ZXN0MA --config "$WORK/kafka/server.properties" >/dev/null
  # kafka-server-start.sh's heap and GC settings
  java -Xmx1G -Xms1G -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$WORK/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$WORK/kafka/server.properties" > "$WORK/kafka/broker.log" 2>&1 &
  BROKER_PID=$!
  wait_port "$port"
  sleep 2
}

start_kpp() {
  local port=$1
  "$KPP" serve --data-dir "$WORK/kpp" --listen "127.0.0.1:$port" > "$WORK/kpp.log" 2>&1 &
  BROKER_PID=$!
  wait_port "$port"
}

# produce + consume one configuration; prints a table row
# (a 5th argument: a fixed rate in records/s, and fewer records, for the latency rows)
run_load() {
  local name=$1 port=$2 size=$3 acks=$4 rate=${5:--1} topic="t-$3-$4-${5:-max}-${TOOL:-java}"
  local records=$RECORDS warm=""
  # fixed-rate rows leave their first tenth out of the figures (ProducerPerformance's
  # --warmup-records): the client's connecting and first metadata are not the broker's latency
  [ "$rate" = -1 ] || { records=$RATE_RECORDS; warm="--warmup-records $((RATE_RECORDS / 10))"; }
  # every load starts with no dirty pages of the one before: a run that follows gigabytes of
  # unsynced writes is throttled by the kernel's writeback, whichever broker wrote them
  sync
  java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --create --topic "$topic" --partitions 1 --replication-factor 1 >/dev/null
  local out
  if [ "${TOOL:-java}" = java ]; then
    out=$(java_tool org.apache.kafka.tools.ProducerPerformance --topic "$topic" --num-records "$records" \
      --record-size "$size" --throughput "$rate" $warm \
      --producer-props "bootstrap.servers=127.0.0.1:$port" "acks=$acks" 2>&1 | tail -1)
  else
    # librdkafka, no GC pauses on the client side: the latency left is the broker's
    out=$("$WORK/rdkafka_perf" --bootstrap-server "127.0.0.1:$port" --topic "$topic" \
      --num-records "$records" --record-size "$size" --throughput "$rate" $warm -X "acks=$acks" \
      -X linger.ms=0 2>&1 | tail -1)
  fi
  # "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."
  local rps mbs p50 p99
  rps=$(sed -E 's/.* ([0-9.]+) records\/sec.*/\1/' <<<"$out")
  mbs=$(sed -E 's/.*\(([0-9.]+) MB\/sec\).*/\1/' <<<"$out")
  p50=$(sed -E 's/.* ([0-9]+) ms 50th.*/\1/' <<<"$out")
  p99=$(sed -E 's/.* ([0-9]+) ms 99th.*/\1/' <<<"$out")
  # the read-back: kcat -C -e from the beginning to the end (no consumer group: kpp has none
  # yet, so Kafka's ConsumerPerformance, which joins one, cannot run against both)
  local t0 t1 n cmb
  t0=$(date +%s.%N)
  n=$(kcat -C -b "127.0.0.1:$port" -t "$topic" -o beginning -e -q -f '%o\n' | wc -l)
  t1=$(date +%s.%N)
  [ "$n" -eq "$records" ] || { echo "$name: kcat read $n of $records records of $topic" >&2; exit 1; }
  cmb=$(python3 -c "print(f'{$records * $size / ($t1 - $t0) / 1e6:.1f}')")
  local how=unthrottled
  [ "$rate" = -1 ] || how="$rate/s"
  [ "${TOOL:-java}" = java ] || how="$how, rdkafka_perf linger 0"
  echo "| $name | $size B | $acks | $how | $mbs | $rps | $p50 | $p99 | $cmb |"
}

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| broker | record | acks | rate | produce MB/s | records/s | p50 ms | p99 ms | kcat read MB/s |"
echo "|---|---|---|---|---|---|---|---|---|"
for broker in kafka kpp; do
  port=$(free_port)
  if [ $broker = kafka ]; then start_kafka "$port"; else start_kpp "$port"; fi
  t_begin=$(date +%s)
  for size in 100 1024; do
    for acks in 1 all; do
      run_load "$broker" "$port" "$size" "$acks"
    done
  done
  # unthrottled, the producer's 32 MiB buffer.memory is full and latency is the time a record
  # waits in it; at a rate both brokers sustain, latency is the broker's
  run_load "$broker" "$port" 1024 all "$RATE"
  TOOL=rdkafka run_load "$broker" "$port" 1024 all "$RATE"
  echo "| $broker peak RSS | $(peak_rss_mb $BROKER_PID) MB | | | | | | | |"
  [ $broker = kafka ] || KPP_THREADS="$(thread_cpu $BROKER_PID)over $(( $(date +%s) - t_begin )) s of loads"
  kill -TERM $BROKER_PID; wait $BROKER_PID 2>/dev/null || true
done
echo
echo "kpp CPU time by thread over its loads: ${KPP_THREADS:-}"
