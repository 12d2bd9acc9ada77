//! The token before anything else: every route of the API answers 401 to a
//! request without the right token, whatever else is wrong with it (a bad
//! query, a body that is not JSON or too large, a wrong content type, a run
//! that does not exist), and only with the token says what that is.

use crate::common::{Server, TOKEN, check_error};
use roundtable_server::ServeOptions;
use roundtable_testkit::{Behavior, Script};
use serde_json::Value;

/// Every route but `/healthz`, each with a request that is wrong apart from its
/// token, and the status it gets once the token is right.
fn routes(s: &Server) -> Vec<(&'static str, reqwest::RequestBuilder, u16)> {
    let too_large = serde_json::json!({"input": "y".repeat(5000), "models": [{"name": "fake/a"}]});
    let c = &s.client;
    vec![
        (
            "stats, bad query",
            c.get(s.url("/v3/roundtable/stats?since_ms=yesterday")),
            400,
        ),
        (
            "leaderboard, bad query",
            c.get(s.url("/v3/roundtable/leaderboard?source=everyone")),
            400,
        ),
        ("budget", c.get(s.url("/v3/roundtable/budget")), 200),
        (
            "roundtable, not JSON",
            c.post(s.url("/v3/roundtable"))
                .header("content-type", "application/json")
                .body("{"),
            400,
        ),
        (
            "roundtable, wrong content type",
            c.post(s.url("/v3/roundtable"))
                .header("content-type", "text/plain")
                .body("{}"),
            415,
        ),
        (
            "beta roundtable, too large",
            c.post(s.url("/v3/beta/roundtable")).json(&too_large),
            413,
        ),
        (
            "judge, not JSON",
            c.post(s.url("/v3/roundtable/rt_nothing/judge"))
                .header("content-type", "application/json")
                .body("model"),
            400,
        ),
        (
            "judge, no such run",
            c.post(s.url("/v3/roundtable/rt_nothing/judge"))
                .json(&serde_json::json!({"model": "fake/a"})),
            404,
        ),
    ]
}

async fn status_of(r: reqwest::RequestBuilder) -> (u16, Value) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_route_answers_401_before_reading_the_request() {
    let s = Server::start_with(
        Script::new().model("a", Behavior::answer("Paris")),
        ServeOptions {
            max_body_bytes: Some(1000),
            ..Default::default()
        },
    )
    .await;
    for (what, request, _) in routes(&s) {
        let (status, v) = status_of(request).await;
        assert_eq!(status, 401, "{what}, no token: {v}");
        check_error(&v);
    }
    for (what, request, _) in routes(&s) {
        let (status, v) = status_of(request.bearer_auth("wrong")).await;
        assert_eq!(status, 401, "{what}, wrong token: {v}");
        assert_eq!(v["error"]["code"], "unauthorized", "{what}");
    }
    for (what, request, with_token) in routes(&s) {
        let (status, v) = status_of(request.bearer_auth(TOKEN)).await;
        assert_eq!(status, with_token, "{what}, with the token: {v}");
    }
    assert!(s.fake.requests().is_empty());
}
