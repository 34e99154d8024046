//! Pasted text: hex (any spacing, `0x` prefixes, hexdump-style offsets are not accepted) or
//! base64, of a record batch, a message set, or a frame.

use base64::Engine;
use kproto::records::{field, LOG_OVERHEAD, MAGIC_V2};
use serde::Serialize;

/// What pasted bytes hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PasteKind {
    /// Record batches or legacy message sets (a log segment's bytes).
    Records,
    /// Size-prefixed frames.
    Frames,
    /// One frame without its size prefix.
    Frame,
}

/// Why pasted text could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasteError {
    /// Not hex and not base64.
    #[error("the text is neither hex nor base64: {0}")]
    Encoding(String),
    /// Decoded, but empty.
    #[error("the text holds no bytes")]
    Empty,
}

/// Decodes pasted hex or base64 into bytes. Hex may have spaces, newlines, `:` or `,`
/// separators and `0x` prefixes; anything else is tried as base64 (standard or URL-safe, with
/// or without padding).
pub fn decode_text(text: &str) -> Result<Vec<u8>, PasteError> {
    let t = text.trim();
    let cleaned: String = t
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .map(|w| {
            w.strip_prefix("0x")
                .or_else(|| w.strip_prefix("0X"))
                .unwrap_or(w)
        })
        .collect();
    let out = if !cleaned.is_empty()
        && cleaned.len() % 2 == 0
        && cleaned.bytes().all(|b| b.is_ascii_hexdigit())
    {
        (0..cleaned.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&cleaned[i..i + 2], 16)
                    .map_err(|e| PasteError::Encoding(e.to_string()))
            })
            .collect::<Result<Vec<u8>, _>>()?
    } else {
        let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let mut last = String::new();
        let mut got = None;
        for e in engines {
            match e.decode(compact.as_bytes()) {
                Ok(b) => {
                    got = Some(b);
                    break;
                }
                Err(err) => last = err.to_string(),
            }
        }
        got.ok_or(PasteError::Encoding(last))?
    };
    if out.is_empty() {
        return Err(PasteError::Empty);
    }
    Ok(out)
}

/// Guesses what `b` holds: an entry header at the start whose size fits (records), a 4-byte
/// size prefix that frames the first frame (frames), or else a bare frame.
pub fn classify(b: &[u8]) -> PasteKind {
    if b.len() >= field::MAGIC.end {
        let size = i32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        let magic = b[field::MAGIC.start] as i8;
        if (0..=MAGIC_V2).contains(&magic) && size >= 14 && size as usize + LOG_OVERHEAD <= b.len()
        {
            return PasteKind::Records;
        }
    }
    if b.len() >= 4 {
        let size = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if size >= 0 && size as usize + 4 <= b.len() {
            return PasteKind::Frames;
        }
    }
    PasteKind::Frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_separators_and_base64_variants() {
        assert_eq!(
            decode_text("0x00 0x01\n ff:10,AB").unwrap(),
            [0, 1, 0xff, 0x10, 0xab]
        );
        assert_eq!(decode_text("AAEC/w==").unwrap(), [0, 1, 2, 0xff]);
        assert_eq!(decode_text("AAEC_w").unwrap(), [0, 1, 2, 0xff]);
        // "abcd" is valid hex and valid base64: hex wins (what a person pasting hex means).
        assert_eq!(decode_text("abcd").unwrap(), [0xab, 0xcd]);
        assert!(matches!(
            decode_text("not hex!"),
            Err(PasteError::Encoding(_))
        ));
        assert_eq!(decode_text("  "), Err(PasteError::Empty));
    }
}
