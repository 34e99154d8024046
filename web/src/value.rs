//! How a key, value or header value is shown: UTF-8, JSON (pretty-printed), hex, base64, and
//! the schema-registry wire format (magic byte 0, a 4-byte schema id, and for Protobuf the
//! message-index list). Large values are cut to a preview; the page asks for the rest.

use base64::Engine;
use serde::Serialize;

/// The schema-registry framing found at the start of a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRegistry {
    /// The schema id (int32 after the magic byte).
    pub schema_id: i32,
    /// The Protobuf message-index list after the id, when the bytes read as one
    /// (`[0]` is written as a single 0 byte). `None` when they do not.
    pub protobuf_indexes: Option<Vec<i32>>,
    /// Where the payload starts after the id (Avro, JSON Schema).
    pub payload_at: usize,
    /// Where the payload starts after the message-index list (Protobuf).
    pub protobuf_payload_at: Option<usize>,
    /// The payload after the id pretty-printed, when it is JSON (JSON Schema serializer).
    pub json: Option<String>,
}

/// A key, value or header value as the record view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueView {
    /// The full length in bytes.
    pub len: usize,
    /// Whether the views below cover only the first `preview` bytes.
    pub truncated: bool,
    /// How many bytes the views cover.
    pub preview: usize,
    /// The preview as text, when it is UTF-8 (a multi-byte character cut by the preview's
    /// end is dropped).
    pub utf8: Option<String>,
    /// The whole value pretty-printed, when it is JSON (only for values that were not cut).
    pub json: Option<String>,
    /// The preview in standard base64.
    pub base64: String,
    /// The schema-registry framing, when the value starts with it.
    pub schema_registry: Option<SchemaRegistry>,
    /// `json`, `utf8`, `schema-registry` or `binary`: the view the page opens first.
    pub kind: &'static str,
}

/// A zigzag varint (as Confluent's Protobuf serializer writes the message indexes).
fn read_zigzag(b: &[u8], pos: &mut usize) -> Option<i32> {
    let mut v = 0u32;
    for n in 0..5 {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u32::from(byte & 0x7f) << (7 * n);
        if byte & 0x80 == 0 {
            return Some(((v >> 1) as i32) ^ -((v & 1) as i32));
        }
    }
    None
}

/// Reads the schema-registry framing, if `b` starts with it.
pub fn schema_registry(b: &[u8]) -> Option<SchemaRegistry> {
    if b.len() < 5 || b[0] != 0 {
        return None;
    }
    let schema_id = i32::from_be_bytes([b[1], b[2], b[3], b[4]]);
    let mut pos = 5;
    let protobuf_indexes = (|| {
        let n = read_zigzag(b, &mut pos)?;
        if n == 0 {
            return Some(vec![0]);
        }
        // Every index costs at least a byte: a count beyond what is left is not a list.
        if n < 0 || n as usize > b.len() - pos {
            return None;
        }
        let mut v = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let i = read_zigzag(b, &mut pos)?;
            if i < 0 {
                return None;
            }
            v.push(i);
        }
        Some(v)
    })();
    let protobuf_payload_at = protobuf_indexes.as_ref().map(|_| pos);
    Some(SchemaRegistry {
        schema_id,
        protobuf_indexes,
        payload_at: 5,
        protobuf_payload_at,
        json: pretty_json(&b[5..]),
    })
}

/// `b` pretty-printed when it is one JSON value (object or array; a bare number or string is
/// left to the UTF-8 view).
pub fn pretty_json(b: &[u8]) -> Option<String> {
    let first = b.iter().find(|c| !c.is_ascii_whitespace())?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    // Validated by a parse that keeps nothing, then re-indented as written.
    serde_json::from_slice::<serde::de::IgnoredAny>(b).ok()?;
    Some(crate::json::reindent(core::str::from_utf8(b).ok()?))
}

/// The longest prefix of `b` that is UTF-8, if only a character cut at the end stops it.
fn utf8_prefix(b: &[u8], cut: bool) -> Option<String> {
    match core::str::from_utf8(b) {
        Ok(s) => Some(s.to_owned()),
        Err(e) if cut && e.error_len().is_none() => {
            Some(String::from_utf8_lossy(&b[..e.valid_up_to()]).into_owned())
        }
        Err(_) => None,
    }
}

/// The views of `b`, covering at most `preview` bytes.
pub fn view(b: &[u8], preview: usize) -> ValueView {
    let truncated = b.len() > preview;
    let p = &b[..b.len().min(preview)];
    let utf8 = utf8_prefix(p, truncated);
    let json = if truncated { None } else { pretty_json(b) };
    let schema_registry = schema_registry(p);
    let kind = if json.is_some() {
        "json"
    } else if schema_registry.is_some() {
        "schema-registry"
    } else if utf8
        .as_deref()
        .is_some_and(|s| !s.chars().any(|c| c.is_control() && !c.is_whitespace()))
    {
        "utf8"
    } else {
        "binary"
    };
    ValueView {
        len: b.len(),
        truncated,
        preview: p.len(),
        utf8,
        json,
        base64: base64::engine::general_purpose::STANDARD.encode(p),
        schema_registry,
        kind,
    }
}

/// A classic hex dump (`offset  hex bytes  |ascii|`), 16 bytes a line, offsets from `base`.
pub fn hex_dump(b: &[u8], base: u64) -> String {
    let mut out = String::with_capacity(b.len() * 4 + b.len() / 16 * 12);
    for (i, line) in b.chunks(16).enumerate() {
        out.push_str(&format!("{:08x} ", base + 16 * i as u64));
        for j in 0..16 {
            match line.get(j) {
                Some(x) => out.push_str(&format!(" {x:02x}")),
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        out.extend(line.iter().map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_are_pretty_printed_and_kind_json() {
        let v = view(br#"{"id":7,"tags":["a","b"],"nested":{"x":1.50}}"#, 1024);
        assert_eq!(v.kind, "json");
        let j = v.json.unwrap();
        assert!(j.starts_with("{\n  \"id\": 7,\n  \"tags\": ["), "{j}");
        // Numbers as written (a parse and re-serialisation would print 1.5).
        assert!(j.contains("\"x\": 1.50"), "{j}");
        assert!(!v.truncated);
    }

    #[test]
    fn a_large_value_is_cut_and_a_cut_character_dropped() {
        // 1 MiB of a 3-byte character: the 1000-byte preview cuts one in half.
        let big = "日".repeat(350_000);
        let v = view(big.as_bytes(), 1000);
        assert!(v.truncated);
        assert_eq!((v.len, v.preview), (1_050_000, 1000));
        assert_eq!(v.utf8.as_deref().map(str::len), Some(999));
        assert_eq!(v.kind, "utf8");
        assert!(v.json.is_none());
        let b = base64::engine::general_purpose::STANDARD
            .decode(&v.base64)
            .unwrap();
        assert_eq!(b, &big.as_bytes()[..1000]);
    }

    #[test]
    fn schema_registry_avro_and_protobuf_framing() {
        // Avro: magic 0, schema id 42, then an Avro long (zigzag 1 = 2) and a string.
        let avro = [0u8, 0, 0, 0, 42, 0x02, 0x06, b'a', b'b', b'c'];
        let sr = schema_registry(&avro).unwrap();
        assert_eq!((sr.schema_id, sr.payload_at), (42, 5));
        assert_eq!(view(&avro, 100).kind, "schema-registry");
        // Protobuf: schema id 100000, message indexes [1, 0] (count 2 -> zigzag 4).
        let mut pb = vec![0u8, 0x00, 0x01, 0x86, 0xa0, 0x04, 0x02, 0x00];
        pb.extend_from_slice(&[0x0a, 0x03, b'x', b'y', b'z']);
        let sr = schema_registry(&pb).unwrap();
        assert_eq!(sr.schema_id, 100_000);
        assert_eq!(sr.protobuf_indexes, Some(vec![1, 0]));
        assert_eq!(sr.protobuf_payload_at, Some(8));
        // The common case [0] is one 0 byte.
        let sr = schema_registry(&[0, 0, 0, 0, 1, 0, 0x0a]).unwrap();
        assert_eq!(sr.protobuf_indexes, Some(vec![0]));
        // JSON Schema: the payload after the id is JSON.
        let mut js = vec![0u8, 0, 0, 1, 0];
        js.extend_from_slice(br#"{"a":1}"#);
        assert!(schema_registry(&js)
            .unwrap()
            .json
            .unwrap()
            .contains("\"a\": 1"));
        // Not the framing: first byte not 0, or too short.
        assert!(schema_registry(b"\x01\0\0\0\x01").is_none());
        assert!(schema_registry(&[0, 0, 0]).is_none());
        // A count claiming more indexes than bytes left is not a list.
        assert_eq!(
            schema_registry(&[0, 0, 0, 0, 1, 0x7e])
                .unwrap()
                .protobuf_indexes,
            None
        );
    }

    #[test]
    fn binary_and_hex_dump() {
        let b: Vec<u8> = (0u8..=255).rev().collect();
        let v = view(&b, 4096);
        assert_eq!(v.kind, "binary");
        let b: Vec<u8> = (0u8..=255).collect();
        let d = hex_dump(&b[..20], 0x100);
        assert_eq!(
            d.lines().next().unwrap(),
            "00000100  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|"
        );
        assert!(d
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("00000110  10 11 12 13    "));
    }
}
