//! The estimate before a run and `max_cost` while it streams: the models still
//! running are stopped once the run's cost reaches the cap, each keeping what
//! had arrived, within a chunk of the cap.

use crate::common::provider;
use roundtable_core::prices::ModelPrice;
use roundtable_core::{Engine, ModelOutcome, ModelSpec, PriceTable, Resolution, RoundtableRequest};
use roundtable_testkit::{Behavior, FakeProvider, Script};
use std::collections::HashMap;
use tokio_util::sync::CancellationToken;

/// $1 per 1,000 output tokens: a 20-character chunk (5 tokens) costs $0.005.
fn prices() -> PriceTable {
    let mut t = PriceTable::empty();
    let price = ModelPrice {
        input: 1e-6,
        output: 1e-3,
        ..ModelPrice::default()
    };
    t.insert("fake/slow", price);
    t.insert("fake/quick", price);
    t
}

fn script() -> Script {
    Script::new()
        .model(
            "slow",
            Behavior::answer("abcdefghijklmnopqrst".repeat(100))
                .chunks(100)
                .chunk_delay(15),
        )
        .model("quick", Behavior::answer("Short."))
}

fn engine(fake: &FakeProvider) -> Engine {
    Engine::new(vec![provider("fake", fake.openai_base_url())], prices())
}

#[tokio::test]
async fn a_streaming_model_is_stopped_when_the_run_reaches_its_cap() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let req = RoundtableRequest {
        input: "Write at length.".into(),
        models: vec![
            ModelSpec::named("fake/quick"),
            ModelSpec::named("fake/slow"),
        ],
        resolution: Some(Resolution::Summary),
        summary_model: Some("fake/quick".into()),
        max_cost: Some(0.05),
        ..Default::default()
    };
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let quick = &out.response.model_results[0];
    let slow = &out.response.model_results[1];
    assert_eq!(quick.outcome, Some(ModelOutcome::Answered));
    assert_eq!(slow.outcome, Some(ModelOutcome::BudgetExceeded), "{slow:?}");
    assert!(
        slow.error.as_deref().unwrap().contains("max_cost ($0.05)"),
        "{slow:?}"
    );
    // $0.05 is ten chunks of this answer; the chunk that crossed the cap is the
    // overshoot (the quick model's few tokens come off the slow one's share).
    let chars = slow.data.chars().count();
    assert!((180..=220).contains(&chars), "{chars} characters kept");
    assert!(slow.usage.is_estimated());
    let spent = quick.cost + slow.cost;
    assert!((0.05..0.05 + 0.0051).contains(&spent), "spent {spent}");
    // No summary once the cap is reached, and it says why.
    assert_eq!(out.response.data.as_deref(), Some(""));
    assert!(
        out.response
            .meta
            .summary_error
            .as_deref()
            .unwrap()
            .contains("max_cost")
    );
}

#[tokio::test]
async fn a_run_under_its_cap_is_untouched() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let req = RoundtableRequest {
        input: "Briefly.".into(),
        models: vec![ModelSpec::named("fake/quick")],
        resolution: Some(Resolution::Fast),
        max_cost: Some(1.0),
        ..Default::default()
    };
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        out.response.model_results[0].outcome,
        Some(ModelOutcome::Answered)
    );
    assert_eq!(out.response.model_results[0].data, "Short.");
}

#[tokio::test]
async fn the_estimate_is_a_range_from_history_max_tokens_and_prices() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let mut capped = ModelSpec::named("fake/slow");
    capped.max_tokens = Some(100);
    let req = RoundtableRequest {
        input: "x".repeat(400),
        models: vec![
            ModelSpec::named("fake/quick"),
            capped,
            ModelSpec::named("fake/free"),
        ],
        resolution: Some(Resolution::Summary),
        summary_model: Some("fake/quick".into()),
        ..Default::default()
    };
    let history = HashMap::from([("fake/quick".to_string(), 40u64)]);
    let e = engine(&fake).estimate(&req, &history).unwrap();
    let quick = &e.calls[0];
    assert_eq!(
        quick.input_tokens, 101,
        "400 characters and a newline, 4 a token"
    );
    assert!(!quick.input_exact);
    assert_eq!((quick.output_typical, quick.output_worst), (40, 8192));
    assert!(quick.output_from_history);
    let slow = &e.calls[1];
    assert_eq!(
        (slow.output_typical, slow.output_worst),
        (100, 100),
        "max_tokens bounds both"
    );
    assert!((slow.cost_worst - (101.0 * 1e-6 + 100.0 * 1e-3)).abs() < 1e-12);
    assert_eq!(e.unpriced, vec!["fake/free".to_string()]);
    let summary = e.summary.as_ref().unwrap();
    assert!(
        summary.input_tokens > 40 + 100 + 500,
        "it reads the answers"
    );
    assert!(e.worst_cost > e.typical_cost);
    let sum: f64 = e
        .calls
        .iter()
        .chain(e.summary.as_ref())
        .map(|c| c.cost_typical)
        .sum();
    assert!((e.typical_cost - sum).abs() < 1e-12);
}

#[tokio::test]
async fn a_call_still_waiting_for_its_slot_when_the_cap_is_reached_is_not_sent() {
    let fake = FakeProvider::start(script()).await.unwrap();
    // One call at a time: the second model waits while the first spends the cap.
    let mut one_slot = provider("fake", fake.openai_base_url());
    one_slot.max_concurrency = Some(1);
    let engine = Engine::new(vec![one_slot], prices());
    let req = RoundtableRequest {
        input: "Write at length.".into(),
        models: vec![
            ModelSpec::named("fake/slow"),
            ModelSpec::named("fake/quick"),
        ],
        resolution: Some(Resolution::Fast),
        max_cost: Some(0.05),
        ..Default::default()
    };
    let out = engine
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let waited = &out.response.model_results[1];
    assert_eq!(
        waited.outcome,
        Some(ModelOutcome::BudgetExceeded),
        "{waited:?}"
    );
    assert_eq!(waited.cost, 0.0, "a call never sent costs nothing");
    assert!(
        fake.requests().iter().all(|r| r.model != "quick"),
        "the waiting call was not sent"
    );
}

#[tokio::test]
async fn the_summary_and_claims_calls_count_against_the_cap() {
    let fake = FakeProvider::start(script()).await.unwrap();
    // The panel ($0.002 or so) is under the cap; the summary and the claims,
    // both asked of the slow model, would cost $0.50 each.
    let req = RoundtableRequest {
        input: "Write at length.".into(),
        models: vec![ModelSpec::named("fake/quick")],
        resolution: Some(Resolution::Summary),
        summary_model: Some("fake/slow".into()),
        consensus: Some(true),
        max_cost: Some(0.02),
        confirm_cost: Some(true),
        ..Default::default()
    };
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let meta = &out.response.meta;
    assert_eq!(
        out.response.model_results[0].outcome,
        Some(ModelOutcome::Answered)
    );
    let error = meta.summary_error.as_deref().unwrap();
    assert!(error.contains("max_cost ($0.02)"), "{error}");
    let claims = meta.claims_error.as_deref().unwrap();
    assert!(claims.contains("max_cost ($0.02)"), "{claims}");
    // Within a chunk ($0.005) from each of the two calls streaming then.
    assert!(
        (0.02..0.02 + 0.0101).contains(&meta.total_cost),
        "spent {}",
        meta.total_cost
    );
    // Stopped by the cap, no other model is asked to write the summary.
    assert_eq!(
        fake.requests().len(),
        3,
        "the panel, the summary, the claims"
    );
}

/// A text file of `chars` characters, as a follow-up sends an earlier turn's.
fn notes(chars: usize) -> Vec<roundtable_core::attachments::Part> {
    use base64::Engine as _;
    roundtable_core::attachments::prepare(
        &[roundtable_core::Attachment {
            name: "notes.txt".into(),
            media_type: "text/plain".into(),
            data: base64::engine::general_purpose::STANDARD.encode("n".repeat(chars)),
            ..Default::default()
        }],
        &Default::default(),
    )
    .unwrap()
}

/// A follow-up of a turn that had `files`, capped at `max_cost`.
fn follow_up(
    engine: &Engine,
    files: Vec<roundtable_core::attachments::Part>,
    max_cost: f64,
) -> roundtable_core::engine::PreparedRun {
    let req = RoundtableRequest {
        input: "And then?".into(),
        models: vec![ModelSpec::named("fake/quick")],
        resolution: Some(Resolution::Fast),
        previous_id: Some("rt_earlier".into()),
        max_cost: Some(max_cost),
        confirm_cost: Some(true),
        ..Default::default()
    };
    let turn = roundtable_core::thread::PriorTurn {
        input: "Read this.".into(),
        attachments: files.into(),
        resolved: Some("Read.".into()),
        answers: Vec::new(),
    };
    engine.prepare(req).unwrap().with_thread(vec![turn])
}

#[tokio::test]
async fn a_follow_up_counts_the_earlier_turns_files_in_the_estimate_and_the_running_cost() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let engine = engine(&fake);
    // 80,000 characters sent again: about 20,000 input tokens, $0.02.
    let run = follow_up(&engine, notes(80_000), 0.01);
    let e = engine.estimate_run(&run, &HashMap::new());
    assert!(e.calls[0].input_tokens >= 20_000, "{:?}", e.calls[0]);
    assert!(e.worst_cost >= 0.02, "{}", e.worst_cost);
    // Named, not read (the estimate as the prompt is typed): by its size.
    let mut named = notes(80_000);
    named[0].text = None;
    named[0].base64.clear();
    let e = engine.estimate_run(&follow_up(&engine, named, 0.01), &HashMap::new());
    assert!(e.calls[0].input_tokens >= 20_000, "{:?}", e.calls[0]);
    // The running cost counts what is sent: the prompt alone passes the cap,
    // so the call is not sent and costs nothing.
    let out = engine.execute(run, None, CancellationToken::new()).await;
    let r = &out.response.model_results[0];
    assert_eq!(r.outcome, Some(ModelOutcome::BudgetExceeded), "{r:?}");
    assert_eq!(r.cost, 0.0);
    assert!(fake.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_estimate_counts_the_claims_call_as_much_as_the_summary() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let engine = engine(&fake);
    let req = |consensus| RoundtableRequest {
        input: "x".repeat(400),
        models: vec![ModelSpec::named("fake/quick")],
        resolution: Some(Resolution::Summary),
        summary_model: Some("fake/slow".into()),
        consensus,
        ..Default::default()
    };
    let plain = engine.estimate(&req(None), &HashMap::new()).unwrap();
    let claims = engine.estimate(&req(Some(true)), &HashMap::new()).unwrap();
    let summary = plain.summary.as_ref().unwrap();
    assert!(
        (claims.worst_cost - plain.worst_cost - summary.cost_worst).abs() < 1e-12,
        "{} {} {}",
        claims.worst_cost,
        plain.worst_cost,
        summary.cost_worst
    );
    assert!((claims.typical_cost - plain.typical_cost - summary.cost_typical).abs() < 1e-12);
}
