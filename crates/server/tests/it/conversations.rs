//! Conversations over the local API: `previous_id` (with `context`) follows a
//! stored run up, plain and streamed, each model sent its thread; the
//! response and every chunk still validate against the contract; an unknown
//! `previous_id` is a 400 naming the field, in the contract's error shape.

use crate::common::{Server, check_error, check_response, sse_payloads};
use roundtable_testkit::{Behavior, Script, contract};
use serde_json::{Value, json};

fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris"))
        .model("b", Behavior::answer("London"))
}

fn body(input: &str) -> Value {
    json!({
        "input": input,
        "models": [{"name": "fake/a"}, {"name": "fake/b"}],
        "resolution": "fast",
    })
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

/// The roles of the fake's last request for `model`, and its first assistant text.
fn last_request(s: &Server, model: &str) -> (Vec<String>, String) {
    let body = s
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.model == model)
        .unwrap()
        .body;
    let messages = body["messages"].as_array().unwrap().clone();
    let roles = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_string())
        .collect();
    let answer = messages
        .iter()
        .find(|m| m["role"] == "assistant")
        .map(|m| m["content"].as_str().unwrap().to_string());
    (roles, answer.unwrap_or_default())
}

#[tokio::test]
async fn a_follow_up_is_sent_its_thread_plain_and_streamed() {
    let s = Server::start(script()).await;
    let (status, first) = json_of(s.post(&body("Capital?")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{first}");
    let first_id = first["id"].as_str().unwrap();

    let mut b = body("And why?");
    b["previous_id"] = json!(first_id);
    let (status, second) = json_of(s.post(&b).send().await.unwrap()).await;
    assert_eq!(status, 200, "{second}");
    check_response(&second);
    assert_eq!(
        last_request(&s, "b"),
        (
            vec!["user".into(), "assistant".into(), "user".into()],
            "London".into()
        )
    );

    let mut b = body("Sure?");
    b["previous_id"] = second["id"].clone();
    b["context"] = json!("resolved");
    b["stream"] = json!(true);
    let r = s.post(&b).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let payloads = sse_payloads(r).await;
    for p in &payloads[..payloads.len() - 1] {
        let chunk: Value = serde_json::from_str(p).unwrap();
        let errors = contract::errors("RoundtableStreamChunk", &chunk);
        assert!(errors.is_empty(), "{errors:?}\n{chunk}");
    }
    let (roles, answer) = last_request(&s, "b");
    assert_eq!(roles.len(), 5);
    assert_eq!(answer, "Paris", "the resolved answer (fast: the first)");
    assert_eq!(s.app.thread(first_id).unwrap().len(), 3);
}

#[tokio::test]
async fn an_unknown_previous_id_is_a_400_naming_the_field() {
    let s = Server::start(script()).await;
    for stream in [false, true] {
        let mut b = body("Hi");
        b["previous_id"] = json!("rt_nope");
        b["stream"] = json!(stream);
        let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
        assert_eq!(status, 400, "{v}");
        check_error(&v);
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("previous_id"),
            "{v}"
        );
        assert_eq!(v["error"]["details"]["field"], "previous_id", "{v}");
    }
    let mut b = body("Hi");
    b["context"] = json!("own");
    let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
    assert_eq!(
        (status, v["error"]["details"]["field"].as_str()),
        (400, Some("context")),
        "{v}"
    );
    assert!(s.fake.requests().is_empty());
}
