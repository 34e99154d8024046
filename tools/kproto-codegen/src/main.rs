#![allow(unreachable_pub, missing_docs)]
//! `kproto-codegen`: generates kproto's message code from Apache Kafka's message schemas.
//!
//! Usage: `cargo run -p kproto-codegen -- [--check] [--spec DIR] [--spec-old DIR] [--out DIR]`
//! (defaults: `../shared/kafka-message-spec`, `../shared/kafka-message-spec-3.9`,
//! `kproto/src/messages/generated`, relative to the workspace root). `--check` writes nothing
//! and fails when the generated files differ from what is committed.

mod emit;
mod emit_testing;
mod merge;
mod schema;
mod tables;

use merge::{layout, merge, Merged};
use schema::{dir_fingerprint, load_dir, Spec};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Fingerprints of the schema folders this generator is pinned to (Kafka 4.4.0 and 3.9.1).
const PINNED_NEW: u64 = 0x67bf_e26d_720a_5e26;
const PINNED_OLD: u64 = 0xb9fb_3649_ad3a_0b85;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut spec_new = root.join("../shared/kafka-message-spec");
    let mut spec_old = root.join("../shared/kafka-message-spec-3.9");
    let mut out = root.join("kproto/src/messages/generated");
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--check" => check = true,
            "--spec" => spec_new = PathBuf::from(args.next().expect("--spec DIR")),
            "--spec-old" => spec_old = PathBuf::from(args.next().expect("--spec-old DIR")),
            "--out" => out = PathBuf::from(args.next().expect("--out DIR")),
            other => {
                eprintln!("unknown argument {other}");
                return ExitCode::from(2);
            }
        }
    }
    let fp_new = dir_fingerprint(&spec_new);
    let fp_old = dir_fingerprint(&spec_old);
    if (fp_new, fp_old) != (PINNED_NEW, PINNED_OLD) {
        eprintln!(
            "schema folders are not the pinned releases (fingerprints {fp_new:016x}/{fp_old:016x}, pinned {PINNED_NEW:016x}/{PINNED_OLD:016x})"
        );
        return ExitCode::FAILURE;
    }
    let files = generate(&spec_new, &spec_old, fp_new, fp_old);
    if check {
        let mut bad = 0;
        for (name, text) in &files {
            let path = out.join(name);
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            if &have != text {
                eprintln!("differs: {}", path.display());
                bad += 1;
            }
        }
        if let Ok(rd) = std::fs::read_dir(&out) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if !files.contains_key(&n) {
                    eprintln!("not generated: {}", e.path().display());
                    bad += 1;
                }
            }
        }
        if bad > 0 {
            eprintln!("{bad} generated file(s) out of date: run `cargo run -p kproto-codegen`");
            return ExitCode::FAILURE;
        }
        println!("kproto-codegen: {} generated files up to date", files.len());
    } else {
        std::fs::create_dir_all(&out).expect("create out dir");
        if let Ok(rd) = std::fs::read_dir(&out) {
            for e in rd.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        for (name, text) in &files {
            std::fs::write(out.join(name), text).expect("write generated file");
        }
        println!(
            "kproto-codegen: wrote {} files to {}",
            files.len(),
            out.display()
        );
    }
    ExitCode::SUCCESS
}

/// One API: its key, name and merged request/response.
pub struct Api {
    pub key: i16,
    pub name: String,
    pub module: String,
    pub request: Merged,
    pub response: Merged,
}

fn verify(m: &Merged, new: Option<&Spec>, old: Option<&Spec>) {
    for v in m.spec.valid.lo..=m.spec.valid.hi {
        let src = if v >= m.new_min { new.or(old) } else { old };
        let src = src.expect("source for version");
        let want = layout(src, v);
        let got = layout(&m.spec, v);
        assert_eq!(
            got, want,
            "{} v{v}: merged layout differs from its source",
            m.spec.name
        );
    }
}

fn generate(
    spec_new: &Path,
    spec_old: &Path,
    fp_new: u64,
    fp_old: u64,
) -> BTreeMap<String, String> {
    let new = load_dir(spec_new);
    let old = load_dir(spec_old);
    // Request names by key, 4.4.0 names first.
    let mut by_key: BTreeMap<i16, String> = BTreeMap::new();
    for s in old.values().chain(new.values()) {
        if s.kind == "request" {
            by_key.insert(s.api_key.expect("apiKey"), s.name.clone());
        }
    }
    let mut apis = Vec::new();
    for (&key, req_name) in &by_key {
        let base = req_name
            .strip_suffix("Request")
            .expect("request name")
            .to_string();
        let resp_name = format!("{base}Response");
        let old_req = old
            .values()
            .find(|s| s.kind == "request" && s.api_key == Some(key));
        let old_resp = old
            .values()
            .find(|s| s.kind == "response" && s.api_key == Some(key));
        // 4.4.0 keeps files for the removed ZooKeeper-era keys with "validVersions": "none".
        let nreq = new.get(req_name).filter(|s| !s.valid.is_empty());
        let nresp = new.get(&resp_name).filter(|_| nreq.is_some());
        // A 3.9.1 message whose only version was unstable was never released.
        let old_req = old_req.filter(|s| !s.stable().is_empty());
        let old_resp = old_resp.filter(|_| old_req.is_some());
        let request = merge(nreq, old_req);
        let mut response = merge(nresp, old_resp);
        verify(&request, nreq, old_req);
        verify(&response, nresp, old_resp);
        // Responses share the request's version range and stability.
        response.stable = request.stable;
        apis.push(Api {
            key,
            module: emit::snake(&base),
            name: base,
            request,
            response,
        });
    }
    let header_req = merge(new.get("RequestHeader"), old.get("RequestHeader"));
    let header_resp = merge(new.get("ResponseHeader"), old.get("ResponseHeader"));
    verify(
        &header_req,
        new.get("RequestHeader"),
        old.get("RequestHeader"),
    );
    verify(
        &header_resp,
        new.get("ResponseHeader"),
        old.get("ResponseHeader"),
    );

    let pin = format!(
        "// Generated by kproto-codegen from Apache Kafka's message schemas: 4.4.0 (kafka-clients commitId\n// 1156b2752aaa28ea, schema fingerprint {fp_new:016x}) and 3.9.1 (commitId f745dfdcee2b9851,\n// fingerprint {fp_old:016x}). Do not edit: run `cargo run -p kproto-codegen`.\n"
    );
    let mut files = BTreeMap::new();
    for api in &apis {
        files.insert(format!("{}.rs", api.module), tables::api_file(&pin, api));
    }
    files.insert(
        "header.rs".into(),
        tables::header_file(&pin, &header_req, &header_resp),
    );
    files.insert("mod.rs".into(), tables::mod_file(&pin, &apis));
    files.insert(
        "releases.rs".into(),
        tables::releases_file(&pin, &new, &old),
    );
    files.into_iter().map(|(k, v)| (k, rustfmt(&v))).collect()
}

/// Formats generated code with rustfmt, so that it reads like the rest and `cargo fmt` agrees.
fn rustfmt(code: &str) -> String {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rustfmt");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = code.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("rustfmt output");
    writer.join().expect("join").expect("write to rustfmt");
    assert!(
        out.status.success(),
        "rustfmt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}
