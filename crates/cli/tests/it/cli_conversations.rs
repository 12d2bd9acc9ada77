//! Conversations from the CLI as a process against the fake provider: `run
//! --continue ID` follows a run up with its panel (each model sent its thread),
//! `--with MODEL` carries on with one model, `--context resolved` sends the
//! resolved answers, `history show ID --thread` prints the turns in order,
//! `history list --threads` one line per conversation, `history delete --after`
//! a turn and what follows it, and an unknown id exits 2 naming it. A CLI
//! killed in the middle of a turn leaves the conversation whole: the earlier
//! turns, the answers that had arrived, a turn the next one can follow.

use crate::common::{Home, script};
use roundtable_testkit::{Behavior, FakeProvider, Script};
use serde_json::Value;
use std::time::{Duration, Instant};

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

/// `a` answers at once (its own answer to the second question); `b` answers
/// at once, or, `b_slow`, takes five minutes: a run waiting on it is still
/// going however long a loaded machine takes to look, and the test kills it
/// long before.
fn panel(b_slow: bool) -> Script {
    let b = Behavior::answer("London");
    let b = if b_slow {
        b.with_answer("slow words arriving one by one")
            .chunks(6)
            .chunk_delay(60_000)
    } else {
        b
    };
    Script::new()
        .model(
            "a",
            Behavior::answer("Paris").answer_when("And why?", "The seat of government."),
        )
        .model("b", b)
}

/// The answers of a shown run that succeeded, as (model, answer).
fn answered(run: &Value) -> Vec<(String, String)> {
    run["model_results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["error"].is_null())
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap().to_string();
            (text("model"), text("data"))
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn a_turn_killed_midway_keeps_the_conversation_and_its_answers() {
    let fake = FakeProvider::start(panel(false)).await.unwrap();
    // The fake says nothing of itself: a local server that gets the panel in
    // parallel, so a does not wait behind b's five minutes.
    let home = Home::with_config(&fake, "");
    let first = home
        .json(&[
            "run", "Capital?", "-m", "fake/a", "-m", "fake/b", "-r", "fast", "--json",
        ])
        .await;
    let first_id = id_of(&first);

    // Turn 2, same panel: a answers at once, b is still writing when the
    // process is killed.
    fake.set_script(panel(true));
    let mut child = home
        .cmd(&[
            "run",
            "--continue",
            &first_id,
            "And why?",
            "--timeout-ms",
            "300000",
            "--json",
        ])
        .spawn()
        .unwrap();
    // Until a's answer of turn 2 is in the history (read by other processes).
    let deadline = Instant::now() + Duration::from_secs(120);
    // What the last look saw, said if none sees it.
    let mut seen = String::new();
    let second_id = loop {
        if Instant::now() > deadline {
            child.start_kill().unwrap();
            let o = child.wait_with_output().await.unwrap();
            panic!(
                "a's answer of turn 2 was not recorded within 120 s (calls: a {}, b {}); \
                 last seen: {seen}; turn 2's stderr: {}",
                fake.calls_for("a"),
                fake.calls_for("b"),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            let mut pipe = child.stderr.take().unwrap();
            tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr)
                .await
                .unwrap();
            panic!("turn 2 ended by itself ({status}) before it was killed: {stderr}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let out = home.run(&["history", "list", "--json"]).await;
        seen = format!("history list: {} {} {}", out.code, out.stdout, out.stderr);
        let Ok(list) = serde_json::from_str::<Value>(&out.stdout) else {
            continue;
        };
        let Some(second) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["previous_id"] == first_id.as_str())
        else {
            continue;
        };
        let id = id_of(second);
        let out = home.run(&["history", "show", &id, "--json"]).await;
        seen = format!("history show: {} {} {}", out.code, out.stdout, out.stderr);
        let Ok(shown) = serde_json::from_str::<Value>(&out.stdout) else {
            continue;
        };
        assert_eq!(shown["status"], "running", "{shown:#}");
        if !answered(&shown).is_empty() {
            assert_eq!(
                answered(&shown),
                pairs(&[("fake/a", "The seat of government.")])
            );
            break id;
        }
    };
    child.kill().await.unwrap();
    let status = child.wait().await.unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "killed, not ended: {status}");

    // A fresh process: turn 1 whole, turn 2 interrupted with a's answer.
    let turns = home
        .json(&["history", "show", &second_id, "--thread", "--json"])
        .await;
    let turns = turns.as_array().unwrap();
    assert_eq!(turns.len(), 2, "{turns:#?}");
    assert_eq!(turns[0]["id"], first_id.as_str());
    assert_eq!(turns[0]["status"], "completed");
    assert_eq!(
        answered(&turns[0]),
        pairs(&[("fake/a", "Paris"), ("fake/b", "London")])
    );
    assert_eq!(turns[1]["id"], second_id.as_str());
    assert_eq!(turns[1]["status"], "interrupted");
    assert_eq!(
        answered(&turns[1]),
        pairs(&[("fake/a", "The seat of government.")])
    );
    let list = home.json(&["history", "list", "--json"]).await;
    let second = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == second_id.as_str())
        .unwrap();
    assert_eq!(second["status"], "interrupted");
    assert_eq!(second["previous_id"], first_id.as_str());
    assert_eq!(second["thread_id"], first_id.as_str());
    assert_eq!(second["turns"], 2);
    let shown = home.run(&["history", "show", &second_id, "--thread"]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let (turn1, turn2) = shown.stdout.split_once("Turn 2 of 2").unwrap();
    assert!(turn1.contains("Turn 1 of 2") && !turn1.contains("cancelled"));
    assert!(
        turn2.contains("The seat of government.") && turn2.contains("cancelled"),
        "{}",
        shown.stdout
    );

    // The conversation goes on from the interrupted turn: a is sent its own
    // answers, b (who had none in turn 2) the answer that stood for it.
    fake.set_script(panel(false));
    let third = home
        .json(&["run", "--continue", &second_id, "Sure?", "--json"])
        .await;
    assert_eq!(answered(&third).len(), 2, "{third:#}");
    assert_eq!(fake.calls_for("a"), 3);
    let conversation = |b1: &str| {
        pairs(&[
            ("user", "Capital?"),
            ("assistant", b1),
            ("user", "And why?"),
            ("assistant", "The seat of government."),
            ("user", "Sure?"),
        ])
    };
    assert_eq!(last_messages(&fake, "a"), conversation("Paris"));
    assert_eq!(last_messages(&fake, "b"), conversation("London"));
    let b = &third["model_results"][1];
    assert_eq!(b["model"], "fake/b");
    assert_eq!(b["context_resolved"], serde_json::json!([2]));
    let turns = home
        .json(&["history", "show", &id_of(&third), "--thread", "--json"])
        .await;
    assert_eq!(turns.as_array().unwrap().len(), 3);
}
