//! Benchmarks live in `benches/benches/`; run them with `cargo bench -p kbench`.
//! BENCHMARKS.md records the figures and the commands that reproduce them.

use std::path::PathBuf;

/// The mean time in nanoseconds that criterion just measured for `group/function/parameter`
/// (read from its `new/estimates.json` under `$CARGO_TARGET_DIR/criterion`), or `None` when that
/// benchmark did not run. The benches print their ratios from these.
pub fn criterion_mean(group: &str, function: &str, parameter: &str) -> Option<f64> {
    let path = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
        .join(group.replace('/', "_"))
        .join(function)
        .join(parameter)
        .join("new/estimates.json");
    let s = std::fs::read_to_string(path).ok()?;
    let i = s.find("\"mean\"")?;
    let j = s[i..].find("\"point_estimate\":")? + i + 17;
    let end = s[j..].find(',')? + j;
    s[j..end].trim().parse().ok()
}
