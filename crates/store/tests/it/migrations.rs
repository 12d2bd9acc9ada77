//! A database written with every earlier schema opens, migrates and keeps its data.

use crate::common::*;
use roundtable_store::migrations::MIGRATIONS;
use roundtable_store::{Error, ListQuery, RunStatus, SCHEMA_VERSION, Store};
use rusqlite::{Connection, params};
use std::path::Path;

/// Build a database at schema `k` (migrations 1..=k only), as an older build did.
fn database_at(path: &Path, k: usize) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    for (i, m) in MIGRATIONS[..k].iter().enumerate() {
        conn.execute_batch(m.sql).unwrap();
        conn.pragma_update(None, "user_version", i as u32 + 1)
            .unwrap();
    }
    conn
}

/// Write a finished run and a running one the way schema `k` stores them.
fn insert_runs(conn: &Connection, k: usize) {
    if k < 1 {
        return;
    }
    let req = request(
        "Which sorting algorithm is stable? quicksort or mergesort",
        &["openai/gpt-4.1", "anthropic/claude"],
    );
    let resp = response(
        "rt_old",
        &req,
        &[
            "Mergesort is stable.",
            "Merge sort; quicksort is not stable.",
        ],
        Some("Mergesort"),
    );
    conn.execute(
        "INSERT INTO runs (id, created_at, request, input, instructions, models, status, \
                           resolution, data, meta, total_cost, duration_ms, owner) \
         VALUES ('rt_old', 1000, ?1, ?2, ?3, ?4, 'completed', 'summary', 'Mergesort', ?5, ?6, 1840, NULL)",
        params![
            serde_json::to_string(&req).unwrap(),
            req.input,
            req.instructions,
            r#"["openai/gpt-4.1","anthropic/claude"]"#,
            serde_json::to_string(&resp.meta).unwrap(),
            resp.meta.total_cost,
        ],
    )
    .unwrap();
    for r in &resp.model_results {
        conn.execute(
            "INSERT INTO model_results (run_id, idx, model, data, thinking, error, usage, cost, \
                                        duration_ms, schema_valid, schema_error, vote, attempts) \
             VALUES ('rt_old', ?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, NULL, NULL, NULL, ?8)",
            params![
                r.index as i64,
                r.model,
                r.data,
                r.thinking,
                serde_json::to_string(&r.usage).unwrap(),
                r.cost,
                r.duration_ms as i64,
                r.attempts,
            ],
        )
        .unwrap();
    }
    // A run that was running when the old build died.
    conn.execute(
        "INSERT INTO runs (id, created_at, request, input, models, status, resolution, owner) \
         VALUES ('rt_stuck', 2000, ?1, 'half-done walrus question', '[\"a/b\"]', 'running', 'fast', \
                 '00000000000000000000000000000000')",
        [serde_json::to_string(&request("half-done walrus question", &["a/b"])).unwrap()],
    )
    .unwrap();
    if k >= 2 {
        conn.execute("UPDATE runs SET starred = 1 WHERE id = 'rt_old'", [])
            .unwrap();
        conn.execute(
            "INSERT INTO tags (run_id, tag) VALUES ('rt_old', 'algorithms')",
            [],
        )
        .unwrap();
    }
    if k >= 3 {
        // A build with search indexed each run as it wrote it.
        conn.execute_batch(
            "INSERT OR REPLACE INTO runs_fts (rowid, input, instructions, answers, resolved) \
             SELECT r.seq, r.input, r.instructions, \
                    (SELECT group_concat(m.data, char(10)) FROM model_results m \
                      WHERE m.run_id = r.id), r.data \
             FROM runs r",
        )
        .unwrap();
    }
    if k >= 6 {
        // A build with the spend columns wrote them with each result (the
        // triggers keep the hourly rollup).
        conn.execute_batch(
            "UPDATE model_results SET \
               created_at = (SELECT r.created_at FROM runs r WHERE r.id = model_results.run_id), \
               input_tokens = json_extract(usage, '$.input_tokens'), \
               output_tokens = json_extract(usage, '$.output_tokens'), \
               ended = 'answered'",
        )
        .unwrap();
    }
    if k >= 8 {
        // A build with threads wrote each run's thread (its own, for a first turn).
        conn.execute_batch("UPDATE runs SET thread_id = id")
            .unwrap();
    }
    // Schema 4 (queued_ms) adds nothing a run of its time must hold, schema
    // 5 (votes, judgements) nothing a run must have, schema 6 (the spend
    // columns) only what it fills from the results, schema 7 (attached
    // files) nothing a run without attachments has.
    // Schema 9 (the spend ledger) only what it fills in from the runs.
    assert!(k < 10, "extend insert_runs for schema {k}");
}

#[test]
fn the_latest_schema_is_what_this_test_knows() {
    assert_eq!(
        MIGRATIONS.len(),
        9,
        "add the new schema to insert_runs and check_runs"
    );
    assert_eq!(SCHEMA_VERSION, 9);
    for (i, m) in MIGRATIONS.iter().enumerate() {
        assert!(m.name.starts_with(&format!("{:04}_", i + 1)), "{}", m.name);
    }
}

#[test]
fn every_earlier_schema_migrates_with_its_data() {
    for k in 0..MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roundtable.db");
        {
            let conn = database_at(&path, k);
            insert_runs(&conn, k);
        }
        let store = Store::open(&path).unwrap_or_else(|e| panic!("schema {k}: {e}"));
        assert_eq!(
            store.schema_version().unwrap(),
            SCHEMA_VERSION,
            "schema {k}"
        );
        assert_eq!(store.integrity_check().unwrap(), "ok");
        if k == 0 {
            assert!(store.list_runs(&ListQuery::default()).unwrap().is_empty());
            continue;
        }
        let old = store.get_run("rt_old").unwrap().unwrap();
        assert_eq!(old.summary.status, RunStatus::Completed, "schema {k}");
        assert_eq!(old.response.data.as_deref(), Some("Mergesort"));
        assert_eq!(old.response.model_results.len(), 2);
        assert_eq!(
            old.response.model_results[1].data,
            "Merge sort; quicksort is not stable."
        );
        assert_eq!(old.response.meta.total_duration_ms, 1840);
        // Answers recorded before queued_ms existed did not wait.
        assert!(
            old.response
                .model_results
                .iter()
                .all(|r| r.queued_ms.is_none()),
            "schema {k}"
        );
        assert_eq!(old.summary.starred, k >= 2, "schema {k}");
        // A run from before conversations is a thread of one turn.
        assert_eq!(
            (old.summary.thread_id.as_str(), old.summary.turns),
            ("rt_old", 1),
            "schema {k}"
        );
        assert_eq!(store.thread("rt_old").unwrap().len(), 1, "schema {k}");
        assert_eq!(old.summary.tags.is_empty(), k < 2, "schema {k}");

        // Text recorded before search existed is searchable after the migration.
        for q in ["mergesort", "quicksort", "stable", "walrus"] {
            assert_eq!(
                store.search(q, &ListQuery::default()).unwrap().len(),
                1,
                "schema {k}: search {q}"
            );
        }
        let list = store.list_runs(&ListQuery::default()).unwrap();
        assert_eq!(
            list.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec!["rt_stuck", "rt_old"]
        );

        // The old build's running run is recovered, and new runs can be recorded.
        assert_eq!(store.recover_interrupted().unwrap(), vec!["rt_stuck"]);
        let req = request("new", &["a/b"]);
        store.begin_run(&new_run("rt_new", 3000, &req)).unwrap();
        store
            .finish_run(
                &response("rt_new", &req, &["fresh"], Some("fresh")),
                RunStatus::Completed,
            )
            .unwrap();
        assert_eq!(
            store.search("fresh", &ListQuery::default()).unwrap().len(),
            1
        );
        assert!(store.set_starred("rt_new", true).unwrap());
        // A run recorded before votes existed can be voted on.
        let ballot = roundtable_store::Ballot {
            kind: roundtable_store::VoteKind::Best,
            ranking: vec![vec![1]],
            blind: true,
        };
        assert_eq!(store.set_vote("rt_old", &ballot).unwrap().ballot, ballot);
        assert!(store.add_tag("rt_new", "t").unwrap());
        // A run with attached files: the files beside the database, the run
        // found by a file's name, the files gone with the run.
        let with_files = crate::attachments::request_with_files("files");
        store
            .begin_run(&new_run("rt_files", 3500, &with_files))
            .unwrap();
        let mut stored = store.get_run("rt_files").unwrap().unwrap().request;
        store.hydrate(&mut stored).unwrap();
        assert_eq!(stored.attachments, {
            let mut sent = with_files.attachments.clone();
            for (s, a) in sent.iter_mut().zip(&stored.attachments) {
                s.sha256.clone_from(&a.sha256);
                s.size = a.size;
            }
            sent
        });
        assert_eq!(
            store.search("quarterly", &ListQuery::default()).unwrap()[0].id,
            "rt_files"
        );
        assert!(store.delete_run("rt_files").unwrap());
        assert_eq!(
            std::fs::read_dir(dir.path().join("attachments"))
                .unwrap()
                .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
                .count(),
            0,
            "schema {k}"
        );
        // The results recorded before the spend columns are counted by them.
        let spend = store
            .spend_stats(&roundtable_store::SpendQuery::default())
            .unwrap();
        assert_eq!(spend.totals.runs, 3, "schema {k}");
        let old_cost = old.response.meta.total_cost;
        let new_cost = store.get_run("rt_new").unwrap().unwrap().summary.total_cost;
        assert!(
            (spend.totals.cost - old_cost - new_cost).abs() < 1e-9,
            "schema {k}"
        );
        let old_tokens: u64 = old
            .response
            .model_results
            .iter()
            .map(|r| r.usage.input_tokens)
            .sum();
        assert_eq!(spend.totals.input_tokens, old_tokens + 120, "schema {k}");
        assert_eq!(spend.days[0].start, "1970-01-01", "schema {k}");
        assert_eq!(spend.models.len(), 3, "schema {k}");
        // What the runs recorded before the ledger cost is in it, and stays
        // when they are deleted.
        let spent = store.spent_between(i64::MIN, i64::MAX).unwrap();
        assert!((spent - old_cost - new_cost).abs() < 1e-9, "schema {k}");
        assert!(store.delete_run("rt_old").unwrap());
        let after = store.spent_between(i64::MIN, i64::MAX).unwrap();
        assert!((after - spent).abs() < 1e-12, "schema {k}");
        drop(store);
        // And it opens again as is.
        let again = Store::open(&path).unwrap();
        assert_eq!(again.list_runs(&ListQuery::default()).unwrap().len(), 2);
    }
}

#[test]
fn two_processes_migrating_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roundtable.db");
    {
        let conn = database_at(&path, 1);
        insert_runs(&conn, 1);
    }
    let openers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Store::open(&path).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for o in openers {
        assert_eq!(o.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
    let store = Store::open(&path).unwrap();
    // Backfilled once, not twice.
    assert_eq!(
        store
            .search("mergesort", &ListQuery::default())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roundtable.db");
    {
        let conn = database_at(&path, MIGRATIONS.len());
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SchemaTooNew {
                found: 99,
                supported: 9
            }
        ),
        "{err}"
    );
}
