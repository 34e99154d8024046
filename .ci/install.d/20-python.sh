#!/usr/bin/env bash
# A Python venv with kafka-python (the peer of the record batch cross-implementation tests)
# and the codec packages its kafka/codec.py imports. Skips itself when the venv already has
# the pinned versions.
set -euo pipefail
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
venv="$KPP_CACHE/venv"
want="kafka-python==3.0.12 python-snappy==0.7.3 cramjam==2.14.0 lz4==4.4.5 zstandard==0.25.0 xxhash==4.1.0"
stamp="$venv/.kpp-requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
"$venv/bin/python" -c 'import kafka, kafka.codec as c; assert c.has_gzip() and c.has_snappy() and c.has_lz4() and c.has_zstd(), "kafka-python codecs missing"'
echo "$want" > "$stamp"
