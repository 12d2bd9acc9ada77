//! Conversations in the history: a follow-up is recorded in its first run's
//! thread, the thread is read whole (every branch) and a turn's path followed
//! back, the list shows one line per thread, and a turn is deleted with what
//! follows it, or the thread whole.

use crate::common::*;
use roundtable_store::{ListQuery, RunStatus, Store, path_to};

/// Records a finished run of `input` following `previous`.
fn turn(store: &Store, id: &str, at: i64, input: &str, previous: Option<&str>) {
    let mut req = request(input, &["a/x", "b/y"]);
    req.previous_id = previous.map(Into::into);
    store.begin_run(&new_run(id, at, &req)).unwrap();
    let mut resp = response(
        id,
        &req,
        &[&format!("x {input}"), &format!("y {input}")],
        Some(&format!("r {input}")),
    );
    resp.model_results[1].context_resolved = Some(vec![1]);
    store.finish_run(&resp, RunStatus::Completed).unwrap();
}

/// Q1 → Q2 → Q3, with Q2b a branch following Q1, and an unrelated run.
fn history() -> Store {
    let store = Store::open_in_memory().unwrap();
    turn(&store, "rt_1", 1000, "Q1", None);
    turn(&store, "rt_2", 2000, "Q2", Some("rt_1"));
    turn(&store, "rt_other", 2500, "Other", None);
    turn(&store, "rt_3", 3000, "Q3", Some("rt_2"));
    turn(&store, "rt_2b", 4000, "Q2 edited", Some("rt_1"));
    store
}

#[test]
fn a_follow_up_is_a_turn_of_its_first_runs_thread() {
    let store = history();
    let three = store.get_run("rt_3").unwrap().unwrap();
    assert_eq!(three.summary.thread_id, "rt_1");
    assert_eq!(three.summary.previous_id.as_deref(), Some("rt_2"));
    assert_eq!(three.summary.turns, 4);
    assert_eq!(
        three.response.model_results[1].context_resolved,
        Some(vec![1])
    );
    let other = store.get_run("rt_other").unwrap().unwrap();
    assert_eq!(
        (other.summary.thread_id.as_str(), other.summary.turns),
        ("rt_other", 1)
    );

    let thread = store.thread("rt_2b").unwrap();
    let ids: Vec<&str> = thread.iter().map(|r| r.summary.id.as_str()).collect();
    assert_eq!(ids, ["rt_1", "rt_2", "rt_3", "rt_2b"]);
    assert_eq!(thread[2].response.model_results[0].data, "x Q3");
    let path: Vec<&str> = path_to(&thread, "rt_3")
        .iter()
        .map(|r| r.request.input.as_str())
        .collect();
    assert_eq!(path, ["Q1", "Q2", "Q3"]);
    let path: Vec<&str> = path_to(&thread, "rt_2b")
        .iter()
        .map(|r| r.request.input.as_str())
        .collect();
    assert_eq!(path, ["Q1", "Q2 edited"]);
    assert!(store.thread("rt_nope").unwrap().is_empty());
}

#[test]
fn a_follow_up_of_a_run_not_in_the_history_starts_its_own_thread() {
    let store = Store::open_in_memory().unwrap();
    turn(&store, "rt_a", 1000, "Q", Some("rt_gone"));
    let a = store.get_run("rt_a").unwrap().unwrap();
    assert_eq!(a.summary.thread_id, "rt_a");
    assert_eq!(a.summary.previous_id, None);
}

#[test]
fn the_list_of_threads_shows_each_threads_latest_turn() {
    let store = history();
    let q = ListQuery {
        threads: true,
        ..ListQuery::default()
    };
    let list = store.list_runs(&q).unwrap();
    let lines: Vec<(&str, u32)> = list.iter().map(|r| (r.id.as_str(), r.turns)).collect();
    assert_eq!(lines, [("rt_2b", 4), ("rt_other", 1)]);
    // Every run, as before, without it; and search finds any turn.
    assert_eq!(store.list_runs(&ListQuery::default()).unwrap().len(), 5);
    let hits = store.search("Q3", &ListQuery::default()).unwrap();
    assert_eq!(hits[0].thread_id, "rt_1");
}

#[test]
fn a_turn_is_deleted_with_what_follows_it_or_the_thread_whole() {
    let store = history();
    assert_eq!(store.delete_turn_and_after("rt_2").unwrap(), 2);
    let ids: Vec<String> = store
        .thread("rt_1")
        .unwrap()
        .into_iter()
        .map(|r| r.summary.id)
        .collect();
    assert_eq!(ids, ["rt_1", "rt_2b"]);
    assert_eq!(store.delete_thread("rt_2b").unwrap(), 2);
    assert!(store.get_run("rt_1").unwrap().is_none());
    assert!(store.get_run("rt_other").unwrap().is_some());
    assert_eq!(store.delete_thread("rt_1").unwrap(), 0);
}

#[test]
fn a_turn_is_deleted_with_its_followers_whatever_their_times_say() {
    // A clock set back (or an imported turn) dates a follower before what it
    // follows: the links say what follows, not the times.
    let store = Store::open_in_memory().unwrap();
    turn(&store, "rt_1", 5000, "Q1", None);
    turn(&store, "rt_2", 6000, "Q2", Some("rt_1"));
    turn(&store, "rt_3", 1000, "Q3", Some("rt_2"));
    turn(&store, "rt_4", 500, "Q4", Some("rt_3"));
    assert_eq!(store.delete_turn_and_after("rt_2").unwrap(), 3);
    let ids: Vec<String> = store
        .thread("rt_1")
        .unwrap()
        .into_iter()
        .map(|r| r.summary.id)
        .collect();
    assert_eq!(ids, ["rt_1"]);
}
