//! Responses of every resolution, a failed model among them, validate against the
//! hosted endpoint's OpenAPI schemas. Fast mode's `data: null` is the one
//! documented exception (the contract says `data` is null in fast mode, while the
//! schema types it as a string).

use crate::common::{engine, request};
use roundtable_core::{Resolution, RoundtableResponse};
use roundtable_testkit::contract;
use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

async fn response(resolution: Resolution) -> RoundtableResponse {
    let fake = FakeProvider::start(
        Script::new()
            .model("a", Behavior::answer("Paris").thinking("Let me think."))
            .model("b", Behavior::answer("London"))
            .model(
                "down",
                Behavior::new().fault(Fault::status(503, "overloaded").should_retry(false)),
            ),
    )
    .await
    .unwrap();
    let mut req = request(
        "Capital?",
        &["fake/a", "fake/b", "fake/down", "fake/unpriced"],
    );
    req.resolution = Some(resolution);
    if resolution == Resolution::MultipleChoice {
        req.choices = Some(vec!["Paris".into(), "London".into()]);
    }
    engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap()
        .response
}

fn check(value: &Value) {
    let errors = contract::errors("RoundtableResponse", value);
    assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
}

#[tokio::test]
async fn every_resolution_validates_against_the_contract() {
    for resolution in [Resolution::Summary, Resolution::MultipleChoice] {
        let r = response(resolution).await;
        assert!(
            r.model_results.iter().any(|m| m.error.is_some()),
            "a failed model is included"
        );
        check(&serde_json::to_value(&r).unwrap());
    }
    let fast = serde_json::to_value(response(Resolution::Fast).await).unwrap();
    assert_eq!(fast["data"], Value::Null);
    let mut as_string = fast.clone();
    as_string["data"] = Value::String(String::new());
    check(&as_string);
}

#[test]
fn every_event_chunk_shape_validates() {
    use roundtable_core::StreamChunk;
    let chunk = StreamChunk {
        kind: "model_delta".into(),
        model: Some("openai/gpt-4.1".into()),
        model_index: Some(0),
        delta: Some("Hel".into()),
        ..Default::default()
    };
    let errors = contract::errors(
        "RoundtableStreamChunk",
        &serde_json::to_value(chunk).unwrap(),
    );
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn the_check_catches_a_broken_response() {
    let mut v = serde_json::to_value(response(Resolution::Summary).await).unwrap();
    v["model_results"][0]["duration_ms"] = Value::String("slow".into());
    v.as_object_mut().unwrap().remove("id");
    let errors = contract::errors("RoundtableResponse", &v);
    assert_eq!(errors.len(), 2, "{errors:?}");
}
