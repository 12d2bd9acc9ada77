//! `roundtable serve` as a real process: the URL line, a request, and a clean
//! shutdown on SIGINT that records the run in flight as interrupted.

use crate::common::Home;
use roundtable_app::core::RunStatus;
use roundtable_store::Store;
use roundtable_testkit::{Behavior, FakeProvider, Script, contract};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout};

const TOKEN: &str = "cli-serve-test-token";

struct Serving {
    child: Child,
    url: String,
    _stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

async fn serve(home: &Home, extra: &[&str]) -> Serving {
    let mut args = vec!["serve", "--port", "0"];
    args.extend_from_slice(extra);
    let mut cmd = home.cmd(&args);
    cmd.env("ROUNDTABLE_API_TOKEN", TOKEN);
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the URL line in time")
        .unwrap()
        .expect("a first line");
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first}"))
        .to_string();
    let second = lines.next_line().await.unwrap().unwrap();
    assert_eq!(second, "token: (from ROUNDTABLE_API_TOKEN)");
    Serving {
        child,
        url,
        _stdout: lines,
    }
}

fn sigint(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn exit_code(child: &mut Child) -> Option<i32> {
    tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the server stops in time")
        .unwrap()
        .code()
}

#[tokio::test]
async fn serves_the_contract_on_the_printed_url_and_stops_on_sigint() {
    let fake = FakeProvider::start(Script::new().model("a", Behavior::answer("Paris")))
        .await
        .unwrap();
    let home = Home::new(&fake);
    let mut s = serve(&home, &[]).await;
    assert!(s.url.starts_with("http://127.0.0.1:"), "{}", s.url);
    let client = reqwest::Client::new();
    let health: Value = client
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let r = client
        .post(format!("{}/v3/roundtable", s.url))
        .bearer_auth(TOKEN)
        .json(&json!({"input": "Capital of France?", "models": [{"name": "fake/a"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let errors = contract::errors("RoundtableResponse", &v);
    assert!(errors.is_empty(), "{errors:?}");
    let unauthorised = client
        .post(format!("{}/v3/roundtable", s.url))
        .json(&json!({"input": "x", "models": [{"name": "fake/a"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status(), 401);

    sigint(&s.child);
    assert_eq!(exit_code(&mut s.child).await, Some(0));
    let store = Store::open(&home.path().join("history.db")).unwrap();
    let run = store.get_run(v["id"].as_str().unwrap()).unwrap().unwrap();
    assert_eq!(run.summary.status, RunStatus::Completed);
}

#[tokio::test]
async fn sigint_during_a_streamed_run_records_it_interrupted_and_keeps_the_history_sound() {
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
    let mut s = serve(&home, &[]).await;
    let mut response = reqwest::Client::new()
        .post(format!("{}/v3/roundtable", s.url))
        .bearer_auth(TOKEN)
        .json(&json!({"input": "Count", "models": [{"name": "fake/slow"}], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Read until the first delta: the run is under way.
    let mut text = String::new();
    let id = 'found: loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .unwrap()
            .unwrap()
            .expect("more of the stream");
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        for line in text.lines() {
            if let Some(data) = line.strip_prefix("data: ") {
                let v: Value = serde_json::from_str(data).unwrap();
                if v["type"] == "model_delta" {
                    break 'found v["id"].as_str().unwrap().to_string();
                }
            }
        }
    };
    sigint(&s.child);
    // The stream ends properly: the run's end is sent before the server stops.
    let mut rest = String::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(rest.trim_end().ends_with("data: [DONE]"), "{rest}");
    assert!(rest.contains("\"type\":\"done\""), "{rest}");
    assert_eq!(exit_code(&mut s.child).await, Some(0));

    // Opened as a plain Store (no recovery pass): the server itself recorded it.
    let store = Store::open(&home.path().join("history.db")).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let run = store.get_run(&id).unwrap().unwrap();
    assert_eq!(run.summary.status, RunStatus::Interrupted);
    let result = &run.response.model_results[0];
    assert_eq!(result.error.as_deref(), Some("cancelled"));
    assert!(
        result.data.starts_with("one") && !result.data.contains("eight"),
        "{:?}",
        result.data
    );
}

#[tokio::test]
async fn other_addresses_need_allow_remote_and_get_a_warning() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let home = Home::new(&fake);
    let out = home
        .run(&["serve", "--port", "0", "--host", "0.0.0.0"])
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--allow-remote"), "{}", out.stderr);
    assert!(out.stdout.is_empty());

    let mut s = serve(&home, &["--host", "0.0.0.0", "--allow-remote"]).await;
    assert!(s.url.starts_with("http://0.0.0.0:"), "{}", s.url);
    sigint(&s.child);
    assert_eq!(exit_code(&mut s.child).await, Some(0));
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(s.child.stderr.as_mut().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("warning: listening on 0.0.0.0"), "{stderr}");
}
