"""kafka-python's side of the capture test: creates a topic, produces with every codec, consumes
it back, and writes what kafka-python itself logged of every request and response it sent and
received (its own record, the oracle the inspector's decoding of the capture is checked with).

usage: capture_client.py BOOTSTRAP ORACLE_JSON
"""
import json
import logging
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
admin.create_topics([NewTopic('captured', num_partitions=1, replication_factor=1)])
admin.close()
sent = 0
for codec in (None, 'gzip', 'snappy', 'lz4', 'zstd'):
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id=f'capture-{codec or "none"}',
                      compression_type=codec, acks='all', linger_ms=5)
    for i in range(20):
        value = json.dumps({'codec': codec or 'none', 'i': i, 'pad': 'x' * 2000}).encode()
        p.send('captured', key=f'k{i}'.encode(), value=value, headers=[('n', str(i).encode())])
        sent += 1
    p.flush()
    p.close()
c = KafkaConsumer('captured', bootstrap_servers=bootstrap, client_id='capture-consumer',
                  auto_offset_reset='earliest', consumer_timeout_ms=10000, group_id=None)
got = 0
for _ in c:
    got += 1
    if got == sent:
        break
c.close()
assert got == sent, f'consumed {got} of {sent}'
with open(oracle_path, 'w') as f:
    json.dump({'records': sent, 'frames': seen}, f, indent=1)
print(f'capture_client: {sent} records produced and consumed, {len(seen)} frames logged')
