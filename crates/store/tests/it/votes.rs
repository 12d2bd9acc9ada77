//! Votes and judgements: cast, changed, withdrawn, deleted with their run, and
//! read back as verdicts by source, date and tag.

use crate::common::*;
use roundtable_store::{
    Ballot, Error, Judgement, RunStatus, Store, VerdictQuery, VerdictSource, VoteKind,
};

fn store_with(runs: &[(&str, i64, &[&str])]) -> Store {
    let store = Store::open_in_memory().unwrap();
    for (id, at, models) in runs {
        let req = request("which is best?", models);
        store.begin_run(&new_run(id, *at, &req)).unwrap();
        let answers: Vec<&str> = models.iter().map(|_| "an answer").collect();
        store
            .finish_run(&response(id, &req, &answers, None), RunStatus::Completed)
            .unwrap();
    }
    store
}

fn ballot(kind: VoteKind, ranking: &[&[u32]]) -> Ballot {
    Ballot {
        kind,
        ranking: ranking.iter().map(|g| g.to_vec()).collect(),
        blind: true,
    }
}

#[test]
fn a_vote_is_cast_changed_and_withdrawn() {
    let store = store_with(&[("rt_1", 1000, &["a/x", "b/y", "c/z"])]);
    assert_eq!(store.vote("rt_1").unwrap(), None);
    let first = store
        .set_vote("rt_1", &ballot(VoteKind::Best, &[&[2]]))
        .unwrap();
    assert_eq!(first.changed_at_ms, None);
    assert!(first.ballot.blind);
    let changed = store
        .set_vote("rt_1", &ballot(VoteKind::Ranking, &[&[1], &[0, 2]]))
        .unwrap();
    assert_eq!(
        changed.cast_at_ms, first.cast_at_ms,
        "the first cast is kept"
    );
    assert!(changed.changed_at_ms.is_some());
    assert_eq!(store.vote("rt_1").unwrap().unwrap(), changed);
    assert!(store.withdraw_vote("rt_1").unwrap());
    assert!(!store.withdraw_vote("rt_1").unwrap());
    assert_eq!(store.vote("rt_1").unwrap(), None);
}

#[test]
fn a_ballot_that_does_not_fit_the_run_is_refused_and_names_why() {
    let store = store_with(&[("rt_1", 1000, &["a/x", "b/y"])]);
    let e = store
        .set_vote("rt_1", &ballot(VoteKind::Best, &[&[5]]))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidVote(_)), "{e}");
    assert!(e.to_string().contains("no model result 5"), "{e}");
    let e = store
        .set_vote("rt_nope", &ballot(VoteKind::Best, &[&[0]]))
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e}");
    assert_eq!(store.vote("rt_1").unwrap(), None, "nothing was written");
}

#[test]
fn votes_and_judgements_go_with_their_run() {
    let store = store_with(&[("rt_1", 1000, &["a/x", "b/y"])]);
    store
        .set_vote("rt_1", &ballot(VoteKind::Best, &[&[0]]))
        .unwrap();
    store
        .record_judgement("rt_1", &judgement("j/1", &[1, 0]))
        .unwrap();
    assert!(store.delete_run("rt_1").unwrap());
    let all = |source| {
        store
            .verdicts(&VerdictQuery {
                source,
                ..Default::default()
            })
            .unwrap()
    };
    assert!(all(VerdictSource::Votes).is_empty());
    assert!(all(VerdictSource::Judges).is_empty());
}

fn judgement(judge: &str, ranking: &[u32]) -> Judgement {
    Judgement {
        judge_model: judge.into(),
        ranking: ranking.to_vec(),
        reasons: ranking.iter().map(|i| format!("reason for {i}")).collect(),
        cost: 0.0005,
        judged_at_ms: 5000,
    }
}

#[test]
fn judgements_are_kept_per_judge_and_apart_from_votes() {
    let store = store_with(&[("rt_1", 1000, &["a/x", "b/y"])]);
    store
        .record_judgement("rt_1", &judgement("j/1", &[1, 0]))
        .unwrap();
    store
        .record_judgement("rt_1", &judgement("j/2", &[0, 1]))
        .unwrap();
    // The same judge again replaces its ranking.
    store
        .record_judgement("rt_1", &judgement("j/1", &[0, 1]))
        .unwrap();
    let js = store.judgements("rt_1").unwrap();
    assert_eq!(js.len(), 2);
    assert_eq!(js[0].ranking, vec![0, 1]);
    assert_eq!(js[0].reasons[0], "reason for 0");

    let e = store
        .record_judgement("rt_1", &judgement("j/3", &[0, 0]))
        .unwrap_err();
    assert!(e.to_string().contains("ranked twice"), "{e}");
    let mut short = judgement("j/3", &[0, 1]);
    short.reasons.pop();
    assert!(store.record_judgement("rt_1", &short).is_err());

    let votes = store.verdicts(&VerdictQuery::default()).unwrap();
    assert!(votes.is_empty(), "judgements are not votes");
    let judged = store
        .verdicts(&VerdictQuery {
            source: VerdictSource::Judges,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(judged.len(), 2, "one verdict per judge");
    assert_eq!(judged[0].ranking, vec![vec![0], vec![1]]);
    let one_judge = store
        .verdicts(&VerdictQuery {
            source: VerdictSource::Judges,
            judge_model: Some("j/2".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(one_judge.len(), 1);
}

#[test]
fn verdicts_carry_the_results_and_filter_by_date_and_tag() {
    let store = store_with(&[
        ("rt_1", 1000, &["a/x", "b/y"]),
        ("rt_2", 2000, &["a/x", "c/z", "b/y"]),
        ("rt_3", 3000, &["a/x", "b/y"]),
    ]);
    store
        .set_vote("rt_1", &ballot(VoteKind::Best, &[&[0]]))
        .unwrap();
    store
        .set_vote("rt_2", &ballot(VoteKind::AllBad, &[]))
        .unwrap();
    store.add_tag("rt_2", "code").unwrap();
    let all = store.verdicts(&VerdictQuery::default()).unwrap();
    assert_eq!(all.len(), 2, "rt_3 has no vote");
    let rt2 = all.iter().find(|v| v.run_id == "rt_2").unwrap();
    assert!(rt2.all_tie);
    assert_eq!(
        rt2.results
            .iter()
            .map(|r| r.model.as_str())
            .collect::<Vec<_>>(),
        vec!["a/x", "c/z", "b/y"]
    );
    assert!(rt2.results.iter().all(|r| r.answered));
    assert!((rt2.results[1].cost - 0.002).abs() < 1e-12);
    let since = store
        .verdicts(&VerdictQuery {
            since_ms: Some(1500),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(since.len(), 1);
    let tagged = store
        .verdicts(&VerdictQuery {
            tag: Some("code".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        tagged.iter().map(|v| v.run_id.as_str()).collect::<Vec<_>>(),
        vec!["rt_2"]
    );
}
