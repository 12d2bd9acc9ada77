//! Hostile providers, over real HTTP on loopback: every wire format against the
//! fake provider's scripted faults. Nothing may panic, allocate without bound,
//! follow a redirect with the key, or lose what arrived.

use roundtable_core::providers::client::{Limits, MAX_ERROR_BODY_BYTES};
use roundtable_core::{
    Engine, ModelResult, ModelSpec, PriceTable, Provider, Resolution, RoundtableRequest,
    RunOutcome, RunStatus, WireFormat,
};
use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-hostile-key-0123456789abcdef";
/// A small answer limit, so the tests that pass it stay quick.
const LIMIT: usize = 256 * 1024;

fn provider(id: &str, format: WireFormat, base_url: String, stream: bool) -> Provider {
    crate::common::native_provider(id, format, base_url, stream)
}

/// `openai`, `anthropic`, `gemini` stream; `*-unary` do not.
fn engine(fake: &FakeProvider) -> Engine {
    let mut providers = Vec::new();
    for (id, format, base) in [
        ("openai", WireFormat::Openai, fake.openai_base_url()),
        (
            "anthropic",
            WireFormat::Anthropic,
            fake.anthropic_base_url(),
        ),
        ("gemini", WireFormat::Gemini, fake.gemini_base_url()),
    ] {
        providers.push(provider(id, format, base.clone(), true));
        providers.push(provider(&format!("{id}-unary"), format, base, false));
    }
    crate::common::with_key(Engine::new(providers, PriceTable::builtin()), KEY).with_limits(
        Limits {
            max_answer_bytes: LIMIT,
            ..Default::default()
        },
    )
}

/// One model per provider: the fake counts calls (and their faults) per model
/// name.
const ALL: [&str; 6] = [
    "openai/m1",
    "anthropic/m2",
    "gemini/m3",
    "openai-unary/m4",
    "anthropic-unary/m5",
    "gemini-unary/m6",
];
const STREAMED: [&str; 3] = ["openai/m1", "anthropic/m2", "gemini/m3"];

async fn run(fake: &FakeProvider, models: &[&str], resolution: Resolution) -> RunOutcome {
    let request = RoundtableRequest {
        input: "Capital of France?".into(),
        models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
        resolution: Some(resolution),
        max_retries: Some(1),
        timeout_ms: Some(20_000),
        ..Default::default()
    };
    engine(fake)
        .run(request, None, CancellationToken::new())
        .await
        .unwrap()
}

fn error(r: &ModelResult) -> &str {
    r.error.as_deref().unwrap_or("")
}

#[tokio::test]
async fn a_giant_content_block_index_is_just_an_index() {
    let fake = FakeProvider::start(Script::new().model(
        "m",
        Behavior::answer("Paris.").fault(Fault::GiantBlockIndex),
    ))
    .await
    .unwrap();
    let out = run(&fake, &["anthropic/m"], Resolution::Fast).await;
    assert_eq!(out.response.model_results[0].data, "Paris.");
}

#[tokio::test]
async fn non_finite_and_huge_retry_delays_neither_panic_nor_wait() {
    for (what, fault) in [
        ("inf", Fault::status(429, "slow").retry_after("inf")),
        ("1e30", Fault::status(429, "slow").retry_after("1e30")),
        ("ms 1e300", Fault::status(429, "slow").retry_after_ms(1e300)),
        ("NaN", Fault::status(429, "slow").retry_after("NaN")),
    ] {
        let fake = FakeProvider::start(
            Script::new()
                .default_behavior(Behavior::answer("Paris.").faults([fault.clone(), fault])),
        )
        .await
        .unwrap();
        let out = run(&fake, &ALL, Resolution::Fast).await;
        for r in &out.response.model_results {
            let e = error(r);
            if what == "NaN" {
                // No delay asked for: retried after the usual backoff, then given up.
                assert!(e.contains("HTTP 429"), "{what} {}: {e}", r.model);
            } else {
                assert!(e.contains("not retried"), "{what} {}: {e}", r.model);
            }
        }
    }
}

#[tokio::test]
async fn a_summary_model_that_fails_gives_way_to_the_next_that_answered() {
    let fake = FakeProvider::start(
        Script::new()
            .model("a", Behavior::answer("Paris."))
            .model("b", Behavior::answer("It is Paris."))
            // The summary model: asked for an endless wait, then refused.
            .model(
                "judge",
                Behavior::answer("x").faults([
                    Fault::status(429, "slow").retry_after("inf"),
                    Fault::status(400, "no"),
                ]),
            ),
    )
    .await
    .unwrap();
    let request = RoundtableRequest {
        input: "Capital of France?".into(),
        models: vec![ModelSpec::named("openai/a"), ModelSpec::named("openai/b")],
        summary_model: Some("openai/judge".into()),
        max_retries: Some(1),
        timeout_ms: Some(10_000),
        ..Default::default()
    };
    let out = engine(&fake)
        .run(request, None, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    let meta = &out.response.meta;
    assert_eq!(meta.summary_model.as_deref(), Some("openai/a"));
    let why = meta.summary_error.as_deref().unwrap();
    assert!(
        why.contains("openai/judge") && why.contains("so openai/a wrote it"),
        "{why}"
    );
    assert!(!out.response.data.as_deref().unwrap_or("").is_empty());
}

#[tokio::test]
async fn a_redirect_is_the_models_error_and_the_key_goes_nowhere() {
    let elsewhere = FakeProvider::start(Script::new()).await.unwrap();
    // Another host name for the same machine: a client following the redirect
    // would carry the key there.
    let location = elsewhere
        .openai_base_url()
        .replace("127.0.0.1", "localhost");
    let fake = FakeProvider::start(Script::new().default_behavior(Behavior::new().faults([
        Fault::Redirect {
            status: 307,
            location: format!("{location}/chat/completions"),
        },
    ])))
    .await
    .unwrap();
    let out = run(&fake, &ALL, Resolution::Fast).await;
    for r in &out.response.model_results {
        let e = error(r);
        assert!(
            e.contains("HTTP 307") && e.contains("redirect"),
            "{}: {e}",
            r.model
        );
    }
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn an_echoed_key_is_masked_before_the_body_is_cut() {
    // The key straddles the 300th character, where an excerpt is cut.
    let fake = FakeProvider::start(
        Script::new().default_behavior(Behavior::new().faults([Fault::EchoKeyAt { offset: 290 }])),
    )
    .await
    .unwrap();
    let out = run(&fake, &ALL, Resolution::Fast).await;
    for r in &out.response.model_results {
        let e = error(r);
        assert!(e.contains("HTTP 401"), "{}: {e}", r.model);
        assert!(
            !e.contains(&KEY[..8]),
            "{}: the key's prefix leaked: {e}",
            r.model
        );
    }
}

#[tokio::test]
async fn an_error_body_without_end_is_read_only_so_far() {
    let endless = Fault::HugeErrorBody { bytes: None };
    let fake = FakeProvider::start(
        Script::new().default_behavior(Behavior::new().faults([endless.clone(), endless])),
    )
    .await
    .unwrap();
    let out = run(&fake, &STREAMED, Resolution::Fast).await;
    for r in &out.response.model_results {
        let e = error(r);
        assert!(e.contains("HTTP 500"), "{}: {e}", r.model);
        assert!(e.len() < MAX_ERROR_BODY_BYTES, "{}", r.model);
    }
}

#[tokio::test]
async fn an_answer_without_end_stops_at_the_limit_keeping_what_arrived() {
    let fake = FakeProvider::start(
        Script::new().default_behavior(
            Behavior::answer("Paris is the capital of France. ")
                .chunks(1)
                .faults([Fault::Flood { bytes: None }]),
        ),
    )
    .await
    .unwrap();
    let out = run(&fake, &ALL, Resolution::Fast).await;
    for r in &out.response.model_results {
        let e = error(r);
        assert!(
            e.contains(&format!("limit of {LIMIT} bytes")) && e.contains("max_answer_bytes"),
            "{}: {e}",
            r.model
        );
        assert!(
            !e.contains("attempts"),
            "{}: a limit is not retried: {e}",
            r.model
        );
        if !r.model.contains("unary") {
            assert!(
                r.data.starts_with("Paris is the capital of France. Paris"),
                "{}: what streamed is kept",
                r.model
            );
        }
    }
}

#[tokio::test]
async fn an_event_line_without_end_stops_at_the_line_limit() {
    let fake = FakeProvider::start(
        Script::new().default_behavior(Behavior::new().faults([Fault::EndlessLine])),
    )
    .await
    .unwrap();
    // A large answer limit, so the line limit is the one met.
    let engine = engine(&fake).with_limits(Limits {
        max_answer_bytes: 64 * 1024 * 1024,
        ..Default::default()
    });
    let request = RoundtableRequest {
        input: "Hi".into(),
        models: STREAMED.iter().map(|m| ModelSpec::named(*m)).collect(),
        resolution: Some(Resolution::Fast),
        ..Default::default()
    };
    let out = engine
        .run(request, None, CancellationToken::new())
        .await
        .unwrap();
    for r in &out.response.model_results {
        let e = error(r);
        assert!(e.contains("line longer than"), "{}: {e}", r.model);
    }
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_an_error_not_a_panic() {
    let fake = FakeProvider::start(Script::new().default_behavior(
        Behavior::answer("Paris is the capital.").faults([Fault::InvalidUtf8, Fault::InvalidUtf8]),
    ))
    .await
    .unwrap();
    let out = run(&fake, &STREAMED, Resolution::Fast).await;
    for r in &out.response.model_results {
        let e = error(r);
        assert!(e.contains("2 attempts"), "{}: {e}", r.model);
    }
}

#[tokio::test]
async fn what_streamed_before_the_server_died_is_kept_with_the_error() {
    let fake = FakeProvider::start(
        Script::new().default_behavior(
            Behavior::answer("Paris is the capital of France.")
                .chunks(4)
                .faults([Fault::DisconnectMidStream, Fault::DisconnectMidStream]),
        ),
    )
    .await
    .unwrap();
    let out = run(&fake, &STREAMED, Resolution::Fast).await;
    for r in &out.response.model_results {
        assert!(r.error.is_some(), "{}", r.model);
        assert!(r.data.starts_with("Paris"), "{}: {:?}", r.model, r.data);
    }
}
