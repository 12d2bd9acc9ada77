//! A spent budget refuses a run with 402 `budget_exceeded`, plain or streamed,
//! before any provider is called; `GET /v3/roundtable/budget` and `/stats`
//! show the figures.

use crate::common::{Server, TOKEN, check_error};
use roundtable_app::core::{Meta, RoundtableResponse, RunStatus};
use roundtable_app::store::Store;
use roundtable_testkit::{Behavior, Script};
use serde_json::{Value, json};

#[tokio::test]
async fn a_spent_budget_is_a_402_naming_it() {
    let s = Server::start(Script::new().model("a", Behavior::answer("Paris"))).await;
    // $3 spent today by another host; a daily budget of $2.
    let store = Store::open(&s.home.path().join("history.db")).unwrap();
    let spent = RoundtableResponse {
        id: "rt_elsewhere".into(),
        data: Some("x".into()),
        meta: Meta {
            total_cost: 3.0,
            ..Meta::default()
        },
        model_results: vec![],
    };
    store
        .import_response(None, &spent, RunStatus::Completed, None)
        .unwrap();
    let config = s.home.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[budget]\ndaily_usd = 2.0\n")).unwrap();

    for stream in [false, true] {
        let body = json!({"input": "Capital?", "models": [{"name": "fake/a"}], "resolution": "fast", "stream": stream});
        let r = s.post(&body).send().await.unwrap();
        assert_eq!(r.status(), 402, "stream: {stream}");
        let e: Value = r.json().await.unwrap();
        check_error(&e);
        assert_eq!(e["error"]["code"], "budget_exceeded");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("$3.00 of the daily budget of $2.00"),
            "{message}"
        );
    }
    assert!(s.fake.requests().is_empty(), "nobody was called");

    let get = |path: &str| s.client.get(s.url(path)).bearer_auth(TOKEN).send();
    let b: Value = get("/v3/roundtable/budget")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["state"], "exceeded", "{b}");
    assert_eq!(b["daily"]["limit_usd"], 2.0);
    let r = get("/v3/roundtable/stats?utc_offset_minutes=60")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stats: Value = r.json().await.unwrap();
    assert_eq!(stats["totals"]["runs"], 1, "{stats}");
    assert_eq!(stats["totals"]["cost"], 3.0);
    let r = get("/v3/roundtable/stats?since_ms=soon").await.unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .client
        .get(s.url("/v3/roundtable/budget"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
