//! Benchmarks that need the fake provider (`roundtable-testkit`), in
//! `benches/`: `fanout` (the engine's fan-out overhead) and `load` (the local
//! API under load). They live in this crate so that core and server do not
//! depend on the testkit for them. `make bench` runs them with the others;
//! alone: `cargo bench -p roundtable-bench --bench fanout` (or `load`).
