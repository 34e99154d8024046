//! Counts API keys and released (key, version) pairs in Kafka's schema folders (4.4.0 and
//! 3.9.1, as ../shared/kafka-message-spec/SOURCE.md combines them) and in kproto's generated
//! code, and fails if they differ.

use integration_tests::repo_root;
use kproto::ApiKey;
use std::collections::BTreeSet;
use std::path::Path;

fn parse_range(s: &str) -> Option<(i16, i16)> {
    let s = s.trim();
    if s == "none" {
        return None;
    }
    if let Some(a) = s.strip_suffix('+') {
        let a = a.parse().unwrap();
        return Some((a, i16::MAX));
    }
    match s.split_once('-') {
        Some((a, b)) => Some((a.parse().unwrap(), b.parse().unwrap())),
        None => {
            let v = s.parse().unwrap();
            Some((v, v))
        }
    }
}

/// The released (key, version) pairs of one schema folder.
fn released(dir: &Path) -> BTreeSet<(i16, i16)> {
    let mut out = BTreeSet::new();
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (is ../shared beside the repo?)", dir.display()));
    for e in entries {
        let p = e.unwrap().path();
        if !p.to_string_lossy().ends_with("Request.json") {
            continue;
        }
        let text: String = std::fs::read_to_string(&p)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let key = v["apiKey"].as_i64().unwrap() as i16;
        let Some((lo, mut hi)) = parse_range(v["validVersions"].as_str().unwrap()) else {
            continue;
        };
        if v["latestVersionUnstable"].as_bool() == Some(true) {
            hi -= 1;
        }
        for ver in lo..=hi {
            out.insert((key, ver));
        }
    }
    out
}

#[test]
fn generated_code_covers_exactly_the_released_versions_of_both_releases() {
    let shared = repo_root().join("../shared");
    let new = released(&shared.join("kafka-message-spec"));
    let old = released(&shared.join("kafka-message-spec-3.9"));
    let union: BTreeSet<(i16, i16)> = new.union(&old).copied().collect();
    let schema_keys: BTreeSet<i16> = union.iter().map(|(k, _)| *k).collect();

    let mut generated = BTreeSet::new();
    for key in ApiKey::ALL {
        let vs = key.versions();
        for v in vs.min..=vs.max {
            if vs.is_stable(v) {
                generated.insert((key.key(), v));
            }
        }
    }
    let generated_keys: BTreeSet<i16> = generated.iter().map(|(k, _)| *k).collect();

    println!(
        "schemas: {} keys, {} released pairs (4.4.0: {}, 3.9.1: {}); generated: {} keys, {} stable pairs",
        schema_keys.len(),
        union.len(),
        new.len(),
        old.len(),
        generated_keys.len(),
        generated.len()
    );
    assert_eq!(schema_keys, generated_keys, "API keys differ");
    let missing: Vec<_> = union.difference(&generated).collect();
    let extra: Vec<_> = generated.difference(&union).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(
        (schema_keys.len(), union.len()),
        (95, 363),
        "SOURCE.md's totals"
    );
}

#[test]
fn unstable_versions_are_generated_but_flagged() {
    // InitProducerId v6 is latestVersionUnstable in 4.4.0.
    let vs = ApiKey::InitProducerId.versions();
    assert!(vs.contains(6));
    assert!(!vs.is_stable(6));
    assert!(vs.is_stable(5));
}
