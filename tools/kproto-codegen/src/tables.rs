//! Emits the generated files: one per API, the headers, the module file with `ApiKey` and the
//! any-message enums, and the per-release advertised version tables.

use crate::emit::{emit_struct, Ctx};
use crate::merge::Merged;
use crate::schema::{Spec, Vr};
use crate::Api;
use std::collections::BTreeMap;
use std::fmt::Write;

const ALLOWS: &str = "#![allow(clippy::all, clippy::pedantic, unused_mut, unused_variables, unused_imports, unused_parens, unused_braces, non_snake_case)]\n";

fn versions_const(m: &Merged) -> String {
    let r = m.spec.valid;
    let flex = m.spec.flexible.intersect(r);
    let flex = if flex.is_empty() {
        "None".to_string()
    } else {
        format!("Some({})", flex.lo)
    };
    format!(
        "Versions {{ min: {}, max: {}, stable_max: {}, flexible_min: {flex} }}",
        r.lo, r.hi, m.stable.hi
    )
}

fn emit_message(out: &mut String, m: &Merged, key: i16, about: &str) {
    let cx = Ctx::new(m);
    let name = m.spec.name.clone();
    let mut testing = String::new();
    emit_struct(&cx, out, &name, &m.spec.fields, about, &mut testing);
    // Nested structs in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    fn walk(fs: &[crate::schema::Field], order: &mut Vec<String>) {
        for f in fs {
            if let Some(n) = f.ty.struct_name() {
                if !order.iter().any(|x| x == n) {
                    order.push(n.to_string());
                }
            }
            if let Some(sub) = &f.fields {
                walk(sub, order);
            }
        }
    }
    walk(&m.spec.fields, &mut order);
    for (n, fs) in &m.spec.common_structs {
        if !order.iter().any(|x| x == n) {
            order.push(n.clone());
        }
        walk(fs, &mut order);
    }
    for n in &order {
        let fs = cx
            .structs
            .get(n)
            .unwrap_or_else(|| panic!("{}: struct {n} not defined", m.spec.name))
            .clone();
        emit_struct(
            &cx,
            out,
            n,
            &fs,
            &format!("A `{n}` of [`{name}`]."),
            &mut testing,
        );
    }
    out.push_str(&testing);
    let _ = writeln!(out, "impl Message for {name} {{");
    let _ = writeln!(out, "    const API_KEY: i16 = {key};");
    let _ = writeln!(out, "    const VERSIONS: Versions = {};", versions_const(m));
    let _ = writeln!(out, "    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {{ encode_message(self, buf, version) }}");
    let _ = writeln!(out, "    fn encoded_len(&self, version: i16) -> Result<usize, EncodeError> {{ encoded_len_message(self, version) }}");
    let _ = writeln!(out, "    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {{ decode_message(buf, version) }}");
    let _ = writeln!(out, "}}\n");
    let _ = writeln!(out, "#[cfg(feature = \"testing\")]");
    let _ = writeln!(out, "impl crate::testing::TestMessage for {name} {{");
    let _ = writeln!(out, "    fn random_sized(rng: &mut crate::testing::Rng, version: i16, unknown_tags: bool, sizes: crate::testing::Sizes) -> Self {{ Self::random_at(&mut crate::testing::Gen::new(rng, sizes), version, 0, unknown_tags) }}");
    let _ = writeln!(out, "    fn kafka_json(&self, version: i16) -> alloc::string::String {{ let mut s = alloc::string::String::new(); self.to_kafka_json(version, &mut s); s }}");
    let _ = writeln!(out, "    fn schema_paths(version: i16) -> alloc::vec::Vec<alloc::string::String> {{ let mut out = alloc::vec::Vec::new(); Self::schema_paths_at(version, \"\", &mut out); out }}");
    let _ = writeln!(out, "}}");
}

fn range_text(r: Vr) -> String {
    if r.lo == r.hi {
        format!("{}", r.lo)
    } else {
        format!("{}-{}", r.lo, r.hi)
    }
}

/// The file of one API.
pub fn api_file(pin: &str, api: &Api) -> String {
    let mut s = String::new();
    s.push_str(pin);
    let stable = api.request.stable;
    let unstable = if api.request.spec.valid.hi > stable.hi {
        format!(
            " Version {} is generated but unstable (not released; never advertised).",
            api.request.spec.valid.hi
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "\n//! {} (API key {}): request and response, released versions {}.{unstable}\n",
        api.name,
        api.key,
        range_text(stable)
    );
    s.push_str(ALLOWS);
    let _ = writeln!(
        s,
        "\npub use request::{}Request;\npub use response::{}Response;\n",
        api.name, api.name
    );
    for (kind, m) in [("request", &api.request), ("response", &api.response)] {
        let _ = writeln!(s, "/// The {kind} of {} and its nested structs.", api.name);
        let _ = writeln!(s, "pub mod {kind} {{");
        let _ = writeln!(s, "use crate::messages::prelude::*;\n");
        let mut body = String::new();
        emit_message(
            &mut body,
            m,
            api.key,
            &format!(
                "The {} {kind} (API key {}), versions {}.",
                api.name,
                api.key,
                range_text(m.spec.valid)
            ),
        );
        s.push_str(&body);
        let _ = writeln!(s, "}}\n");
    }
    s
}

/// The request and response headers.
pub fn header_file(pin: &str, req: &Merged, resp: &Merged) -> String {
    let mut s = String::new();
    s.push_str(pin);
    s.push_str("\n//! The request header (v0-v2) and response header (v0-v1).\n\n");
    s.push_str(ALLOWS);
    s.push_str("\nuse crate::messages::prelude::*;\n\n");
    emit_message(&mut s, req, -1, "The header in front of every request.");
    emit_message(&mut s, resp, -1, "The header in front of every response.");
    s
}

/// The module file: modules, re-exports, `ApiKey`, `RequestBody` and `ResponseBody`.
pub fn mod_file(pin: &str, apis: &[Api]) -> String {
    let mut s = String::new();
    s.push_str(pin);
    s.push_str("\n//! Every API's messages, the `ApiKey` enum, and enums over all requests and responses.\n\n");
    s.push_str(ALLOWS);
    s.push_str("\nuse crate::messages::prelude::*;\n\n");
    for a in apis {
        let _ = writeln!(s, "pub mod {};", a.module);
    }
    s.push_str("pub mod header;\npub mod releases;\n\n");
    for a in apis {
        let _ = writeln!(
            s,
            "pub use {}::{{{n}Request, {n}Response}};",
            a.module,
            n = a.name
        );
    }
    s.push_str("pub use header::{RequestHeader, ResponseHeader};\n\n");

    // ApiKey.
    s.push_str("/// Every Kafka API key, with the versions kproto can encode and decode.\n");
    s.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[repr(i16)]\npub enum ApiKey {\n");
    for a in apis {
        let _ = writeln!(
            s,
            "    /// {} (key {}), versions {}.",
            a.name,
            a.key,
            range_text(a.request.stable)
        );
        let _ = writeln!(s, "    {} = {},", a.name, a.key);
    }
    s.push_str("}\n\n");
    let _ = writeln!(s, "impl ApiKey {{");
    let _ = writeln!(s, "    /// Every API key, in key order.");
    let _ = writeln!(
        s,
        "    pub const ALL: [ApiKey; {}] = [{}];",
        apis.len(),
        apis.iter()
            .map(|a| format!("ApiKey::{}", a.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(s, "    /// The key for a number, if kproto knows it.");
    let _ = writeln!(
        s,
        "    pub const fn from_i16(key: i16) -> Option<ApiKey> {{\n        match key {{"
    );
    for a in apis {
        let _ = writeln!(s, "            {} => Some(ApiKey::{}),", a.key, a.name);
    }
    let _ = writeln!(s, "            _ => None,\n        }}\n    }}");
    let _ = writeln!(
        s,
        "    /// The key's number.\n    pub const fn key(self) -> i16 {{ self as i16 }}"
    );
    let _ = writeln!(
        s,
        "    /// The API's name, as in Kafka's schemas (`Produce`, `Metadata`, ...)."
    );
    let _ = writeln!(
        s,
        "    pub const fn name(self) -> &'static str {{\n        match self {{"
    );
    for a in apis {
        let _ = writeln!(s, "            ApiKey::{0} => {0:?},", a.name);
    }
    let _ = writeln!(s, "        }}\n    }}");
    let _ = writeln!(
        s,
        "    /// The versions kproto knows for this API (requests and responses share them)."
    );
    let _ = writeln!(
        s,
        "    pub const fn versions(self) -> Versions {{\n        match self {{"
    );
    for a in apis {
        let _ = writeln!(
            s,
            "            ApiKey::{} => {},",
            a.name,
            versions_const(&a.request)
        );
    }
    let _ = writeln!(s, "        }}\n    }}");
    let _ = writeln!(s, "    /// The request header version used with request version `version`: 2 for flexible versions, 1 otherwise (0 for ControlledShutdown v0).");
    let _ = writeln!(
        s,
        "    pub const fn request_header_version(self, version: i16) -> i16 {{"
    );
    let _ = writeln!(
        s,
        "        if matches!(self, ApiKey::ControlledShutdown) && version == 0 {{ return 0; }}"
    );
    let _ = writeln!(s, "        match self.versions().flexible_min {{ Some(f) if version >= f => 2, _ => 1 }}\n    }}");
    let _ = writeln!(s, "    /// The response header version used with response version `version`: 1 for flexible versions, 0 otherwise (always 0 for ApiVersions, so that any client can read it).");
    let _ = writeln!(
        s,
        "    pub const fn response_header_version(self, version: i16) -> i16 {{"
    );
    let _ = writeln!(
        s,
        "        if matches!(self, ApiKey::ApiVersions) {{ return 0; }}"
    );
    let _ = writeln!(s, "        match self.versions().flexible_min {{ Some(f) if version >= f => 1, _ => 0 }}\n    }}");
    let _ = writeln!(s, "}}\n");

    for (kind, field) in [("Request", true), ("Response", false)] {
        let _ = writeln!(s, "/// Any {}, by API.", kind.to_lowercase());
        let _ = writeln!(
            s,
            "#[derive(Debug, Clone, PartialEq)]\npub enum {kind}Body {{"
        );
        for a in apis {
            let _ = writeln!(
                s,
                "    /// {}{kind}.\n    {}(Box<{}{kind}>),",
                a.name, a.name, a.name
            );
        }
        let _ = writeln!(s, "}}\n");
        let _ = writeln!(s, "impl {kind}Body {{");
        let _ = writeln!(
            s,
            "    /// The API this {} belongs to.",
            kind.to_lowercase()
        );
        let _ = writeln!(
            s,
            "    pub fn api_key(&self) -> ApiKey {{\n        match self {{"
        );
        for a in apis {
            let _ = writeln!(s, "            {kind}Body::{0}(_) => ApiKey::{0},", a.name);
        }
        let _ = writeln!(s, "        }}\n    }}");
        let _ = writeln!(
            s,
            "    /// Decodes the body of API `key` at `version` from `buf`, advancing it."
        );
        let _ = writeln!(s, "    pub fn decode(key: ApiKey, buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {{\n        Ok(match key {{");
        for a in apis {
            let _ = writeln!(s, "            ApiKey::{0} => {kind}Body::{0}(Box::new({0}{kind}::decode(buf, version)?)),", a.name);
        }
        let _ = writeln!(s, "        }})\n    }}");
        let _ = writeln!(s, "    /// Encodes the body at `version`.");
        let _ = writeln!(s, "    pub fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {{\n        match self {{");
        for a in apis {
            let _ = writeln!(
                s,
                "            {kind}Body::{}(m) => m.encode(buf, version),",
                a.name
            );
        }
        let _ = writeln!(s, "        }}\n    }}");
        let _ = writeln!(s, "    /// The encoded size at `version`; errors when the body cannot be encoded at `version`.");
        let _ = writeln!(s, "    pub fn encoded_len(&self, version: i16) -> Result<usize, EncodeError> {{\n        match self {{");
        for a in apis {
            let _ = writeln!(
                s,
                "            {kind}Body::{}(m) => m.encoded_len(version),",
                a.name
            );
        }
        let _ = writeln!(s, "        }}\n    }}");
        let _ = writeln!(s, "    /// A random body of API `key` at `version`, of realistic size (fields the version lacks keep their defaults).");
        let _ = writeln!(s, "    #[cfg(feature = \"testing\")]");
        let _ = writeln!(s, "    pub fn random(key: ApiKey, rng: &mut crate::testing::Rng, version: i16, unknown_tags: bool) -> Self {{\n        Self::random_sized(key, rng, version, unknown_tags, crate::testing::Sizes::Realistic)\n    }}");
        let _ = writeln!(s, "    /// [`Self::random`] with the given sizes.");
        let _ = writeln!(s, "    #[cfg(feature = \"testing\")]");
        let _ = writeln!(s, "    pub fn random_sized(key: ApiKey, rng: &mut crate::testing::Rng, version: i16, unknown_tags: bool, sizes: crate::testing::Sizes) -> Self {{\n        use crate::testing::TestMessage;\n        match key {{");
        for a in apis {
            let _ = writeln!(s, "            ApiKey::{0} => {kind}Body::{0}(Box::new({0}{kind}::random_sized(rng, version, unknown_tags, sizes))),", a.name);
        }
        let _ = writeln!(s, "        }}\n    }}");
        let _ = writeln!(s, "    /// The fields kproto carries for API `key` at `version` (see `TestMessage::schema_paths`).");
        let _ = writeln!(s, "    #[cfg(feature = \"testing\")]");
        let _ = writeln!(s, "    pub fn schema_paths(key: ApiKey, version: i16) -> alloc::vec::Vec<alloc::string::String> {{\n        use crate::testing::TestMessage;\n        match key {{");
        for a in apis {
            let _ = writeln!(
                s,
                "            ApiKey::{0} => {0}{kind}::schema_paths(version),",
                a.name
            );
        }
        let _ = writeln!(s, "        }}\n    }}");
        let _ = writeln!(
            s,
            "    /// The body in the JSON form of Kafka's `*JsonConverter` classes."
        );
        let _ = writeln!(s, "    #[cfg(feature = \"testing\")]");
        let _ = writeln!(s, "    pub fn kafka_json(&self, version: i16) -> alloc::string::String {{\n        use crate::testing::TestMessage;\n        match self {{");
        for a in apis {
            let _ = writeln!(
                s,
                "            {kind}Body::{}(m) => m.kafka_json(version),",
                a.name
            );
        }
        let _ = writeln!(s, "        }}\n    }}");
        let _ = writeln!(s, "}}\n");
        let _ = field;
    }
    s
}

fn listeners_bits(spec: &Spec) -> String {
    let mut bits = Vec::new();
    for l in &spec.listeners {
        bits.push(match l.as_str() {
            "zkBroker" => "Listeners::ZK_BROKER",
            "broker" => "Listeners::BROKER",
            "controller" => "Listeners::CONTROLLER",
            other => panic!("unknown listener {other}"),
        });
    }
    if bits.is_empty() {
        "Listeners::NONE".into()
    } else {
        format!(
            "Listeners({})",
            bits.iter()
                .map(|b| format!("{b}.0"))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    }
}

fn release_table(
    s: &mut String,
    name: &str,
    label: &str,
    specs: &BTreeMap<String, Spec>,
    names: &BTreeMap<i16, String>,
) {
    let _ = writeln!(s, "/// What Apache Kafka {label}'s schemas declare for each API key: released versions and listeners.");
    let _ = writeln!(s, "pub static {name}: &[ApiRange] = &[");
    let mut reqs: Vec<&Spec> = specs.values().filter(|s| s.kind == "request").collect();
    reqs.sort_by_key(|s| s.api_key);
    for r in reqs {
        let st = r.stable();
        if st.is_empty() {
            continue;
        }
        let key = r.api_key.expect("key");
        let _ = writeln!(
            s,
            "    ApiRange {{ api_key: ApiKey::{}, min: {}, max: {}, listeners: {} }},",
            names[&key],
            st.lo,
            st.hi,
            listeners_bits(r)
        );
    }
    let _ = writeln!(s, "];\n");
}

/// The advertised-version tables of each release.
pub fn releases_file(
    pin: &str,
    new: &BTreeMap<String, Spec>,
    old: &BTreeMap<String, Spec>,
) -> String {
    let mut names = BTreeMap::new();
    for sp in old.values().chain(new.values()) {
        if sp.kind == "request" {
            let k = sp.api_key.expect("key");
            names.insert(
                k,
                sp.name.strip_suffix("Request").expect("name").to_string(),
            );
        }
    }
    let mut s = String::new();
    s.push_str(pin);
    s.push_str("\n//! The API versions each Kafka release's schemas declare (data for version negotiation).\n\n");
    s.push_str(ALLOWS);
    s.push_str("\nuse crate::messages::ApiKey;\nuse crate::versions::{ApiRange, Listeners};\n\n");
    release_table(&mut s, "KAFKA_4_4_0", "4.4.0", new, &names);
    release_table(&mut s, "KAFKA_3_9_1", "3.9.1", old, &names);
    s
}
