//! The spend ledger and the reservations of runs in flight: what budgets
//! count. Deleting a run keeps what it cost; every judge call counts, a failed
//! one's too; a reservation is seen by every process until its run ends or
//! its process dies.

use crate::common::*;
use roundtable_store::{Judgement, ModelResult, RunStatus, SpendQuery, Store};

const DAY: i64 = 86_400_000;

fn micro(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

/// A finished run created `at`, its one model having cost `cost`.
fn spend(store: &Store, id: &str, at: i64, cost: f64) {
    let req = request("what did it cost?", &["openai/gpt-4.1"]);
    store.begin_run(&new_run(id, at, &req)).unwrap();
    let mut resp = response(id, &req, &["ok"], Some("ok"));
    resp.model_results = vec![ModelResult {
        cost,
        ..result(0, "openai/gpt-4.1", "ok")
    }];
    resp.meta.total_cost = cost;
    store.finish_run(&resp, RunStatus::Completed).unwrap();
}

#[test]
fn deleting_runs_does_not_give_their_cost_back() {
    let store = Store::open_in_memory().unwrap();
    spend(&store, "rt_a", 5 * DAY, 0.25);
    spend(&store, "rt_b", 5 * DAY + 1, 0.5);
    spend(&store, "rt_c", 9 * DAY, 2.0);
    assert_eq!(
        micro(store.spent_between(5 * DAY, 6 * DAY).unwrap()),
        micro(0.75)
    );
    let all = || store.spend_stats(&SpendQuery::default()).unwrap().totals;
    assert_eq!(all().deleted_cost, 0.0);
    assert!(store.delete_run("rt_a").unwrap());
    // The Usage view says what deleted runs had cost, apart from the runs'.
    let totals = all();
    assert_eq!(
        (micro(totals.cost), micro(totals.deleted_cost)),
        (micro(2.5), micro(0.25))
    );
    assert_eq!(
        store.delete_runs(&["rt_b".into(), "rt_c".into()]).unwrap(),
        2
    );
    assert_eq!(
        micro(store.spent_between(5 * DAY, 6 * DAY).unwrap()),
        micro(0.75)
    );
    assert_eq!(
        micro(store.spent_between(0, i64::MAX).unwrap()),
        micro(2.75)
    );
    // The history's figures are of the runs it still has.
    let totals = all();
    assert_eq!((totals.runs, micro(totals.deleted_cost)), (0, micro(2.75)));
}

#[test]
fn every_judge_call_counts_a_failed_or_replaced_one_too() {
    let store = Store::open_in_memory().unwrap();
    let req = request("q", &["a/x", "b/y"]);
    store.begin_run(&new_run("rt_j", DAY, &req)).unwrap();
    store
        .finish_run(
            &response("rt_j", &req, &["one", "two"], None),
            RunStatus::Completed,
        )
        .unwrap();
    let judgement = |cost: f64| Judgement {
        judge_model: "openai/o3".into(),
        ranking: vec![0, 1],
        reasons: vec!["a".into(), "b".into()],
        cost,
        judged_at_ms: 2 * DAY,
    };
    store.record_judgement("rt_j", &judgement(0.125)).unwrap();
    // The same judge again: the ranking is replaced, both calls were paid.
    store.record_judgement("rt_j", &judgement(0.25)).unwrap();
    store.record_judge_spend("rt_j", "openai/o3", 0.5).unwrap();
    let run_cost = store.get_run("rt_j").unwrap().unwrap().summary.total_cost;
    assert_eq!(
        micro(store.spent_between(0, i64::MAX).unwrap()),
        micro(run_cost + 0.875)
    );
    let s = store.spend_stats(&SpendQuery::default()).unwrap();
    assert_eq!(micro(s.totals.judge_cost), micro(0.875));
}

#[test]
fn a_reservation_counts_until_released_less_what_its_run_has_cost() {
    let store = Store::open_in_memory().unwrap();
    let (now, first) = store
        .reserve_spend(Some("rt_r"), 0.4, &[0], |now| now.reserved == 0.0)
        .unwrap();
    assert_eq!((now.spent, now.in_flight), (vec![0.0], 0));
    let first = first.expect("admitted");
    // A second run sees the first's worst case, and is refused by its check.
    let (now, second) = store
        .reserve_spend(Some("rt_s"), 0.4, &[0], |now| now.reserved == 0.0)
        .unwrap();
    assert_eq!((micro(now.reserved), now.in_flight), (micro(0.4), 1));
    assert!(second.is_none());
    // As the run spends, its reservation shrinks by as much: counted once.
    spend(&store, "rt_r", DAY, 0.25);
    let now = store.spend_now(&[0]).unwrap();
    assert_eq!(
        (micro(now.spent[0]), micro(now.reserved)),
        (micro(0.25), micro(0.15))
    );
    store.release_spend(first).unwrap();
    let now = store.spend_now(&[0]).unwrap();
    assert_eq!((micro(now.reserved), now.in_flight), (0, 0));
}

#[test]
fn another_process_sees_a_reservation_until_it_dies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let here = Store::open(&path).unwrap();
    let there = Store::open(&path).unwrap();
    let (_, id) = there.reserve_spend(None, 1.5, &[0], |_| true).unwrap();
    assert!(id.is_some());
    let now = here.spend_now(&[0]).unwrap();
    assert_eq!((micro(now.reserved), now.in_flight), (micro(1.5), 1));
    // Its process gone (its Store closed without releasing: a crash), the
    // next check drops what it had set aside.
    drop(there);
    let now = here.spend_now(&[0]).unwrap();
    assert_eq!((micro(now.reserved), now.in_flight), (0, 0));
}
