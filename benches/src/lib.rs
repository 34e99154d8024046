//! Benchmarks live in `benches/benches/`; run them with `cargo bench -p kbench`.
//! BENCHMARKS.md records the figures and the commands that reproduce them.
