//! A call that gave no answer, or answered only when retried, costs what its
//! attempts were billed for: the usage its provider reported, else its prompt
//! and what streamed, estimated and marked as such. Never a false $0.

use crate::common::provider;
use roundtable_core::prices::ModelPrice;
use roundtable_core::{
    Engine, ModelOutcome, ModelSpec, PriceTable, Resolution, RoundtableRequest, RunEvent,
};
use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
use tokio_util::sync::CancellationToken;

fn price() -> ModelPrice {
    ModelPrice {
        input: 1e-6,
        output: 1e-3,
        ..ModelPrice::default()
    }
}

/// 200 characters in 10 chunks: the fake reports 50 output tokens for it,
/// and a stream cut midway has streamed 100 characters.
fn answer() -> String {
    "abcdefghijklmnopqrst".repeat(10)
}

fn engine(fake: &FakeProvider) -> Engine {
    let mut prices = PriceTable::empty();
    for m in ["fake/flaky", "fake/broken", "fake/slow"] {
        prices.insert(m, price());
    }
    Engine::new(vec![provider("fake", fake.openai_base_url())], prices)
}

fn script() -> Script {
    Script::new()
        .model(
            "flaky",
            Behavior::answer(answer())
                .chunks(10)
                .fault(Fault::DisconnectMidStream),
        )
        .model(
            "broken",
            Behavior::answer(answer())
                .chunks(10)
                .faults([Fault::DisconnectMidStream, Fault::DisconnectMidStream]),
        )
        .model(
            "slow",
            Behavior::answer(answer().repeat(10))
                .chunks(100)
                .chunk_delay(20),
        )
}

fn request(model: &str, retries: u32) -> RoundtableRequest {
    RoundtableRequest {
        input: "Write at length.".into(),
        models: vec![ModelSpec::named(model)],
        resolution: Some(Resolution::Fast),
        max_retries: Some(retries),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_retried_call_costs_its_earlier_attempts_too() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let out = engine(&fake)
        .run(request("fake/flaky", 2), None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response.model_results[0];
    assert_eq!(r.outcome, Some(ModelOutcome::Answered), "{r:?}");
    assert_eq!(r.attempts, Some(2));
    // 50 tokens the answer, 25 what the cut attempt had streamed.
    assert_eq!(r.usage.output_tokens, 75, "{:?}", r.usage);
    assert!(r.usage.is_estimated(), "part of it is an estimate");
    assert!(
        (r.cost - price().cost(&r.usage)).abs() < 1e-12,
        "{}",
        r.cost
    );
    assert!((out.response.meta.total_cost - r.cost).abs() < 1e-12);
}

#[tokio::test]
async fn a_failed_call_costs_what_streamed_in_each_attempt() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let out = engine(&fake)
        .run(request("fake/broken", 1), None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response.model_results[0];
    assert_eq!(r.outcome, Some(ModelOutcome::Failed), "{r:?}");
    assert_eq!(r.usage.output_tokens, 50, "two halves: {:?}", r.usage);
    assert!(r.usage.input_tokens > 0 && r.usage.is_estimated());
    assert!((r.cost - price().cost(&r.usage)).abs() < 1e-12 && r.cost > 0.05);
    assert!((out.response.meta.total_cost - r.cost).abs() < 1e-12);
}

#[tokio::test]
async fn a_cancelled_call_costs_its_prompt_and_what_streamed() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let engine = engine(&fake);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn({
        let cancel = cancel.clone();
        async move { engine.run(request("fake/slow", 0), Some(tx), cancel).await }
    });
    let mut chars = 0;
    while chars == 0 {
        if let RunEvent::TextDelta { delta, .. } = rx.recv().await.unwrap() {
            chars += delta.chars().count();
        }
    }
    cancel.cancel();
    let out = run.await.unwrap().unwrap();
    let r = &out.response.model_results[0];
    assert_eq!(r.outcome, Some(ModelOutcome::Cancelled), "{r:?}");
    let kept = r.data.chars().count() as u64;
    assert!(kept >= 20, "{kept}");
    assert_eq!(r.usage.output_tokens, kept.div_ceil(4), "{:?}", r.usage);
    assert!(r.usage.input_tokens > 0 && r.usage.is_estimated());
    assert!((r.cost - price().cost(&r.usage)).abs() < 1e-12 && r.cost > 0.0);
}
