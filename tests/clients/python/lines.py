"""The driver line format (tests/src/clients/lines.rs): records in on stdin, tagged lines out;
bytes in hex, "-" for null, "=" for empty."""
import sys


def nullable(field):
    if field == "-":
        return None
    return b"" if field == "=" else bytes.fromhex(field)


def show(b):
    if b is None:
        return "-"
    return b.hex() or "="


def read_records(stream=None):
    """Records from stdin: (partition or None, key, value, [(header key, header value)])."""
    out = []
    for line in (stream or sys.stdin):
        line = line.rstrip("\n")
        if not line:
            continue
        p, k, v, h = line.split("\t")
        headers = []
        if h:
            for pair in h.split(","):
                hk, hv = pair.split(":")
                headers.append((nullable(hk).decode("utf-8"), nullable(hv)))
        out.append((None if p == "-" else int(p), nullable(k), nullable(v), headers))
    return out


def headers_field(headers):
    return ",".join("%s:%s" % (show(k.encode("utf-8")), show(v)) for k, v in headers or [])


def delivery(index, partition, offset):
    print("D\t%d\t%d\t%d" % (index, partition, offset))


def record(partition, offset, timestamp, key, value, headers):
    print("R\t%d\t%d\t%d\t%s\t%s\t%s"
          % (partition, offset, timestamp, show(key), show(value), headers_field(headers)))


def end_offset(partition, end):
    print("E\t%d\t%d" % (partition, end))


def note(text):
    print("#\t%s" % text)
