//! Kafka's wire primitives: fixed-width big-endian integers, (zigzag) varints, strings, bytes,
//! arrays and tagged-field headers, each in its classic and compact (flexible-version) form.
//!
//! Parsers are nom parsers over `&[u8]`; values that borrow from the input (strings, bytes,
//! records) are cut out of the input [`Bytes`] without copying. Every length or count is
//! checked against the bytes left before anything is allocated. Writers put into any
//! [`BufMut`]; each writer has a `len_*` twin that says how many bytes it writes.

use crate::error::ParseErr;
use crate::types::{KStr, RawTaggedField, Uuid};
use bytes::{BufMut, Bytes};
use nom::number::complete as num;
use nom::IResult;

/// The result of a kproto nom parser.
pub(crate) type PResult<'a, T> = IResult<&'a [u8], T, ParseErr>;

/// Decoding context: the buffer the input was cut from, so that strings and bytes can share it.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'b> {
    base: &'b Bytes,
}

impl<'b> Cx<'b> {
    pub(crate) fn new(base: &'b Bytes) -> Self {
        Cx { base }
    }

    /// Shares `sub` (a slice of the base buffer) without copying.
    #[inline]
    pub(crate) fn share(&self, sub: &[u8]) -> Bytes {
        if sub.is_empty() {
            Bytes::new()
        } else {
            self.base.slice_ref(sub)
        }
    }
}

macro_rules! fixed {
    ($(#[$attr:meta])* $name:ident, $t:ty, $nom:ident, $what:literal) => {
        $(#[$attr])*
        #[doc = concat!("Parses an ", $what, ".")]
        #[inline]
        pub(crate) fn $name(i: &[u8]) -> PResult<'_, $t> {
            num::$nom::<&[u8], ParseErr>(i).map_err(|_| ParseErr::truncated(i, $what))
        }
    };
}

fixed!(p_i8, i8, be_i8, "int8");
fixed!(p_i16, i16, be_i16, "int16");
fixed!(p_u16, u16, be_u16, "uint16");
fixed!(p_i32, i32, be_i32, "int32");
fixed!(
    // Kafka's uint32 primitive: no released schema has a uint32 field yet.
    #[allow(dead_code)]
    p_u32,
    u32,
    be_u32,
    "uint32"
);
fixed!(p_i64, i64, be_i64, "int64");
fixed!(p_f64, f64, be_f64, "float64");

/// Parses a boolean (any non-zero byte is true, as Kafka reads it).
#[inline]
pub(crate) fn p_bool(i: &[u8]) -> PResult<'_, bool> {
    let (r, b) = num::be_u8::<&[u8], ParseErr>(i).map_err(|_| ParseErr::truncated(i, "boolean"))?;
    Ok((r, b != 0))
}

/// Parses a UUID (16 bytes).
#[inline]
pub(crate) fn p_uuid(i: &[u8]) -> PResult<'_, Uuid> {
    match i.split_first_chunk::<16>() {
        Some((b, r)) => Ok((r, Uuid(*b))),
        None => Err(ParseErr::truncated(i, "uuid (16 bytes)")),
    }
}

/// Parses an unsigned varint of at most 5 bytes (Kafka's `readUnsignedVarint`).
#[inline]
pub(crate) fn p_uvarint(i: &[u8]) -> PResult<'_, u32> {
    let mut value: u32 = 0;
    for (n, &b) in i.iter().enumerate().take(5) {
        value |= u32::from(b & 0x7f) << (7 * n);
        if b & 0x80 == 0 {
            if n == 4 && b > 0x0f {
                return Err(ParseErr::invalid(i, "unsigned varint of at most 32 bits"));
            }
            return Ok((&i[n + 1..], value));
        }
    }
    if i.len() >= 5 {
        Err(ParseErr::invalid(i, "unsigned varint of at most 5 bytes"))
    } else {
        Err(ParseErr::truncated(i, "unsigned varint"))
    }
}

/// Parses an unsigned varlong of at most 10 bytes.
#[inline]
#[cfg(test)] // the reference that records::record::read_uvar is tested against
pub(crate) fn p_uvarlong(i: &[u8]) -> PResult<'_, u64> {
    let mut value: u64 = 0;
    for (n, &b) in i.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * n);
        if b & 0x80 == 0 {
            if n == 9 && b > 0x01 {
                return Err(ParseErr::invalid(i, "unsigned varlong of at most 64 bits"));
            }
            return Ok((&i[n + 1..], value));
        }
    }
    if i.len() >= 10 {
        Err(ParseErr::invalid(i, "unsigned varlong of at most 10 bytes"))
    } else {
        Err(ParseErr::truncated(i, "unsigned varlong"))
    }
}

/// Parses a zigzag varint (record fields).
#[inline]
#[cfg(test)] // the reference that records::record::read_uvar is tested against
pub(crate) fn p_varint(i: &[u8]) -> PResult<'_, i32> {
    let (r, u) = p_uvarint(i)?;
    Ok((r, ((u >> 1) as i32) ^ -((u & 1) as i32)))
}

/// Parses a zigzag varlong (record timestamps).
#[inline]
#[cfg(test)] // the reference that records::record::read_uvar is tested against
pub(crate) fn p_varlong(i: &[u8]) -> PResult<'_, i64> {
    let (r, u) = p_uvarlong(i)?;
    Ok((r, ((u >> 1) as i64) ^ -((u & 1) as i64)))
}

/// Takes `n` bytes, checking `n` against what is left (`len_at` is where the length was read,
/// for the error's offset).
#[inline]
fn take<'a>(len_at: &'a [u8], i: &'a [u8], n: u64, what: &'static str) -> PResult<'a, &'a [u8]> {
    if n > i.len() as u64 {
        return Err(ParseErr::length(len_at, what, n, i.len()));
    }
    let (a, b) = i.split_at(n as usize);
    Ok((b, a))
}

/// Reads a length prefix: int16/int32 in classic form, unsigned varint (length + 1) in compact
/// form. `None` is null (a negative classic length, or 0 in compact form).
#[inline]
fn p_len<'a>(
    i: &'a [u8],
    compact: bool,
    wide: bool,
    what: &'static str,
) -> PResult<'a, Option<u64>> {
    if compact {
        let (r, n) = p_uvarint(i)?;
        Ok((r, if n == 0 { None } else { Some(u64::from(n - 1)) }))
    } else if wide {
        let (r, n) = num::be_i32::<&[u8], ParseErr>(i).map_err(|_| ParseErr::truncated(i, what))?;
        Ok((r, u64::try_from(n).ok()))
    } else {
        let (r, n) = num::be_i16::<&[u8], ParseErr>(i).map_err(|_| ParseErr::truncated(i, what))?;
        Ok((r, u64::try_from(n).ok()))
    }
}

/// The longest string Kafka reads or writes, in UTF-8 bytes, in both the classic (INT16
/// length) and the compact form: Kafka's generated readers refuse a longer length ("string
/// field had invalid length") and its writers refuse a longer value ("field is too long to be
/// serialized"). Bytes, records and arrays have no such limit.
pub(crate) const MAX_STRING_LEN: usize = 0x7fff;

/// Parses a nullable string (INT16 length or compact). A length over [`MAX_STRING_LEN`] is
/// refused before the bytes are looked at, as Kafka does.
#[inline]
pub(crate) fn p_nstr<'a>(cx: &Cx<'_>, i: &'a [u8], compact: bool) -> PResult<'a, Option<KStr>> {
    let (r, n) = p_len(i, compact, false, "string length")?;
    let Some(n) = n else { return Ok((r, None)) };
    if n > MAX_STRING_LEN as u64 {
        return Err(ParseErr::string_too_long(i, n));
    }
    let (r, s) = take(i, r, n, "string length")?;
    if core::str::from_utf8(s).is_err() {
        return Err(ParseErr::invalid(s, "UTF-8 string"));
    }
    Ok((r, Some(KStr::from_checked_utf8(cx.share(s)))))
}

/// Parses a non-nullable string.
#[inline]
pub(crate) fn p_str<'a>(cx: &Cx<'_>, i: &'a [u8], compact: bool) -> PResult<'a, KStr> {
    match p_nstr(cx, i, compact)? {
        (r, Some(s)) => Ok((r, s)),
        (_, None) => Err(ParseErr::invalid(i, "non-null string")),
    }
}

/// Parses nullable bytes (INT32 length or compact), sharing the input.
#[inline]
pub(crate) fn p_nbytes<'a>(cx: &Cx<'_>, i: &'a [u8], compact: bool) -> PResult<'a, Option<Bytes>> {
    let (r, n) = p_len(i, compact, true, "bytes length")?;
    let Some(n) = n else { return Ok((r, None)) };
    let (r, s) = take(i, r, n, "bytes length")?;
    Ok((r, Some(cx.share(s))))
}

/// Parses non-nullable bytes.
#[inline]
pub(crate) fn p_bytes<'a>(cx: &Cx<'_>, i: &'a [u8], compact: bool) -> PResult<'a, Bytes> {
    match p_nbytes(cx, i, compact)? {
        (r, Some(b)) => Ok((r, b)),
        (_, None) => Err(ParseErr::invalid(i, "non-null bytes")),
    }
}

/// Parses an array count (INT32 or compact), checking that `count * min_elem` bytes are left.
/// `None` is a null array.
#[inline]
pub(crate) fn p_nlen(i: &[u8], compact: bool, min_elem: usize) -> PResult<'_, Option<usize>> {
    let (r, n) = p_len(i, compact, true, "array count")?;
    let Some(n) = n else { return Ok((r, None)) };
    if n.saturating_mul(min_elem.max(1) as u64) > r.len() as u64 {
        return Err(ParseErr::length(i, "array count", n, r.len()));
    }
    Ok((r, Some(n as usize)))
}

/// Parses a non-nullable array count.
#[inline]
pub(crate) fn p_alen(i: &[u8], compact: bool, min_elem: usize) -> PResult<'_, usize> {
    match p_nlen(i, compact, min_elem)? {
        (r, Some(n)) => Ok((r, n)),
        (_, None) => Err(ParseErr::invalid(i, "non-null array")),
    }
}

/// Parses a nullable-struct marker byte: `false` is null.
#[inline]
pub(crate) fn p_present(i: &[u8]) -> PResult<'_, bool> {
    let (r, b) = p_i8(i)?;
    Ok((r, b >= 0))
}

/// Parses one tagged field's header and body: `(tag, body)`.
#[inline]
pub(crate) fn p_tag(i: &[u8]) -> PResult<'_, (u32, &[u8])> {
    let (r, tag) = p_uvarint(i)?;
    let (r2, size) = p_uvarint(r)?;
    let (r3, body) = take(r, r2, u64::from(size), "tagged field size")?;
    Ok((r3, (tag, body)))
}

/// Parses a tagged-field count, checking it against the bytes left (each field takes two).
#[inline]
pub(crate) fn p_tag_count(i: &[u8]) -> PResult<'_, usize> {
    let (r, n) = p_uvarint(i)?;
    if u64::from(n) * 2 > r.len() as u64 {
        return Err(ParseErr::length(
            i,
            "tagged field count",
            u64::from(n),
            r.len(),
        ));
    }
    Ok((r, n as usize))
}

/// Keeps a tagged field kproto does not know.
#[inline]
pub(crate) fn raw_tag(cx: &Cx<'_>, tag: u32, body: &[u8]) -> RawTaggedField {
    RawTaggedField {
        tag,
        data: cx.share(body),
    }
}

// ---------------------------------------------------------------------------------------------
// Writers and their lengths.

/// Writes an unsigned varint.
#[inline]
pub(crate) fn put_uvarint<B: BufMut>(b: &mut B, mut v: u32) {
    while v >= 0x80 {
        b.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    b.put_u8(v as u8);
}

/// Bytes an unsigned varint takes.
#[inline]
pub(crate) const fn len_uvarint(v: u32) -> usize {
    match v {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0x0fff_ffff => 4,
        _ => 5,
    }
}

/// Writes an unsigned varlong.
#[inline]
#[cfg(test)] // records write their varints through builder::Framing
pub(crate) fn put_uvarlong<B: BufMut>(b: &mut B, mut v: u64) {
    while v >= 0x80 {
        b.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    b.put_u8(v as u8);
}

/// Bytes an unsigned varlong takes.
#[inline]
pub(crate) const fn len_uvarlong(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes a zigzag varint.
#[inline]
#[cfg(test)] // records write their varints through builder::Framing
pub(crate) fn put_varint<B: BufMut>(b: &mut B, v: i32) {
    put_uvarint(b, ((v << 1) ^ (v >> 31)) as u32);
}

/// Bytes a zigzag varint takes.
#[inline]
pub(crate) const fn len_varint(v: i32) -> usize {
    len_uvarint(((v << 1) ^ (v >> 31)) as u32)
}

/// Writes a zigzag varlong.
#[inline]
#[cfg(test)] // records write their varints through builder::Framing
pub(crate) fn put_varlong<B: BufMut>(b: &mut B, v: i64) {
    put_uvarlong(b, ((v << 1) ^ (v >> 63)) as u64);
}

/// Bytes a zigzag varlong takes.
#[inline]
pub(crate) const fn len_varlong(v: i64) -> usize {
    len_uvarlong(((v << 1) ^ (v >> 63)) as u64)
}

/// Writes a length prefix (`None` = null).
#[inline]
fn put_len<B: BufMut>(b: &mut B, n: Option<usize>, compact: bool, wide: bool) {
    match (compact, wide, n) {
        (true, _, None) => b.put_u8(0),
        (true, _, Some(n)) => put_uvarint(b, n as u32 + 1),
        (false, true, None) => b.put_i32(-1),
        (false, true, Some(n)) => b.put_i32(n as i32),
        (false, false, None) => b.put_i16(-1),
        (false, false, Some(n)) => b.put_i16(n as i16),
    }
}

/// Bytes a length prefix takes.
#[inline]
const fn len_len(n: Option<usize>, compact: bool, wide: bool) -> usize {
    match (compact, n) {
        (true, None) => 1,
        (true, Some(n)) => len_uvarint(n as u32 + 1),
        (false, _) => {
            if wide {
                4
            } else {
                2
            }
        }
    }
}

/// Writes a nullable string.
#[inline]
pub(crate) fn put_nstr<B: BufMut>(b: &mut B, s: Option<&str>, compact: bool) {
    put_len(b, s.map(str::len), compact, false);
    if let Some(s) = s {
        b.put_slice(s.as_bytes());
    }
}

/// Bytes a nullable string takes; errors when longer than [`MAX_STRING_LEN`] in either form,
/// as Kafka's writers do.
#[inline]
pub(crate) fn len_nstr(
    s: Option<&str>,
    compact: bool,
    field: &'static str,
) -> Result<usize, crate::EncodeError> {
    match s {
        None => Ok(len_len(None, compact, false)),
        Some(s) => {
            if s.len() > MAX_STRING_LEN {
                return Err(crate::EncodeError::StringTooLong {
                    field,
                    len: s.len(),
                });
            }
            Ok(len_len(Some(s.len()), compact, false) + s.len())
        }
    }
}

/// Writes nullable bytes.
#[inline]
pub(crate) fn put_nbytes<B: BufMut>(b: &mut B, s: Option<&[u8]>, compact: bool) {
    put_len(b, s.map(<[u8]>::len), compact, true);
    if let Some(s) = s {
        b.put_slice(s);
    }
}

/// Bytes nullable bytes take; errors when too long for their prefix.
#[inline]
pub(crate) fn len_nbytes(
    s: Option<&[u8]>,
    compact: bool,
    field: &'static str,
) -> Result<usize, crate::EncodeError> {
    match s {
        None => Ok(len_len(None, compact, true)),
        Some(s) => {
            let max = if compact {
                u32::MAX as usize - 1
            } else {
                i32::MAX as usize
            };
            if s.len() > max {
                return Err(crate::EncodeError::TooLong {
                    field,
                    len: s.len(),
                });
            }
            Ok(len_len(Some(s.len()), compact, true) + s.len())
        }
    }
}

/// Writes an array count (`None` = null).
#[inline]
pub(crate) fn put_alen<B: BufMut>(b: &mut B, n: Option<usize>, compact: bool) {
    put_len(b, n, compact, true);
}

/// Bytes an array count takes; errors when too many elements for the prefix.
#[inline]
pub(crate) fn len_alen(
    n: Option<usize>,
    compact: bool,
    field: &'static str,
) -> Result<usize, crate::EncodeError> {
    if let Some(n) = n {
        let max = if compact {
            u32::MAX as usize - 1
        } else {
            i32::MAX as usize
        };
        if n > max {
            return Err(crate::EncodeError::TooLong { field, len: n });
        }
    }
    Ok(len_len(n, compact, true))
}

/// Writes a tagged field's header (tag and size).
#[inline]
pub(crate) fn put_tag_header<B: BufMut>(b: &mut B, tag: u32, size: usize) {
    put_uvarint(b, tag);
    put_uvarint(b, size as u32);
}

/// Bytes a tagged field takes, header included.
#[inline]
pub(crate) const fn len_tagged(tag: u32, size: usize) -> usize {
    len_uvarint(tag) + len_uvarint(size as u32) + size
}

/// Writes the unknown tagged fields whose tag is below `below` (they are kept in tag order),
/// advancing `next` past them.
#[inline]
pub(crate) fn put_raw_tags_below<B: BufMut>(
    b: &mut B,
    raw: &[RawTaggedField],
    next: &mut usize,
    below: u64,
) {
    while let Some(f) = raw.get(*next) {
        if u64::from(f.tag) >= below {
            break;
        }
        put_tag_header(b, f.tag, f.data.len());
        b.put_slice(&f.data);
        *next += 1;
    }
}

/// Bytes the unknown tagged fields take.
#[inline]
pub(crate) fn len_raw_tags(raw: &[RawTaggedField]) -> usize {
    raw.iter().map(|f| len_tagged(f.tag, f.data.len())).sum()
}

/// Writes a nullable-struct marker.
#[inline]
pub(crate) fn put_present<B: BufMut>(b: &mut B, present: bool) {
    b.put_i8(if present { 1 } else { -1 });
}

/// A struct or message that kproto can encode, decode and measure: the generated code
/// implements it for every message and nested struct.
/// (Reading is [`crate::rd::Read`].)
pub(crate) trait WireStruct: Sized {
    /// Writes the value at `version`; [`WireStruct::size`] has checked it.
    fn write<B: BufMut>(&self, b: &mut B, version: i16);
    /// Checks that the value can be written at `version` and returns its size.
    fn size(&self, version: i16) -> Result<usize, crate::EncodeError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ParseErrKind;
    use alloc::vec::Vec;

    #[test]
    fn uvarint_round_trip_and_lengths() {
        for v in [
            0u32,
            1,
            127,
            128,
            300,
            16383,
            16384,
            0x1f_ffff,
            0x20_0000,
            u32::MAX,
        ] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.len(), len_uvarint(v), "{v}");
            let (r, d) = p_uvarint(&b).unwrap();
            assert!(r.is_empty());
            assert_eq!(d, v);
        }
    }

    #[test]
    fn zigzag_known_answers() {
        // Kafka's ByteUtilsTest: zigzag maps 0,-1,1,-2,2 to 0,1,2,3,4.
        for (v, z) in [(0i32, 0u8), (-1, 1), (1, 2), (-2, 3), (2, 4)] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b, [z]);
            assert_eq!(p_varint(&b).unwrap().1, v);
        }
        for v in [i64::MIN, -1, 0, 1, i64::MAX] {
            let mut b = Vec::new();
            put_varlong(&mut b, v);
            assert_eq!(b.len(), len_varlong(v));
            assert_eq!(p_varlong(&b).unwrap().1, v);
        }
        for v in [i32::MIN, i32::MAX] {
            assert_eq!(len_varint(v), 5);
        }
    }

    #[test]
    fn overlong_varints_are_rejected() {
        assert!(p_uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err());
        assert!(p_uvarint(&[0xff, 0xff, 0xff, 0xff, 0x1f]).is_err());
        assert!(p_uvarint(&[0x80]).is_err());
        assert!(p_uvarlong(&[0xff; 11]).is_err());
    }

    #[test]
    fn lengths_are_checked_before_allocation() {
        let base = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 0]);
        let cx = Cx::new(&base);
        assert!(p_nbytes(&cx, &base, false).is_err());
        assert!(p_alen(&base, false, 1).is_err());
        let base = Bytes::from_static(&[0x00, 0x03, b'a', b'b']);
        let cx = Cx::new(&base);
        assert!(p_str(&cx, &base, false).is_err());
    }

    /// A string length prefix and `n` bytes of `a`, classic or compact.
    fn string_of(n: usize, compact: bool) -> Bytes {
        let mut b = Vec::new();
        if compact {
            put_uvarint(&mut b, n as u32 + 1);
        } else {
            b.extend_from_slice(&(n as u16).to_be_bytes());
        }
        b.resize(b.len() + n, b'a');
        b.into()
    }

    #[test]
    fn strings_longer_than_kafka_allows_are_refused_both_ways() {
        for compact in [false, true] {
            let ok = string_of(MAX_STRING_LEN, compact);
            let cx = Cx::new(&ok);
            let (r, s) = p_str(&cx, &ok, compact).unwrap();
            assert!(r.is_empty());
            assert_eq!(s.len(), MAX_STRING_LEN);

            let s = "é".repeat(MAX_STRING_LEN / 2); // 32766 bytes
            assert!(len_nstr(Some(&s), compact, "F").is_ok());
            let s = alloc::format!("{s}ab");
            assert_eq!(
                len_nstr(Some(&s), compact, "T.F"),
                Err(crate::EncodeError::StringTooLong {
                    field: "T.F",
                    len: 32768
                })
            );
            // Bytes have no such limit.
            let big = [0u8; 40_000];
            assert_eq!(
                len_nbytes(Some(&big), compact, "F").unwrap(),
                40_000 + if compact { 3 } else { 4 }
            );
        }

        // An INT16 length cannot claim more: 0x8000 is negative, null as Kafka's readShort
        // reads it.
        let long = string_of(MAX_STRING_LEN + 1, false);
        let cx = Cx::new(&long);
        assert_eq!(p_nstr(&cx, &long, false).unwrap().1, None);

        // A compact length can, and is refused before the bytes it claims are looked for.
        let long = string_of(MAX_STRING_LEN + 1, true);
        let cx = Cx::new(&long);
        for e in [
            p_str(&cx, &long, true).unwrap_err(),
            p_nstr(&cx, &long, true).unwrap_err(),
            p_str(&cx, &long[..3], true).unwrap_err(),
        ] {
            let nom::Err::Error(e) = e else { panic!() };
            assert_eq!(e.kind, ParseErrKind::StringTooLong(32768));
            assert_eq!(e.addr, long.as_ptr() as usize);
        }
    }

    #[test]
    fn strings_share_the_input() {
        let base = Bytes::from_static(&[0x04, b'a', b'b', b'c']);
        let cx = Cx::new(&base);
        let (r, s) = p_str(&cx, &base, true).unwrap();
        assert!(r.is_empty());
        assert_eq!(s, "abc");
        assert_eq!(s.as_bytes().as_ptr(), base[1..].as_ptr());
        let (_, n) = p_nstr(&cx, &[0u8][..], true).unwrap();
        assert_eq!(n, None);
    }
}
