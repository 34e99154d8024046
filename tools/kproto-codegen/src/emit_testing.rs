//! Emits, behind kproto's `testing` feature, a random-instance generator per struct (only the
//! fields the version carries are set; a tagged field is left at its default, so not written,
//! one time in three) and a writer of Kafka's JsonConverter JSON form.

use crate::emit::{camel, ident, non_default, rust_type, Ctx};
use crate::schema::{Field, Ty};
use std::fmt::Write;

fn random_one(t: &Ty, depth: &str) -> String {
    match t {
        Ty::Bool => "rng.bool()".into(),
        Ty::I8 => "rng.i8()".into(),
        Ty::I16 => "rng.i16()".into(),
        Ty::U16 => "rng.u16()".into(),
        Ty::I32 => "rng.i32()".into(),
        Ty::U32 => "rng.u32()".into(),
        Ty::I64 => "rng.i64()".into(),
        Ty::F64 => "rng.f64()".into(),
        Ty::Uuid => "rng.uuid()".into(),
        Ty::Str => "rng.kstr()".into(),
        Ty::Bytes => "rng.bytes()".into(),
        Ty::Records => "rng.records()".into(),
        Ty::Struct(s) => format!("{s}::random_at(rng, v, {depth} + 1, unknown_tags)"),
        Ty::Array(e) => {
            let len = if matches!(**e, Ty::Struct(_)) {
                "len_of_structs"
            } else {
                "len_of_values"
            };
            format!(
                "{{ let n = rng.{len}({depth}); (0..n).map(|_| {}).collect::<Vec<_>>() }}",
                random_one(e, depth)
            )
        }
    }
}

fn json_one(t: &Ty, p: &str) -> String {
    match t {
        Ty::Bool | Ty::I8 | Ty::I16 | Ty::U16 | Ty::I32 | Ty::U32 | Ty::I64 => {
            format!("{{ let _ = write!(out, \"{{}}\", {p}); }}")
        }
        Ty::F64 => format!("json_f64(out, *{p});"),
        Ty::Uuid => format!("json_str(out, &({p}).to_kafka_string());"),
        Ty::Str => format!("json_str(out, ({p}).as_str());"),
        Ty::Bytes | Ty::Records => format!("json_base64(out, &({p})[..]);"),
        Ty::Struct(_) => format!("({p}).to_kafka_json(v, out);"),
        Ty::Array(e) => format!(
            "{{ out.push('['); for (k, x) in ({p}).iter().enumerate() {{ if k > 0 {{ out.push(','); }} {} }} out.push(']'); }}",
            json_one(e, "x")
        ),
    }
}

/// A schema field name as Kafka's `MessageGenerator.toSnakeCase` makes it (the names of the
/// compiled `Schema` classes): `_` before each capital that follows a lower-case letter.
fn kafka_snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_capital = true;
    for c in name.chars() {
        if c.is_uppercase() {
            if !prev_capital {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_capital = true;
        } else {
            out.push(c);
            prev_capital = false;
        }
    }
    out
}

/// Emits `random_at`, `to_kafka_json` and `schema_paths_at` for one struct.
pub fn emit_struct_testing(cx: &Ctx, out: &mut String, name: &str, fields: &[Field]) {
    let _ = writeln!(out, "#[cfg(feature = \"testing\")]");
    let _ = writeln!(out, "impl {name} {{");
    let _ = writeln!(
        out,
        "    /// The fields kproto carries at `v`, as paths of Kafka's schema names (`topics/partitions/index`, a tagged field as `name@tag`), for comparing with Kafka's compiled schemas."
    );
    let _ = writeln!(
        out,
        "    pub fn schema_paths_at(v: i16, prefix: &str, out: &mut alloc::vec::Vec<alloc::string::String>) {{"
    );
    for f in fields {
        let sn = kafka_snake(&f.name);
        let mark = match f.tag {
            Some(tag) if !f.tagged.is_empty() => format!(
                "if {} {{ alloc::format!(\"{{prefix}}{sn}@{tag}\") }} else {{ alloc::format!(\"{{prefix}}{sn}\") }}",
                cx.vc(f.tagged)
            ),
            _ => format!("alloc::format!(\"{{prefix}}{sn}\")"),
        };
        let sub = match f.ty.struct_name() {
            Some(st) => {
                format!(" {st}::schema_paths_at(v, &alloc::format!(\"{{prefix}}{sn}/\"), out);")
            }
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "        if {} {{ out.push({mark});{sub} }}",
            cx.vc(f.versions)
        );
    }
    let _ = writeln!(out, "        let _ = (v, prefix, &out);");
    let _ = writeln!(out, "    }}\n");
    let _ = writeln!(
        out,
        "    /// A random value for `v`: fields `v` lacks keep their defaults; `unknown_tags` adds unknown tagged fields."
    );
    let _ = writeln!(
        out,
        "    pub fn random_at(rng: &mut crate::testing::Gen<'_>, v: i16, depth: u32, unknown_tags: bool) -> Self {{"
    );
    let _ = writeln!(out, "        let flex = {};", cx.vc(cx.m.spec.flexible));
    let _ = writeln!(out, "        let mut this = Self::default();");
    for f in fields {
        let present = if f.tag.is_some() && !f.tagged.is_empty() {
            f.tagged.intersect(f.versions)
        } else {
            f.versions
        };
        let one = random_one(&f.ty, "depth");
        let val = if rust_type(f).starts_with("Option<") {
            format!(
                "if {} && rng.chance(5) {{ None }} else {{ Some({one}) }}",
                cx.vc(f.nullable)
            )
        } else {
            one
        };
        let absent_now_and_then = if f.tag.is_some() && !f.tagged.is_empty() {
            " && !rng.chance(3)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "        if {}{absent_now_and_then} {{ this.{} = {val}; }}",
            cx.vc(present),
            ident(&f.name)
        );
    }
    let _ = writeln!(
        out,
        "        if flex && unknown_tags {{ this.unknown_tagged_fields = rng.unknown_tags(); }}"
    );
    let _ = writeln!(out, "        let _ = (depth, flex);");
    let _ = writeln!(out, "        this\n    }}\n");

    let _ = writeln!(out, "    /// Writes the value at `v` in the JSON form of Kafka's generated `*JsonConverter` classes.");
    let _ = writeln!(
        out,
        "    pub fn to_kafka_json(&self, v: i16, out: &mut alloc::string::String) {{"
    );
    let _ = writeln!(out, "        use core::fmt::Write as _;");
    let _ = writeln!(out, "        let _ = v;");
    let _ = writeln!(out, "        out.push('{{');");
    let _ = writeln!(out, "        let mut first = true;");
    for f in fields {
        // Kafka's JsonConverter.write leaves out a tagged field at its default, as the wire does.
        let when = if f.tag.is_some() && !f.tagged.is_empty() {
            format!(
                "{} && (!({}) || {})",
                cx.vc(f.versions),
                cx.vc(f.tagged),
                non_default(f)
            )
        } else {
            cx.vc(f.versions)
        };
        let key = camel(f.old_name.as_deref().unwrap_or(&f.name));
        let id = ident(&f.name);
        let body = if rust_type(f).starts_with("Option<") {
            format!(
                "match &self.{id} {{ None => out.push_str(\"null\"), Some(x) => {{ {} }} }}",
                json_one(&f.ty, "x")
            )
        } else {
            json_one(&f.ty, &format!("&self.{id}"))
        };
        let _ = writeln!(
            out,
            "        if {when} {{ if !first {{ out.push(','); }} first = false; out.push_str(\"\\\"{key}\\\":\"); {body} }}"
        );
    }
    let _ = writeln!(out, "        let _ = first;");
    let _ = writeln!(out, "        out.push('}}');");
    let _ = writeln!(out, "    }}\n}}\n");
}
