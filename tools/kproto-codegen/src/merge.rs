//! Combines Kafka 4.4.0's schemas with 3.9.1's (see ../shared/kafka-message-spec/SOURCE.md):
//! the newest definition of each message comes from 4.4.0; versions below 4.4.0's minimum come
//! from 3.9.1; fields that only those old versions carried are taken from 3.9.1. The result is
//! checked version by version against the file each version came from.

use crate::schema::{Field, Spec, Ty, Vr};

/// A merged message: what the generator emits.
#[derive(Clone, Debug)]
pub struct Merged {
    pub spec: Spec,
    /// The first version that comes from 4.4.0 (versions below come from 3.9.1).
    pub new_min: i16,
    /// Stable versions (the union of both releases' released versions).
    pub stable: Vr,
}

fn restrict(f: &Field, r: Vr) -> Field {
    let mut f = f.clone();
    f.versions = f.versions.intersect(r);
    f.nullable = f.nullable.intersect(r);
    f.tagged = f.tagged.intersect(r);
    if let Some(o) = f.flexible_override {
        f.flexible_override = Some(o.intersect(r));
    }
    f
}

fn union_field(a: &Field, b: &Field) -> Field {
    let mut f = a.clone();
    f.versions = a.versions.union(b.versions);
    f.nullable = a.nullable.union(b.nullable);
    f.tagged = a.tagged.union(b.tagged);
    f
}

/// Looks up the fields of a struct type used by `field` (inline or common struct).
fn fields_of<'a>(field: &'a Field, common: &'a [(String, Vec<Field>)]) -> Option<&'a Vec<Field>> {
    if let Some(fs) = &field.fields {
        return Some(fs);
    }
    let name = field.ty.struct_name()?;
    common.iter().find(|(n, _)| n == name).map(|(_, f)| f)
}

fn merge_fields(
    new: &[Field],
    old: &[Field],
    new_common: &[(String, Vec<Field>)],
    old_common: &[(String, Vec<Field>)],
    new_range: Vr,
    old_range: Vr,
) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    // Fields of the new release, each extended with its old-release versions.
    for nf in new {
        let mut f = restrict(nf, new_range);
        if let Some(of) = old.iter().find(|o| o.name == nf.name) {
            let of_r = restrict(of, old_range);
            if !of_r.versions.is_empty() {
                f = union_field(&f, &of_r);
            }
            if let (Some(nfs), Some(ofs)) = (fields_of(nf, new_common), fields_of(of, old_common)) {
                if nf.fields.is_some() {
                    f.fields = Some(merge_fields(
                        nfs, ofs, new_common, old_common, new_range, old_range,
                    ));
                }
            }
        } else if let Some(nfs) = &nf.fields {
            f.fields = Some(merge_fields(
                nfs,
                &[],
                new_common,
                old_common,
                new_range,
                old_range,
            ));
        }
        out.push(f);
    }
    // Fields only the old release has, inserted after their predecessor.
    let mut prev: Option<String> = None;
    for of in old {
        if new.iter().any(|n| n.name == of.name) {
            prev = Some(of.name.clone());
            continue;
        }
        let mut f = restrict(of, old_range);
        if f.versions.is_empty() {
            prev = Some(of.name.clone());
            continue;
        }
        if let Some(ofs) = &of.fields {
            f.fields = Some(merge_fields(
                &[],
                ofs,
                new_common,
                old_common,
                Vr::NONE,
                old_range,
            ));
        }
        let at = match &prev {
            None => 0,
            Some(p) => out
                .iter()
                .position(|x| &x.name == p)
                .map_or(out.len(), |i| i + 1),
        };
        out.insert(at, f);
        prev = Some(of.name.clone());
    }
    out.retain(|f| !f.versions.is_empty());
    out
}

/// Merges a message present in 4.4.0 (`new`) and maybe in 3.9.1 (`old`).
pub fn merge(new: Option<&Spec>, old: Option<&Spec>) -> Merged {
    match (new, old) {
        (Some(n), old) => {
            let new_stable = n.stable();
            let new_min = n.valid.lo;
            let old_range = match old {
                Some(o) => {
                    let s = o.stable();
                    Vr {
                        lo: s.lo,
                        hi: s.hi.min(new_min - 1),
                    }
                }
                None => Vr::NONE,
            };
            let new_range = Vr {
                lo: new_min,
                hi: i16::MAX,
            };
            let empty = Vec::new();
            let (old_fields, old_common) = match old {
                Some(o) => (&o.fields, &o.common_structs),
                None => (&empty, &Vec::new()),
            };
            let fields = merge_fields(
                &n.fields,
                old_fields,
                &n.common_structs,
                old_common,
                new_range,
                old_range,
            );
            let mut common = Vec::new();
            for (name, fs) in &n.common_structs {
                let ofs = old
                    .and_then(|o| o.common_structs.iter().find(|(x, _)| x == name))
                    .map(|(_, f)| f.clone())
                    .unwrap_or_default();
                common.push((
                    name.clone(),
                    merge_fields(
                        fs,
                        &ofs,
                        &n.common_structs,
                        old_common,
                        new_range,
                        old_range,
                    ),
                ));
            }
            if let Some(o) = old {
                for (name, fs) in &o.common_structs {
                    if !common.iter().any(|(x, _)| x == name) {
                        let merged = merge_fields(
                            &[],
                            fs,
                            &n.common_structs,
                            old_common,
                            Vr::NONE,
                            old_range,
                        );
                        if !merged.is_empty() {
                            common.push((name.clone(), merged));
                        }
                    }
                }
            }
            let valid = Vr {
                lo: old_range.lo.min(new_min),
                hi: n.valid.hi,
            };
            let valid = if old_range.is_empty() { n.valid } else { valid };
            let stable = Vr {
                lo: valid.lo,
                hi: new_stable.hi,
            };
            let mut spec = n.clone();
            spec.valid = valid;
            spec.fields = fields;
            spec.common_structs = common;
            Merged {
                spec,
                new_min,
                stable,
            }
        }
        (None, Some(o)) => Merged {
            spec: o.clone(),
            new_min: o.valid.lo,
            stable: o.stable(),
        },
        (None, None) => unreachable!("merge of nothing"),
    }
}

/// A field as it is laid out on the wire at one version: type, nullability, tag, and nested
/// layout; names excluded.
#[derive(Debug, PartialEq)]
pub struct WireField {
    pub ty: String,
    pub nullable: bool,
    pub tag: Option<u32>,
    pub compact: bool,
    pub default: Option<String>,
    pub nested: Vec<WireField>,
}

/// The wire layout of `spec` at `version`.
pub fn layout(spec: &Spec, version: i16) -> Vec<WireField> {
    fn lay(fs: &[Field], common: &[(String, Vec<Field>)], flex: bool, v: i16) -> Vec<WireField> {
        let mut out = Vec::new();
        for f in fs.iter().filter(|f| f.versions.contains(v)) {
            let nested = match fields_of(f, common) {
                Some(sub) => lay(sub, common, flex, v),
                None => Vec::new(),
            };
            let ty = match &f.ty {
                Ty::Struct(_) => "struct".to_string(),
                Ty::Array(t) if matches!(**t, Ty::Struct(_)) => "[]struct".to_string(),
                other => format!("{other:?}"),
            };
            out.push(WireField {
                ty,
                nullable: f.nullable.contains(v),
                tag: if f.tagged.contains(v) { f.tag } else { None },
                compact: f.flexible_override.map_or(flex, |o| o.contains(v)),
                default: f.default.clone(),
                nested,
            });
        }
        out
    }
    lay(
        &spec.fields,
        &spec.common_structs,
        spec.flexible.contains(version),
        version,
    )
}
