//! Load on the local API: 500 requests, 50 at a time, each a 3-model `fast` run
//! against the fake provider with no latency, run twice. Prints requests per
//! second, p50/p95 latency, errors (must be 0) and the process's RSS before and
//! after each round (memory should stay flat). Goal: ≥ 1,000 requests/s on the
//! 2-core machine.
//!
//! Everything is in this process: the fake provider, the server (over an App
//! with a temp ROUNDTABLE_HOME, an in-memory keychain, the SQLite history) and a
//! reqwest client. `cargo bench -p roundtable-bench --bench load` (or `make bench`).

// The API tests' set-up, shared as it is (one place for how the server is started).
#[path = "../../server/tests/it/common/mod.rs"]
mod common;

use common::TOKEN;
use futures_util::StreamExt;
use roundtable_app::store::ListQuery;
use roundtable_testkit::{Behavior, Script};
use std::time::{Duration, Instant};

const REQUESTS: usize = 500;
const CONCURRENCY: usize = 50;
/// Rounds of REQUESTS; `LOAD_ROUNDS` to run more (memory should stay flat).
fn rounds() -> usize {
    std::env::var("LOAD_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n >= 2)
        .unwrap_or(2)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time this process used so far (user + system), from /proc/self/stat.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which is in parentheses): utime is the
            // 12th, stime the 13th.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Round {
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: usize,
}

async fn round(client: &reqwest::Client, url: &str, body: &serde_json::Value, n: usize) -> Round {
    let started = Instant::now();
    let results: Vec<Result<Duration, String>> = futures_util::stream::iter(0..n)
        .map(|_| async move {
            let t = Instant::now();
            let r = client
                .post(url)
                .bearer_auth(TOKEN)
                .json(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = r.status();
            let bytes = r.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
            }
            let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
            let failed = v["model_results"]
                .as_array()
                .is_none_or(|rs| rs.len() != 3 || rs.iter().any(|r| !r["error"].is_null()));
            if failed {
                return Err(format!("a model failed: {v}"));
            }
            Ok(t.elapsed())
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let mut latencies = Vec::with_capacity(n);
    let mut errors = 0;
    for r in results {
        match r {
            Ok(d) => latencies.push(d),
            Err(e) => {
                if errors == 0 {
                    eprintln!("first error: {e}");
                }
                errors += 1;
            }
        }
    }
    latencies.sort();
    Round {
        elapsed,
        latencies,
        errors,
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn bench() {
    // The same set-up as the API tests: an App over a temp home, the fake provider
    // as `fake`, the server on 127.0.0.1.
    let common::Server {
        fake,
        home: _home,
        app,
        handle,
        ..
    } = common::Server::start(Script::new().default_behavior(Behavior::answer("ok"))).await;
    let url = format!("{}/v3/roundtable", handle.url());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let body = serde_json::json!({
        "input": "ping",
        "models": [{"name": "fake/a"}, {"name": "fake/b"}, {"name": "fake/c"}],
        "resolution": "fast",
    });
    // Warm-up: connections, SQLite pages, allocator.
    let warm = round(&client, &url, &body, CONCURRENCY).await;
    assert_eq!(warm.errors, 0);
    // One at a time: the latency of a request on an idle server.
    let mut alone = Vec::new();
    for _ in 0..50 {
        let r = round(&client, &url, &body, 1).await;
        assert_eq!(r.errors, 0);
        alone.extend(r.latencies);
    }
    alone.sort();
    let one_at_a_time = pct(&alone, 0.5);

    println!(
        "local API load: {REQUESTS} requests, {CONCURRENCY} at a time, each a 3-model fast run against zero-latency fakes (all in one process, {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("  one at a time: p50 {one_at_a_time:.1} ms");
    let mut total_errors = 0;
    let mut rss = vec![rss_kib()];
    let rounds = rounds();
    for i in 1..=rounds {
        // The fake provider records every request it gets (for tests): forget
        // them, so its memory does not count as ours.
        fake.reset();
        let cpu = cpu_time();
        let r = round(&client, &url, &body, REQUESTS).await;
        let cpu = cpu_time().saturating_sub(cpu);
        rss.push(rss_kib());
        total_errors += r.errors;
        println!(
            "  round {i}: {:>6.0} requests/s  p50 {:>5.1} ms  p95 {:>5.1} ms  errors {}  RSS {} → {} MiB  CPU {:.2} ms/request ({:.2} cores busy)",
            REQUESTS as f64 / r.elapsed.as_secs_f64(),
            pct(&r.latencies, 0.50),
            pct(&r.latencies, 0.95),
            r.errors,
            rss[i - 1] / 1024,
            rss[i] / 1024,
            cpu.as_secs_f64() * 1000.0 / REQUESTS as f64,
            cpu.as_secs_f64() / r.elapsed.as_secs_f64(),
        );
    }
    println!(
        "  (client, server, history and fake providers share this process; load average of the machine: {})",
        load_average()
    );
    let expected = rounds * REQUESTS + 2 * CONCURRENCY;
    let recorded = app
        .list_runs(&ListQuery {
            limit: expected + 1,
            ..Default::default()
        })
        .unwrap()
        .len();
    println!(
        "  runs in the history: {recorded} (expected {expected}); RSS growth in the last round: {:+} KiB",
        rss[rounds] as i64 - rss[rounds - 1] as i64
    );
    handle.shutdown().await;
    assert_eq!(total_errors, 0, "errors under load");
    assert_eq!(recorded, expected, "every run recorded");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}
