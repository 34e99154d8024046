#!/usr/bin/env bash
# Self-check of the Java conformance harness: feeds hand-written lines to the harness built against
# each kafka-clients version and compares with byte strings derived BY HAND from the Kafka protocol
# spec (derivations below). Builds the harness first if needed (idempotent, fast when warm).
# Usage: tests/java/conformance/selftest.sh            (ends with "N passed, N failed")
#
# Encoding reminders used in the derivations:
#   int8/int16/int32/int64: big-endian two's complement, 1/2/4/8 bytes. bool: 00/01.
#   float64: IEEE-754 big-endian (1.5 = 3ff8000000000000).  uuid: 16 raw bytes.
#   Non-flexible versions: STRING = int16 length + UTF-8; NULLABLE_STRING null = ffff;
#     ARRAY = int32 count + elements (null = ffffffff); BYTES = int32 length + bytes.
#   Flexible versions: COMPACT_STRING/BYTES/ARRAY = uvarint(N+1) + payload, null = uvarint 0 = 00;
#     every struct (top level and each array element / nested struct) ends with a tagged-field
#     section: uvarint count, then per field uvarint tag, uvarint size, value. Empty section = 00.
#   Headers: RequestHeader v0 = apiKey int16, apiVersion int16, correlationId int32;
#     v1 adds clientId NULLABLE_STRING (int16 length, never compact); v2 adds a tagged section.
#     ResponseHeader v0 = correlationId int32; v1 adds a tagged section.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
KPP_CACHE="${KPP_CACHE:-$HOME/.cache/kpp}"
export KPP_CACHE
versions="4.4.0 3.9.1"
for v in $versions; do
  [ -f "$KPP_CACHE/java/conformance-$v/Conformance.class" ] || { bash "$root/.ci/install.d/30-java-harness.sh"; break; }
done

labels=() inputs=() exp440=() exp391=()
# add LABEL JSON EXPECTED_4.4.0 [EXPECTED_3.9.1 (defaults to the same)]; an expectation "ERR" matches any ERR line.
add() { labels+=("$1"); inputs+=("$2"); exp440+=("$3"); exp391+=("${4:-$3}"); }

# 1. ApiVersionsRequest v3 (flexible): clientSoftwareName COMPACT_STRING "a" = 02 61,
#    clientSoftwareVersion "b" = 02 62, tagged section 00.
add "ApiVersionsRequest v3" \
  '{"k":18,"v":3,"t":"request","j":{"clientSoftwareName":"a","clientSoftwareVersion":"b"}}' \
  "OK 0261026200"

# 2. MetadataRequest v12 (flexible): topics null -> compact nullable array null 00,
#    allowAutoTopicCreation true 01, includeTopicAuthorizedOperations false 00, tagged 00.
add "MetadataRequest v12 topics=null" \
  '{"k":3,"v":12,"t":"request","j":{"topics":null,"allowAutoTopicCreation":true,"includeTopicAuthorizedOperations":false}}' \
  "OK 00010000"

# 3. MetadataRequest v1 (non-flexible): topics ARRAY count 00000001, name STRING "ab" = 0002 6162.
add "MetadataRequest v1 one topic" \
  '{"k":3,"v":1,"t":"request","j":{"topics":[{"name":"ab"}]}}' \
  "OK 0000000100026162"

# 4. MetadataRequest v12 with a uuid: topics compact array of 1 = 02; topicId
#    "AAAAAAAAAAAAAAAAAAAAAQ" (url-safe base64 of 15 zero bytes + 01) = 00..0001 (16 bytes);
#    name null = 00; element tagged 00; allowAutoTopicCreation 01; includeTopicAuthorizedOperations 00; tagged 00.
add "MetadataRequest v12 uuid" \
  '{"k":3,"v":12,"t":"request","j":{"topics":[{"topicId":"AAAAAAAAAAAAAAAAAAAAAQ","name":null}],"allowAutoTopicCreation":true,"includeTopicAuthorizedOperations":false}}' \
  "OK 02""00000000000000000000000000000001""0000010000"

# 5. ApiVersionsResponse v3 (response, flexible): errorCode int16 0000; apiKeys compact array of 1 = 02,
#    element {apiKey 18 = 0012, minVersion 0000, maxVersion 0003, tagged 00}; throttleTimeMs 00000000;
#    tagged 00.
add "ApiVersionsResponse v3" \
  '{"k":18,"v":3,"t":"response","j":{"errorCode":0,"apiKeys":[{"apiKey":18,"minVersion":0,"maxVersion":3}],"throttleTimeMs":0}}' \
  "OK 000002001200000003000000000000"

# 6. ApiVersionsResponse v3 with tagged field finalizedFeaturesEpoch=5 (tag 1, int64):
#    0000 | apiKeys empty 01 | throttle 00000000 | tagged: count 01, tag 01, size 08, 0000000000000005.
#    (finalizedFeaturesEpoch = -1, its default, would be omitted: tagged section 00.)
add "ApiVersionsResponse v3 tagged" \
  '{"k":18,"v":3,"t":"response","j":{"errorCode":0,"apiKeys":[],"throttleTimeMs":0,"finalizedFeaturesEpoch":5}}' \
  "OK 000001000000000101080000000000000005"

# 7. ListOffsetsRequest v2 (non-flexible; int8 and int64): replicaId -1 = ffffffff; isolationLevel
#    int8 1 = 01; topics count 00000001; name "t" = 0001 74; partitions count 00000001;
#    partitionIndex 00000000; timestamp -2 = fffffffffffffffe.
add "ListOffsetsRequest v2" \
  '{"k":2,"v":2,"t":"request","j":{"replicaId":-1,"isolationLevel":1,"topics":[{"name":"t","partitions":[{"partitionIndex":0,"timestamp":-2}]}]}}' \
  "OK ffffffff""01""00000001""000174""00000001""00000000""fffffffffffffffe"

# 8. AlterClientQuotasRequest v1 (flexible; float64, nullable string): entries 02; entity 02;
#    entityType "user" = 05 75736572; entityName null = 00; entity tagged 00; ops 02; key "k" = 02 6b;
#    value 1.5 = 3ff8000000000000; remove false 00; op tagged 00; entry tagged 00; validateOnly 01; tagged 00.
add "AlterClientQuotasRequest v1 float64" \
  '{"k":49,"v":1,"t":"request","j":{"entries":[{"entity":[{"entityType":"user","entityName":null}],"ops":[{"key":"k","value":1.5,"remove":false}]}],"validateOnly":true}}' \
  "OK 02020575736572000002026b3ff80000000000000000000100"

# 9. SaslAuthenticateRequest v2 (bytes, base64 "AAEC/w==" = 00 01 02 ff): COMPACT_BYTES
#    uvarint(4+1) = 05, 000102ff, tagged 00.  v0 (non-flexible): BYTES int32 length 00000004 + 000102ff.
add "SaslAuthenticateRequest v2 bytes" \
  '{"k":36,"v":2,"t":"request","j":{"authBytes":"AAEC/w=="}}' "OK 05000102ff00"
add "SaslAuthenticateRequest v0 bytes" \
  '{"k":36,"v":0,"t":"request","j":{"authBytes":"AAEC/w=="}}' "OK 00000004000102ff"

# 10. ProduceRequest v9 (flexible; records): transactionalId null 00; acks -1 = ffff; timeoutMs 1000 =
#     000003e8; topicData 02; name "t" = 02 74; partitionData 02; index 00000000; records "AAEC" =
#     00 01 02 as COMPACT_RECORDS uvarint(3+1) = 04 000102; partition tagged 00; topic tagged 00; tagged 00.
add "ProduceRequest v9 records" \
  '{"k":0,"v":9,"t":"request","j":{"transactionalId":null,"acks":-1,"timeoutMs":1000,"topicData":[{"name":"t","partitionData":[{"index":0,"records":"AAEC"}]}]}}' \
  "OK 00ffff000003e8020274020000000004000102000000"

# 11. RequestHeader v2 (header): apiKey 18 = 0012; apiVersion 3 = 0003; correlationId 1 = 00000001;
#     clientId "c" as NULLABLE_STRING (not compact, even in v2) = 0001 63; tagged 00.
add "RequestHeader v2" \
  '{"t":"requestHeader","v":2,"j":{"requestApiKey":18,"requestApiVersion":3,"correlationId":1,"clientId":"c"}}' \
  "OK 001200030000000100016300"

# 12. RequestHeader v1 with clientId null: 0003 0001 00000005 ffff.
add "RequestHeader v1 null clientId" \
  '{"t":"requestHeader","v":1,"j":{"requestApiKey":3,"requestApiVersion":1,"correlationId":5,"clientId":null}}' \
  "OK 0003000100000005ffff"

# 13. ResponseHeader v1: correlationId 258 = 00000102; tagged 00.  v0: no tagged section.
add "ResponseHeader v1" '{"t":"responseHeader","v":1,"j":{"correlationId":258}}' "OK 0000010200"
add "ResponseHeader v0" '{"t":"responseHeader","v":0,"j":{"correlationId":258}}' "OK 00000102"

# 14. Decodes (inverse of 1, 10 and 13): Kafka's reader, then its JsonConverter (records patched to
#     their bytes in base64 by the harness).
add "decode ApiVersionsRequest v3" \
  '{"k":18,"v":3,"t":"decodeRequest","hex":"0261026200"}' \
  'OK {"clientSoftwareName":"a","clientSoftwareVersion":"b"}'
add "decode ProduceRequest v9" \
  '{"k":0,"v":9,"t":"decodeRequest","hex":"00ffff000003e8020274020000000004000102000000"}' \
  'OK {"transactionalId":null,"acks":-1,"timeoutMs":1000,"topicData":[{"name":"t","partitionData":[{"index":0,"records":"AAEC"}]}]}'
add "decode ResponseHeader v1" '{"t":"decodeResponseHeader","v":1,"hex":"0000010200"}' 'OK {"correlationId":258}'
# Trailing bytes after a complete message are reported (one extra 00 after example 1).
add "decode trailing byte" '{"k":18,"v":3,"t":"decodeRequest","hex":"026102620000"}' "ERR"

# 15. ControlledShutdownRequest (key 7) v1: brokerId int32 5 = 00000005. Key 7 was removed in Kafka 4.0:
#     4.4.0 must answer ERR, 3.9.1 must encode it.
add "ControlledShutdownRequest v1 (3.9 only)" \
  '{"k":7,"v":1,"t":"request","j":{"brokerId":5}}' "ERR" "OK 00000005"

# 16. A missing mandatory field is an error, not a default (throttleTimeMs exists from v1).
add "missing mandatory field" '{"k":18,"v":1,"t":"response","j":{"errorCode":0,"apiKeys":[]}}' "ERR"

pass=0 fail=0
input="$(printf '%s\n' "${inputs[@]}")"
for v in $versions; do
  mapfile -t got < <(printf '%s\n' "$input" | "$here/run.sh" "$v")
  if [ "${#got[@]}" -ne "${#inputs[@]}" ]; then
    echo "FAIL [$v] harness printed ${#got[@]} lines for ${#inputs[@]} inputs"; fail=$((fail + 1)); continue
  fi
  for i in "${!inputs[@]}"; do
    if [ "$v" = 4.4.0 ]; then want="${exp440[$i]}"; else want="${exp391[$i]}"; fi
    g="${got[$i]}"
    if [ "$g" = "$want" ] || { [ "$want" = ERR ] && [ "${g%% *}" = ERR ]; }; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1))
      printf 'FAIL [%s] %s\n  want: %s\n  got:  %s\n' "$v" "${labels[$i]}" "$want" "$g"
    fi
  done
done
echo "java conformance selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
