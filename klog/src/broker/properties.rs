//! Java's `Properties` text format (`server.properties`), read as `Properties.load` reads it.
//! Text in, pairs out: this module reads no files.

use alloc::string::String;
use alloc::vec::Vec;

/// A line of a properties text that is not Java's `Properties` format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct PropertiesError {
    /// The 1-based line number (of the line the bad text starts on).
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// Reads the text of a `server.properties` file into `(key, value)` pairs, in file order, as
/// Java's `Properties.load` does: `#` and `!` comment lines, `=`, `:` or white space between
/// key and value, a trailing odd backslash continues the line, and the escapes `\t \n \r \f
/// \uXXXX` (any other escaped character stands for itself).
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, PropertiesError> {
    let mut out = Vec::new();
    let mut lines = text.split('\n').enumerate().peekable();
    while let Some((no, first)) = lines.next() {
        let first = first.strip_suffix('\r').unwrap_or(first);
        let start = first.trim_start_matches([' ', '\t', '\x0c']);
        if start.is_empty() || start.starts_with('#') || start.starts_with('!') {
            continue;
        }
        // Join continuation lines: an odd number of trailing backslashes.
        let mut logical = String::from(start);
        while (logical.len() - logical.trim_end_matches('\\').len()) % 2 == 1 {
            logical.pop();
            match lines.next() {
                Some((_, next)) => {
                    let next = next.strip_suffix('\r').unwrap_or(next);
                    logical.push_str(next.trim_start_matches([' ', '\t', '\x0c']));
                }
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let line = no + 1;
        out.push((unescape(key, line)?, unescape(value, line)?));
    }
    Ok(out)
}

/// Splits at the first unescaped `=`, `:` or white space (and the separator's surroundings).
fn split_key_value(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let i = i.min(bytes.len());
    let key = &s[..i];
    let mut rest = s[i..].trim_start_matches([' ', '\t', '\x0c']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t', '\x0c']);
    }
    (key, rest)
}

fn unescape(s: &str, line: usize) -> Result<String, PropertiesError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or(PropertiesError {
                        line,
                        reason: "malformed \\uxxxx encoding",
                    })?;
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn properties_text_reads_as_java_properties_load() {
        let text = "# Kafka's comment\n\
            ! another comment\n\
            \n\
            listeners=PLAINTEXT://:9092\n\
            \t log.dirs = /var/lib/kafka \r\n\
            num.partitions:3\n\
            auto.create.topics.enable false\n\
            advertised.listeners=PLAINTEXT://a:9092,\\\n\
            \x20   PLAINTEXT2://b:9092\n\
            key\\=with\\:seps=v\\u00e9\\t!\n\
            empty=\n\
            lonely";
        let pairs = parse_properties(text).unwrap();
        let expect: Vec<(String, String)> = [
            ("listeners", "PLAINTEXT://:9092"),
            ("log.dirs", "/var/lib/kafka "),
            ("num.partitions", "3"),
            ("auto.create.topics.enable", "false"),
            (
                "advertised.listeners",
                "PLAINTEXT://a:9092,PLAINTEXT2://b:9092",
            ),
            ("key=with:seps", "v\u{e9}\t!"),
            ("empty", ""),
            ("lonely", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(pairs, expect);
        let e = parse_properties("a=1\nb=\\u12G4\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: malformed \\uxxxx encoding");
        // A whole file through to the config: the value's trailing space is trimmed there.
        let (c, _) = crate::broker::BrokerConfig::from_pairs(pairs[..4].iter().cloned()).unwrap();
        assert_eq!(
            (c.log_dir.as_str(), c.num_partitions),
            ("/var/lib/kafka", 3)
        );
    }
}
