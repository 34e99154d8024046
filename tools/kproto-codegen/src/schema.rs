//! Reads Apache Kafka's message schema files (`common/message/*.json`) into a small model.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// An inclusive version range; empty when `lo > hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vr {
    pub lo: i16,
    pub hi: i16,
}

impl Vr {
    pub const NONE: Vr = Vr { lo: 1, hi: 0 };
    pub const ALL: Vr = Vr {
        lo: 0,
        hi: i16::MAX,
    };

    /// Parses Kafka's notation: `none`, `3+`, `1-4`, `7`.
    pub fn parse(s: &str) -> Vr {
        let s = s.trim();
        if s == "none" {
            Vr::NONE
        } else if let Some(a) = s.strip_suffix('+') {
            Vr {
                lo: a.parse().expect("version"),
                hi: i16::MAX,
            }
        } else if let Some((a, b)) = s.split_once('-') {
            Vr {
                lo: a.parse().expect("version"),
                hi: b.parse().expect("version"),
            }
        } else {
            let v = s.parse().expect("version");
            Vr { lo: v, hi: v }
        }
    }

    pub fn is_empty(self) -> bool {
        self.lo > self.hi
    }

    pub fn contains(self, v: i16) -> bool {
        self.lo <= v && v <= self.hi
    }

    pub fn intersect(self, o: Vr) -> Vr {
        Vr {
            lo: self.lo.max(o.lo),
            hi: self.hi.min(o.hi),
        }
    }

    /// The union of two ranges, which must touch or overlap (or one be empty).
    pub fn union(self, o: Vr) -> Vr {
        if self.is_empty() {
            return o;
        }
        if o.is_empty() {
            return self;
        }
        let lo = self.lo.min(o.lo);
        let hi = self.hi.max(o.hi);
        let covered = (lo..=hi).all(|v| self.contains(v) || o.contains(v));
        assert!(covered, "non-contiguous version union {self:?} + {o:?}");
        Vr { lo, hi }
    }
}

/// A field's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Bool,
    I8,
    I16,
    U16,
    I32,
    U32,
    I64,
    F64,
    Str,
    Bytes,
    Records,
    Uuid,
    Array(Box<Ty>),
    Struct(String),
}

impl Ty {
    pub fn parse(s: &str) -> Ty {
        if let Some(inner) = s.strip_prefix("[]") {
            return Ty::Array(Box::new(Ty::parse(inner)));
        }
        match s {
            "bool" => Ty::Bool,
            "int8" => Ty::I8,
            "int16" => Ty::I16,
            "uint16" => Ty::U16,
            "int32" => Ty::I32,
            "uint32" => Ty::U32,
            "int64" => Ty::I64,
            "float64" => Ty::F64,
            "string" => Ty::Str,
            "bytes" => Ty::Bytes,
            "records" => Ty::Records,
            "uuid" => Ty::Uuid,
            other => {
                assert!(
                    other.chars().next().is_some_and(char::is_uppercase),
                    "unknown type {other}"
                );
                Ty::Struct(other.to_string())
            }
        }
    }

    pub fn struct_name(&self) -> Option<&str> {
        match self {
            Ty::Struct(n) => Some(n),
            Ty::Array(t) => t.struct_name(),
            _ => None,
        }
    }
}

/// One field of a message or struct.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub ty: Ty,
    pub versions: Vr,
    pub nullable: Vr,
    pub tagged: Vr,
    pub tag: Option<u32>,
    pub default: Option<String>,
    pub ignorable: bool,
    pub flexible_override: Option<Vr>,
    pub about: String,
    /// Nested fields when the type is a struct defined inline.
    pub fields: Option<Vec<Field>>,
    /// The name of this field in Kafka 3.9.1 when it differs (for old-version JSON).
    pub old_name: Option<String>,
}

/// One schema file.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub kind: String,
    pub api_key: Option<i16>,
    pub valid: Vr,
    pub flexible: Vr,
    pub latest_unstable: bool,
    pub listeners: Vec<String>,
    pub fields: Vec<Field>,
    pub common_structs: Vec<(String, Vec<Field>)>,
}

impl Spec {
    /// The versions Kafka released (the unstable latest version excluded).
    pub fn stable(&self) -> Vr {
        if self.latest_unstable {
            Vr {
                lo: self.valid.lo,
                hi: self.valid.hi - 1,
            }
        } else {
            self.valid
        }
    }
}

fn strip_comments(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("unexpected json value {other}"),
    }
}

fn parse_fields(v: &Value) -> Vec<Field> {
    v.as_array()
        .map(|a| a.iter().map(parse_field).collect())
        .unwrap_or_default()
}

fn parse_field(v: &Value) -> Field {
    let get = |k: &str| v.get(k).map(str_of);
    let versions = Vr::parse(&get("versions").expect("field versions"));
    Field {
        name: get("name").expect("field name"),
        ty: Ty::parse(&get("type").expect("field type")),
        versions,
        nullable: get("nullableVersions").map_or(Vr::NONE, |s| Vr::parse(&s)),
        tagged: get("taggedVersions").map_or(Vr::NONE, |s| Vr::parse(&s)),
        tag: get("tag").map(|s| s.parse().expect("tag")),
        default: get("default"),
        ignorable: v.get("ignorable").and_then(Value::as_bool).unwrap_or(false),
        flexible_override: get("flexibleVersions").map(|s| Vr::parse(&s)),
        about: get("about").unwrap_or_default(),
        fields: v.get("fields").map(parse_fields),
        old_name: None,
    }
}

/// Loads one schema file.
pub fn load(path: &Path) -> Spec {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&strip_comments(&text))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let get = |k: &str| v.get(k).map(str_of);
    Spec {
        name: get("name").expect("name"),
        kind: get("type").expect("type"),
        api_key: get("apiKey").map(|s| s.parse().expect("apiKey")),
        valid: Vr::parse(&get("validVersions").expect("validVersions")),
        flexible: get("flexibleVersions").map_or(Vr::NONE, |s| Vr::parse(&s)),
        latest_unstable: v
            .get("latestVersionUnstable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        listeners: v
            .get("listeners")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(str_of).collect())
            .unwrap_or_default(),
        fields: v.get("fields").map(parse_fields).unwrap_or_default(),
        common_structs: v
            .get("commonStructs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|s| (str_of(&s["name"]), parse_fields(&s["fields"])))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Loads every request, response and header schema of a folder, by file stem.
pub fn load_dir(dir: &Path) -> BTreeMap<String, Spec> {
    let mut out = BTreeMap::new();
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for p in entries {
        let spec = load(&p);
        if matches!(spec.kind.as_str(), "request" | "response" | "header") {
            out.insert(spec.name.clone(), spec);
        }
    }
    out
}

/// A 64-bit FNV-1a hash of every `.json` file of a folder (names and contents, sorted), used to
/// pin the generated code to the schema releases it was generated from.
pub fn dir_fingerprint(dir: &Path) -> u64 {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for &x in b {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for p in entries {
        eat(p.file_name().expect("name").to_string_lossy().as_bytes());
        eat(&fs::read(&p).expect("read schema"));
    }
    h
}
