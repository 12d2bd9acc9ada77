//! The engine's fan-out overhead: `meta.total_duration_ms` minus the slowest
//! model's latency, for panels of 1, 10, 50 and 200 models against the fake
//! provider at a fixed latency (its floor: a run cannot be faster), in the
//! default configuration (a server on this machine, nothing set). Prints its
//! figures (median and worst of the runs, and the median run over the floor).
//!
//! `cargo bench -p roundtable-bench --bench fanout` (or `make bench`).

use roundtable_core::{
    Engine, ModelSpec, PriceTable, Provider, Resolution, RoundtableRequest, WireFormat,
};
use roundtable_testkit::{Behavior, FakeProvider, Script};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

const LATENCY_MS: u64 = 300;
const RUNS: usize = 7;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fake = FakeProvider::start(
            Script::new().default_behavior(Behavior::answer("An answer of a few words.").latency(LATENCY_MS)),
        )
        .await
        .unwrap();
        // The default configuration: a server on this machine that says
        // nothing of itself gets the panel in parallel.
        let engine = Engine::new(
            vec![Provider::new("fake", WireFormat::Openai, fake.openai_base_url())],
            PriceTable::builtin(),
        );
        println!("fan-out overhead (total_duration_ms - {LATENCY_MS} ms fixed latency), {RUNS} runs each, after one warm-up:");
        for n in [1usize, 10, 50, 200] {
            let req = RoundtableRequest {
                input: "What is the capital of France?".into(),
                models: (0..n).map(|i| ModelSpec::named(format!("fake/m{i}"))).collect(),
                resolution: Some(Resolution::Fast),
                ..Default::default()
            };
            let mut overheads = Vec::new();
            let mut vs_slowest = Vec::new();
            let mut walls = Vec::new();
            for run in 0..=RUNS {
                let t = Instant::now();
                let out = engine.run(req.clone(), None, CancellationToken::new()).await.unwrap();
                let wall = t.elapsed().as_secs_f64() * 1000.0;
                assert!(out.response.model_results.iter().all(|r| r.error.is_none()));
                if run == 0 {
                    continue; // warm-up: connection pool
                }
                let slowest = out.response.model_results.iter().map(|r| r.duration_ms).max().unwrap();
                overheads.push(out.response.meta.total_duration_ms as f64 - LATENCY_MS as f64);
                vs_slowest.push(out.response.meta.total_duration_ms as f64 - slowest as f64);
                walls.push(wall);
            }
            overheads.sort_by(f64::total_cmp);
            vs_slowest.sort_by(f64::total_cmp);
            walls.sort_by(f64::total_cmp);
            let wall = walls[walls.len() / 2];
            println!(
                "  {n:>3} models: overhead median {:>5.1} ms, worst {:>5.1} ms  (total minus slowest model's measured duration: median {:.1} ms); run {wall:.0} ms, {:.2}x the floor",
                overheads[overheads.len() / 2],
                overheads[overheads.len() - 1],
                vs_slowest[vs_slowest.len() / 2],
                wall / LATENCY_MS as f64,
            );
        }
    });
}
