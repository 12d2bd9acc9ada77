//! Conversations from the CLI as a process against the fake provider: `run
//! --continue ID` follows a run up with its panel (each model sent its thread),
//! `--with MODEL` carries on with one model, `--context resolved` sends the
//! resolved answers, `history show ID --thread` prints the turns in order,
//! `history list --threads` one line per conversation, `history delete --after`
//! a turn and what follows it, and an unknown id exits 2 naming it.

use crate::common::{Home, script};
use roundtable_testkit::FakeProvider;
use serde_json::Value;

/// The roles and texts of the messages of the fake's last request for `model`.
fn last_messages(fake: &FakeProvider, model: &str) -> Vec<(String, String)> {
    let body = fake
        .requests()
        .into_iter()
        .rfind(|r| r.model == model)
        .unwrap()
        .body;
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let role = m["role"].as_str().unwrap().to_string();
            (role, m["content"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_conversation_from_the_command_line() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let first = home
        .json(&[
            "run", "Capital?", "-m", "fake/a", "-m", "fake/b", "-r", "fast", "--json",
        ])
        .await;
    let first_id = id_of(&first);

    // The same panel, each model with its own thread.
    let second = home
        .json(&["run", "--continue", &first_id, "And why?", "--json"])
        .await;
    let second_id = id_of(&second);
    assert_eq!(second["model_results"].as_array().unwrap().len(), 2);
    let sent = last_messages(&fake, "b");
    let roles: Vec<&str> = sent.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    assert_eq!(sent[1].1, "London", "b's own earlier answer");

    // One model, from the resolved answers (fast: the first answer, Paris).
    let third = home
        .json(&[
            "run",
            "--continue",
            &second_id,
            "--with",
            "fake/b",
            "--context",
            "resolved",
            "Sure?",
            "--json",
        ])
        .await;
    assert_eq!(third["model_results"].as_array().unwrap().len(), 1);
    let sent = last_messages(&fake, "b");
    assert_eq!(sent.len(), 5);
    assert_eq!(sent[1].1, "Paris");

    // The thread, turn by turn; the list, one line for it.
    let shown = home.run(&["history", "show", &second_id, "--thread"]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let (t1, t3) = (
        shown.stdout.find("Turn 1 of 3").unwrap(),
        shown.stdout.find("Turn 3 of 3").unwrap(),
    );
    assert!(t1 < shown.stdout.find("And why?").unwrap() && t3 > t1);
    let turns = home
        .json(&["history", "show", &first_id, "--thread", "--json"])
        .await;
    assert_eq!(turns.as_array().unwrap().len(), 3);
    let list = home.json(&["history", "list", "--threads", "--json"]).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["turns"], 3);
    let plain = home.run(&["history", "list", "--threads"]).await;
    assert!(plain.stdout.contains("3 turns"), "{}", plain.stdout);

    // Deleting the second turn takes the third with it.
    let deleted = home
        .run(&["history", "delete", &second_id, "--after"])
        .await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    let left = home.json(&["history", "list", "--json"]).await;
    assert_eq!(left.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unknown_run_to_continue_exits_2_naming_it() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let out = home.run(&["run", "--continue", "rt_nope", "Hi"]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("rt_nope"), "{}", out.stderr);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_estimate_flags_a_model_whose_context_window_the_follow_up_passes() {
    let fake = FakeProvider::start(roundtable_testkit::Script::new().model(
        "a",
        roundtable_testkit::Behavior::answer("word ".repeat(400)),
    ))
    .await
    .unwrap();
    let home = Home::new(&fake);
    // fake/a takes at most 300 input tokens.
    std::fs::write(
        home.path().join("prices.json"),
        r#"{"fake/a": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6, "max_input_tokens": 300}}"#,
    )
    .unwrap();
    let config = home.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("price_files = [\"prices.json\"]\n{text}")).unwrap();

    let first = home
        .json(&["run", "Talk.", "-m", "fake/a", "-r", "fast", "--json"])
        .await;
    let args = [
        "run",
        "--continue",
        first["id"].as_str().unwrap(),
        "More.",
        "--estimate",
    ];
    let out = home.run(&args).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("fake/a: about")
            && out.stdout.contains("over its context window of 300"),
        "{}",
        out.stdout
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let e = home.json(&json_args).await;
    assert_eq!(e["calls"][0]["over_context"], true);
    assert_eq!(e["calls"][0]["context_window"], 300);
    assert_eq!(fake.requests().len(), 1, "an estimate calls no one");
}
