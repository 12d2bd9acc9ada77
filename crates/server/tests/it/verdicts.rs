//! The extensions beside the contract: judging a stored run and the leaderboard.

use crate::common::{Server, TOKEN};
use roundtable_app::store::{Ballot, VoteKind};
use roundtable_testkit::{Behavior, Script};
use serde_json::{Value, json};

fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris"))
        .model("b", Behavior::answer("Paris, on the Seine"))
        .model(
            "judge",
            Behavior::answer(
                r#"{"ranking": [{"response": "A", "reason": "first"}, {"response": "B", "reason": "second"}]}"#,
            ),
        )
        .model("rambler", Behavior::answer("B, clearly."))
}

async fn stored_run(s: &Server) -> String {
    let body = json!({"input": "Capital of France?", "models": [{"name": "fake/a"}, {"name": "fake/b"}], "resolution": "fast"});
    let r: Value = s.post(&body).send().await.unwrap().json().await.unwrap();
    r["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_stored_run_is_judged_over_http() {
    let s = Server::start(script()).await;
    let id = stored_run(&s).await;
    let judge = |body: Value, id: &str| {
        s.client
            .post(s.url(&format!("/v3/roundtable/{id}/judge")))
            .bearer_auth(TOKEN)
            .json(&body)
    };
    let r = judge(json!({"model": "fake/judge"}), &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["judge_model"], "fake/judge");
    assert_eq!(j["reasons"], json!(["first", "second"]));
    assert_eq!(j["ranking"].as_array().unwrap().len(), 2);

    let r = judge(json!({"model": "fake/rambler"}), &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "judge_failed");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not the ranking"),
        "{e}"
    );

    let r = judge(json!({"model": "fake/judge"}), "rt_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = judge(json!({"judge": "fake/judge"}), &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["details"]["field"], "model", "{e}");
    let r = judge(json!({"model": "nowhere/judge"}), &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "an unknown provider is an invalid request");
    let r = s
        .client
        .post(s.url(&format!("/v3/roundtable/{id}/judge")))
        .json(&json!({"model": "fake/judge"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_leaderboard_is_served_from_votes_or_judges() {
    let s = Server::start(script()).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(stored_run(&s).await);
    }
    for id in &ids {
        let ballot = Ballot {
            kind: VoteKind::Best,
            ranking: vec![vec![1]],
            blind: true,
        };
        s.app.cast_vote(id, &ballot).unwrap();
    }
    let get = |query: &str| {
        s.client
            .get(s.url(&format!("/v3/roundtable/leaderboard{query}")))
            .bearer_auth(TOKEN)
            .send()
    };
    let board: Value = get("").await.unwrap().json().await.unwrap();
    assert_eq!(board["verdicts"], 5);
    assert_eq!(board["rows"][0]["model"], "fake/b");
    assert_eq!(board["rows"][0]["rank"], 1);
    let board: Value = get("?panel=fake/a,fake/b&since_ms=0")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(board["verdicts"], 5);
    let board: Value = get("?source=judges").await.unwrap().json().await.unwrap();
    assert_eq!(board["verdicts"], 0);
    let r = get("?source=everyone").await.unwrap();
    assert_eq!(r.status(), 400);
    let r = get("?colour=blue").await.unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .client
        .get(s.url("/v3/roundtable/leaderboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Until the fake provider has received `n` requests in all.
async fn until_requests(s: &Server, n: usize) {
    while s.fake.requests().len() < n {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_judge_takes_a_run_slot_and_is_waited_for_at_shutdown() {
    use roundtable_server::MAX_CONCURRENT_RUNS;
    let s = Server::start(script().model("slow", Behavior::answer("x").latency(600_000))).await;
    let id = stored_run(&s).await;
    let seen = s.fake.requests().len();
    let judging = tokio::spawn(
        s.client
            .post(s.url(&format!("/v3/roundtable/{id}/judge")))
            .bearer_auth(TOKEN)
            .json(&json!({"model": "fake/slow"}))
            .send(),
    );
    until_requests(&s, seen + 1).await;
    assert_eq!(s.handle.runs_in_flight(), 1, "the judge is tracked");

    // The judge holds one of the slots: the runs fill the others, and the
    // next one is turned away.
    let slow = json!({"input": "?", "models": [{"name": "fake/slow"}], "resolution": "fast"});
    let runs: Vec<_> = (1..MAX_CONCURRENT_RUNS)
        .map(|_| tokio::spawn(s.post(&slow).send()))
        .collect();
    until_requests(&s, seen + MAX_CONCURRENT_RUNS).await;
    let r = s.post(&slow).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "busy", "{e}");

    let Server { handle, fake, .. } = s;
    handle.shutdown().await;
    let r = judging.await.unwrap().unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());
    for run in runs {
        assert_eq!(run.await.unwrap().unwrap().status(), 503);
    }
    drop(fake);
}
