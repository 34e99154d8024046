//! Kafka's `DumpLogSegments` (`kafka-dump-log.sh`, `org.apache.kafka.tools.DumpLogSegments`)
//! run from the jars of [`crate::kafka::KafkaInstall`], and readers for its output: sections per
//! dumped file, and its `name: value` lines.

use crate::kafka::{run_java, JavaOutput, KafkaInstall};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Kafka's DumpLogSegments main class.
pub const DUMP_LOG_SEGMENTS: &str = "org.apache.kafka.tools.DumpLogSegments";

/// Runs DumpLogSegments with `args` (e.g. `["--files", "a.log,b.index", "--deep-iteration"]`)
/// in `work`, killed after `timeout`; the caller decides whether a failure is expected.
pub fn dump_log_segments(
    install: &KafkaInstall,
    work: &Path,
    args: &[&str],
    timeout: Duration,
) -> JavaOutput {
    run_java(&install.classpath(), work, DUMP_LOG_SEGMENTS, args, timeout)
}

/// `a: 1 b: x` -> {a: 1, b: x}: DumpLogSegments prints `name: value` pairs whose values are
/// single tokens. Panics on a line of another shape, or a name given twice.
pub fn pairs(line: &str) -> BTreeMap<String, String> {
    let toks: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
    let mut m = BTreeMap::new();
    let mut i = 0;
    while i < toks.len() {
        let name = toks[i]
            .strip_suffix(':')
            .unwrap_or_else(|| panic!("expected `name:` at token {i} of {line:?}"));
        let value = toks
            .get(i + 1)
            .unwrap_or_else(|| panic!("no value for {name} in {line:?}"));
        assert!(
            m.insert(name.to_string(), value.to_string()).is_none(),
            "{name} twice in {line:?}"
        );
        i += 2;
    }
    m
}

/// The value of `name` in a [`pairs`] map; panics when it is absent.
pub fn field<'m>(m: &'m BTreeMap<String, String>, name: &str) -> &'m str {
    m.get(name)
        .unwrap_or_else(|| panic!("no {name} in {m:?}"))
        .as_str()
}

/// The value of `name` in a [`pairs`] map as a number; panics when absent or not a number.
pub fn num(m: &BTreeMap<String, String>, name: &str) -> i64 {
    field(m, name)
        .parse()
        .unwrap_or_else(|e| panic!("{name} in {m:?}: {e}"))
}

/// How DumpLogSegments names a timestamp type.
pub fn ts_type_name(t: kproto::records::TimestampType) -> &'static str {
    match t {
        kproto::records::TimestampType::CreateTime => "CreateTime",
        kproto::records::TimestampType::LogAppendTime => "LogAppendTime",
    }
}

/// The output of one DumpLogSegments run, cut at its `Dumping <file>` lines (the file as given
/// on the command line); panics on output before the first one or a file dumped twice.
pub fn dump_sections(stdout: &str) -> BTreeMap<PathBuf, Vec<String>> {
    let mut out: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut current: Option<PathBuf> = None;
    for line in stdout.lines() {
        if let Some(p) = line.strip_prefix("Dumping ") {
            let p = PathBuf::from(p);
            assert!(!out.contains_key(&p), "{} dumped twice", p.display());
            out.insert(p.clone(), Vec::new());
            current = Some(p);
        } else {
            let p = current
                .as_ref()
                .unwrap_or_else(|| panic!("output before the first `Dumping`: {line:?}"));
            out.get_mut(p).expect("section").push(line.to_string());
        }
    }
    out
}
