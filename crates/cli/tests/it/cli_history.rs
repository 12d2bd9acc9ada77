//! The history from the CLI: recorded live, searchable, re-runnable,
//! re-resolvable, exportable, and safe against crashes and concurrent writers.

use crate::common::Home;
use roundtable_store::Store;
use roundtable_testkit::{Behavior, FakeProvider, Script};
use serde_json::Value;
use std::time::Duration;

fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris is the capital of France."))
        .model("b", Behavior::answer("London"))
        .model(
            "xss",
            Behavior::answer(
                "<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))",
            ),
        )
        // Slow enough (30 s) that the run is still going when a loaded machine
        // gets round to looking, however long its processes take to start;
        // the test kills it long before.
        .model(
            "slow",
            Behavior::answer("slow words arriving one by one")
                .chunks(6)
                .chunk_delay(5_000),
        )
}

#[tokio::test]
async fn runs_are_listed_searched_shown_starred_tagged_and_deleted() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let first = home
        .json(&[
            "run",
            "What is the capital of France?",
            "-m",
            "fake/a",
            "-m",
            "fake/b",
            "--json",
        ])
        .await;
    let second = home
        .json(&[
            "run",
            "Name a colour",
            "-m",
            "fake/b",
            "--resolution",
            "fast",
            "--json",
        ])
        .await;

    let list = home.json(&["history", "list", "--json"]).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], second["id"], "newest first");
    for field in [
        "id",
        "created_at",
        "status",
        "input",
        "resolution",
        "models",
        "total_cost",
    ] {
        assert!(list[1].get(field).is_some(), "{field}");
    }
    assert_eq!(list[1]["status"], "completed");
    assert_eq!(list[1]["models"], serde_json::json!(["fake/a", "fake/b"]));
    assert_eq!(
        home.json(&["history", "list", "--limit", "1", "--json"])
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Full-text search reaches the answers too.
    let hits = home.json(&["history", "search", "paris", "--json"]).await;
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["id"], first["id"]);
    assert!(
        home.json(&["history", "search", "c++ \"unbalanced", "--json"])
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    // show --json: the contract response plus its status.
    let id = first["id"].as_str().unwrap();
    let shown = home.json(&["history", "show", id, "--json"]).await;
    assert_eq!(shown["status"], "completed");
    let mut without_status = shown.clone();
    without_status.as_object_mut().unwrap().remove("status");
    assert_eq!(without_status["model_results"], first["model_results"]);
    assert_eq!(without_status["data"], first["data"]);

    assert_eq!(home.run(&["history", "star", id]).await.code, 0);
    assert_eq!(home.run(&["history", "tag", id, "geo"]).await.code, 0);
    let list = home.json(&["history", "list", "--starred", "--json"]).await;
    assert_eq!(list[0]["starred"], true);
    assert_eq!(list[0]["tags"], serde_json::json!(["geo"]));

    assert_eq!(home.run(&["history", "delete", id]).await.code, 0);
    let out = home.run(&["history", "show", id]).await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no run") && out.stderr.contains(id),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn rerun_and_resolve_make_linked_runs_and_resolve_calls_no_panel() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let first = home
        .json(&[
            "run",
            "Capital?",
            "-m",
            "fake/a",
            "-m",
            "fake/b",
            "--resolution",
            "fast",
            "--json",
        ])
        .await;
    let id = first["id"].as_str().unwrap();
    let calls = fake.requests().len();

    let resolved = home
        .json(&[
            "resolve",
            id,
            "--resolution",
            "multiple_choice",
            "--choices",
            "Paris,London",
            "--json",
        ])
        .await;
    assert_eq!(fake.requests().len(), calls, "no provider call for a vote");
    assert_eq!(resolved["meta"]["votes"]["London"], 1);
    assert_ne!(resolved["id"], first["id"]);
    let summary = home
        .json(&[
            "resolve",
            id,
            "--resolution",
            "summary",
            "--summary-model",
            "fake/b",
            "--json",
        ])
        .await;
    assert_eq!(
        fake.requests().len(),
        calls + 1,
        "only the consolidation call"
    );
    assert_eq!(summary["meta"]["summary_model"], "fake/b");

    let rerun = home.json(&["rerun", id, "--json"]).await;
    assert_eq!(fake.requests().len(), calls + 3);
    assert_eq!(
        rerun["model_results"][0]["data"],
        first["model_results"][0]["data"]
    );

    let list = home.json(&["history", "list", "--json"]).await;
    let parents: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| Some((r["parent_id"].as_str()?, r["parent_kind"].as_str()?)))
        .collect();
    assert_eq!(parents.len(), 3);
    assert!(parents.iter().all(|(p, _)| *p == id));
    assert!(parents.iter().any(|(_, k)| *k == "rerun"));
    assert_eq!(parents.iter().filter(|(_, k)| *k == "resolve").count(), 2);
}

#[tokio::test]
async fn exports_every_format_with_model_output_inert_and_imports_json_back() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let a = home
        .json(&[
            "run", "Capital?", "-m", "fake/a", "-m", "fake/xss", "--json",
        ])
        .await;
    let b = home
        .json(&[
            "run",
            "Colour?",
            "-m",
            "fake/b",
            "--resolution",
            "fast",
            "--json",
        ])
        .await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let dir = home.path().join("exports");
    std::fs::create_dir(&dir).unwrap();
    for format in ["md", "json", "csv", "html"] {
        let file = dir.join(format!("out.{format}"));
        let out = home
            .run(&[
                "export",
                a,
                b,
                "--format",
                format,
                "--output",
                file.to_str().unwrap(),
            ])
            .await;
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("Paris is the capital of France."), "{format}");
        if format != "json" && format != "csv" {
            assert!(!text.contains("<script>alert"), "{format}: live script");
            assert!(
                !text.contains("<img src=x onerror"),
                "{format}: live handler"
            );
        }
    }
    let html = std::fs::read_to_string(dir.join("out.html")).unwrap();
    assert!(
        !html.contains("<script"),
        "a self-contained page without any script"
    );
    assert!(!html.contains("href=\"javascript:"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );
    let csv = std::fs::read_to_string(dir.join("out.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 3,
        "a header and a row per model result"
    );

    // JSON comes back with `roundtable import`.
    let other = tempfile::tempdir().unwrap();
    let mut c = home.cmd(&["import", dir.join("out.json").to_str().unwrap()]);
    c.env("ROUNDTABLE_HOME", other.path());
    let out = crate::common::run(c).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut c = home.cmd(&["history", "show", a, "--json"]);
    c.env("ROUNDTABLE_HOME", other.path());
    let shown: Value = serde_json::from_str(&crate::common::run(c).await.stdout).unwrap();
    assert_eq!(
        shown["model_results"][0]["data"],
        "Paris is the capital of France."
    );
}

/// A process killed mid-run leaves a run that the next start marks interrupted,
/// with every answer that had arrived, and an intact database.
#[tokio::test]
async fn a_killed_run_is_recovered_as_interrupted_with_its_answers() {
    let fake = FakeProvider::start(script()).await.unwrap();
    // The fake says nothing of itself: a local server that gets the panel in
    // parallel, so the fast model does not wait behind the slow one.
    let home = Home::with_config(&fake, "");
    let child = home
        .cmd(&[
            "run",
            "Capital?",
            "-m",
            "fake/a",
            "-m",
            "fake/slow",
            "--json",
        ])
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    // Wait until the fast answer is in the history (read by a second process).
    // A loaded machine can take long to start the run: wait up to 2 minutes.
    let mut recorded = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let out = home.run(&["history", "list", "--json"]).await;
        if let Ok(list) = serde_json::from_str::<Value>(&out.stdout)
            && let Some(id) = list[0]["id"].as_str()
        {
            let shown = home.json(&["history", "show", id, "--json"]).await;
            assert_eq!(shown["status"], "running");
            if shown["model_results"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
            {
                recorded = true;
                break;
            }
        }
    }
    assert!(
        recorded,
        "the fast answer was recorded while the run went on"
    );
    std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    let _ = child.wait_with_output().await;

    let list = home.json(&["history", "list", "--json"]).await;
    assert_eq!(list[0]["status"], "interrupted");
    let shown = home
        .json(&["history", "show", list[0]["id"].as_str().unwrap(), "--json"])
        .await;
    assert_eq!(
        shown["model_results"][0]["data"],
        "Paris is the capital of France."
    );
    let store = Store::open(&home.path().join("history.db")).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[tokio::test]
async fn two_processes_writing_at_once_lose_nothing() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let mut children = Vec::new();
    for i in 0..12 {
        let prompt = format!("Question number {i}");
        children.push(
            home.cmd(&[
                "run", &prompt, "-m", "fake/a", "-m", "fake/b", "-m", "fake/a", "--json",
            ])
            .spawn()
            .unwrap(),
        );
    }
    for c in children {
        let o = c.wait_with_output().await.unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let list = home
        .json(&["history", "list", "--limit", "100", "--json"])
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 12);
    assert!(list.iter().all(|r| r["status"] == "completed"));
    for r in list {
        let shown = home
            .json(&["history", "show", r["id"].as_str().unwrap(), "--json"])
            .await;
        assert_eq!(shown["model_results"].as_array().unwrap().len(), 3);
    }
    let store = Store::open(&home.path().join("history.db")).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
}
