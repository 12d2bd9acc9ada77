//! Votes, a judge and the leaderboard from the CLI, over runs recorded against
//! the fake provider.

use crate::common::Home;
use roundtable_testkit::{Behavior, FakeProvider, Script};
use serde_json::Value;

const RANKING: &str = r#"{"ranking": [{"response": "B", "reason": "clearer"}, {"response": "A", "reason": "vaguer"}]}"#;

fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris"))
        .model("b", Behavior::answer("Paris, on the Seine"))
        .model("c", Behavior::answer("Lyon"))
        .model("judge", Behavior::answer(RANKING))
        .model("rambler", Behavior::answer("I would say B is best."))
}

async fn panel_run(home: &Home, models: &[&str]) -> String {
    let mut args = vec![
        "run",
        "What is the capital of France?",
        "--json",
        "--resolution",
        "fast",
    ];
    for m in models {
        args.push("-m");
        args.push(m);
    }
    let run = home.json(&args).await;
    run["id"].as_str().unwrap().to_string()
}

fn row<'a>(board: &'a Value, model: &str) -> &'a Value {
    board["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == model)
        .unwrap_or_else(|| panic!("no {model} in {board}"))
}

#[tokio::test]
async fn votes_make_a_leaderboard_that_ranks_once_there_are_enough() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let empty = home.run(&["leaderboard"]).await;
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(empty.stdout.contains("No votes yet"), "{}", empty.stdout);

    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(panel_run(&home, &["fake/a", "fake/b", "fake/c"]).await);
    }
    for id in &ids[..4] {
        let out = home.run(&["vote", id, "--best", "2"]).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    // A ranking with a tie, changed later to an "all bad".
    assert_eq!(
        home.run(&["vote", &ids[4], "--rank", "2=1,3"]).await.code,
        0
    );
    let board = home.json(&["leaderboard", "--json"]).await;
    assert_eq!(board["verdicts"], 5);
    assert_eq!(row(&board, "fake/b")["rank"], 1);
    assert_eq!(row(&board, "fake/b")["wins"], 9);
    assert_eq!(row(&board, "fake/b")["ties"], 1);
    assert_eq!(row(&board, "fake/c")["losses"], 4 + 2);
    assert!(
        row(&board, "fake/b")["rating"].as_f64().unwrap()
            > row(&board, "fake/a")["rating"].as_f64().unwrap()
    );

    assert_eq!(home.run(&["vote", &ids[4], "--all-bad"]).await.code, 0);
    assert_eq!(home.run(&["vote", &ids[3], "--withdraw"]).await.code, 0);
    let board = home.json(&["leaderboard", "--json"]).await;
    assert_eq!(board["verdicts"], 4);
    assert_eq!(
        row(&board, "fake/b")["rank"],
        Value::Null,
        "4 votes are too few"
    );
    let table = home.run(&["leaderboard"]).await;
    assert!(table.stdout.contains("fake/b"), "{}", table.stdout);
    assert!(
        table.stdout.contains("fewer than 5 votes"),
        "{}",
        table.stdout
    );
    let csv = home.run(&["leaderboard", "--csv"]).await;
    assert!(
        csv.stdout.starts_with("rank,model,rating"),
        "{}",
        csv.stdout
    );
    assert_eq!(csv.stdout.lines().count(), 4);

    // Filters: a tag no run has, a date in the future, another panel.
    assert_eq!(
        home.json(&["leaderboard", "--json", "--tag", "none"]).await["verdicts"],
        0
    );
    assert_eq!(
        home.json(&["leaderboard", "--json", "--since", "2999-01-01"])
            .await["verdicts"],
        0
    );
    assert_eq!(
        home.json(&["leaderboard", "--json", "--since", "7d"]).await["verdicts"],
        4
    );
    assert_eq!(
        home.json(&["leaderboard", "--json", "--panel", "fake/a,fake/b"])
            .await["verdicts"],
        0
    );

    // Bad votes are invalid requests that name what was wrong.
    let bad = home.run(&["vote", &ids[0], "--best", "9"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("no model result 8"), "{}", bad.stderr);
    let bad = home.run(&["vote", "rt_nope", "--best", "1"]).await;
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("rt_nope"), "{}", bad.stderr);
    let bad = home.run(&["leaderboard", "--since", "whenever"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[tokio::test]
async fn a_judge_ranks_a_stored_run_apart_from_the_votes() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let id = panel_run(&home, &["fake/a", "fake/b"]).await;
    let judged = home
        .json(&["judge", &id, "-m", "fake/judge", "--json"])
        .await;
    assert_eq!(judged["reasons"], serde_json::json!(["clearer", "vaguer"]));

    // The judge's call sees the answers, but not the models' names; its
    // places land on the models whose answers it saw as A and B, in whichever
    // order they were shown.
    let sent: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.model == "judge")
        .collect();
    let body = &sent.last().unwrap().body;
    let prompt = body["messages"].to_string();
    assert!(prompt.contains("Paris, on the Seine"), "{prompt}");
    let text = body["messages"][0]["content"].as_str().unwrap();
    // The judge puts B first: the other answer, when b's stood under A.
    let b_shown_first = text.contains("id=\"A\">\nParis, on the Seine\n");
    let expected = if b_shown_first { [0, 1] } else { [1, 0] };
    assert_eq!(judged["ranking"], serde_json::json!(expected), "{text}");
    assert!(
        !prompt.contains("fake/a") && !prompt.contains("fake/b"),
        "{prompt}"
    );

    let votes = home.json(&["leaderboard", "--json"]).await;
    assert_eq!(votes["verdicts"], 0, "a judgement is not a vote");
    let judges = home.json(&["leaderboard", "--judge", "--json"]).await;
    assert_eq!(judges["verdicts"], 1);
    assert_eq!(judges["source"], "judges");

    let table = home.run(&["judge", &id, "-m", "fake/judge"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("1. fake/"), "{}", table.stdout);
    assert!(table.stdout.contains("clearer"), "{}", table.stdout);

    // A run can be judged as soon as it is done.
    let judged_run = home
        .run(&[
            "run",
            "Capital?",
            "-m",
            "fake/a",
            "-m",
            "fake/b",
            "--resolution",
            "fast",
            "--judge",
            "fake/judge",
        ])
        .await;
    assert_eq!(judged_run.code, 0, "{}", judged_run.stderr);
    assert!(
        judged_run.stdout.contains("1. fake/"),
        "{}",
        judged_run.stdout
    );
    assert_eq!(
        home.json(&["leaderboard", "--judge", "--json"]).await["verdicts"],
        2
    );

    // A judge that does not answer with a ranking fails, and says why.
    let bad = home.run(&["judge", &id, "-m", "fake/rambler"]).await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("not the ranking asked for"),
        "{}",
        bad.stderr
    );
    let one = panel_run(&home, &["fake/a"]).await;
    let bad = home.run(&["judge", &one, "-m", "fake/judge"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("two or more"), "{}", bad.stderr);
}

#[tokio::test]
async fn consensus_lists_the_claims_and_a_stored_run_can_get_them_later() {
    let claims = r#"{"claims": [{"claim": "Paris is the capital", "stances": {"A": "supports", "B": "supports"}}, {"claim": "It is on the Seine", "stances": {"A": "silent", "B": "supports"}}]}"#;
    let script = script().model(
        "summ",
        Behavior::answer("Paris.").answer_when("List the distinct", claims),
    );
    let fake = FakeProvider::start(script).await.unwrap();
    let home = Home::new(&fake);
    let args = [
        "run",
        "Capital?",
        "-m",
        "fake/a",
        "-m",
        "fake/b",
        "--summary-model",
        "fake/summ",
    ];
    let out = home.run(&[&args[..], &["--consensus"]].concat()).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Claims · agreement 100 %"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("✓✓  Paris is the capital"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("·✓  It is on the Seine"),
        "{}",
        out.stdout
    );

    // A run made without it gets the matrix from its stored answers.
    let plain = home.json(&[&args[..], &["--json"]].concat()).await;
    assert!(plain["meta"]["claims"].is_null());
    let id = plain["id"].as_str().unwrap();
    let calls = fake.requests().len();
    let again = home
        .json(&[
            "resolve",
            id,
            "--resolution",
            "summary",
            "--summary-model",
            "fake/summ",
            "--consensus",
            "--json",
        ])
        .await;
    assert_eq!(again["meta"]["claims"]["claims"][1]["kind"], "minority");
    let panel_calls = fake.requests()[calls..]
        .iter()
        .filter(|r| r.model == "a" || r.model == "b")
        .count();
    assert_eq!(panel_calls, 0, "the panel is not called again");
}
