"""kafka-python's side of the capture test: creates a topic (1 MiB segments), produces with
every codec (idempotent producers), commits one transaction and aborts another, consumes it back
(read_uncommitted), and writes what kafka-python itself logged of every request and response it sent and
received (its own record, the oracle the inspector's decoding of the capture is checked with).

usage: capture_client.py BOOTSTRAP ORACLE_JSON
"""
import json
import logging
import os
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

bootstrap, oracle_path = sys.argv[1], sys.argv[2]
seen = []


class Oracle(logging.Handler):
    """Collects kafka.net.connection's `Request %d: %s` and `Response %d (%s ms): %s` records."""

    def emit(self, record):
        msg, args = record.msg, record.args
        if not isinstance(args, tuple) or len(args) < 3:
            return
        if msg.endswith('Request %d: %s'):
            conn, corr, body, direction = args[0], args[1], args[2], 'request'
        elif 'Response %d' in msg:
            conn, corr, body, direction = args[0], args[1], args[3], 'response'
        else:
            return
        port = None
        try:
            port = conn.transport.getHost()[1]
        except Exception:  # a closed transport
            pass
        name = type(body).__name__
        for suffix in ('Request', 'Response'):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        seen.append({'port': port, 'direction': direction, 'correlationId': corr,
                     'api': name, 'version': body.API_VERSION})


log = logging.getLogger('kafka.net.connection')
log.setLevel(logging.DEBUG)
log.addHandler(Oracle())

admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='capture-admin')
admin.create_topics([NewTopic('captured', num_partitions=1, replication_factor=1,
                              topic_configs={'segment.bytes': str(1 << 20)})])
admin.close()
sent = 0
for codec in (None, 'gzip', 'snappy', 'lz4', 'zstd'):
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id=f'capture-{codec or "none"}',
                      compression_type=codec, acks='all', linger_ms=5)
    for i in range(150):
        # Random hex keeps the codecs from shrinking the partition below two segments; said
        # twice, so that every codec gains on it (kafka-python sends a batch uncompressed when
        # its codec does not make it smaller, and snappy gains nothing on random hex alone).
        value = json.dumps({'codec': codec or 'none', 'i': i, 'pad': os.urandom(750).hex() * 2}).encode()
        p.send('captured', key=f'k{i}'.encode(), value=value, headers=[('n', str(i).encode())])
        sent += 1
    p.flush()
    p.close()
tx = KafkaProducer(bootstrap_servers=bootstrap, client_id='capture-tx', transactional_id='capture-tx')
tx.init_transactions()
aborted = 0
for commit in (True, False):
    tx.begin_transaction()
    for i in range(10):
        tx.send('captured', value=json.dumps({'txn': 'commit' if commit else 'abort', 'i': i}).encode())
        sent += 1
        aborted += 0 if commit else 1
    tx.flush()  # the records reach the log before the marker, also for the aborted one
    if commit:
        tx.commit_transaction()
    else:
        tx.abort_transaction()
tx.close()
c = KafkaConsumer('captured', bootstrap_servers=bootstrap, client_id='capture-consumer',
                  auto_offset_reset='earliest', consumer_timeout_ms=10000, group_id=None,
                  isolation_level='read_committed')
got = 0
for _ in c:
    got += 1
    if got == sent - aborted:
        break
c.close()
assert got == sent - aborted, f'consumed {got} of the {sent - aborted} committed records'
with open(oracle_path, 'w') as f:
    json.dump({'records': sent, 'aborted': aborted, 'frames': seen}, f, indent=1)
print(f'capture_client: {sent} records produced ({aborted} aborted), {got} consumed, {len(seen)} frames logged')
