//! The reader the generated message parsers use: a cursor over the input that keeps the first
//! error itself instead of returning it from every call.
//!
//! Each read returns its value directly. When a read fails, the reader records the error (the
//! first one wins, named with the field it happened in) and empties its input, so every later
//! read fails at once and costs nothing; the caller checks [`Rd::finish`] once at the end. This
//! keeps the per-field code of ~1,900 generated structs to a call and a store, with one
//! out-of-line error path ([`Rd::fail`]) for all of them, which is what keeps the wasm
//! inspector's bundle small. The values, errors, offsets and field names are those of the nom
//! primitives in [`crate::wire`], which every read goes through.

use crate::error::{unwrap_nom, ParseErr, ParseErrKind};
use crate::types::{KStr, RawTaggedField, Uuid};
use crate::wire::{self, Cx, PResult};
use alloc::vec::Vec;
use bytes::Bytes;

/// A field's name (`Struct.Field`) as the generated code passes it: one pointer.
pub(crate) type F = &'static &'static str;

/// The reader: what is left of the input, the buffer it was cut from, and the first error.
pub(crate) struct Rd<'a> {
    i: &'a [u8],
    cx: Cx<'a>,
    err: Option<ParseErr>,
}

impl<'a> Rd<'a> {
    /// A reader over the whole of `base`.
    pub(crate) fn new(base: &'a Bytes) -> Self {
        Rd {
            i: base,
            cx: Cx::new(base),
            err: None,
        }
    }

    /// The bytes left after the reads, or the first error.
    pub(crate) fn finish(self) -> Result<&'a [u8], ParseErr> {
        match self.err {
            None => Ok(self.i),
            Some(e) => Err(e),
        }
    }

    /// Records a failure: the first error wins; the field is named unless an inner one was.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, e: nom::Err<ParseErr>, field: F) {
        if self.err.is_none() {
            let mut p = unwrap_nom(e);
            if p.field.is_empty() {
                p.field = field;
            }
            self.err = Some(p);
        }
        self.i = &[];
    }

    /// Runs a nom primitive on the input.
    #[inline]
    fn run<T>(&mut self, f: F, p: impl FnOnce(&'a [u8]) -> PResult<'a, T>) -> Option<T> {
        match p(self.i) {
            Ok((r, x)) => {
                self.i = r;
                Some(x)
            }
            Err(e) => {
                self.fail(e, f);
                None
            }
        }
    }

    /// A non-nullable string.
    #[inline]
    pub(crate) fn str(&mut self, c: bool, f: F) -> KStr {
        let cx = self.cx;
        self.run(f, |i| wire::p_str(&cx, i, c)).unwrap_or_default()
    }

    /// A nullable string.
    #[inline]
    pub(crate) fn nstr(&mut self, c: bool, f: F) -> Option<KStr> {
        let cx = self.cx;
        self.run(f, |i| wire::p_nstr(&cx, i, c)).flatten()
    }

    /// Non-nullable bytes (or records), sharing the input.
    #[inline]
    pub(crate) fn bytes(&mut self, c: bool, f: F) -> Bytes {
        let cx = self.cx;
        self.run(f, |i| wire::p_bytes(&cx, i, c))
            .unwrap_or_default()
    }

    /// Nullable bytes (or records), sharing the input.
    #[inline]
    pub(crate) fn nbytes(&mut self, c: bool, f: F) -> Option<Bytes> {
        let cx = self.cx;
        self.run(f, |i| wire::p_nbytes(&cx, i, c)).flatten()
    }

    /// A nullable array count: `None` for null (and after a failure).
    #[inline]
    fn count(&mut self, c: bool, min: usize, f: F) -> Option<usize> {
        self.run(f, |i| wire::p_nlen(i, c, min)).flatten()
    }

    /// A non-nullable array of `T`, each at least `min` bytes on the wire.
    #[inline]
    pub(crate) fn array<T: Read>(&mut self, c: bool, min: usize, v: i16, f: F) -> Vec<T> {
        match self.run(f, |i| wire::p_alen(i, c, min)) {
            Some(n) => self.elems(n, c, v, f),
            None => Vec::new(),
        }
    }

    /// A nullable array of `T`.
    #[inline]
    pub(crate) fn narray<T: Read>(&mut self, c: bool, min: usize, v: i16, f: F) -> Option<Vec<T>> {
        let n = self.count(c, min, f)?;
        Some(self.elems(n, c, v, f))
    }

    #[inline]
    fn elems<T: Read>(&mut self, n: usize, c: bool, v: i16, f: F) -> Vec<T> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::read(self, c, v, f));
            if self.err.is_some() {
                break;
            }
        }
        out
    }

    /// A nullable struct: a marker byte (negative = null), then the struct.
    #[inline]
    pub(crate) fn nstruct<T: Read>(&mut self, v: i16, f: F) -> Option<T> {
        if self.run(f, wire::p_present)? {
            Some(T::read(self, false, v, f))
        } else {
            None
        }
    }

    /// The tagged-field count of a struct (`f` is the field the struct is in).
    #[inline]
    pub(crate) fn tag_count(&mut self, f: F) -> usize {
        self.run(f, wire::p_tag_count).unwrap_or(0)
    }

    /// One tagged field's header: `(tag, body)`, `None` after a failure.
    #[inline]
    pub(crate) fn tag(&mut self, f: F) -> Option<(u32, &'a [u8])> {
        self.run(f, wire::p_tag)
    }

    /// Keeps a tagged field kproto does not know.
    pub(crate) fn raw(&self, tag: u32, body: &[u8]) -> RawTaggedField {
        wire::raw_tag(&self.cx, tag, body)
    }

    /// The tagged fields of a struct that knows none: all kept as raw fields.
    pub(crate) fn unknown_tags(&mut self, out: &mut Vec<RawTaggedField>, f: F) {
        let n = self.tag_count(f);
        for _ in 0..n {
            let Some((tag, body)) = self.tag(f) else {
                break;
            };
            out.push(self.raw(tag, body));
        }
    }

    /// Starts reading a tagged field's `body`; returns the input after it, for [`Rd::leave`].
    pub(crate) fn enter(&mut self, body: &'a [u8]) -> &'a [u8] {
        core::mem::replace(&mut self.i, body)
    }

    /// Ends a tagged field (begun with [`Rd::enter`]): its whole body must have been read.
    pub(crate) fn leave(&mut self, rest: &'a [u8], f: F) {
        if self.err.is_some() {
            return;
        }
        if self.i.is_empty() {
            self.i = rest;
        } else {
            let e = nom::Err::Error(ParseErr {
                addr: self.i.as_ptr() as usize,
                field: "",
                kind: ParseErrKind::Invalid("end of tagged field"),
            });
            self.fail(e, f);
        }
    }
}

/// A value the generated parsers read: every primitive, and (generated) every struct.
pub(crate) trait Read: Sized {
    /// Reads one value at version `v`; `c` is whether the field is compact-encoded, `f` the
    /// field it is in (for errors).
    fn read(r: &mut Rd<'_>, c: bool, v: i16, f: F) -> Self;
}

macro_rules! prim {
    ($t:ty, $p:path) => {
        impl Read for $t {
            #[inline]
            fn read(r: &mut Rd<'_>, _c: bool, _v: i16, f: F) -> Self {
                r.run(f, $p).unwrap_or_default()
            }
        }
    };
}

prim!(bool, wire::p_bool);
prim!(i8, wire::p_i8);
prim!(i16, wire::p_i16);
prim!(u16, wire::p_u16);
prim!(i32, wire::p_i32);
prim!(u32, wire::p_u32);
prim!(i64, wire::p_i64);
prim!(f64, wire::p_f64);

impl Read for Uuid {
    #[inline]
    fn read(r: &mut Rd<'_>, _c: bool, _v: i16, f: F) -> Self {
        r.run(f, wire::p_uuid).unwrap_or(Uuid::ZERO)
    }
}

impl Read for KStr {
    #[inline]
    fn read(r: &mut Rd<'_>, c: bool, _v: i16, f: F) -> Self {
        r.str(c, f)
    }
}

impl Read for Bytes {
    #[inline]
    fn read(r: &mut Rd<'_>, c: bool, _v: i16, f: F) -> Self {
        r.bytes(c, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_wins_and_later_reads_fail_at_once() {
        // int32 7, then a string claiming 5 bytes of which 2 are there.
        let base = Bytes::from_static(&[0, 0, 0, 7, 0, 5, b'a', b'b']);
        let mut r = Rd::new(&base);
        assert_eq!(i32::read(&mut r, false, 0, &"T.A"), 7);
        assert_eq!(r.str(false, &"T.B"), "");
        assert_eq!(i64::read(&mut r, false, 0, &"T.C"), 0);
        let e = r.finish().unwrap_err();
        assert_eq!(e.field, "T.B");
        assert_eq!(e.addr, base[4..].as_ptr() as usize);
        assert!(matches!(e.kind, ParseErrKind::Length { claimed: 5, .. }));
    }

    #[test]
    fn arrays_stop_at_the_first_bad_element() {
        // A classic array of 3 int32 with 2 there.
        let mut v = alloc::vec![0, 0, 0, 3];
        v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0]);
        let base = Bytes::from(v);
        let mut r = Rd::new(&base);
        // min 0: the count check (3 × 1 ≤ 11) passes and the third element is short.
        let a: Vec<i32> = r.array(false, 0, 0, &"T.A");
        assert_eq!(a, [1, 2, 0]);
        let e = r.finish().unwrap_err();
        assert_eq!(e.field, "T.A");
        assert_eq!(e.kind, ParseErrKind::Truncated("int32"));
        assert_eq!(e.addr, base[12..].as_ptr() as usize);
    }

    #[test]
    fn a_tagged_body_must_be_read_whole() {
        let base = Bytes::from_static(&[1, 2, 3, 9]);
        let mut r = Rd::new(&base);
        let rest = r.enter(&base[..3]);
        assert_eq!(i16::read(&mut r, false, 0, &"T.X"), 0x0102);
        r.leave(rest, &"T.X");
        let e = r.finish().unwrap_err();
        assert_eq!(e.field, "T.X");
        assert_eq!(e.kind, ParseErrKind::Invalid("end of tagged field"));
        assert_eq!(e.addr, base[2..].as_ptr() as usize);

        let mut r = Rd::new(&base);
        let rest = r.enter(&base[..2]);
        assert_eq!(i16::read(&mut r, false, 0, &"T.X"), 0x0102);
        r.leave(rest, &"T.X");
        assert_eq!(u16::read(&mut r, false, 0, &"T.Y"), 0x0102);
        assert_eq!(r.finish().unwrap().len(), 2);
    }
}
