//! What a real local server does to a panel, with the fake provider playing it:
//! few slots (a new request aborts the one in flight).

use crate::common::{drain, provider, request};
use roundtable_core::{Engine, PriceTable, Resolution, RoundtableRequest, RunEvent};
use roundtable_testkit::{Behavior, FakeProvider, Script};
use tokio_util::sync::CancellationToken;

fn local_engine(fake: &FakeProvider, max_concurrency: Option<usize>) -> Engine {
    let mut local = provider("local", fake.openai_base_url());
    local.local = true;
    local.max_concurrency = max_concurrency;
    Engine::new(vec![local], PriceTable::builtin())
}

fn panel_of_three() -> RoundtableRequest {
    RoundtableRequest {
        resolution: Some(Resolution::Fast),
        ..request(
            "Why is the sky blue?",
            &["local/smollm2", "local/smollm2", "local/smollm2"],
        )
    }
}

fn one_slot_server() -> Script {
    Script::new().slots(1).default_behavior(
        Behavior::answer("Rayleigh scattering of sunlight.")
            .chunks(6)
            .chunk_delay(40),
    )
}

#[tokio::test]
async fn a_panel_on_a_one_slot_server_waits_its_turn_and_answers_in_full() {
    let fake = FakeProvider::start(one_slot_server()).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = local_engine(&fake, None)
        .run(panel_of_three(), Some(tx), CancellationToken::new())
        .await
        .unwrap();
    let results = &out.response.model_results;
    for r in results {
        assert_eq!(r.error, None, "#{}", r.index);
        assert_eq!(r.data, "Rayleigh scattering of sunlight.");
    }
    // Two of the three waited, and said so; their time counts from their call.
    let queued: Vec<_> = results.iter().filter_map(|r| r.queued_ms).collect();
    assert_eq!(queued.len(), 2, "{results:?}");
    let events = drain(&mut rx);
    let queued_events = events
        .iter()
        .filter(|e| matches!(e, RunEvent::ModelQueued { .. }))
        .count();
    assert_eq!(queued_events, 2);
    for r in results.iter().filter(|r| r.queued_ms.is_some()) {
        let index = r.index;
        let queued = events
            .iter()
            .position(|e| matches!(e, RunEvent::ModelQueued { index: i, .. } if *i == index))
            .unwrap();
        let started = events
            .iter()
            .position(|e| matches!(e, RunEvent::ModelStarted { index: i, .. } if *i == index))
            .unwrap();
        assert!(queued < started, "queued before it started");
        // The wait is not in its duration: both fit in the run's time.
        assert!(r.queued_ms.unwrap() + r.duration_ms <= out.response.meta.total_duration_ms);
    }
}

#[tokio::test]
async fn without_a_limit_the_server_breaks_the_calls_off() {
    // The fault this guards against, shown: all at once, the one-slot server
    // aborts two of the three streams.
    let fake = FakeProvider::start(one_slot_server()).await.unwrap();
    let out = local_engine(&fake, Some(8))
        .run(
            RoundtableRequest {
                max_retries: Some(0),
                ..panel_of_three()
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let failed = out
        .response
        .model_results
        .iter()
        .filter(|r| r.error.is_some())
        .count();
    assert_eq!(failed, 2, "{:?}", out.response.model_results);
}

#[tokio::test]
async fn the_servers_own_slot_count_is_used() {
    // llama.cpp says `total_slots` in `GET /props`: with 3, nobody waits.
    let fake = FakeProvider::start(one_slot_server().slots(3))
        .await
        .unwrap();
    let out = local_engine(&fake, None)
        .run(panel_of_three(), None, CancellationToken::new())
        .await
        .unwrap();
    for r in &out.response.model_results {
        assert_eq!(r.error, None);
        assert_eq!(r.queued_ms, None, "#{} waited", r.index);
    }
}

#[tokio::test]
async fn a_server_that_reports_no_usage_gets_estimated_tokens_never_a_false_zero() {
    let fake = FakeProvider::start(Script::new().default_behavior(
        Behavior::answer("Rayleigh scattering of sunlight by the air.").no_stream_usage(),
    ))
    .await
    .unwrap();
    let out = local_engine(&fake, None)
        .run(
            RoundtableRequest {
                resolution: Some(Resolution::Fast),
                ..request("Why is the sky blue?", &["local/smollm2"])
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let usage = &out.response.model_results[0].usage;
    assert!(usage.is_estimated(), "{usage:?}");
    // 43 characters out, 20 in: about four a token.
    assert_eq!((usage.input_tokens, usage.output_tokens), (5, 11));
}

#[tokio::test]
async fn usage_the_server_reports_is_not_marked_estimated() {
    let fake = FakeProvider::start(Script::new().default_behavior(Behavior::answer("Blue.")))
        .await
        .unwrap();
    let out = local_engine(&fake, None)
        .run(
            RoundtableRequest {
                resolution: Some(Resolution::Fast),
                ..request("Why is the sky blue?", &["local/smollm2"])
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let usage = &out.response.model_results[0].usage;
    assert!(!usage.is_estimated());
    assert!(usage.output_tokens > 0);
}

#[tokio::test]
async fn a_server_that_refuses_json_schema_gets_json_mode_and_it_is_remembered() {
    let fake = FakeProvider::start(
        Script::new()
            .default_behavior(Behavior::answer(r#"{"city": "Paris"}"#).refuse_json_schema()),
    )
    .await
    .unwrap();
    let engine = local_engine(&fake, None);
    let schema_run = || RoundtableRequest {
        resolution: Some(Resolution::Fast),
        output_schema: Some(serde_json::json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        })),
        ..request("Capital of France?", &["local/smollm2"])
    };
    let out = engine
        .run(schema_run(), None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response.model_results[0];
    assert_eq!(r.error, None);
    assert_eq!(r.schema_fallback, Some(true));
    assert_eq!(r.schema_valid, Some(true));
    let sent: Vec<_> = fake
        .requests()
        .iter()
        .map(|q| q.body["response_format"]["type"].clone())
        .collect();
    assert_eq!(sent, ["json_schema", "json_object"]);
    // The next run goes to JSON mode at once.
    engine
        .run(schema_run(), None, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        fake.requests().last().unwrap().body["response_format"]["type"],
        "json_object"
    );
}

#[tokio::test]
async fn multiple_choice_counts_one_choice_named_in_prose_and_asks_natives_for_structure() {
    let fake = FakeProvider::start(
        Script::new()
            .model("prose", Behavior::answer("The capital of France is Paris."))
            .model("json", Behavior::answer(r#"{"choice": "London"}"#))
            .model("both", Behavior::answer("Paris or London, hard to say.")),
    )
    .await
    .unwrap();
    let mut native = provider("native", fake.openai_base_url());
    native.dialect = roundtable_core::providers::Dialect::Native;
    let mut local = provider("local", fake.openai_base_url());
    local.local = true;
    local.max_concurrency = Some(4);
    let out = Engine::new(vec![native, local], PriceTable::builtin())
        .run(
            RoundtableRequest {
                resolution: Some(Resolution::MultipleChoice),
                choices: Some(vec!["Paris".into(), "London".into()]),
                ..request(
                    "Capital of France?",
                    &["local/prose", "native/json", "local/both"],
                )
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    use roundtable_core::VoteRead;
    let read: Vec<_> = out
        .response
        .model_results
        .iter()
        .map(|r| (r.vote.clone(), r.vote_read))
        .collect();
    assert_eq!(
        read,
        [
            (Some("Paris".into()), Some(VoteRead::Prose)),
            (Some("London".into()), Some(VoteRead::Structured)),
            (None, None),
        ]
    );
    // The native provider was asked for one of the choices through structured
    // output; the local server in prose (its JSON mode reads worse).
    for q in fake.requests() {
        let format = &q.body["response_format"];
        if q.model == "json" {
            assert_eq!(
                format["json_schema"]["schema"]["properties"]["choice"]["enum"],
                serde_json::json!(["Paris", "London"])
            );
        } else {
            assert!(format.is_null(), "{}: {format}", q.model);
        }
    }
}
