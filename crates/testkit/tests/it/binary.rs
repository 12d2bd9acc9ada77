//! The `roundtable-fake-provider` binary: script files, the listening line, stopping.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::client;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_roundtable-fake-provider");

/// Starts the binary and returns it with the URL from its first line.
fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the listening line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (child, url)
}

/// Sends SIGTERM and waits (a bounded time) for a clean exit.
fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the binary did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test]
async fn serves_a_toml_script_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.toml");
    std::fs::write(
        &path,
        r#"
            [default]
            answer = "from the file"

            [models.flaky]
            answer = "second time lucky"
            faults = [{ kind = "status", status = 429, message = "slow down", retry_after = "2" }]
        "#,
    )
    .unwrap();
    let (child, url) = spawn(&["--script", path.to_str().unwrap()]);

    let chat =
        |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    let http = client();
    let body: Value = http
        .post(format!("{url}/v1/chat/completions"))
        .json(&chat("anything"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "from the file");

    let limited = http
        .post(format!("{url}/v1/chat/completions"))
        .json(&chat("flaky"))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "2");
    let again = http
        .post(format!("{url}/v1/chat/completions"))
        .json(&chat("flaky"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);

    terminate(child);
}

#[tokio::test]
async fn serves_a_json_script_on_a_chosen_port() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.json");
    std::fs::write(
        &path,
        r#"{"models": {"gemini-x": {"answer": "json works"}}, "require_key": "k1"}"#,
    )
    .unwrap();
    // Find a free port, release it, and ask the binary for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (child, url) = spawn(&[
        "--port",
        &port.to_string(),
        "--script",
        path.to_str().unwrap(),
    ]);
    assert_eq!(url, format!("http://127.0.0.1:{port}"));

    let response = client()
        .post(format!("{url}/v1beta/models/gemini-x:generateContent"))
        .header("x-goog-api-key", "k1")
        .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["candidates"][0]["content"]["parts"][0]["text"],
        "json works"
    );

    terminate(child);
}

#[test]
fn a_bad_script_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.json");
    std::fs::write(
        &path,
        r#"{"models": {"m": {"faults": [{"kind": "explode"}]}}}"#,
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["--script", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid JSON script"), "{stderr}");
}
