#!/usr/bin/env python3
"""kafka-python as the peer of kproto's record batch tests (tests/tests/records_python.rs).

A line protocol on stdin/stdout, bytes as hex, '=' for empty and '-' for null:

  build_v2 COMPRESSION PRODUCER_ID EPOCH BASE_SEQUENCE TRANSACTIONAL BATCH_SIZE
  build_legacy MAGIC COMPRESSION BATCH_SIZE
  R TIMESTAMP KEY VALUE NHEADERS [HKEY HVALUE]...      (one line per record to append)
    -> ACCEPTED n
       BATCH hex
  read HEX
    -> B base_offset length leader_epoch magic crc attributes last_offset_delta
         first_timestamp max_timestamp producer_id producer_epoch base_sequence count
       L offset magic attributes timestamp_type compression   (a legacy entry)
       R offset timestamp KEY VALUE NHEADERS [HKEY HVALUE]...
       END valid_bytes
"""
import sys

from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatch, LegacyRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords


def unhex(s):
    if s == "-":
        return None
    return b"" if s == "=" else bytes.fromhex(s)


def tohex(b):
    if b is None:
        return "-"
    return bytes(b).hex() or "="


def parse_records(lines):
    out = []
    for line in lines:
        f = line.split()
        assert f[0] == "R", line
        ts, key, value, nh = int(f[1]), unhex(f[2]), unhex(f[3]), int(f[4])
        headers = []
        for i in range(nh):
            k = unhex(f[5 + 2 * i]).decode("utf-8")
            headers.append((k, unhex(f[6 + 2 * i])))
        out.append((ts, key, value, headers))
    return out


def record_line(offset, timestamp, key, value, headers):
    parts = ["R", str(offset), str(timestamp), tohex(key), tohex(value), str(len(headers))]
    for k, v in headers:
        parts += [tohex(k.encode("utf-8")), tohex(v)]
    return " ".join(parts)


def build(cmd, lines):
    f = cmd.split()
    if f[0] == "build_v2":
        comp, pid, epoch, seq, txn, size = (int(x) for x in f[1:7])
        b = DefaultRecordBatchBuilder(2, comp, bool(txn), pid, epoch, seq, size)
        legacy = False
    else:
        magic, comp, size = (int(x) for x in f[1:4])
        b = LegacyRecordBatchBuilder(magic, comp, size)
        legacy = True
    n = 0
    for i, (ts, key, value, headers) in enumerate(parse_records(lines)):
        if legacy:
            md = b.append(i, ts, key, value)
        else:
            md = b.append(i, ts, key, value, headers)
        if md is None:
            break
        n += 1
    print("ACCEPTED", n)
    print("BATCH", bytes(b.build()).hex())


def read(data):
    recs = MemoryRecords(data)
    while True:
        batch = recs.next_batch()
        if batch is None:
            break
        if isinstance(batch, DefaultRecordBatch):
            if not batch.validate_crc():
                print("CRCERROR")
                return
            print("B", batch.base_offset, batch.size_in_bytes - 12, batch.leader_epoch, batch.magic,
                  batch.crc, batch.attributes, batch.last_offset_delta, batch.first_timestamp,
                  batch.max_timestamp, batch.producer_id, batch.producer_epoch,
                  batch.base_sequence, batch.records_count)
            for r in batch:
                if batch.is_control_batch:
                    print(record_line(r.offset, r.timestamp, None, None, []))
                else:
                    print(record_line(r.offset, r.timestamp, r.key, r.value, r.headers))
        else:
            assert isinstance(batch, LegacyRecordBatch)
            print("L", batch.base_offset, batch.magic, batch._attributes, batch.timestamp_type,
                  batch.compression_type)
            for r in batch:
                if not r.validate_crc():
                    print("CRCERROR")
                    return
                print(record_line(r.offset, r.timestamp if r.timestamp is not None else -1, r.key,
                                  r.value, []))
    print("END", recs.valid_bytes() if hasattr(recs, "valid_bytes") else -1)


def main():
    lines = [l.strip() for l in sys.stdin.read().splitlines() if l.strip()]
    cmd = lines[0]
    if cmd.startswith("build"):
        build(cmd, lines[1:])
    elif cmd.startswith("read"):
        read(bytes.fromhex(cmd.split()[1]))
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
