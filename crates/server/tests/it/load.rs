//! Load at test scale: 200 requests, 25 at a time, each a 3-model `fast` run
//! against the fake provider with no latency: no errors, every run recorded.
//! (`benches/load.rs` is the full-size version, with figures.)

use crate::common::Server;
use futures_util::StreamExt;
use roundtable_app::core::RunStatus;
use roundtable_app::store::ListQuery;
use roundtable_testkit::{Behavior, Script};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_requests_25_at_a_time_all_answered_and_recorded() {
    let s = Server::start(Script::new().default_behavior(Behavior::answer("ok"))).await;
    let body = json!({
        "input": "ping",
        "models": [{"name": "fake/a"}, {"name": "fake/b"}, {"name": "fake/c"}],
        "resolution": "fast",
    });
    let statuses: Vec<u16> = futures_util::stream::iter(0..200)
        .map(|_| {
            let request = s.post(&body);
            async move {
                let r = request.send().await.unwrap();
                let status = r.status().as_u16();
                let v: serde_json::Value = r.json().await.unwrap();
                assert_eq!(v["model_results"].as_array().unwrap().len(), 3, "{v}");
                assert!(v["model_results"][2]["error"].is_null(), "{v}");
                status
            }
        })
        .buffer_unordered(25)
        .collect()
        .await;
    assert_eq!(statuses.len(), 200);
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    let runs = s
        .app
        .list_runs(&ListQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(runs.len(), 200);
    assert!(runs.iter().all(|r| r.status == RunStatus::Completed));
    assert_eq!(s.fake.requests().len(), 600);
}
