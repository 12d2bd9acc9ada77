//! `meta.agreement` over the API: an additive extension of the response and of
//! the stream's `done` chunk, both still valid against the contract.

use crate::common::{Server, check_response, sse_payloads};
use roundtable_testkit::{Behavior, Script, contract};
use serde_json::{Value, json};

fn script() -> Script {
    Script::new()
        .model("j1", Behavior::answer(r#"{"answer":"Paris","sure":true}"#))
        .model("j2", Behavior::answer(r#"{"answer":"Paris","sure":false}"#))
        .model("j3", Behavior::answer(r#"{"answer":"Lyon","sure":true}"#))
}

fn body(stream: bool) -> Value {
    json!({
        "input": "Capital of France?",
        "models": [{"name": "fake/j1"}, {"name": "fake/j2"}, {"name": "fake/j3"}],
        "output_schema": {"type": "object"},
        "stream": stream,
    })
}

fn check_agreement(meta: &Value) {
    let fields = meta["agreement"]["fields"]["fields"].as_array().unwrap();
    let answer = fields.iter().find(|f| f["pointer"] == "/answer").unwrap();
    assert_eq!(answer["majority"], "Paris");
    let sure = fields.iter().find(|f| f["pointer"] == "/sure").unwrap();
    assert_eq!(sure["majority"], true);
    assert_eq!(
        meta["agreement"]["consensus"]["object"],
        json!({"answer": "Paris", "sure": true})
    );
}

#[tokio::test]
async fn a_schema_run_carries_the_agreement_in_the_response_and_the_done_chunk() {
    let s = Server::start(script()).await;
    let r = s.post(&body(false)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    check_response(&v);
    check_agreement(&v["meta"]);

    let r = s.post(&body(true)).send().await.unwrap();
    let payloads = sse_payloads(r).await;
    let done: Value = serde_json::from_str(&payloads[payloads.len() - 2]).unwrap();
    assert_eq!(done["type"], "done");
    let errors = contract::errors("RoundtableStreamChunk", &done);
    assert!(errors.is_empty(), "{errors:?}");
    check_response(&done["response"]);
    check_agreement(&done["meta"]);
}
