//! The engine against the fake provider over real HTTP on loopback.

use crate::common::{drain, engine, request};
use roundtable_core::{Resolution, RunEvent, RunStatus};
use roundtable_testkit::{Behavior, FakeProvider, FakeUsage, Fault, Script};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn summary_run_consolidates_the_successful_answers_only() {
    let fake = FakeProvider::start(
        Script::new()
            .model("a", Behavior::answer("Paris is the capital."))
            .model("b", Behavior::answer("It is Paris."))
            .model(
                "broken",
                Behavior::new().fault(Fault::status(400, "bad model")),
            ),
    )
    .await
    .unwrap();
    let engine = engine(&fake);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = engine
        .run(
            request("Capital of France?", &["fake/a", "fake/broken", "fake/b"]),
            Some(tx),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let r = &out.response;
    assert_eq!(out.status, RunStatus::Completed);
    assert!(r.id.starts_with("rt_"));
    assert!(!r.meta.trace_uuid.is_empty());
    assert_eq!(r.meta.models_used, ["fake/a", "fake/b"]);
    // The default summary model: the first of the panel that answered.
    assert_eq!(r.meta.summary_model.as_deref(), Some("fake/a"));
    assert!(r.meta.summary_usage.is_some());
    let broken = &r.model_results[1];
    assert_eq!(broken.data, "");
    let err = broken.error.as_deref().unwrap();
    assert!(
        err.contains("HTTP 400") && err.contains("bad model"),
        "{err}"
    );
    assert!(err.contains("1 attempt"), "{err}");

    // The consolidation call carried both answers, labelled, and not the failure.
    let reqs = fake.requests();
    let consolidation = reqs.last().unwrap();
    let prompt = consolidation.body["messages"][0]["content"]
        .as_str()
        .unwrap();
    assert!(prompt.contains("Capital of France?"));
    assert!(prompt.contains("id=\"A\">\nParis is the capital.\n</response-"));
    assert!(prompt.contains("id=\"B\">\nIt is Paris.\n</response-"));
    assert!(!prompt.contains("bad model"));

    // Events: started, per-model deltas, finished/failed, consolidation, done.
    let events = drain(&mut rx);
    assert!(matches!(events.first(), Some(RunEvent::RunStarted { .. })));
    assert!(matches!(events.last(), Some(RunEvent::Done { .. })));
    let deltas: String = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::TextDelta {
                index: 0, delta, ..
            } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, "Paris is the capital.");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::ModelFailed { result } if result.index == 1))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::ConsolidationDelta { .. }))
    );
}

#[tokio::test]
async fn fast_mode_has_no_consolidation() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let mut req = request("Hi", &["fake/a", "fake/b"]);
    req.resolution = Some(Resolution::Fast);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(out.response.data, None);
    assert_eq!(fake.requests().len(), 2);
    assert!(out.response.meta.summary_model.is_none());
}

#[tokio::test]
async fn multiple_choice_tallies_votes_and_shows_off_list_answers() {
    let fake = FakeProvider::start(
        Script::new()
            .model("a", Behavior::answer("London"))
            .model("b", Behavior::answer("  \"b\"."))
            .model("c", Behavior::answer("Paris"))
            .model("d", Behavior::answer("Rome, surely")),
    )
    .await
    .unwrap();
    let mut req = request(
        "Capital of the UK?",
        &["fake/a", "fake/b", "fake/c", "fake/d"],
    );
    req.resolution = Some(Resolution::MultipleChoice);
    req.choices = Some(vec!["Paris".into(), "London".into()]);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response;
    assert_eq!(r.data.as_deref(), Some("London"));
    let votes = r.meta.votes.as_ref().unwrap();
    assert_eq!(votes["London"], 2);
    assert_eq!(votes["Paris"], 1);
    assert_eq!(r.model_results[1].vote.as_deref(), Some("London"));
    assert_eq!(
        r.model_results[3].vote, None,
        "an off-list answer counts for nothing"
    );
    // Each model was told the choices.
    let system = fake.requests()[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        system.contains("A) Paris") && system.contains("B) London"),
        "{system}"
    );
}

#[tokio::test]
async fn transient_failures_are_retried_honouring_retry_after() {
    let fake = FakeProvider::start(
        Script::new()
            .model(
                "limited",
                Behavior::answer("ok").faults([Fault::status(429, "slow down").retry_after_ms(50)]),
            )
            .model(
                "flaky",
                Behavior::answer("ok").faults([Fault::status(503, "overloaded").retry_after("0")]),
            )
            .model(
                "cut",
                Behavior::answer("a long answer in many parts")
                    .chunks(6)
                    .faults([Fault::DisconnectMidStream]),
            )
            .model(
                "garbled",
                Behavior::answer("fine").faults([Fault::MalformedChunk]),
            ),
    )
    .await
    .unwrap();
    let engine = engine(&fake);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut req = request(
        "Hi",
        &["fake/limited", "fake/flaky", "fake/cut", "fake/garbled"],
    );
    req.resolution = Some(Resolution::Fast);
    let out = engine
        .run(req, Some(tx), CancellationToken::new())
        .await
        .unwrap();
    for r in &out.response.model_results {
        assert_eq!(r.error, None, "{}", r.model);
        assert_eq!(r.attempts, Some(2), "{}", r.model);
    }
    assert_eq!(
        out.response.model_results[2].data,
        "a long answer in many parts"
    );
    let events = drain(&mut rx);
    let retry_429 = events
        .iter()
        .find_map(|e| match e {
            RunEvent::ModelRetrying {
                index: 0,
                delay_ms,
                reason,
                ..
            } => Some((*delay_ms, reason.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(retry_429.0, 50, "Retry-After-ms is honoured");
    assert!(retry_429.1.contains("429") && retry_429.1.contains("slow down"));
}

#[tokio::test]
async fn retries_are_bounded_and_permanent_errors_are_not_retried() {
    let fake = FakeProvider::start(
        Script::new()
            .model(
                "down",
                Behavior::answer("x")
                    .faults((0..5).map(|_| Fault::status(500, "boom").retry_after("0"))),
            )
            .model(
                "quota",
                Behavior::answer("x").faults([
                    Fault::status(429, "You exceeded your quota").code("insufficient_quota")
                ]),
            )
            .model(
                "told",
                Behavior::answer("x").faults([Fault::status(503, "nope").should_retry(false)]),
            ),
    )
    .await
    .unwrap();
    let mut req = request("Hi", &["fake/down", "fake/quota", "fake/told"]);
    req.resolution = Some(Resolution::Fast);
    req.max_retries = Some(2);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response.model_results;
    assert_eq!(r[0].attempts, Some(3));
    assert!(
        r[0].error
            .as_deref()
            .unwrap()
            .contains("HTTP 500: boom (3 attempts)")
    );
    assert_eq!(r[1].attempts, Some(1), "insufficient_quota is not retried");
    assert_eq!(r[2].attempts, Some(1), "x-should-retry: false is obeyed");
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(fake.calls_for("down"), 3);
}

#[tokio::test]
async fn a_hanging_model_times_out_and_the_others_still_answer() {
    let fake = FakeProvider::start(Script::new().model(
        "hang",
        Behavior::answer("never").faults([Fault::Hang, Fault::Hang]),
    ))
    .await
    .unwrap();
    let mut req = request("Hi", &["fake/hang", "fake/ok"]);
    req.resolution = Some(Resolution::Fast);
    req.timeout_ms = Some(300);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let hang = &out.response.model_results[0];
    assert!(
        hang.error
            .as_deref()
            .unwrap()
            .starts_with("timed out after 300 ms"),
        "{:?}",
        hang.error
    );
    assert!(out.response.model_results[1].succeeded());
    assert_eq!(out.status, RunStatus::Completed);
}

#[tokio::test]
async fn a_retry_after_beyond_the_timeout_is_not_waited_for() {
    let fake = FakeProvider::start(Script::new().model(
        "limited",
        Behavior::answer("x").faults([Fault::status(429, "later").retry_after("30")]),
    ))
    .await
    .unwrap();
    let mut req = request("Hi", &["fake/limited"]);
    req.timeout_ms = Some(1000);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let e = out.response.model_results[0].error.clone().unwrap();
    assert!(e.contains("would pass the 1000 ms timeout"), "{e}");
}

#[tokio::test]
async fn missing_key_is_that_models_error_naming_how_to_set_it() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let mut req = request("Hi", &["nokey/m", "fake/m"]);
    req.resolution = Some(Resolution::Fast);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let e = out.response.model_results[0].error.clone().unwrap();
    assert!(
        e.contains("no API key for provider 'nokey'") && e.contains("NOKEY_API_KEY"),
        "{e}"
    );
    assert_eq!(fake.calls_for("m"), 1, "the keyless model was never sent");
}

#[tokio::test]
async fn the_key_is_sent_and_masked_when_echoed_back() {
    let fake = FakeProvider::start(
        Script::new()
            .require_key("sk-test-key-0123456789")
            .model("echo", Behavior::new().fault(Fault::EchoKey)),
    )
    .await
    .unwrap();
    let mut req = request("Hi", &["keyed/ok", "keyed/echo"]);
    req.resolution = Some(Resolution::Fast);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    assert!(out.response.model_results[0].succeeded());
    let e = out.response.model_results[1].error.clone().unwrap();
    assert!(!e.contains("sk-test-key-0123456789"), "{e}");
    assert!(e.contains("<redacted>"), "{e}");
    let json = serde_json::to_string(&out.response).unwrap();
    assert!(!json.contains("sk-test-key-0123456789"));
}

#[tokio::test]
async fn cancelling_keeps_what_had_arrived() {
    let fake = FakeProvider::start(
        Script::new().model(
            "slow",
            Behavior::answer("one two three four five six")
                .chunks(6)
                .chunk_delay(150),
        ),
    )
    .await
    .unwrap();
    let engine = engine(&fake);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = tokio::spawn({
        let cancel = cancel.clone();
        let engine = engine.clone();
        async move {
            engine
                .run(request("Hi", &["fake/slow"]), Some(tx), cancel)
                .await
        }
    });
    // Cancel once some text has arrived.
    loop {
        match rx.recv().await.unwrap() {
            RunEvent::TextDelta { .. } => break,
            _ => continue,
        }
    }
    cancel.cancel();
    let out = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(out.status, RunStatus::Interrupted);
    let r = &out.response.model_results[0];
    assert_eq!(r.error.as_deref(), Some("cancelled"));
    assert!(
        !r.data.is_empty() && r.data.len() < "one two three four five six".len(),
        "{:?}",
        r.data
    );
    assert!(
        out.response.meta.summary_model.is_none(),
        "no consolidation after a cancel"
    );
}

#[tokio::test]
async fn non_streaming_providers_work_too() {
    let fake = FakeProvider::start(Script::new().model(
        "m",
        Behavior::answer("plain").usage(FakeUsage::new(100, 20).cached(40).reasoning(5)),
    ))
    .await
    .unwrap();
    let mut req = request("Hi", &["nostream/m"]);
    req.resolution = Some(Resolution::Fast);
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response.model_results[0];
    assert_eq!(r.data, "plain");
    assert_eq!(r.usage.input_tokens, 100);
    assert_eq!(r.usage.cache_read_tokens, 40);
    assert_eq!(r.usage.reasoning_tokens, 5);
    assert_eq!(fake.requests()[0].body.get("stream"), None);
}

#[tokio::test]
async fn validation_happens_before_any_provider_is_called() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let mut req = request("Hi", &["fake/a", "unknown/b"]);
    req.resolution = Some(Resolution::Fast);
    let e = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.field, "models[1].name");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn output_schema_is_checked_on_every_answer() {
    let fake = FakeProvider::start(
        Script::new()
            .model("good", Behavior::answer(r#"{"city": "Paris"}"#))
            .model("bad", Behavior::answer(r#"{"town": 3}"#)),
    )
    .await
    .unwrap();
    let mut req = request("Capital?", &["fake/good", "fake/bad"]);
    req.summary_model = Some("fake/good".into());
    req.output_schema = Some(serde_json::json!({
        "type": "object", "properties": {"city": {"type": "string"}},
        "required": ["city"], "additionalProperties": false
    }));
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response;
    assert_eq!(r.model_results[0].schema_valid, Some(true));
    assert_eq!(r.model_results[1].schema_valid, Some(false));
    assert!(r.model_results[1].schema_error.is_some());
    assert_eq!(r.meta.schema_valid, Some(true));
    // The schema went to the provider with every call, the consolidation included.
    for q in fake.requests() {
        assert_eq!(q.body["response_format"]["type"], "json_schema");
    }
}

#[tokio::test]
async fn each_result_says_how_its_call_ended_as_a_type() {
    use roundtable_core::ModelOutcome;
    let fake = FakeProvider::start(
        Script::new()
            .model("ok", Behavior::answer("Paris"))
            .model("slow", Behavior::new().fault(Fault::Hang))
            .model("bad", Behavior::new().fault(Fault::status(400, "no"))),
    )
    .await
    .unwrap();
    let out = engine(&fake)
        .run(
            roundtable_core::RoundtableRequest {
                resolution: Some(Resolution::Fast),
                timeout_ms: Some(300),
                ..request("Q?", &["fake/ok", "fake/slow", "fake/bad", "nokey/x"])
            },
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let ended: Vec<_> = out
        .response
        .model_results
        .iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        ended,
        [
            Some(ModelOutcome::Answered),
            Some(ModelOutcome::TimedOut),
            Some(ModelOutcome::Failed),
            Some(ModelOutcome::MissingKey),
        ]
    );
}
