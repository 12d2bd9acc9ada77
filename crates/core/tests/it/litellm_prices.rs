//! The LiteLLM price table in `shared/data/` loads, and prices a call.

use roundtable_core::{PriceTable, Resolution};
use roundtable_testkit::{Behavior, FakeProvider, FakeUsage, Script};
use tokio_util::sync::CancellationToken;

fn litellm() -> String {
    std::fs::read_to_string(
        roundtable_testkit::contract::shared_dir()
            .join("data/model_prices_and_context_window.json"),
    )
    .unwrap()
}

#[test]
fn loads_the_whole_table() {
    let mut t = PriceTable::empty();
    let priced = t.merge_litellm_json(&litellm()).unwrap();
    // 4,878 entries; the ones without token prices (images, audio, the sample spec) are skipped.
    assert!(priced > 2000 && priced < 4878, "{priced}");
    let p = t.lookup("openai", "gpt-4o").unwrap();
    assert!(p.input > 0.0 && p.output > p.input);
    assert!(
        t.lookup("anthropic", "claude-sonnet-4-5-20250929")
            .is_some()
    );
}

#[tokio::test]
async fn prices_a_call_with_it() {
    let mut prices = PriceTable::empty();
    prices.merge_litellm_json(&litellm()).unwrap();
    let gpt4o = prices.lookup("openai", "gpt-4o").unwrap();
    let fake = FakeProvider::start(Script::new().model(
        "gpt-4o",
        Behavior::answer("hi").usage(FakeUsage::new(1000, 200).cached(400)),
    ))
    .await
    .unwrap();
    // A provider id LiteLLM knows, pointed at the fake.
    let engine = roundtable_core::Engine::new(
        vec![crate::common::provider("openai", fake.openai_base_url())],
        prices,
    );
    let mut req = crate::common::request("Hi", &["openai/gpt-4o", "openai/unheard-of"]);
    req.resolution = Some(Resolution::Fast);
    let out = engine
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let expected = 600.0 * gpt4o.input + 400.0 * gpt4o.cache_read.unwrap() + 200.0 * gpt4o.output;
    let r = &out.response;
    assert!((r.model_results[0].cost - expected).abs() < 1e-12);
    assert!((r.meta.total_cost - expected).abs() < 1e-12);
    // No known price: 0, and said so.
    assert_eq!(r.model_results[1].cost, 0.0);
    let note = r.model_results[1].usage.extra["pricing"].as_str().unwrap();
    assert!(
        note.contains("no known price for openai/unheard-of"),
        "{note}"
    );
}
