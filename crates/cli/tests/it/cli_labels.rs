//! Issue 13 items 5, 8 and 9 from the CLI: each model named with its `#n` and
//! options after a run and in `history show`; `history list` counts its models
//! and says how many answered; a refused flag is named as typed; `providers`
//! says whether each local server is running, and its models.

use crate::common::{Home, run, script};
use roundtable_testkit::FakeProvider;

#[tokio::test]
async fn each_model_is_named_with_its_sample_and_options_after_the_run_and_in_history_show() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let body = home.path().join("request.json");
    std::fs::write(
        &body,
        r#"{"input": "Capital of France?", "resolution": "fast", "models": [
            {"name": "fake/a", "temperature": 0.2},
            {"name": "fake/a", "top_p": 0.9, "max_tokens": 64},
            {"name": "fake/b", "reasoning": "high"}]}"#,
    )
    .unwrap();
    let out = run(home.cmd(&["run", "--request", body.to_str().unwrap()])).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let wanted = [
        "── fake/a #1 (temperature 0.2) · ",
        "── fake/a #2 (top p 0.9, max 64 tokens) · ",
        "── fake/b (reasoning high) · ",
    ];
    for w in wanted {
        assert!(out.stdout.contains(w), "{w}: {}", out.stdout);
    }

    let id = out
        .stdout
        .lines()
        .last()
        .unwrap()
        .rsplit(" · ")
        .next()
        .unwrap();
    let shown = home.run(&["history", "show", id.trim()]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    for w in wanted {
        assert!(shown.stdout.contains(w), "{w}: {}", shown.stdout);
    }
}

#[tokio::test]
async fn history_list_counts_models_in_words_and_says_how_many_answered() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let one = home
        .run(&["run", "One", "-m", "fake/a", "-r", "fast"])
        .await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    let some = home
        .run(&[
            "run",
            "Some",
            "-m",
            "fake/a",
            "-m",
            "fake/down",
            "-m",
            "fake/down",
            "-r",
            "fast",
            "--max-retries",
            "0",
        ])
        .await;
    assert_eq!(some.code, 0, "{}", some.stderr);
    let all = home
        .run(&["run", "All", "-m", "fake/a", "-m", "fake/b", "-r", "fast"])
        .await;
    assert_eq!(all.code, 0, "{}", all.stderr);

    let list = home.run(&["history", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    let line = |prompt: &str| {
        list.stdout
            .lines()
            .find(|l| l.contains(&format!(" {prompt}  ")))
            .unwrap_or_else(|| panic!("{prompt}: {}", list.stdout))
            .to_string()
    };
    assert!(line("One").contains(" 1 model · "), "{}", line("One"));
    assert!(!list.stdout.contains("1 models"), "{}", list.stdout);
    assert!(line("Some").contains("1/3 answered"), "{}", line("Some"));
    assert!(line("Some").contains(" 3 models · "), "{}", line("Some"));
    assert!(line("All").contains("completed"), "{}", line("All"));
    assert!(!line("All").contains("answered"), "{}", line("All"));
}

#[tokio::test]
async fn a_value_refused_from_a_flag_names_the_flag_and_one_from_a_body_its_field() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let out = home
        .run(&["run", "Hi", "-m", "fake/a", "--temperature", "3"])
        .await;
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr.trim(),
        "error: --temperature: 3 is outside 0 to 2"
    );
    // --json keeps the contract's field for programs.
    let json = home
        .run(&["run", "Hi", "-m", "fake/a", "--temperature", "3", "--json"])
        .await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["error"]["details"]["field"], "models[0].temperature");
    // Typed in a request body, it is the body's field that is named.
    let body = home.path().join("request.json");
    std::fs::write(
        &body,
        r#"{"input": "Hi", "models": [{"name": "fake/a", "temperature": 3}]}"#,
    )
    .unwrap();
    let out = home
        .run(&["run", "--request", body.to_str().unwrap()])
        .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("models[0].temperature: 3"),
        "{}",
        out.stderr
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn providers_says_whether_each_local_server_runs_and_lists_its_models() {
    let fake = FakeProvider::start(script()).await.unwrap();
    // A port nothing listens on: bind one, then free it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let home = Home::with_config(
        &fake,
        &format!("[providers.gone]\nformat = \"openai\"\nbase_url = \"{closed_url}\"\n"),
    );
    let out = home.run(&["providers"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = |id: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id}: {}", out.stdout))
            .to_string()
    };
    let fake_line = line("fake");
    assert!(
        fake_line.contains("local, running: 3 models: "),
        "{fake_line}"
    );
    for m in ["a", "b", "down"] {
        assert!(fake_line.contains(m), "{fake_line}");
    }
    // What it is and how many calls it takes at once: the fake says nothing
    // of itself, so the panel goes to it in parallel.
    assert!(
        fake_line.ends_with("; unknown server: in parallel (nothing says otherwise)"),
        "{fake_line}"
    );
    assert!(
        line("gone").contains("local, not running (nothing listens there)"),
        "{}",
        line("gone")
    );
    assert!(!line("gone").contains("no key needed"), "{}", line("gone"));

    let json = home.json(&["providers", "--json"]).await;
    let gone = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "gone")
        .unwrap();
    assert_eq!(gone["server"]["reachable"], false);
    assert_eq!(gone["server"]["concurrency"], serde_json::Value::Null);
    let fake = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "fake")
        .unwrap();
    assert_eq!(
        fake["server"]["concurrency"],
        serde_json::json!({"kind": "unknown", "limit": null, "source": "default"})
    );
}
