//! Spend benchmark: a year of 100,000 runs (3 to 5 calls each, a few failed, a
//! few unpriced, judge rankings on some), then every figure of the Usage view
//! and the budget's sums, timed.
//!
//! `cargo bench -p roundtable-store --bench spend`
//! `ROUNDTABLE_BENCH_RUNS=10000` scales the history down (default 100,000 runs).
//! Goal on a 2-core machine: each figure under 100 ms (median).

use roundtable_store::{
    ImportedRun, Judgement, Meta, ModelOutcome, ModelResult, ModelSpec, RoundtableRequest,
    RoundtableResponse, RunStatus, SpendQuery, Store, UNPRICED_KEY, Usage,
};
use std::time::{Duration, Instant};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

const MODELS: &[&str] = &[
    "openai/gpt-4.1",
    "openai/gpt-4.1-mini",
    "openai/o3",
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-haiku-4-5",
    "gemini/gemini-2.5-pro",
    "gemini/gemini-2.5-flash",
    "openrouter/deepseek/deepseek-r1",
    "ollama/llama3.2",
    "mine/unpriced-model",
];

const ENDS: &[ModelOutcome] = &[
    ModelOutcome::Failed,
    ModelOutcome::TimedOut,
    ModelOutcome::Cancelled,
    ModelOutcome::Refused,
];

const YEAR_MS: i64 = 365 * 86_400_000;

fn make_run(rng: &mut Rng, i: usize, runs: usize, start_ms: i64) -> ImportedRun {
    let n = 3 + rng.below(3);
    let models: Vec<&str> = (0..n).map(|_| MODELS[rng.below(MODELS.len())]).collect();
    let model_results: Vec<ModelResult> = models
        .iter()
        .enumerate()
        .map(|(index, m)| {
            let end = if rng.below(20) == 0 {
                ENDS[rng.below(ENDS.len())]
            } else {
                ModelOutcome::Answered
            };
            let mut usage = Usage {
                input_tokens: 50 + rng.below(2000) as u64,
                output_tokens: 100 + rng.below(2000) as u64,
                ..Usage::default()
            };
            let unpriced = m.starts_with("mine/");
            if unpriced {
                usage
                    .extra
                    .insert(UNPRICED_KEY.into(), "no known price".into());
            }
            ModelResult {
                index,
                model: m.to_string(),
                data: "answer".into(),
                duration_ms: 400 + rng.below(8000) as u64,
                cost: if unpriced { 0.0 } else { rng.unit() * 0.01 },
                error: (end != ModelOutcome::Answered).then(|| "it ended".into()),
                outcome: Some(end),
                usage,
                ..ModelResult::default()
            }
        })
        .collect();
    let total_cost = model_results.iter().map(|r| r.cost).sum::<f64>() + 0.001;
    ImportedRun {
        request: Some(RoundtableRequest {
            input: "what does it cost?".into(),
            models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
            ..RoundtableRequest::default()
        }),
        response: RoundtableResponse {
            id: format!("rt_spend{i:08}"),
            data: Some("resolved".into()),
            meta: Meta {
                total_cost,
                total_duration_ms: 1000,
                ..Meta::default()
            },
            model_results,
        },
        status: RunStatus::Completed,
        created_at_ms: Some(start_ms + (i as i64 * YEAR_MS) / runs as i64),
        marks: Default::default(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs `f` `n` times and prints the median.
fn time(name: &str, n: usize, mut f: impl FnMut()) {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    println!("{name} median: {}", ms(times[times.len() / 2]));
}

fn main() {
    let runs: usize = std::env::var("ROUNDTABLE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // ROUNDTABLE_BENCH_DB=path keeps the generated history there (rebuilt each time).
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var_os("ROUNDTABLE_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("history.db"));
    let _ = std::fs::remove_file(&path);
    let store = Store::open(&path).unwrap();
    let mut rng = Rng::new(0x5EED_5BE0_0000_0001);
    let start_ms = 1_767_225_600_000; // 2026-01-01
    let t = Instant::now();
    let mut calls = 0;
    for chunk in (0..runs).collect::<Vec<_>>().chunks(1000) {
        let batch: Vec<ImportedRun> = chunk
            .iter()
            .map(|&i| make_run(&mut rng, i, runs, start_ms))
            .collect();
        calls += batch
            .iter()
            .map(|r| r.response.model_results.len())
            .sum::<usize>();
        store.bulk_import(&batch).unwrap();
    }
    for i in (0..runs).step_by(10) {
        store
            .record_judgement(
                &format!("rt_spend{i:08}"),
                &Judgement {
                    judge_model: "openai/o3".into(),
                    ranking: vec![0, 1, 2],
                    reasons: vec![String::new(); 3],
                    cost: 0.002,
                    judged_at_ms: start_ms + (i as i64 * YEAR_MS) / runs as i64,
                },
            )
            .unwrap();
    }
    println!(
        "runs: {runs}, calls: {calls}, over 365 days (built in {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    let all = SpendQuery {
        utc_offset_minutes: 60,
        ..SpendQuery::default()
    };
    let s = store.spend_stats(&all).unwrap();
    println!(
        "figures: {} days, {} weeks, {} months, {} providers, {} models, {} unpriced; ${:.2}",
        s.days.len(),
        s.weeks.len(),
        s.months.len(),
        s.providers.len(),
        s.models.len(),
        s.unpriced.len(),
        s.totals.cost
    );
    let end = start_ms + YEAR_MS;
    let month = SpendQuery {
        since_ms: Some(end - 30 * 86_400_000),
        until_ms: Some(end),
        utc_offset_minutes: 60,
    };
    time("every figure, all 365 days", 15, || {
        store.spend_stats(&all).unwrap();
    });
    time("every figure, the last 30 days", 15, || {
        store.spend_stats(&month).unwrap();
    });
    time("budget: spent today and this month", 15, || {
        store.spent_between(end - 86_400_000, end).unwrap();
        store.spent_between(end - 30 * 86_400_000, end).unwrap();
    });
}
