//! The Anthropic and Gemini adapters over real HTTP against the fake provider:
//! streamed and not, thinking kept apart, usage normalised, retries, and the
//! request bodies the provider received.

use crate::common::{drain, request};
use roundtable_core::{
    Engine, ModelResult, PriceTable, Provider, Resolution, RoundtableRequest, RunEvent, WireFormat,
};
use roundtable_testkit::{Behavior, FakeProvider, FakeUsage, Fault, RecordedRequest, Script};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-test-key-0123456789";

fn provider(id: &str, format: WireFormat, base_url: String, stream: bool) -> Provider {
    crate::common::native_provider(id, format, base_url, stream)
}

/// `anthropic` and `gemini` stream; `anthropic-unary` and `gemini-unary` do not.
fn engine(fake: &FakeProvider) -> Engine {
    let engine = Engine::new(
        vec![
            provider(
                "anthropic",
                WireFormat::Anthropic,
                fake.anthropic_base_url(),
                true,
            ),
            provider(
                "anthropic-unary",
                WireFormat::Anthropic,
                fake.anthropic_base_url(),
                false,
            ),
            provider("gemini", WireFormat::Gemini, fake.gemini_base_url(), true),
            provider(
                "gemini-unary",
                WireFormat::Gemini,
                fake.gemini_base_url(),
                false,
            ),
        ],
        PriceTable::builtin(),
    );
    crate::common::with_key(engine, KEY)
}

fn fast(input: &str, models: &[&str]) -> RoundtableRequest {
    RoundtableRequest {
        resolution: Some(Resolution::Fast),
        ..request(input, models)
    }
}

async fn run(fake: &FakeProvider, req: RoundtableRequest) -> (Vec<ModelResult>, Vec<RunEvent>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = engine(fake)
        .run(req, Some(tx), CancellationToken::new())
        .await
        .unwrap();
    (out.response.model_results, drain(&mut rx))
}

fn only_request(fake: &FakeProvider, model: &str) -> RecordedRequest {
    let reqs: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.model == model)
        .collect();
    assert_eq!(reqs.len(), 1, "{model}: {reqs:?}");
    reqs.into_iter().next().unwrap()
}

fn streamed(events: &[RunEvent], index: usize) -> (String, String) {
    let (mut text, mut thinking) = (String::new(), String::new());
    for e in events {
        match e {
            RunEvent::TextDelta {
                index: i, delta, ..
            } if *i == index => text.push_str(delta),
            RunEvent::ThinkingDelta {
                index: i, delta, ..
            } if *i == index => thinking.push_str(delta),
            _ => {}
        }
    }
    (text, thinking)
}

fn retries(events: &[RunEvent], index: usize) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::ModelRetrying {
                index: i,
                delay_ms,
                reason,
                ..
            } if *i == index => Some((*delay_ms, reason.clone())),
            _ => None,
        })
        .collect()
}

fn anthropic_script() -> Script {
    Script::new()
        .model(
            "claude-sonnet-4-5",
            Behavior::answer("Paris is the capital of France.")
                .thinking("The user asks about France. Its capital is Paris.")
                .usage(FakeUsage::new(1000, 50).cached(600).cache_creation(100)),
        )
        .require_key(KEY)
}

#[tokio::test]
async fn anthropic_streams_thinking_apart_with_normalised_usage() {
    let fake = FakeProvider::start(anthropic_script()).await.unwrap();
    let mut req = fast("Capital of France?", &["anthropic/claude-sonnet-4-5"]);
    req.instructions = Some("Answer in one sentence.".into());
    req.models[0].reasoning = Some("medium".into());
    req.models[0].max_tokens = Some(1000);
    req.models[0].temperature = Some(0.3);
    let (results, events) = run(&fake, req).await;
    let r = &results[0];
    assert_eq!(r.error, None);
    assert_eq!(r.data, "Paris is the capital of France.");
    assert_eq!(
        r.thinking.as_deref(),
        Some("The user asks about France. Its capital is Paris.")
    );
    assert_eq!(
        streamed(&events, 0),
        (r.data.clone(), r.thinking.clone().unwrap()),
        "deltas add up, text and thinking apart"
    );
    // The fake reports 300 uncached input tokens (1000 - 600 read - 100 written):
    // the contract counts all 1000.
    let u = &r.usage;
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_tokens,
            u.cache_creation_tokens,
            u.output_tokens
        ),
        (1000, 600, 100, 50)
    );
    let price = PriceTable::builtin()
        .lookup("anthropic", "claude-sonnet-4-5")
        .unwrap();
    let expected: f64 = 300.0 * 3e-6 + 600.0 * 0.3e-6 + 100.0 * 3.75e-6 + 50.0 * 15e-6;
    assert!((price.cost(u) - expected).abs() < 1e-12);
    assert!(
        (r.cost - expected).abs() < 1e-12,
        "{} vs {expected}",
        r.cost
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::ModelUsage { usage, .. } if usage.input_tokens == 1000))
    );

    let sent = only_request(&fake, "claude-sonnet-4-5");
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert!(sent.stream);
    let b = &sent.body;
    assert_eq!(b["system"], "Answer in one sentence.");
    assert_eq!(
        b["messages"],
        json!([{"role": "user", "content": "Capital of France?"}])
    );
    assert_eq!(
        b["thinking"],
        json!({"type": "enabled", "budget_tokens": 8192})
    );
    assert_eq!(
        b["max_tokens"],
        1000 + 8192,
        "the answer's allowance above the budget"
    );
    assert!(b.get("temperature").is_none(), "no sampling with thinking");
}

#[tokio::test]
async fn anthropic_unary_answers_too() {
    let fake = FakeProvider::start(anthropic_script()).await.unwrap();
    let mut req = fast("Capital of France?", &["anthropic-unary/claude-sonnet-4-5"]);
    req.models[0].temperature = Some(0.3);
    req.models[0].top_p = Some(0.9);
    let (results, _) = run(&fake, req).await;
    let r = &results[0];
    assert_eq!(r.error, None);
    assert_eq!(r.data, "Paris is the capital of France.");
    assert_eq!(
        r.thinking.as_deref(),
        Some("The user asks about France. Its capital is Paris.")
    );
    assert_eq!(
        (r.usage.input_tokens, r.usage.cache_read_tokens),
        (1000, 600)
    );

    let sent = only_request(&fake, "claude-sonnet-4-5");
    assert!(!sent.stream);
    let b = &sent.body;
    assert!(b.get("stream").is_none());
    assert_eq!(b["max_tokens"], 8192, "the documented default");
    assert_eq!(b["temperature"], 0.3);
    assert!(
        b.get("top_p").is_none(),
        "only temperature when both are given"
    );
    assert!(b.get("thinking").is_none());
}

#[tokio::test]
async fn anthropic_overloaded_529_is_retried() {
    let fake = FakeProvider::start(Script::new().model(
        "claude-haiku-4-5",
        Behavior::answer("ok").faults([Fault::status(529, "Overloaded").retry_after("0")]),
    ))
    .await
    .unwrap();
    let (results, events) = run(&fake, fast("Hi", &["anthropic/claude-haiku-4-5"])).await;
    let r = &results[0];
    assert_eq!(r.error, None);
    assert_eq!(r.data, "ok");
    assert_eq!(r.attempts, Some(2));
    let retried = retries(&events, 0);
    assert_eq!(retried.len(), 1);
    assert!(
        retried[0].1.contains("HTTP 529") && retried[0].1.contains("overloaded_error"),
        "{}",
        retried[0].1
    );
}

#[tokio::test]
async fn anthropic_permanent_errors_are_not_retried() {
    let fake = FakeProvider::start(Script::new().model(
        "claude-haiku-4-5",
        Behavior::answer("ok").faults([Fault::status(400, "max_tokens: field required")]),
    ))
    .await
    .unwrap();
    let (results, _) = run(&fake, fast("Hi", &["anthropic/claude-haiku-4-5"])).await;
    let err = results[0].error.as_deref().unwrap();
    assert!(
        err.contains("HTTP 400")
            && err.contains("max_tokens: field required (invalid_request_error)"),
        "{err}"
    );
    assert_eq!(results[0].attempts, Some(1));
}

#[tokio::test]
async fn anthropic_output_schema_native_or_forced_tool() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}},
        "required": ["city"], "additionalProperties": false});
    let fake = FakeProvider::start(
        Script::new().default_behavior(Behavior::answer(r#"{"city":"Paris"}"#)),
    )
    .await
    .unwrap();
    let mut req = fast(
        "Capital of France?",
        &[
            "anthropic/claude-sonnet-4-5",
            "anthropic/claude-sonnet-4-20250514",
        ],
    );
    req.output_schema = Some(schema.clone());
    let (results, _) = run(&fake, req).await;
    assert!(
        results.iter().all(|r| r.schema_valid == Some(true)),
        "{results:?}"
    );

    let native = only_request(&fake, "claude-sonnet-4-5").body;
    assert_eq!(
        native["output_config"]["format"],
        json!({"type": "json_schema", "schema": schema})
    );
    assert!(native.get("tools").is_none());

    let forced = only_request(&fake, "claude-sonnet-4-20250514").body;
    assert_eq!(forced["tools"][0]["name"], "output");
    assert_eq!(forced["tools"][0]["input_schema"], schema);
    assert_eq!(
        forced["tool_choice"],
        json!({"type": "tool", "name": "output"})
    );
}

fn gemini_script() -> Script {
    Script::new()
        .model(
            "gemini-2.5-flash",
            Behavior::answer("Paris is the capital of France.")
                .thinking("Capital of France: Paris.")
                .usage(FakeUsage::new(1000, 300).cached(400).reasoning(100)),
        )
        .require_key(KEY)
}

#[tokio::test]
async fn gemini_streams_thinking_apart_with_normalised_usage() {
    let fake = FakeProvider::start(gemini_script()).await.unwrap();
    let mut req = fast("Capital of France?", &["gemini/gemini-2.5-flash"]);
    req.instructions = Some("Answer in one sentence.".into());
    req.models[0].reasoning = Some("high".into());
    req.models[0].max_tokens = Some(500);
    req.models[0].temperature = Some(0.3);
    let (results, events) = run(&fake, req).await;
    let r = &results[0];
    assert_eq!(r.error, None);
    assert_eq!(r.data, "Paris is the capital of France.");
    assert_eq!(r.thinking.as_deref(), Some("Capital of France: Paris."));
    assert_eq!(
        streamed(&events, 0),
        (r.data.clone(), r.thinking.clone().unwrap())
    );
    // candidatesTokenCount 200 + thoughtsTokenCount 100.
    let u = &r.usage;
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_tokens,
            u.output_tokens,
            u.reasoning_tokens
        ),
        (1000, 400, 300, 100)
    );
    let price = PriceTable::builtin()
        .lookup("gemini", "gemini-2.5-flash")
        .unwrap();
    let expected: f64 = 600.0 * 0.3e-6 + 400.0 * 0.03e-6 + 300.0 * 2.5e-6;
    assert!((price.cost(u) - expected).abs() < 1e-12);
    assert!(
        (r.cost - expected).abs() < 1e-12,
        "{} vs {expected}",
        r.cost
    );
    let usage_events = events
        .iter()
        .filter(|e| matches!(e, RunEvent::ModelUsage { .. }))
        .count();
    assert_eq!(
        usage_events, 1,
        "usage reported once, when the answer finished"
    );

    let sent = only_request(&fake, "gemini-2.5-flash");
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(sent.query.as_deref(), Some("alt=sse"));
    assert_eq!(sent.header("x-goog-api-key"), Some(KEY));
    let b = &sent.body;
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "Capital of France?"}]}])
    );
    assert_eq!(
        b["systemInstruction"]["parts"][0]["text"],
        "Answer in one sentence."
    );
    let g = &b["generationConfig"];
    assert_eq!(
        g["thinkingConfig"],
        json!({"thinkingBudget": 24576, "includeThoughts": true})
    );
    assert_eq!(g["maxOutputTokens"], 500 + 24576);
    assert_eq!(g["temperature"], 0.3);
}

#[tokio::test]
async fn gemini_unary_answers_too() {
    let fake = FakeProvider::start(gemini_script()).await.unwrap();
    let (results, _) = run(
        &fake,
        fast("Capital of France?", &["gemini-unary/gemini-2.5-flash"]),
    )
    .await;
    let r = &results[0];
    assert_eq!(r.error, None);
    assert_eq!(r.data, "Paris is the capital of France.");
    assert_eq!(r.thinking.as_deref(), Some("Capital of France: Paris."));
    assert_eq!(
        (r.usage.output_tokens, r.usage.reasoning_tokens),
        (300, 100)
    );

    let sent = only_request(&fake, "gemini-2.5-flash");
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.query, None);
    assert!(!sent.stream);
    // No reasoning asked, nothing in generationConfig to send.
    assert!(sent.body.get("generationConfig").is_none());
}

#[tokio::test]
async fn gemini_429_with_retry_info_is_retried_after_the_asked_delay() {
    let fake = FakeProvider::start(
        Script::new().model(
            "gemini-2.5-flash",
            Behavior::answer("ok")
                .faults([Fault::status(429, "Resource has been exhausted").retry_after_ms(200)]),
        ),
    )
    .await
    .unwrap();
    let (results, events) = run(&fake, fast("Hi", &["gemini/gemini-2.5-flash"])).await;
    let r = &results[0];
    assert_eq!(r.error, None);
    assert_eq!(r.data, "ok");
    assert_eq!(r.attempts, Some(2));
    let retried = retries(&events, 0);
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].0, 200, "the provider's delay (RetryInfo 0.2s)");
    assert!(
        retried[0].1.contains("RESOURCE_EXHAUSTED"),
        "{}",
        retried[0].1
    );
}

#[tokio::test]
async fn gemini_a_stream_cut_short_is_retried() {
    let fake = FakeProvider::start(
        Script::new()
            .model(
                "gemini-2.5-pro",
                Behavior::answer("a long answer in many parts")
                    .chunks(6)
                    .faults([Fault::DisconnectMidStream]),
            )
            .model(
                "gemini-2.5-flash",
                Behavior::answer("fine").faults([Fault::MalformedChunk]),
            ),
    )
    .await
    .unwrap();
    let (results, _) = run(
        &fake,
        fast("Hi", &["gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash"]),
    )
    .await;
    assert_eq!(results[0].data, "a long answer in many parts");
    assert_eq!(results[0].attempts, Some(2));
    assert_eq!(results[1].data, "fine");
    assert_eq!(results[1].attempts, Some(2));
}

#[tokio::test]
async fn gemini_output_schema_and_reasoning_levels() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}},
        "required": ["city"]});
    let fake = FakeProvider::start(
        Script::new().default_behavior(Behavior::answer(r#"{"city":"Paris"}"#)),
    )
    .await
    .unwrap();
    let mut req = fast(
        "Capital of France?",
        &["gemini/gemini-3-pro-preview", "gemini/gemini-2.0-flash"],
    );
    req.output_schema = Some(schema.clone());
    for m in &mut req.models {
        m.reasoning = Some("low".into());
    }
    let (results, _) = run(&fake, req).await;
    assert!(
        results.iter().all(|r| r.schema_valid == Some(true)),
        "{results:?}"
    );

    let g: Value = only_request(&fake, "gemini-3-pro-preview").body["generationConfig"].clone();
    assert_eq!(g["responseMimeType"], "application/json");
    assert_eq!(g["responseJsonSchema"], schema);
    assert_eq!(
        g["thinkingConfig"],
        json!({"thinkingLevel": "low", "includeThoughts": true})
    );
    let g: Value = only_request(&fake, "gemini-2.0-flash").body["generationConfig"].clone();
    assert!(g.get("thinkingConfig").is_none(), "2.0 does not reason");
    assert_eq!(g["responseJsonSchema"], schema);
}

#[tokio::test]
async fn anthropic_and_gemini_consolidate_together() {
    let fake = FakeProvider::start(
        Script::new()
            .model("claude-haiku-4-5", Behavior::answer("Paris."))
            .model("gemini-2.5-flash", Behavior::answer("It is Paris.")),
    )
    .await
    .unwrap();
    let mut req = request(
        "Capital of France?",
        &["anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"],
    );
    req.summary_model = Some("gemini/gemini-2.5-flash".into());
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let r = out.response;
    assert_eq!(r.data.as_deref(), Some("It is Paris."));
    assert_eq!(r.meta.models_used.len(), 2);
    let consolidation = fake.requests().last().unwrap().clone();
    let prompt = consolidation.body["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(prompt.contains("Paris.") && prompt.contains("It is Paris."));
    assert!(r.meta.total_cost > 0.0);
}
