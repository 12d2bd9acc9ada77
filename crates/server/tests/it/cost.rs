//! `"dry_run": true` answers the estimate and calls no one; `max_cost` over the
//! worst case is a 400 naming it, unless `confirm_cost`.

use crate::common::Server;
use roundtable_testkit::{Behavior, Script};
use serde_json::{Value, json};

#[tokio::test]
async fn a_dry_run_is_the_estimate_and_max_cost_is_checked_before_any_call() {
    let s = Server::start(Script::new().model("a", Behavior::answer("Paris"))).await;
    let body = json!({"input": "Capital of France?", "models": [{"name": "fake/a", "max_tokens": 50}], "dry_run": true});
    let r = s.post(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["calls"][0]["model"], "fake/a");
    assert_eq!(e["calls"][0]["output_worst"], 50);
    assert!(
        e["summary"].is_object(),
        "summary mode: the summary call is counted"
    );
    assert!(s.fake.requests().is_empty(), "nobody was called");

    // The fake model has no price: its worst case is $0, under any cap.
    let capped = json!({"input": "Capital?", "models": [{"name": "fake/a"}], "resolution": "fast", "max_cost": 0.01});
    let r = s.post(&capped).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bad = json!({"input": "Capital?", "models": [{"name": "fake/a"}], "max_cost": -2});
    let r = s.post(&bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["details"]["field"], "max_cost", "{e}");
}

#[tokio::test]
async fn a_dry_run_of_text_the_tokenizer_cannot_split_is_estimated() {
    // About 1 MB of blanks before a word exhausted OpenAI's tokenizer's regex
    // backtracking stack, and its panic answered 500.
    let s = Server::start(Script::new()).await;
    let input = format!("{}word", " ".repeat(1 << 20));
    let body = json!({"input": input, "models": [{"name": "openai/gpt-4.1-mini"}], "resolution": "fast", "dry_run": true});
    let r = s.post(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        e["calls"][0]["input_exact"], false,
        "the character estimate"
    );
    assert!(
        e["calls"][0]["input_tokens"].as_u64().unwrap() > 1 << 18,
        "{e}"
    );
}
