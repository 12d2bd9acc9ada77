//! A JSON export is a backup: exported whole and imported into a fresh
//! history, every run comes back with its star, tags, vote, judgements and
//! links (the turn it follows, the run it was re-run from), whatever the
//! document's order. What an import is given is untrusted: a number out of
//! range is refused, naming the run and the field.

use crate::common::*;
use roundtable_store::export::{import_runs_json, to_json};
use roundtable_store::{
    Ballot, Judgement, ListQuery, NewRun, ParentKind, RunStatus, Store, StoredRun, VoteKind,
};

/// Records a finished run of `input` following `previous`.
fn turn(store: &Store, id: &str, at: i64, input: &str, previous: Option<&str>) {
    let mut req = request(input, &["a/x", "b/y", "c/z"]);
    req.previous_id = previous.map(Into::into);
    store.begin_run(&new_run(id, at, &req)).unwrap();
    let (x, y) = (format!("x {input}"), format!("y {input}"));
    let resp = response(id, &req, &[&x, &y, "z"], Some("r"));
    store.finish_run(&resp, RunStatus::Completed).unwrap();
}

/// A conversation of three turns with a branch, a re-run of its first turn,
/// stars, tags, a vote and two judges' rankings.
fn history(store: &Store) {
    turn(store, "rt_1", 1_700_000_000_000, "Q1", None);
    turn(store, "rt_2", 1_700_000_001_000, "Q2", Some("rt_1"));
    turn(store, "rt_3", 1_700_000_002_000, "Q3", Some("rt_2"));
    turn(store, "rt_2b", 1_700_000_003_000, "Q2 again", Some("rt_1"));
    let first = store.get_run("rt_1").unwrap().unwrap();
    store
        .begin_run(&NewRun {
            parent_id: Some("rt_1".into()),
            parent_kind: Some(ParentKind::Rerun),
            ..new_run("rt_rerun", 1_700_000_004_000, &first.request)
        })
        .unwrap();
    let resp = response("rt_rerun", &first.request, &["a", "b", "c"], Some("r"));
    store.finish_run(&resp, RunStatus::Completed).unwrap();

    store.set_starred("rt_2", true).unwrap();
    store.add_tag("rt_2", "work").unwrap();
    store.add_tag("rt_3", "rust").unwrap();
    store.add_tag("rt_3", "later").unwrap();
    let ranking = Ballot {
        kind: VoteKind::Ranking,
        ranking: vec![vec![2], vec![0, 1]],
        blind: true,
    };
    store.set_vote("rt_2", &ranking).unwrap();
    // Changed, so both times are kept.
    store.set_vote("rt_3", &ranking).unwrap();
    let best = Ballot {
        kind: VoteKind::Best,
        ranking: vec![vec![1]],
        blind: false,
    };
    store.set_vote("rt_3", &best).unwrap();
    for (judge, order) in [("j/one", vec![1, 0, 2]), ("j/two", vec![0, 2, 1])] {
        let judgement = Judgement {
            judge_model: judge.into(),
            reasons: order.iter().map(|i| format!("because {i}")).collect(),
            ranking: order,
            cost: 0.0042,
            judged_at_ms: 1_700_000_005_000,
        };
        store.record_judgement("rt_3", &judgement).unwrap();
    }
}

/// Every run, as `history list` shows them: newest first.
fn everything(store: &Store) -> Vec<StoredRun> {
    let q = ListQuery {
        limit: 1000,
        ..ListQuery::default()
    };
    store
        .list_runs(&q)
        .unwrap()
        .iter()
        .map(|s| store.get_run(&s.id).unwrap().unwrap())
        .collect()
}

/// The whole history as a JSON export, in `runs`' order.
fn export(store: &Store, runs: &[StoredRun]) -> String {
    let verdicts: Vec<_> = runs
        .iter()
        .map(|r| store.run_verdicts(&r.summary.id).unwrap())
        .collect();
    to_json(runs, &verdicts)
}

#[test]
fn a_json_export_is_a_backup_everything_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let src = Store::open(&dir.path().join("a/history.db")).unwrap();
    history(&src);
    let runs = everything(&src);
    assert_eq!(runs.len(), 5);
    let json = export(&src, &runs);

    let dst = Store::open(&dir.path().join("b/history.db")).unwrap();
    assert_eq!(
        dst.bulk_import(&import_runs_json(&json).unwrap()).unwrap(),
        5
    );
    for run in &runs {
        let id = &run.summary.id;
        let back = dst.get_run(id).unwrap().unwrap();
        // The summary holds the star, the tags, the links and the thread.
        assert_eq!(&back, run, "{id}");
        assert_eq!(
            dst.run_verdicts(id).unwrap(),
            src.run_verdicts(id).unwrap(),
            "{id}"
        );
    }
    let three = dst.get_run("rt_3").unwrap().unwrap().summary;
    assert_eq!(
        (three.previous_id.as_deref(), three.thread_id.as_str()),
        (Some("rt_2"), "rt_1")
    );
    assert_eq!(three.tags, ["later", "rust"]);
    let rerun = dst.get_run("rt_rerun").unwrap().unwrap().summary;
    assert_eq!(rerun.parent_id.as_deref(), Some("rt_1"));
    assert_eq!(rerun.parent_kind, Some(ParentKind::Rerun));
    let vote = dst.vote("rt_3").unwrap().unwrap();
    assert_eq!(vote.ballot.kind, VoteKind::Best);
    assert!(vote.changed_at_ms.is_some());
    assert_eq!(dst.judgements("rt_3").unwrap().len(), 2);
    // The same export again reads the same.
    assert_eq!(export(&dst, &everything(&dst)), json);
}

#[test]
fn a_conversation_exported_newest_first_imports_as_one_conversation() {
    let src = Store::open_in_memory().unwrap();
    history(&src);
    // Newest first, as `history list` shows them, and every other order.
    let mut runs = everything(&src);
    assert_eq!(runs[0].summary.id, "rt_rerun");
    for _ in 0..runs.len() {
        let json = export(&src, &runs);
        let dst = Store::open_in_memory().unwrap();
        dst.bulk_import(&import_runs_json(&json).unwrap()).unwrap();
        for id in ["rt_1", "rt_2", "rt_3", "rt_2b"] {
            let back = dst.get_run(id).unwrap().unwrap().summary;
            assert_eq!(back.thread_id, "rt_1", "{id}");
            assert_eq!(back.turns, 4, "{id}");
        }
        assert_eq!(
            dst.get_run("rt_rerun").unwrap().unwrap().summary.parent_id,
            Some("rt_1".into())
        );
        runs.rotate_left(1);
    }
}

#[test]
fn links_that_go_round_in_a_loop_are_refused() {
    let src = Store::open_in_memory().unwrap();
    turn(&src, "rt_a", 1000, "A", None);
    turn(&src, "rt_b", 2000, "B", Some("rt_a"));
    let json = export(&src, &everything(&src));
    let mut runs = import_runs_json(&json).unwrap();
    // rt_a now follows rt_b, which follows rt_a.
    let a = runs.iter_mut().find(|r| r.response.id == "rt_a").unwrap();
    a.request.as_mut().unwrap().previous_id = Some("rt_b".into());
    let dst = Store::open_in_memory().unwrap();
    let err = dst.bulk_import(&runs).unwrap_err().to_string();
    assert!(err.contains("loop"), "{err}");
    assert!(dst.list_runs(&ListQuery::default()).unwrap().is_empty());
}

/// The export of one finished run of three models, as a JSON value.
fn one_run() -> serde_json::Value {
    let src = Store::open_in_memory().unwrap();
    turn(&src, "rt_x", 1_700_000_000_000, "Q", None);
    serde_json::from_str(&export(&src, &everything(&src))).unwrap()
}

/// Imports `doc` into a fresh history: the error's text, or `None`.
fn import(doc: &serde_json::Value) -> Option<String> {
    let dst = Store::open_in_memory().unwrap();
    let runs = match import_runs_json(&doc.to_string()) {
        Ok(runs) => runs,
        Err(e) => return Some(e.to_string()),
    };
    dst.bulk_import(&runs).err().map(|e| e.to_string())
}

#[test]
fn a_crafted_vote_count_is_refused_naming_the_field_and_the_run() {
    // 4 billion votes for A: `history show` drew a bar of 12 GB.
    let mut doc = one_run();
    doc[0]["meta"]["resolution"] = "multiple_choice".into();
    doc[0]["meta"]["votes"] = serde_json::json!({"A": 4_000_000_000u32, "B": 1});
    let err = import(&doc).expect("refused");
    assert!(err.contains("run rt_x"), "{err}");
    assert!(err.contains(r#"meta.votes["A"]"#), "{err}");
    assert!(err.contains("4000000000"), "{err}");
    // Counts a run can have are taken.
    doc[0]["meta"]["votes"] = serde_json::json!({"A": 2, "B": 1});
    assert_eq!(import(&doc), None);
}

#[test]
fn numbers_and_indices_out_of_range_are_refused_naming_the_field() {
    let cases: [(&str, serde_json::Value, &str); 9] = [
        (
            "/0/model_results/1/index",
            4_000_000_000u64.into(),
            "model_results[1].index",
        ),
        ("/0/model_results/2/index", 0.into(), "given twice"),
        (
            "/0/model_results/0/usage/output_tokens",
            u64::MAX.into(),
            "model_results[0].usage.output_tokens",
        ),
        (
            "/0/model_results/0/cost",
            (-5.0).into(),
            "model_results[0].cost",
        ),
        ("/0/created_at_ms", i64::MIN.into(), "created_at_ms"),
        (
            "/0/request/models/0/samples",
            4_000_000_000u64.into(),
            "request.models[0].samples",
        ),
        (
            "/0/meta/agreement",
            serde_json::json!({"similarity": {"results": [0, 1], "matrix": [[1.0]], "mean": [1.0, 1.0]}}),
            "meta.agreement.similarity.matrix",
        ),
        (
            "/0/meta/claims",
            serde_json::json!({"results": [0, 9], "claims": [], "agreement_rate": 1.0}),
            "meta.claims.results",
        ),
        (
            "/0/vote",
            serde_json::json!({"kind": "best", "ranking": [[7]], "cast_at_ms": 1}),
            "vote: invalid vote: the run has no model result 7",
        ),
    ];
    for (pointer, value, field) in cases {
        let mut doc = one_run();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        doc.pointer_mut(parent).unwrap()[key] = value;
        let err = import(&doc).unwrap_or_else(|| panic!("{pointer} was taken"));
        assert!(err.contains("rt_x"), "{pointer}: {err}");
        assert!(err.contains(field), "{pointer}: {err}");
    }
    assert_eq!(import(&one_run()), None);
}
