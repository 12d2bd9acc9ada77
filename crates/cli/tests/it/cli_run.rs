//! `roundtable run` as a real process against the fake provider on loopback.

use crate::common::{Home, run, script};
use roundtable_testkit::{Behavior, FakeProvider, Fault, Script, contract};
use serde_json::Value;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn json_prints_exactly_the_contract_response() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let out = run(home.cmd(&[
        "run",
        "Capital of France?",
        "-m",
        "fake/a",
        "-m",
        "fake/down",
        "--json",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("stdout is one JSON document");
    let errors = contract::errors("RoundtableResponse", &v);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(v["meta"]["models_used"], serde_json::json!(["fake/a"]));
    let e = v["model_results"][1]["error"].as_str().unwrap();
    assert!(e.contains("HTTP 500: exploded (2 attempts)"), "{e}");
    assert!(
        out.stderr.is_empty(),
        "nothing but the response: {}",
        out.stderr
    );
}

#[tokio::test]
async fn people_get_the_answers_and_the_resolution_without_colour() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let out = run(home.cmd(&[
        "run",
        "Capital?",
        "-m",
        "fake/a",
        "-m",
        "fake/b",
        "-m",
        "fake/a",
        "--resolution",
        "multiple_choice",
        "--choices",
        "Paris,London",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("── fake/a"), "{}", out.stdout);
    assert!(out.stdout.contains("Winner: Paris"), "{}", out.stdout);
    assert!(out.stdout.contains("3/3 models answered"));
    assert!(
        !out.stdout.contains('\u{1b}'),
        "no escape codes with NO_COLOR or off a terminal"
    );
    assert!(!out.stderr.contains('\u{1b}'));
}

#[tokio::test]
async fn an_invalid_request_names_the_field_and_calls_no_provider() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    for (args, field) in [
        (vec!["run", "Hi", "-m", "nope/x"], "models[0].name"),
        (
            vec![
                "run",
                "Hi",
                "-m",
                "fake/a",
                "--resolution",
                "multiple_choice",
                "--choices",
                "A",
            ],
            "choices",
        ),
        // A value from a flag is named by the flag typed, not the request field.
        (
            vec!["run", "Hi", "-m", "fake/a", "--max-retries", "9"],
            "--max-retries: ",
        ),
        (
            vec!["run", "Hi", "-m", "fake/a", "--timeout-ms", "999999"],
            "--timeout-ms: ",
        ),
        (
            vec!["run", "Hi", "-m", "fake/a", "--temperature", "3"],
            "--temperature: 3 is outside 0 to 2",
        ),
    ] {
        let out = run(home.cmd(&args)).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
        assert!(out.stderr.contains(field), "{args:?}: {}", out.stderr);
    }
    let schema = home.path().join("bad-schema.json");
    std::fs::write(&schema, r#"{"type": 12}"#).unwrap();
    let out = run(home.cmd(&[
        "run",
        "Hi",
        "-m",
        "fake/a",
        "--schema",
        schema.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("output_schema"), "{}", out.stderr);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn no_model_answering_exits_non_zero_with_the_reason() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let out = run(home.cmd(&["run", "Hi", "-m", "fake/down", "--max-retries", "0"])).await;
    assert_eq!(out.code, 1);
    let last = out.stderr.lines().last().unwrap();
    assert!(
        last.contains("no model answered") && last.contains("exploded"),
        "{last}"
    );
}

#[tokio::test]
async fn request_body_from_stdin() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let mut c = home.cmd(&["run", "--request", "-", "--json"]);
    c.stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let body = r#"{"input": "Capital?", "models": [{"name": "fake/a"}, {"name": "fake/b"}],
                   "resolution": "fast", "some_future_field": 1}"#;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .await
        .unwrap();
    let o = child.wait_with_output().await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["data"], Value::Null);
    assert_eq!(v["model_results"][1]["data"], "London");
}

#[tokio::test]
async fn missing_key_is_reported_with_how_to_set_it() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let out = run(home.cmd(&["run", "Hi", "-m", "openai/gpt-4.1-mini", "--json"])).await;
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let e = v["model_results"][0]["error"].as_str().unwrap();
    assert!(
        e.contains("no API key for provider 'openai'") && e.contains("OPENAI_API_KEY"),
        "{e}"
    );
}

#[tokio::test]
async fn ctrl_c_cancels_and_keeps_what_arrived() {
    let fake = FakeProvider::start(
        Script::new().model(
            "slow",
            Behavior::answer("one two three four five six seven eight")
                .chunks(8)
                .chunk_delay(300),
        ),
    )
    .await
    .unwrap();
    let home = Home::new(&fake);
    let child = home
        .cmd(&["run", "Hi", "-m", "fake/slow", "--json"])
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    // Wait until the answer has started streaming.
    for _ in 0..100 {
        if fake.calls_for("slow") > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().await.unwrap();
    assert_eq!(o.status.code(), Some(130));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let data = v["model_results"][0]["data"].as_str().unwrap();
    assert!(data.starts_with("one") && !data.contains("eight"), "{data}");
    assert_eq!(v["model_results"][0]["error"], "cancelled");
}

#[tokio::test]
async fn help_explains_every_subcommand() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let home = Home::new(&fake);
    let out = run(home.cmd(&["--help"])).await;
    assert!(out.stdout.contains("run") && out.stdout.contains("provider/model"));
    let out = run(home.cmd(&["run", "--help"])).await;
    for flag in [
        "--model",
        "--resolution",
        "--choices",
        "--schema",
        "--summary-model",
        "--instructions",
        "--max-retries",
        "--timeout-ms",
        "--request",
        "--json",
        "Exit status",
    ] {
        assert!(out.stdout.contains(flag), "{flag}");
    }
}

/// An answer that would write the clipboard (OSC 52), clear the screen and fake
/// a prompt, and a provider error that would ring and recolour the terminal.
const HOSTILE: &str =
    "Sure.\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{1b}[H\r$ sudo rm -rf ~ \u{9b}31m\u{7f}";

#[tokio::test]
async fn terminal_escapes_from_a_model_never_reach_the_terminal() {
    let fake = FakeProvider::start(
        Script::new()
            .model("evil", Behavior::answer(HOSTILE))
            .model(
                "boom",
                Behavior::new().faults(
                    (0..4)
                        .map(|_| Fault::status(500, "bad\u{1b}[41m\u{7}gateway").retry_after("0")),
                ),
            ),
    )
    .await
    .unwrap();
    let home = Home::new(&fake);
    let args = [
        "run",
        "Hi",
        "-m",
        "fake/evil",
        "-m",
        "fake/boom",
        "--resolution",
        "fast",
    ];
    let out = run(home.cmd(&args)).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for text in [&out.stdout, &out.stderr] {
        let controls: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
            .collect();
        assert!(controls.is_empty(), "{controls:?} in {text:?}");
    }
    assert!(
        out.stdout.contains("Sure.$ sudo rm -rf ~ 31m\\u{7f}"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("badgateway"), "{}", out.stdout);
    // The same run as a stored one, and in the history list.
    let id = out
        .stdout
        .lines()
        .last()
        .unwrap()
        .rsplit(" · ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let shown = home.run(&["history", "show", &id]).await;
    assert!(
        shown.stdout.contains("Sure.$ sudo") && !shown.stdout.contains('\u{1b}'),
        "{}",
        shown.stdout
    );

    // --json stays exact: the answer as the model sent it, escaped by JSON.
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = run(home.cmd(&json_args)).await;
    let v: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(v["model_results"][0]["data"], HOSTILE);
}

#[tokio::test]
async fn a_run_where_every_model_failed_prints_no_empty_resolved_header() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let out = run(home.cmd(&["run", "Capital?", "-m", "fake/down", "--max-retries", "0"])).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains("summary by"), "{}", out.stdout);
    assert!(
        out.stdout.contains("No resolved answer: no model answered"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn a_summary_model_that_fails_is_a_note_beside_the_summary_another_wrote() {
    let fake = FakeProvider::start(script().model(
        "judge",
        Behavior::new().fault(Fault::status(400, "no such model")),
    ))
    .await
    .unwrap();
    let home = Home::new(&fake);
    let out = run(home.cmd(&[
        "run",
        "Capital?",
        "-m",
        "fake/a",
        "-m",
        "fake/b",
        "--summary-model",
        "fake/judge",
    ]))
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Resolved answer · summary by fake/a"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("note: the summary by fake/judge failed, so fake/a wrote it"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("the consolidation failed"));
}
