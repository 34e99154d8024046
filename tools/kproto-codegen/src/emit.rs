//! Emits the Rust code of one API: request and response structs, nested structs, defaults,
//! parse / write / size, and (behind kproto's `testing` feature) random instances and Kafka's
//! JsonConverter JSON form.

use crate::merge::Merged;
use crate::schema::{Field, Ty, Vr};
use std::collections::BTreeMap;
use std::fmt::Write;

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// `ThrottleTimeMs` → `throttle_time_ms`.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A Rust identifier for a field.
pub fn ident(name: &str) -> String {
    let s = snake(name);
    if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// Kafka's JSON field name: the schema name with its first letter lower-cased.
pub fn camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Everything the emitter needs to know about the message being generated.
pub struct Ctx<'a> {
    pub m: &'a Merged,
    /// Struct name → fields, for every struct of the message (inline and common).
    pub structs: BTreeMap<String, Vec<Field>>,
}

impl<'a> Ctx<'a> {
    pub fn new(m: &'a Merged) -> Self {
        let mut structs = BTreeMap::new();
        fn walk(fs: &[Field], out: &mut BTreeMap<String, Vec<Field>>) {
            for f in fs {
                if let (Some(sub), Some(name)) = (&f.fields, f.ty.struct_name()) {
                    out.entry(name.to_string()).or_insert_with(|| sub.clone());
                    walk(sub, out);
                }
            }
        }
        walk(&m.spec.fields, &mut structs);
        for (n, fs) in &m.spec.common_structs {
            structs.entry(n.clone()).or_insert_with(|| fs.clone());
            walk(fs, &mut structs);
        }
        Ctx { m, structs }
    }

    /// The versions the message exists at (all, unstable included).
    fn range(&self) -> Vr {
        self.m.spec.valid
    }

    /// A Rust boolean expression over `v` for "v is in `r`", simplified against the message's
    /// version range.
    pub fn vc(&self, r: Vr) -> String {
        let all = self.range();
        let r = r.intersect(all);
        if r.is_empty() {
            return "false".into();
        }
        let lo = r.lo > all.lo;
        let hi = r.hi < all.hi;
        match (lo, hi) {
            (false, false) => "true".into(),
            (true, false) => format!("v >= {}", r.lo),
            (false, true) => format!("v <= {}", r.hi),
            (true, true) if r.lo == r.hi => format!("v == {}", r.lo),
            (true, true) => format!("({}..={}).contains(&v)", r.lo, r.hi),
        }
    }

    /// Whether `r` covers every version the message has.
    fn covers_all(&self, r: Vr) -> bool {
        let all = self.range();
        r.lo <= all.lo && r.hi >= all.hi
    }

    /// Minimum encoded size of a struct over all versions (for array-count checks).
    fn struct_min(&self, name: &str, depth: usize) -> usize {
        if depth > 8 {
            return 0;
        }
        let fs = &self.structs[name];
        let all = self.range();
        (all.lo..=all.hi)
            .map(|v| {
                let flex = self.m.spec.flexible.contains(v);
                let mut n = usize::from(flex);
                for f in fs
                    .iter()
                    .filter(|f| f.versions.contains(v) && !f.tagged.contains(v))
                {
                    let compact = f.flexible_override.map_or(flex, |o| o.contains(v));
                    n += match &f.ty {
                        Ty::Struct(s) if !f.nullable.contains(v) => self.struct_min(s, depth + 1),
                        t => prim_min(t, compact),
                    };
                }
                n
            })
            .min()
            .unwrap_or(0)
    }
}

fn prim_min(t: &Ty, compact: bool) -> usize {
    match t {
        Ty::Bool | Ty::I8 => 1,
        Ty::I16 | Ty::U16 => 2,
        Ty::I32 | Ty::U32 => 4,
        Ty::I64 | Ty::F64 => 8,
        Ty::Uuid => 16,
        Ty::Str => {
            if compact {
                1
            } else {
                2
            }
        }
        Ty::Bytes | Ty::Records | Ty::Array(_) => {
            if compact {
                1
            } else {
                4
            }
        }
        Ty::Struct(_) => 1,
    }
}

/// Whether the field's Rust type is an `Option`.
fn is_opt(f: &Field) -> bool {
    !f.nullable.is_empty()
}

fn base_type(t: &Ty) -> String {
    match t {
        Ty::Bool => "bool".into(),
        Ty::I8 => "i8".into(),
        Ty::I16 => "i16".into(),
        Ty::U16 => "u16".into(),
        Ty::I32 => "i32".into(),
        Ty::U32 => "u32".into(),
        Ty::I64 => "i64".into(),
        Ty::F64 => "f64".into(),
        Ty::Str => "KStr".into(),
        Ty::Bytes | Ty::Records => "Bytes".into(),
        Ty::Uuid => "Uuid".into(),
        Ty::Array(e) => format!("Vec<{}>", base_type(e)),
        Ty::Struct(s) => s.clone(),
    }
}

/// The Rust type of a field.
pub fn rust_type(f: &Field) -> String {
    if is_opt(f) {
        format!("Option<{}>", base_type(&f.ty))
    } else {
        base_type(&f.ty)
    }
}

fn int_literal(s: &str, ty: &str) -> String {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let v: i128 = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).expect("hex default")
    } else if body.len() > 1 && body.starts_with('0') {
        i128::from_str_radix(&body[1..], 8).expect("octal default")
    } else {
        body.parse().expect("int default")
    };
    let v = if neg { -v } else { v };
    if v == i128::from(i32::MIN) && ty == "i32" {
        return "i32::MIN".into();
    }
    if v == i128::from(i64::MIN) && ty == "i64" {
        return "i64::MIN".into();
    }
    format!("{v}")
}

/// The Rust expression of a field's default.
pub fn default_expr(f: &Field) -> String {
    let d = f.default.as_deref();
    let inner = match (&f.ty, d) {
        (_, Some("null")) if is_opt(f) => return "None".into(),
        (Ty::Bool, Some(d)) => d.to_string(),
        (Ty::Bool, None) => "false".into(),
        (Ty::I8 | Ty::I16 | Ty::U16 | Ty::I32 | Ty::U32 | Ty::I64, Some(d)) => {
            int_literal(d, &base_type(&f.ty))
        }
        (Ty::I8 | Ty::I16 | Ty::U16 | Ty::I32 | Ty::U32 | Ty::I64, None) => "0".into(),
        (Ty::F64, Some(d)) => {
            let x: f64 = d.parse().expect("float default");
            format!("{x:?}")
        }
        (Ty::F64, None) => "0.0".into(),
        (Ty::Str, Some(d)) if !d.is_empty() => format!("KStr::from_static({d:?})"),
        (Ty::Str, _) => "KStr::new()".into(),
        (Ty::Records, _) if is_opt(f) => return "None".into(),
        (Ty::Bytes | Ty::Records, _) => "Bytes::new()".into(),
        (Ty::Uuid, _) => "Uuid::ZERO".into(),
        (Ty::Array(_), _) => "Vec::new()".into(),
        (Ty::Struct(s), _) => format!("{s}::default()"),
    };
    if is_opt(f) {
        format!("Some({inner})")
    } else {
        inner
    }
}

/// Whether `self.<field>` differs from its default (a Rust boolean expression).
pub fn non_default(f: &Field) -> String {
    let id = ident(&f.name);
    match (&f.ty, is_opt(f)) {
        (Ty::Array(_), false) => format!("!self.{id}.is_empty()"),
        (Ty::F64, false) => format!("self.{id}.to_bits() != ({}f64).to_bits()", default_expr(f)),
        _ => format!("self.{id} != {}", default_expr(f)),
    }
}

/// The compact-encoding condition of a field.
fn compact(cx: &Ctx, f: &Field) -> String {
    match f.flexible_override {
        Some(o) => cx.vc(o),
        None => "flex".into(),
    }
}

fn qualified(struct_name: &str, f: &Field) -> String {
    format!("{struct_name}.{}", f.name)
}

// --------------------------------------------------------------------------------------------
// Parsing.

/// The minimum encoded size of one element of an array of `e` (for the count check).
fn elem_min(cx: &Ctx, e: &Ty) -> usize {
    match e {
        Ty::Struct(s) => cx.struct_min(s, 0),
        other => prim_min(other, false).min(prim_min(other, true)),
    }
}

/// An expression reading one non-null value of type `t` with the reader `r` (`crate::rd`);
/// `c` is the compact condition, `fq` the field's name for errors.
fn parse_one(cx: &Ctx, t: &Ty, c: &str, fq: &str) -> String {
    match t {
        Ty::Array(e) => format!("r.array({c}, {}, v, &{fq:?})", elem_min(cx, e)),
        _ => format!("Read::read(r, {c}, v, &{fq:?})"),
    }
}

/// An expression reading the field's value (null handled).
fn parse_field(cx: &Ctx, f: &Field, fq: &str) -> String {
    let c = compact(cx, f);
    let one = parse_one(cx, &f.ty, &c, fq);
    if !is_opt(f) {
        return one;
    }
    let nullable_expr = match &f.ty {
        Ty::Str => format!("r.nstr({c}, &{fq:?})"),
        Ty::Bytes | Ty::Records => format!("r.nbytes({c}, &{fq:?})"),
        Ty::Array(e) => format!("r.narray({c}, {}, v, &{fq:?})", elem_min(cx, e)),
        Ty::Struct(_) => format!("r.nstruct(v, &{fq:?})"),
        other => panic!("nullable {other:?}"),
    };
    if f.nullable.intersect(f.versions) == f.versions {
        return nullable_expr;
    }
    let ncond = cx.vc(f.nullable);
    format!("if {ncond} {{ {nullable_expr} }} else {{ Some({one}) }}")
}

// --------------------------------------------------------------------------------------------
// Writing and sizing. `p` is an expression of type `&T` for the value.

fn deref(p: &str) -> String {
    match p.strip_prefix('&') {
        Some(s) => s.to_string(),
        None => format!("*{p}"),
    }
}

fn write_one(t: &Ty, p: &str, c: &str) -> String {
    match t {
        Ty::Bool => format!("b.put_u8(u8::from({}));", deref(p)),
        Ty::I8 => format!("b.put_i8({});", deref(p)),
        Ty::I16 => format!("b.put_i16({});", deref(p)),
        Ty::U16 => format!("b.put_u16({});", deref(p)),
        Ty::I32 => format!("b.put_i32({});", deref(p)),
        Ty::U32 => format!("b.put_u32({});", deref(p)),
        Ty::I64 => format!("b.put_i64({});", deref(p)),
        Ty::F64 => format!("b.put_f64({});", deref(p)),
        Ty::Uuid => format!("b.put_slice(&({}).0);", p),
        Ty::Str => format!("put_nstr(b, Some(({p}).as_str()), {c});"),
        Ty::Bytes | Ty::Records => format!("put_nbytes(b, Some(&({p})[..]), {c});"),
        Ty::Struct(_) => format!("({p}).write(b, v);"),
        Ty::Array(e) => format!(
            "put_alen(b, Some(({p}).len()), {c}); for x in ({p}).iter() {{ {} }}",
            write_one(e, "x", c)
        ),
    }
}

fn write_field(cx: &Ctx, f: &Field) -> String {
    let c = compact(cx, f);
    let id = ident(&f.name);
    let p = format!("&self.{id}");
    if !is_opt(f) {
        return write_one(&f.ty, &p, &c);
    }
    let null = match &f.ty {
        Ty::Str => format!("put_nstr(b, None, {c});"),
        Ty::Bytes | Ty::Records => format!("put_nbytes(b, None, {c});"),
        Ty::Array(_) => format!("put_alen(b, None, {c});"),
        Ty::Struct(_) => "put_present(b, false);".into(),
        other => panic!("nullable {other:?}"),
    };
    let some = match &f.ty {
        Ty::Struct(_) => format!("put_present(b, true); {}", write_one(&f.ty, "x", &c)),
        _ => write_one(&f.ty, "x", &c),
    };
    format!("match &self.{id} {{ None => {{ {null} }} Some(x) => {{ {some} }} }}")
}

/// An expression (usize, may use `?`) for the size of one non-null value.
fn size_one(t: &Ty, p: &str, c: &str, fq: &str) -> String {
    match t {
        Ty::Bool | Ty::I8 => "1".into(),
        Ty::I16 | Ty::U16 => "2".into(),
        Ty::I32 | Ty::U32 => "4".into(),
        Ty::I64 | Ty::F64 => "8".into(),
        Ty::Uuid => "16".into(),
        Ty::Str => format!("len_nstr(Some(({p}).as_str()), {c}, {fq:?})?"),
        Ty::Bytes | Ty::Records => format!("len_nbytes(Some(&({p})[..]), {c}, {fq:?})?"),
        Ty::Struct(_) => format!("({p}).size(v)?"),
        Ty::Array(e) => {
            let elem = match &**e {
                Ty::Bool | Ty::I8 => Some(1),
                Ty::I16 | Ty::U16 => Some(2),
                Ty::I32 | Ty::U32 => Some(4),
                Ty::I64 | Ty::F64 => Some(8),
                Ty::Uuid => Some(16),
                _ => None,
            };
            match elem {
                Some(n) => format!("(len_alen(Some(({p}).len()), {c}, {fq:?})? + ({p}).len() * {n})"),
                None => format!(
                    "(len_alen(Some(({p}).len()), {c}, {fq:?})? + {{ let mut s = 0usize; for x in ({p}).iter() {{ s += {}; }} s }})",
                    size_one(e, "x", c, fq)
                ),
            }
        }
    }
}

fn size_field(cx: &Ctx, f: &Field, sname: &str) -> String {
    let c = compact(cx, f);
    let id = ident(&f.name);
    let fq = qualified(sname, f);
    if !is_opt(f) {
        return size_one(&f.ty, &format!("&self.{id}"), &c, &fq);
    }
    let null = match &f.ty {
        Ty::Str => format!("len_nstr(None, {c}, {fq:?})?"),
        Ty::Bytes | Ty::Records => format!("len_nbytes(None, {c}, {fq:?})?"),
        Ty::Array(_) => format!("len_alen(None, {c}, {fq:?})?"),
        Ty::Struct(_) => "1".into(),
        other => panic!("nullable {other:?}"),
    };
    let some = match &f.ty {
        Ty::Struct(_) => format!("1 + {}", size_one(&f.ty, "x", &c, &fq)),
        _ => size_one(&f.ty, "x", &c, &fq),
    };
    format!("match &self.{id} {{ None => {null}, Some(x) => {some} }}")
}

// --------------------------------------------------------------------------------------------
// Structs.

fn doc(out: &mut String, indent: &str, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    for line in text.lines() {
        let _ = writeln!(
            out,
            "{indent}/// {}",
            line.trim().replace('[', "\\[").replace(']', "\\]")
        );
    }
}

fn versions_text(r: Vr) -> String {
    if r.is_empty() {
        "none".into()
    } else if r.hi == i16::MAX {
        format!("{}+", r.lo)
    } else if r.lo == r.hi {
        format!("{}", r.lo)
    } else {
        format!("{}-{}", r.lo, r.hi)
    }
}

/// Emits one struct (message or nested) with its `Default` and `WireStruct` impls.
pub fn emit_struct(
    cx: &Ctx,
    out: &mut String,
    name: &str,
    fields: &[Field],
    about: &str,
    testing: &mut String,
) {
    let flexible = cx.m.spec.flexible;
    let has_flex = !flexible.intersect(cx.range()).is_empty();
    doc(out, "", about);
    let _ = writeln!(out, "#[derive(Debug, Clone, PartialEq)]");
    let _ = writeln!(out, "pub struct {name} {{");
    for f in fields {
        let mut about = f.about.clone();
        let _ = write!(about, "\n\nVersions {}", versions_text(f.versions));
        if !f.nullable.is_empty() {
            let _ = write!(about, "; nullable {}", versions_text(f.nullable));
        }
        if let Some(t) = f.tag {
            let _ = write!(about, "; tagged (tag {t})");
        }
        if f.ignorable {
            about.push_str("; ignorable");
        }
        about.push('.');
        doc(out, "    ", &about);
        let _ = writeln!(out, "    pub {}: {},", ident(&f.name), rust_type(f));
    }
    let _ = writeln!(
        out,
        "    /// Tagged fields this version of kproto does not know, kept in tag order."
    );
    let _ = writeln!(out, "    pub unknown_tagged_fields: Vec<RawTaggedField>,");
    let _ = writeln!(out, "}}\n");

    // Default.
    let _ = writeln!(out, "impl Default for {name} {{");
    let _ = writeln!(out, "    fn default() -> Self {{");
    let _ = writeln!(out, "        {name} {{");
    for f in fields {
        let _ = writeln!(out, "            {}: {},", ident(&f.name), default_expr(f));
    }
    let _ = writeln!(out, "            unknown_tagged_fields: Vec::new(),");
    let _ = writeln!(out, "        }}\n    }}\n}}\n");

    let regular: Vec<&Field> = fields
        .iter()
        .filter(|f| f.tag.is_none() || f.tagged.is_empty())
        .collect();
    let mut tagged: Vec<&Field> = fields
        .iter()
        .filter(|f| f.tag.is_some() && !f.tagged.is_empty())
        .collect();
    tagged.sort_by_key(|f| f.tag);
    let flex_expr = cx.vc(flexible);

    // read (crate::rd: errors are kept in the reader, checked once by the caller)
    let _ = writeln!(out, "impl Read for {name} {{");
    let _ = writeln!(
        out,
        "    fn read(r: &mut Rd<'_>, _c: bool, v: i16, f: F) -> Self {{"
    );
    let _ = writeln!(out, "        let flex = {flex_expr};");
    let _ = writeln!(out, "        let mut this = Self::default();");
    for f in &regular {
        let cond = cx.vc(f.versions);
        let fq = qualified(name, f);
        let _ = writeln!(
            out,
            "        if {cond} {{ this.{} = {}; }}",
            ident(&f.name),
            parse_field(cx, f, &fq)
        );
    }
    if has_flex && tagged.is_empty() {
        let _ = writeln!(
            out,
            "        if flex {{ r.unknown_tags(&mut this.unknown_tagged_fields, f); }}"
        );
    } else if has_flex {
        let _ = writeln!(out, "        if flex {{");
        let _ = writeln!(out, "            for _ in 0..r.tag_count(f) {{");
        let _ = writeln!(
            out,
            "                let Some((tag, body)) = r.tag(f) else {{ break }};"
        );
        let _ = writeln!(out, "                match tag {{");
        for f in &tagged {
            let fq = qualified(name, f);
            let _ = writeln!(
                out,
                "                    {} if {} => {{ let rest = r.enter(body); this.{} = {}; r.leave(rest, &{fq:?}); }}",
                f.tag.expect("tag"),
                cx.vc(f.tagged.intersect(f.versions)),
                ident(&f.name),
                parse_field(cx, f, &fq)
            );
        }
        let _ = writeln!(
            out,
            "                    _ => this.unknown_tagged_fields.push(r.raw(tag, body)),"
        );
        let _ = writeln!(out, "                }}\n            }}\n        }}");
    }
    let _ = writeln!(out, "        this\n    }}\n}}\n");

    let _ = writeln!(out, "impl WireStruct for {name} {{");
    // write
    let _ = writeln!(out, "    fn write<B: BufMut>(&self, b: &mut B, v: i16) {{");
    let _ = writeln!(out, "        let flex = {flex_expr};");
    for f in &regular {
        let _ = writeln!(
            out,
            "        if {} {{ {} }}",
            cx.vc(f.versions),
            write_field(cx, f)
        );
    }
    if has_flex {
        let _ = writeln!(out, "        if flex {{");
        let _ = writeln!(
            out,
            "            let mut n = self.unknown_tagged_fields.len();"
        );
        for f in &tagged {
            let _ = writeln!(
                out,
                "            if {} && {} {{ n += 1; }}",
                cx.vc(f.tagged.intersect(f.versions)),
                non_default(f)
            );
        }
        let _ = writeln!(out, "            put_uvarint(b, n as u32);");
        let _ = writeln!(out, "            let mut next = 0usize;");
        for f in &tagged {
            let tag = f.tag.expect("tag");
            let _ = writeln!(
                out,
                "            if {} && {} {{ put_raw_tags_below(b, &self.unknown_tagged_fields, &mut next, {tag}); let size = (|| -> Result<usize, EncodeError> {{ Ok({}) }})().unwrap_or(0); put_tag_header(b, {tag}, size); {} }}",
                cx.vc(f.tagged.intersect(f.versions)),
                non_default(f),
                size_field(cx, f, name),
                write_field(cx, f)
            );
        }
        let _ = writeln!(
            out,
            "            put_raw_tags_below(b, &self.unknown_tagged_fields, &mut next, u64::MAX);"
        );
        let _ = writeln!(out, "        }}");
    }
    let _ = writeln!(out, "    }}\n");

    // size (validates)
    let _ = writeln!(
        out,
        "    fn size(&self, v: i16) -> Result<usize, EncodeError> {{"
    );
    let _ = writeln!(out, "        let flex = {flex_expr};");
    let _ = writeln!(out, "        let mut n = 0usize;");
    for f in fields {
        let fq = qualified(name, f);
        let present = if f.tag.is_some() && !f.tagged.is_empty() {
            f.tagged.intersect(f.versions)
        } else {
            f.versions
        };
        if !cx.covers_all(present) && !f.ignorable {
            let _ = writeln!(
                out,
                "        if !({}) && {} {{ return Err(EncodeError::FieldNotInVersion {{ field: {fq:?}, version: v }}); }}",
                cx.vc(present),
                non_default(f)
            );
        }
        if is_opt(f) && f.nullable.intersect(f.versions) != f.versions {
            let _ = writeln!(
                out,
                "        if {} && !({}) && self.{}.is_none() {{ return Err(EncodeError::NullNotAllowed {{ field: {fq:?}, version: v }}); }}",
                cx.vc(f.versions),
                cx.vc(f.nullable),
                ident(&f.name)
            );
        }
    }
    for f in &regular {
        let _ = writeln!(
            out,
            "        if {} {{ n += {}; }}",
            cx.vc(f.versions),
            size_field(cx, f, name)
        );
    }
    if has_flex {
        let _ = writeln!(out, "        if flex {{");
        let _ = writeln!(
            out,
            "            let mut count = self.unknown_tagged_fields.len();"
        );
        let _ = writeln!(
            out,
            "            n += len_raw_tags(&self.unknown_tagged_fields);"
        );
        for f in &tagged {
            let _ = writeln!(
                out,
                "            if {} && {} {{ count += 1; let size = {}; n += len_tagged({}, size); }}",
                cx.vc(f.tagged.intersect(f.versions)),
                non_default(f),
                size_field(cx, f, name),
                f.tag.expect("tag")
            );
        }
        let _ = writeln!(out, "            n += len_uvarint(count as u32);");
        let _ = writeln!(out, "        }}");
    }
    let _ = writeln!(out, "        Ok(n)\n    }}\n}}\n");

    crate::emit_testing::emit_struct_testing(cx, testing, name, fields);
}
