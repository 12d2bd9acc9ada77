//! Live recording, recovery of interrupted runs, concurrency, star/tag/delete.

use crate::common::*;
use roundtable_store::{Error, ListQuery, ParentKind, RunStatus, RunWrite, Store};
use std::path::Path;
use std::time::{Duration, Instant};

fn db(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("history").join("roundtable.db")
}

fn lock_files(db: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(db.parent().unwrap().join("owners"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn open_creates_the_directory_and_sets_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    assert_eq!(
        store.schema_version().unwrap(),
        roundtable_store::SCHEMA_VERSION
    );
    assert!(path.exists());
    assert_eq!(lock_files(&path), vec![format!("{}.lock", store.owner())]);
    drop(store);
    assert!(
        lock_files(&path).is_empty(),
        "the owner lock is removed on drop"
    );

    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn live_recording_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db(&dir)).unwrap();
    let req = request(
        "What is the capital of France?",
        &["openai/gpt-4.1", "anthropic/claude", "gemini/flash"],
    );
    let mut resp = response(
        "rt_live",
        &req,
        &["Paris.", "It is Paris.", ""],
        Some("Paris"),
    );
    // How a vote was read is kept with it.
    resp.model_results[1].vote = Some("Paris".into());
    resp.model_results[1].vote_read = Some(roundtable_core::VoteRead::Prose);
    let c0 = store.change_counter().unwrap();

    store
        .begin_run(&new_run("rt_live", 1_700_000_000_000, &req))
        .unwrap();
    let running = store.get_run("rt_live").unwrap().unwrap();
    assert_eq!(running.summary.status, RunStatus::Running);
    assert_eq!(running.request, req);
    assert!(running.response.model_results.is_empty());
    assert_eq!(
        running.summary.models,
        vec!["openai/gpt-4.1", "anthropic/claude", "gemini/flash"]
    );

    // Answers arrive out of order; one is first partial then complete.
    store
        .record_model_result("rt_live", &resp.model_results[1])
        .unwrap();
    let mut partial = resp.model_results[0].clone();
    partial.data = "Par".into();
    store.record_model_result("rt_live", &partial).unwrap();
    store
        .record_model_result("rt_live", &resp.model_results[0])
        .unwrap();
    let mid = store.get_run("rt_live").unwrap().unwrap();
    assert_eq!(mid.response.model_results.len(), 2);
    assert_eq!(mid.response.model_results[0], resp.model_results[0]);
    assert_eq!(
        mid.response.meta.models_used,
        vec!["openai/gpt-4.1", "anthropic/claude"]
    );
    assert!((mid.summary.total_cost - 0.003).abs() < 1e-12);
    assert_eq!(mid.summary.data_preview.as_deref(), Some("Paris."));

    store.finish_run(&resp, RunStatus::Completed).unwrap();
    let done = store.get_run("rt_live").unwrap().unwrap();
    assert_eq!(done.response, resp);
    assert_eq!(done.request, req);
    assert_eq!(done.summary.status, RunStatus::Completed);
    assert_eq!(done.summary.created_at, "2023-11-14T22:13:20.000Z");
    assert_eq!(done.summary.created_at_ms, 1_700_000_000_000);
    assert_eq!(done.summary.duration_ms, Some(1840));
    assert_eq!(done.summary.total_cost, resp.meta.total_cost);
    assert_eq!(done.summary.data_preview.as_deref(), Some("Paris"));
    assert!(store.change_counter().unwrap() >= c0 + 5);

    store.set_status("rt_live", RunStatus::Interrupted).unwrap();
    assert_eq!(
        store.get_run("rt_live").unwrap().unwrap().summary.status,
        RunStatus::Interrupted
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn a_batch_commits_every_group_but_the_failing_one_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db(&dir)).unwrap();
    let req = request("Batch me", &["a/one", "b/two"]);
    let resp = response("rt_a", &req, &["first", "second"], Some("first"));
    let c0 = store.change_counter().unwrap();

    let outcome = store
        .record_batch(&[
            vec![RunWrite::Begin(new_run("rt_a", 1_700_000_000_000, &req))],
            // A result for a run that was never begun: fails alone.
            vec![RunWrite::Result {
                run_id: "rt_missing".into(),
                result: resp.model_results[0].clone(),
            }],
            // A group that begins a run, then fails: the begin is rolled back too.
            vec![
                RunWrite::Begin(new_run("rt_b", 1_700_000_000_001, &req)),
                RunWrite::Begin(new_run("rt_b", 1_700_000_000_001, &req)),
            ],
            vec![RunWrite::Result {
                run_id: "rt_a".into(),
                result: resp.model_results[1].clone(),
            }],
            vec![RunWrite::Finish {
                response: resp.clone(),
                status: RunStatus::Completed,
            }],
        ])
        .unwrap();

    assert!(outcome[0].is_ok() && outcome[3].is_ok() && outcome[4].is_ok());
    assert!(matches!(&outcome[1], Err(Error::NotFound(id)) if id == "rt_missing"));
    assert!(matches!(&outcome[2], Err(Error::AlreadyExists(id)) if id == "rt_b"));
    let done = store.get_run("rt_a").unwrap().unwrap();
    assert_eq!(done.response, resp);
    assert_eq!(done.summary.status, RunStatus::Completed);
    assert!(
        store.get_run("rt_b").unwrap().is_none(),
        "a failed group is rolled back whole"
    );
    assert_eq!(
        store.change_counter().unwrap(),
        c0 + 1,
        "one transaction for the whole batch"
    );
    let found = store.search("second", &ListQuery::default()).unwrap();
    assert_eq!(found.len(), 1, "the finished run is indexed");
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn unknown_and_duplicate_ids_are_errors_naming_the_run() {
    let store = Store::open_in_memory().unwrap();
    let req = request("q", &["a/b"]);
    store.begin_run(&new_run("rt_dup", 1, &req)).unwrap();
    let err = store.begin_run(&new_run("rt_dup", 2, &req)).unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists(ref id) if id == "rt_dup"),
        "{err}"
    );
    assert!(err.to_string().contains("rt_dup"));

    let resp = response("rt_dup", &req, &["x"], Some("x"));
    let err = store
        .import_response(Some(&req), &resp, RunStatus::Completed, None)
        .unwrap_err();
    assert!(err.to_string().contains("rt_dup"), "{err}");

    let err = store
        .record_model_result("rt_none", &result(0, "a/b", "x"))
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(ref id) if id == "rt_none"));
    let mut other = resp.clone();
    other.id = "rt_none".into();
    assert!(matches!(
        store.finish_run(&other, RunStatus::Completed),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.set_status("rt_none", RunStatus::Failed),
        Err(Error::NotFound(_))
    ));
    assert!(store.get_run("rt_none").unwrap().is_none());
}

#[test]
fn import_without_a_request_rebuilds_one() {
    let store = Store::open_in_memory().unwrap();
    let req = request("q", &["a/b", "c/d"]);
    let resp = response("rt_imp", &req, &["x", "y"], None);
    store
        .import_response(None, &resp, RunStatus::Completed, Some(42))
        .unwrap();
    let run = store.get_run("rt_imp").unwrap().unwrap();
    assert_eq!(run.response, resp);
    assert_eq!(run.summary.created_at_ms, 42);
    assert_eq!(run.request.input, "");
    assert_eq!(run.summary.models, vec!["a/b", "c/d"]);
    // Fast mode: the preview falls back to the first answer.
    assert_eq!(run.summary.data_preview.as_deref(), Some("x"));
}

#[test]
fn a_dropped_owners_running_run_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let req = request("long question", &["a/b", "c/d"]);
    {
        let a = Store::open(&path).unwrap();
        a.begin_run(&new_run("rt_a", 10, &req)).unwrap();
        a.record_model_result("rt_a", &result(0, "a/b", "half an answer"))
            .unwrap();
        // A's own running run is never its own interrupted one.
        assert!(a.recover_interrupted().unwrap().is_empty());
    }
    let b = Store::open(&path).unwrap();
    assert_eq!(b.recover_interrupted().unwrap(), vec!["rt_a"]);
    let run = b.get_run("rt_a").unwrap().unwrap();
    assert_eq!(run.summary.status, RunStatus::Interrupted);
    assert_eq!(run.response.model_results.len(), 1);
    assert_eq!(run.response.model_results[0].data, "half an answer");
    assert!(b.recover_interrupted().unwrap().is_empty());
}

#[test]
fn a_crashed_owners_stale_lock_file_is_recovered_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let b = Store::open(&path).unwrap();
    let req = request("q", &["a/b"]);
    b.begin_run(&new_run("rt_crashed", 10, &req)).unwrap();
    // A process that died without cleaning up: its lock file is there, unlocked.
    let dead = "0123456789abcdef0123456789abcdef";
    std::fs::write(
        path.parent()
            .unwrap()
            .join("owners")
            .join(format!("{dead}.lock")),
        "",
    )
    .unwrap();
    // And one that died with no running run: swept too.
    let idle = "fedcba9876543210fedcba9876543210";
    std::fs::write(
        path.parent()
            .unwrap()
            .join("owners")
            .join(format!("{idle}.lock")),
        "",
    )
    .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE runs SET owner = ?1 WHERE id = 'rt_crashed'", [dead])
        .unwrap();
    // A run with a forged owner never makes us touch a file outside owners/.
    let outside = dir.path().join("keep.lock");
    std::fs::write(&outside, "").unwrap();
    b.begin_run(&new_run("rt_forged", 11, &req)).unwrap();
    conn.execute(
        "UPDATE runs SET owner = '../keep' WHERE id = 'rt_forged'",
        [],
    )
    .unwrap();

    assert_eq!(
        b.recover_interrupted().unwrap(),
        vec!["rt_crashed", "rt_forged"]
    );
    assert!(outside.exists());
    assert_eq!(lock_files(&path), vec![format!("{}.lock", b.owner())]);
}

#[test]
fn a_live_owners_running_run_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let a = Store::open(&path).unwrap();
    let b = Store::open(&path).unwrap();
    let req = request("q", &["a/b"]);
    a.begin_run(&new_run("rt_a", 10, &req)).unwrap();
    b.begin_run(&new_run("rt_b", 11, &req)).unwrap();

    assert!(b.recover_interrupted().unwrap().is_empty());
    assert!(a.recover_interrupted().unwrap().is_empty());
    assert_eq!(
        b.get_run("rt_a").unwrap().unwrap().summary.status,
        RunStatus::Running
    );
    assert_eq!(lock_files(&path).len(), 2);

    // A finishes through B's connection (any Store may finish any run).
    b.finish_run(
        &response("rt_a", &req, &["x"], Some("x")),
        RunStatus::Completed,
    )
    .unwrap();
    drop(a);
    assert!(b.recover_interrupted().unwrap().is_empty());
    drop(b);
    let c = Store::open(&path).unwrap();
    assert_eq!(c.recover_interrupted().unwrap(), vec!["rt_b"]);
}

#[test]
fn in_memory_recovery_only_marks_imported_running_runs() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.path(), None);
    let req = request("q", &["a/b"]);
    store.begin_run(&new_run("rt_mine", 1, &req)).unwrap();
    let resp = response("rt_imported", &req, &["x"], None);
    store
        .import_response(Some(&req), &resp, RunStatus::Running, Some(2))
        .unwrap();
    assert_eq!(store.recover_interrupted().unwrap(), vec!["rt_imported"]);
}

#[test]
fn two_connections_writing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    Store::open(&path).unwrap();
    let runs_per_writer = 200;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = Store::open(&path).unwrap();
                let req = request(&format!("writer {w} question"), &["a/b", "c/d", "e/f"]);
                for i in 0..runs_per_writer {
                    let id = format!("rt_w{w}_{i:04}");
                    store
                        .begin_run(&new_run(&id, 1_000 + i as i64 * 2 + w, &req))
                        .unwrap();
                    let resp = response(&id, &req, &["one", "two", "three"], Some("resolved"));
                    for r in &resp.model_results {
                        store.record_model_result(&id, r).unwrap();
                    }
                    store.finish_run(&resp, RunStatus::Completed).unwrap();
                }
            })
        })
        .collect();
    // A reader polls meanwhile.
    let reader = {
        let path = path.clone();
        std::thread::spawn(move || {
            let store = Store::open(&path).unwrap();
            let mut last = store.change_counter().unwrap();
            for _ in 0..50 {
                let now = store.change_counter().unwrap();
                assert!(now >= last);
                last = now;
                store.list_runs(&ListQuery::default()).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    reader.join().unwrap();

    let store = Store::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let all = store
        .list_runs(&ListQuery {
            limit: 10_000,
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2 * runs_per_writer);
    assert!(all.iter().all(|r| r.status == RunStatus::Completed));
    for r in &all {
        let run = store.get_run(&r.id).unwrap().unwrap();
        assert_eq!(run.response.model_results.len(), 3);
    }
    assert_eq!(
        store
            .search(
                "resolved",
                &ListQuery {
                    limit: 10_000,
                    ..ListQuery::default()
                }
            )
            .unwrap()
            .len(),
        2 * runs_per_writer
    );
    // 2 writers × 200 runs × 5 writes each.
    assert!(store.change_counter().unwrap() >= 2 * 200 * 5);
}

#[test]
fn delete_cascades_and_detaches_children() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db(&dir)).unwrap();
    let req = request("parent question zebra", &["a/b", "c/d"]);
    store.begin_run(&new_run("rt_parent", 1, &req)).unwrap();
    store
        .finish_run(
            &response("rt_parent", &req, &["x", "y"], Some("z")),
            RunStatus::Completed,
        )
        .unwrap();
    store.add_tag("rt_parent", "keep").unwrap();
    let mut child = new_run("rt_child", 2, &req);
    child.parent_id = Some("rt_parent".into());
    child.parent_kind = Some(ParentKind::Rerun);
    store.begin_run(&child).unwrap();
    let c = store.get_run("rt_child").unwrap().unwrap();
    assert_eq!(c.summary.parent_id.as_deref(), Some("rt_parent"));
    assert_eq!(c.summary.parent_kind, Some(ParentKind::Rerun));

    assert!(store.delete_run("rt_parent").unwrap());
    assert!(!store.delete_run("rt_parent").unwrap());
    assert!(store.get_run("rt_parent").unwrap().is_none());
    let c = store.get_run("rt_child").unwrap().unwrap();
    assert_eq!(c.summary.parent_id, None);

    let conn = rusqlite::Connection::open(store.path().unwrap()).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(
        count("SELECT count(*) FROM model_results WHERE run_id = 'rt_parent'"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM tags WHERE run_id = 'rt_parent'"),
        0
    );
    // Only the child's prompt still matches.
    let hits = store.search("zebra", &ListQuery::default()).unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        vec!["rt_child"]
    );

    // A parent that is gone is recorded as none.
    let mut orphan = new_run("rt_orphan", 3, &req);
    orphan.parent_id = Some("rt_gone".into());
    orphan.parent_kind = Some(ParentKind::Resolve);
    store.begin_run(&orphan).unwrap();
    let o = store.get_run("rt_orphan").unwrap().unwrap();
    assert_eq!((o.summary.parent_id, o.summary.parent_kind), (None, None));
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn star_and_tags() {
    let store = Store::open_in_memory().unwrap();
    let req = request("q", &["a/b"]);
    store.begin_run(&new_run("rt_1", 1, &req)).unwrap();
    store.begin_run(&new_run("rt_2", 2, &req)).unwrap();

    assert!(store.set_starred("rt_1", true).unwrap());
    assert!(!store.set_starred("rt_none", true).unwrap());
    assert!(store.add_tag("rt_1", " work ").unwrap());
    assert!(store.add_tag("rt_1", "work").unwrap());
    assert!(store.add_tag("rt_1", "alpha").unwrap());
    assert!(!store.add_tag("rt_none", "x").unwrap());
    assert!(matches!(
        store.add_tag("rt_1", "  "),
        Err(Error::InvalidTag(_))
    ));

    let s = store.get_run("rt_1").unwrap().unwrap().summary;
    assert!(s.starred);
    assert_eq!(s.tags, vec!["alpha", "work"]);

    let starred = store
        .list_runs(&ListQuery {
            starred: Some(true),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(
        starred.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["rt_1"]
    );
    let unstarred = store
        .list_runs(&ListQuery {
            starred: Some(false),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(
        unstarred.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["rt_2"]
    );
    let tagged = store
        .list_runs(&ListQuery {
            tag: Some("work".into()),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(tagged.len(), 1);

    assert!(store.remove_tag("rt_1", "work").unwrap());
    assert!(!store.remove_tag("rt_1", "work").unwrap());
    assert!(store.set_starred("rt_1", false).unwrap());
    let s = store.get_run("rt_1").unwrap().unwrap().summary;
    assert!(!s.starred);
    assert_eq!(s.tags, vec!["alpha"]);
}

#[test]
fn change_counter_moves_across_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let a = Store::open(&path).unwrap();
    let b = Store::open(&path).unwrap();
    let before = b.change_counter().unwrap();
    a.begin_run(&new_run("rt_1", 1, &request("q", &["a/b"])))
        .unwrap();
    let after = b.change_counter().unwrap();
    assert!(after > before);
    a.set_starred("rt_1", true).unwrap();
    assert!(b.change_counter().unwrap() > after);
}

const CHILD_ENV: &str = "ROUNDTABLE_STORE_SIGKILL_CHILD_DB";

/// Run as a child process by `sigkill_mid_run_leaves_a_consistent_database`:
/// records answers in a loop until it is killed.
#[test]
#[ignore = "run by sigkill_mid_run_leaves_a_consistent_database"]
fn sigkill_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&path)).unwrap();
    let req = request("killed mid-run", &["a/b", "c/d", "e/f"]);
    store.begin_run(&new_run("rt_killed", 1, &req)).unwrap();
    let text = "lorem ipsum dolor sit amet ".repeat(40);
    for i in 0.. {
        let id = format!("rt_killed_{i}");
        store.begin_run(&new_run(&id, 2 + i, &req)).unwrap();
        for m in 0..3 {
            store
                .record_model_result(&id, &result(m, "a/b", &text))
                .unwrap();
        }
        store
            .record_model_result(
                "rt_killed",
                &result(i as usize % 3, "a/b", &format!("answer {i}")),
            )
            .unwrap();
    }
}

#[test]
fn sigkill_mid_run_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let observer = Store::open(&path).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "recording::sigkill_child",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = observer
            .list_runs(&ListQuery {
                limit: 1000,
                ..ListQuery::default()
            })
            .unwrap()
            .len();
        if n >= 50 {
            break;
        }
        assert!(Instant::now() < deadline, "the child never wrote");
        assert!(child.try_wait().unwrap().is_none(), "the child exited");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL, mid-write
    child.wait().unwrap();

    assert_eq!(observer.integrity_check().unwrap(), "ok");
    let recovered = observer.recover_interrupted().unwrap();
    assert!(recovered.contains(&"rt_killed".to_string()));
    let killed = observer.get_run("rt_killed").unwrap().unwrap();
    assert_eq!(killed.summary.status, RunStatus::Interrupted);
    assert_eq!(killed.response.model_results.len(), 3);
    assert!(
        observer
            .list_runs(&ListQuery {
                status: Some(RunStatus::Running),
                ..ListQuery::default()
            })
            .unwrap()
            .is_empty()
    );
    drop(observer);
    let reopened = Store::open(&path).unwrap();
    assert_eq!(reopened.integrity_check().unwrap(), "ok");
    assert_eq!(
        lock_files(&path).len(),
        1,
        "the dead child's lock file is gone"
    );
}
