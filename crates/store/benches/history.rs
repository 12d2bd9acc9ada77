//! History benchmark: a large generated history, then search, list and export times.
//!
//! `cargo bench -p roundtable-store --bench history`
//! `ROUNDTABLE_BENCH_RUNS=10000` scales the history down (default 100,000 runs).
//! Goals on a 2-core machine: search p95 ≤ 10 ms, list ≤ 5 ms, export of 1,000
//! runs to HTML < 1 s; a conversation of 20 turns of 5 models read whole well
//! under 300 ms (the window opens it), the list of threads and a page deep in
//! the history (the window pages in as it scrolls, each page after the last
//! line loaded) fast enough to scroll.

use roundtable_store::export::to_html;
use roundtable_store::{
    ImportedRun, ListQuery, Meta, ModelResult, ModelSpec, Resolution, RoundtableRequest,
    RoundtableResponse, RunStatus, Store, Usage,
};
use std::time::{Duration, Instant};

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

const COMMON: &[&str] = &[
    "the", "a", "of", "to", "and", "in", "is", "it", "that", "for", "you", "with", "on", "as",
    "are", "this", "be", "can", "or", "by", "use", "when", "which", "your", "more", "if", "not",
    "will", "each", "one", "how", "what", "there", "should", "also", "than", "most", "but",
];

const TOPICAL: &[&str] = &[
    "rust",
    "python",
    "tokio",
    "async",
    "database",
    "index",
    "query",
    "latency",
    "throughput",
    "cache",
    "memory",
    "thread",
    "mutex",
    "channel",
    "server",
    "client",
    "request",
    "response",
    "model",
    "prompt",
    "token",
    "embedding",
    "vector",
    "search",
    "ranking",
    "bm25",
    "sqlite",
    "postgres",
    "migration",
    "schema",
    "transaction",
    "lock",
    "deadlock",
    "retry",
    "timeout",
    "backoff",
    "kubernetes",
    "docker",
    "container",
    "deploy",
    "pipeline",
    "compiler",
    "borrow",
    "lifetime",
    "trait",
    "generic",
    "closure",
    "iterator",
    "allocation",
    "benchmark",
    "profile",
    "recipe",
    "garlic",
    "pasta",
    "oven",
    "bread",
    "flour",
    "butter",
    "travel",
    "museum",
    "train",
    "flight",
    "budget",
    "invoice",
    "contract",
    "tax",
    "garden",
    "tomato",
    "compost",
    "soil",
    "history",
    "empire",
    "revolution",
    "treaty",
    "physics",
    "quantum",
    "entropy",
    "gravity",
    "orbit",
    "telescope",
    "chemistry",
    "enzyme",
    "protein",
    "genome",
    "climate",
    "carbon",
    "battery",
    "solar",
    "turbine",
    "grid",
    "inflation",
    "interest",
    "mortgage",
    "portfolio",
    "bond",
    "equity",
    "marketing",
    "customer",
    "churn",
    "pricing",
    "startup",
    "hiring",
    "interview",
    "resume",
    "salary",
    "negotiation",
    "poetry",
    "novel",
    "chapter",
    "metaphor",
    "guitar",
    "chord",
    "melody",
    "rhythm",
    "painting",
    "canvas",
    "pigment",
    "sculpture",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "ta", "po", "si", "de", "va", "zu", "bri", "tor", "quen", "lys",
    "mar", "pel", "dor", "fin", "gal", "hex", "jor", "kel", "nim", "orb", "pra", "sel", "tun",
    "vex", "wil", "yan", "zor", "cra", "dro", "ele", "fla", "gri", "hol", "ist", "jul",
];

/// A Zipf-distributed vocabulary (s ≈ 1, like natural text): function words at
/// the top, topical words spread through the middle ranks, a long tail of
/// made-up words. Each run also has a couple of topics it keeps coming back to.
struct Vocab {
    words: Vec<String>,
    cumulative: Vec<f64>,
    tail: Vec<String>,
}

impl Vocab {
    fn new(rng: &mut Rng) -> Self {
        let mut tail: Vec<String> = (0..30_000)
            .map(|_| {
                let n = 2 + rng.below(3);
                (0..n)
                    .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                    .collect()
            })
            .collect();
        tail.sort();
        tail.dedup();
        // Shuffle so ranks are not alphabetical.
        for i in (1..tail.len()).rev() {
            tail.swap(i, rng.below(i + 1));
        }
        let mut words: Vec<String> = COMMON.iter().map(|w| w.to_string()).collect();
        words.extend(tail.iter().cloned());
        // Topical words at ranks ~100..~6000.
        for (k, t) in TOPICAL.iter().enumerate() {
            let rank = 100 + k * 45;
            words.insert(rank.min(words.len()), t.to_string());
        }
        let mut cumulative = Vec::with_capacity(words.len());
        let mut acc = 0.0;
        for r in 0..words.len() {
            acc += 1.0 / ((r + 1) as f64).powf(1.05);
            cumulative.push(acc);
        }
        Vocab {
            words,
            cumulative,
            tail,
        }
    }

    fn general(&self, rng: &mut Rng) -> &str {
        let x = rng.unit() * self.cumulative.last().unwrap();
        let i = self.cumulative.partition_point(|&c| c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    fn sentence(&self, rng: &mut Rng, topics: &[&str], end: char) -> String {
        let n = 6 + rng.below(14);
        let topical_at = if rng.below(100) < 45 {
            Some(rng.below(n))
        } else {
            None
        };
        let mut s = String::new();
        for i in 0..n {
            let w = if Some(i) == topical_at {
                topics[rng.below(topics.len())]
            } else {
                self.general(rng)
            };
            if i == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    s.extend(f.to_uppercase());
                    s.push_str(c.as_str());
                }
            } else {
                s.push(' ');
                s.push_str(w);
            }
        }
        s.push(end);
        s
    }

    fn text(&self, rng: &mut Rng, topics: &[&str], min_chars: usize) -> String {
        let mut s = String::new();
        while s.len() < min_chars {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&self.sentence(rng, topics, '.'));
        }
        s
    }
}

fn topics(rng: &mut Rng) -> Vec<&'static str> {
    (0..2 + rng.below(2))
        .map(|_| TOPICAL[rng.skewed(TOPICAL.len())])
        .collect()
}

const MODELS: &[&str] = &[
    "openai/gpt-4.1",
    "openai/gpt-4.1-mini",
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-haiku-4-5",
    "gemini/gemini-2.5-flash",
    "gemini/gemini-2.5-pro",
    "ollama/llama3.2",
    "mistral/mistral-large",
];

fn make_run(rng: &mut Rng, vocab: &Vocab, i: usize, start_ms: i64) -> ImportedRun {
    let n = 3 + rng.below(3);
    make_run_of(rng, vocab, i, start_ms, n)
}

/// A run of `n` models.
fn make_run_of(rng: &mut Rng, vocab: &Vocab, i: usize, start_ms: i64, n: usize) -> ImportedRun {
    let models: Vec<&str> = (0..n).map(|_| MODELS[rng.below(MODELS.len())]).collect();
    let topics = topics(rng);
    let input = vocab.sentence(rng, &topics, '?');
    let request = RoundtableRequest {
        input,
        models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
        resolution: Some(Resolution::Summary),
        ..RoundtableRequest::default()
    };
    let model_results: Vec<ModelResult> = models
        .iter()
        .enumerate()
        .map(|(idx, m)| {
            let failed = rng.below(20) == 0;
            ModelResult {
                index: idx,
                model: m.to_string(),
                data: if failed {
                    String::new()
                } else {
                    let len = 200 + rng.below(400);
                    vocab.text(rng, &topics, len)
                },
                duration_ms: 400 + rng.below(8000) as u64,
                cost: rng.unit() * 0.01,
                error: failed.then(|| "timeout after 120 s".to_string()),
                usage: Usage {
                    input_tokens: 50 + rng.below(500) as u64,
                    output_tokens: 100 + rng.below(900) as u64,
                    ..Usage::default()
                },
                ..ModelResult::default()
            }
        })
        .collect();
    let total_cost = model_results.iter().map(|r| r.cost).sum::<f64>();
    let resolved_len = 150 + rng.below(250);
    let response = RoundtableResponse {
        id: format!("rt_bench{i:08}"),
        data: Some(vocab.text(rng, &topics, resolved_len)),
        meta: Meta {
            resolution: Resolution::Summary,
            models_used: model_results
                .iter()
                .filter(|r| r.succeeded())
                .map(|r| r.model.clone())
                .collect(),
            total_cost,
            total_duration_ms: 1000 + rng.below(10_000) as u64,
            summary_model: Some("openai/gpt-4.1-mini".into()),
            ..Meta::default()
        },
        model_results,
    };
    ImportedRun {
        request: Some(request),
        response,
        status: if rng.below(50) == 0 {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        },
        created_at_ms: Some(start_ms + i as i64 * 30_000),
        marks: Default::default(),
    }
}

fn queries(rng: &mut Rng, vocab: &Vocab) -> Vec<String> {
    let topical = |rng: &mut Rng| TOPICAL[rng.below(TOPICAL.len())];
    let mut q = Vec::new();
    for i in 0..200 {
        let s = match i % 20 {
            // One topical word.
            0..=7 => topical(rng).to_string(),
            // Two topical words.
            8..=11 => format!("{} {}", topical(rng), topical(rng)),
            // A prefix.
            12 | 13 => {
                let t = topical(rng);
                format!("{}*", &t[..t.len().min(4)])
            }
            // A phrase: two adjacent words of some generated answer.
            14 | 15 => loop {
                let t = topics(rng);
                let text = vocab.text(rng, &t, 200).to_lowercase();
                let words: Vec<&str> = text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect();
                let pairs: Vec<String> = words
                    .windows(2)
                    .filter(|w| !COMMON.contains(&w[0]) && !COMMON.contains(&w[1]))
                    .map(|w| format!("\"{} {}\"", w[0], w[1]))
                    .collect();
                if !pairs.is_empty() {
                    break pairs[rng.below(pairs.len())].clone();
                }
            },
            // A word from the tail.
            16 | 17 => vocab.tail[rng.below(2000)].clone(),
            // A typed question, punctuation and all.
            18 => format!("how to {} {}-{}?", topical(rng), topical(rng), topical(rng)),
            // A word found in nearly every run.
            _ => COMMON[rng.below(6)].to_string(),
        };
        q.push(s);
    }
    q
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    println!("{name} p50: {}", ms(percentile(&times, 0.5)));
    println!("{name} p95: {}", ms(percentile(&times, 0.95)));
    println!("{name} max: {}", ms(*times.last().unwrap()));
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    let runs: usize = std::env::var("ROUNDTABLE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // ROUNDTABLE_BENCH_DB=path keeps the generated history there and reuses it.
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var_os("ROUNDTABLE_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("history.db"));
    let reuse = path.exists();
    let store = Store::open(&path).unwrap();
    let mut rng = Rng::new(0x5EED_1234_ABCD_0001);
    let vocab = Vocab::new(&mut rng);
    let runs = if reuse {
        let n = store
            .list_runs(&ListQuery {
                limit: usize::MAX / 2,
                ..ListQuery::default()
            })
            .unwrap()
            .len();
        println!("reusing {}", path.display());
        n
    } else {
        runs
    };
    println!("runs: {runs}");

    let t = Instant::now();
    let mut gen_time = Duration::ZERO;
    let mut answers = 0usize;
    let start_ms = 1_700_000_000_000;
    let batch = 1000;
    let mut i = if reuse { runs } else { 0 };
    while i < runs {
        let g = Instant::now();
        let chunk: Vec<ImportedRun> = (i..(i + batch).min(runs))
            .map(|k| make_run(&mut rng, &vocab, k, start_ms))
            .collect();
        gen_time += g.elapsed();
        answers += chunk
            .iter()
            .map(|r| r.response.model_results.len())
            .sum::<usize>();
        store.bulk_import(&chunk).unwrap();
        i += chunk.len();
    }
    let total = t.elapsed();
    if !reuse {
        println!("answers: {answers}");
        println!("text generation: {:.2} s", gen_time.as_secs_f64());
        println!(
            "import (bulk, {batch} runs per transaction): {:.2} s ({:.0} runs/s)",
            (total - gen_time).as_secs_f64(),
            runs as f64 / (total - gen_time).as_secs_f64()
        );
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(path.with_extension("db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!("database size: {:.1} MB", size as f64 / 1e6);

    let page = ListQuery::default();
    let qs = queries(&mut rng, &vocab);
    // One untimed pass warms the page cache, as a long-running app would be.
    let mut hits = 0usize;
    for q in &qs {
        hits += store.search(q, &page).unwrap().len();
    }
    let mut times = Vec::new();
    for q in &qs {
        let t = Instant::now();
        let r = store.search(q, &page).unwrap();
        times.push(t.elapsed());
        std::hint::black_box(r);
    }
    println!(
        "search queries: {} (avg {:.1} hits on the first page)",
        qs.len(),
        hits as f64 / qs.len() as f64
    );
    let mut slowest: Vec<(Duration, &String)> = times.iter().copied().zip(&qs).collect();
    slowest.sort_by_key(|b| std::cmp::Reverse(b.0));
    if std::env::var_os("ROUNDTABLE_BENCH_VERBOSE").is_some() {
        for (t, q) in slowest.iter().take(15) {
            println!("  slow: {} {q:?}", ms(*t));
        }
    }
    report("search", times);

    let mut times = Vec::new();
    for q in &qs {
        let f = ListQuery {
            model: Some("claude".into()),
            ..ListQuery::default()
        };
        let t = Instant::now();
        std::hint::black_box(store.search(q, &f).unwrap());
        times.push(t.elapsed());
    }
    report("search with a model filter", times);

    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        std::hint::black_box(store.list_runs(&page).unwrap());
        times.push(t.elapsed());
    }
    report("list first page", times);

    let mut times = Vec::new();
    for k in 0..200 {
        let f = ListQuery {
            status: Some(RunStatus::Completed),
            model: Some(MODELS[k % MODELS.len()].into()),
            ..ListQuery::default()
        };
        let t = Instant::now();
        std::hint::black_box(store.list_runs(&f).unwrap());
        times.push(t.elapsed());
    }
    report("list first page filtered (status + model)", times);

    let mut times = Vec::new();
    for k in 0..200 {
        let f = ListQuery {
            offset: k * 50,
            status: Some(RunStatus::Completed),
            model: Some("gemini".into()),
            ..ListQuery::default()
        };
        let t = Instant::now();
        std::hint::black_box(store.list_runs(&f).unwrap());
        times.push(t.elapsed());
    }
    report(
        "list filtered deep pages (status + model, offsets 0-9950)",
        times,
    );

    let ids: Vec<String> = store
        .list_runs(&ListQuery {
            limit: 1000,
            ..ListQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let t = Instant::now();
    let stored: Vec<_> = ids
        .iter()
        .map(|id| store.get_run(id).unwrap().unwrap())
        .collect();
    let load = t.elapsed();
    let t = Instant::now();
    let html = to_html(&stored);
    let render = t.elapsed();
    println!("export {} runs: load {}", stored.len(), ms(load));
    println!("export {} runs to HTML: {}", stored.len(), ms(render));
    println!(
        "export {} runs total: {} ({:.1} MB of HTML)",
        stored.len(),
        ms(load + render),
        html.len() as f64 / 1e6
    );

    // A conversation of 20 turns of 5 models, recorded after the rest.
    let mut previous: Option<String> = None;
    for turn in 0..20 {
        let k = runs + 1_000_000 + turn;
        let mut run = make_run_of(&mut rng, &vocab, k, start_ms, 5);
        if let Some(r) = run.request.as_mut() {
            r.previous_id = previous.clone();
        }
        previous = Some(run.response.id.clone());
        store.bulk_import(&[run]).unwrap();
    }
    let last = previous.unwrap();
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let thread = store.thread(&last).unwrap();
        times.push(t.elapsed());
        assert_eq!(thread.len(), 20);
        assert_eq!(thread[19].response.model_results.len(), 5);
    }
    report("a thread of 20 turns of 5 models, read whole", times);

    let threads = ListQuery {
        threads: true,
        ..ListQuery::default()
    };
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        std::hint::black_box(store.list_runs(&threads).unwrap());
        times.push(t.elapsed());
    }
    report("list of threads, first page", times);

    // The same pages by offset (each reads and drops the lines before it)
    // and after the line before them (keyset: a seek in runs_by_created).
    let lines: Vec<String> = store
        .list_runs(&ListQuery {
            limit: usize::MAX / 2,
            ..threads.clone()
        })
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let offsets: Vec<usize> = (0..50).map(|k| lines.len() * k / 50).collect();
    let mut times = Vec::new();
    let mut firsts = Vec::new();
    for &offset in &offsets {
        let deep = ListQuery {
            offset,
            ..threads.clone()
        };
        let t = Instant::now();
        let page = std::hint::black_box(store.list_runs(&deep).unwrap());
        times.push(t.elapsed());
        firsts.push(page[0].id.clone());
    }
    report(
        "list of threads, pages anywhere in the history (offset)",
        times,
    );

    let mut times = Vec::new();
    for (&offset, first) in offsets.iter().zip(&firsts) {
        let deep = ListQuery {
            after: offset.checked_sub(1).map(|i| lines[i].clone()),
            ..threads.clone()
        };
        let t = Instant::now();
        let page = std::hint::black_box(store.list_runs(&deep).unwrap());
        times.push(t.elapsed());
        assert_eq!(&page[0].id, first, "the same page as by offset {offset}");
    }
    report(
        "list of threads, pages anywhere in the history (after the line before)",
        times,
    );
}
