//! The leaderboard over a large history: 100,000 runs (3 to 5 of 12 models
//! each), 20,000 of them voted on (best, ranking, all bad, pairwise) and 5,000
//! judged, some tagged. Prints the median and p95 of `App::leaderboard` for the
//! votes, the judges and a tag filter. `ROUNDTABLE_BENCH_RUNS` and
//! `ROUNDTABLE_BENCH_VOTES` change the sizes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roundtable_app::keys::MemoryKeychain;
use roundtable_app::store::{
    Ballot, ImportedRun, Judgement, Meta, ModelResult, ModelSpec, Resolution, RoundtableRequest,
    RoundtableResponse, RunStatus, Store, VerdictSource, VoteKind,
};
use roundtable_app::{App, AppOptions, LeaderboardQuery};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MODELS: &[&str] = &[
    "openai/gpt-4.1",
    "openai/gpt-4.1-mini",
    "openai/o4-mini",
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-haiku-4-5",
    "anthropic/claude-opus-4-1",
    "gemini/gemini-2.5-pro",
    "gemini/gemini-2.5-flash",
    "ollama/llama3.2",
    "ollama/qwen3",
    "groq/llama-3.3-70b",
    "mistral/mistral-large",
];

fn make_run(rng: &mut StdRng, i: usize) -> ImportedRun {
    let n = 3 + rng.random_range(0..3);
    let models: Vec<&str> = (0..n)
        .map(|_| MODELS[rng.random_range(0..MODELS.len())])
        .collect();
    let results: Vec<ModelResult> = models
        .iter()
        .enumerate()
        .map(|(idx, m)| ModelResult {
            index: idx,
            model: m.to_string(),
            data: format!("answer {i} of {m}"),
            duration_ms: 400 + rng.random_range(0..8000) as u64,
            cost: rng.random_range(0..10_000) as f64 * 1e-6,
            ..ModelResult::default()
        })
        .collect();
    ImportedRun {
        request: Some(RoundtableRequest {
            input: format!("question {i}"),
            models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
            resolution: Some(Resolution::Fast),
            ..RoundtableRequest::default()
        }),
        response: RoundtableResponse {
            id: format!("rt_bench{i:08}"),
            data: None,
            meta: Meta {
                resolution: Resolution::Fast,
                ..Meta::default()
            },
            model_results: results,
        },
        status: RunStatus::Completed,
        created_at_ms: Some(1_700_000_000_000 + i as i64 * 30_000),
        marks: Default::default(),
    }
}

fn ballot(rng: &mut StdRng, n: usize) -> Ballot {
    let pick = rng.random_range(0..n) as u32;
    let (kind, ranking) = match rng.random_range(0..10) {
        0..=5 => (VoteKind::Best, vec![vec![pick]]),
        6..=7 => {
            let mut order: Vec<u32> = (0..n as u32).collect();
            order.rotate_left(pick as usize);
            (
                VoteKind::Ranking,
                order.into_iter().map(|i| vec![i]).collect(),
            )
        }
        8 => (VoteKind::AllBad, vec![]),
        _ => (
            VoteKind::Pairwise,
            vec![vec![pick], vec![(pick + 1) % n as u32]],
        ),
    };
    Ballot {
        kind,
        ranking,
        blind: true,
    }
}

fn time(app: &App, q: &LeaderboardQuery) -> (Duration, Duration, usize) {
    let mut times: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            let board = app.leaderboard(q).unwrap();
            std::hint::black_box(board);
            t.elapsed()
        })
        .collect();
    times.sort();
    let rows = app.leaderboard(q).unwrap().rows.len();
    (times[times.len() / 2], times[times.len() * 95 / 100], rows)
}

fn main() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let runs = env("ROUNDTABLE_BENCH_RUNS", 100_000);
    let votes = env("ROUNDTABLE_BENCH_VOTES", 20_000).min(runs);
    let home = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(0x1EAD_B0A2_D000_0001);
    let t = Instant::now();
    {
        let store = Store::open(&home.path().join("history.db")).unwrap();
        let mut sizes = Vec::with_capacity(runs);
        for start in (0..runs).step_by(1000) {
            let chunk: Vec<ImportedRun> = (start..(start + 1000).min(runs))
                .map(|i| make_run(&mut rng, i))
                .collect();
            sizes.extend(chunk.iter().map(|r| r.response.model_results.len()));
            store.bulk_import(&chunk).unwrap();
        }
        for k in 0..votes {
            let i = k * runs / votes;
            let id = format!("rt_bench{i:08}");
            store.set_vote(&id, &ballot(&mut rng, sizes[i])).unwrap();
            if k % 4 == 0 {
                let n = sizes[i] as u32;
                let judgement = Judgement {
                    judge_model: "openai/gpt-4.1".into(),
                    ranking: (0..n).rev().collect(),
                    reasons: (0..n).map(|_| "ok".to_string()).collect(),
                    cost: 0.001,
                    judged_at_ms: 0,
                };
                store.record_judgement(&id, &judgement).unwrap();
            }
            if k % 10 == 0 {
                store.add_tag(&id, "code").unwrap();
            }
        }
    }
    println!(
        "history: {runs} runs, {votes} votes, {} judgements, built in {:.1} s",
        votes.div_ceil(4),
        t.elapsed().as_secs_f64()
    );
    {
        let store = Store::open(&home.path().join("history.db")).unwrap();
        let mut times: Vec<Duration> = (0..15)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(store.verdicts(&Default::default()).unwrap());
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "of which the store's query (votes): median {:.1} ms",
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }
    let app = App::open(AppOptions {
        home: Some(home.path().to_path_buf()),
        keychain: Some(Arc::new(MemoryKeychain::default())),
    })
    .unwrap();
    let cases = [
        ("votes", LeaderboardQuery::default()),
        (
            "judges",
            LeaderboardQuery {
                source: VerdictSource::Judges,
                ..LeaderboardQuery::default()
            },
        ),
        (
            "votes tagged 'code'",
            LeaderboardQuery {
                tag: Some("code".into()),
                ..LeaderboardQuery::default()
            },
        ),
    ];
    for (name, q) in cases {
        let (median, p95, rows) = time(&app, &q);
        println!(
            "leaderboard ({name}): median {:.1} ms, p95 {:.1} ms, {rows} models",
            median.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
    }
}
