//! Samples of one model (issue 17) through the app: the stored request is the
//! expanded panel, so a re-run makes the same calls with the same sample
//! numbers, and a re-resolution counts the stored samples as they were.

use crate::common::{Fixture, request, script};
use roundtable_app::Reresolve;
use roundtable_app::core::{Resolution, RunStatus};
use tokio_util::sync::CancellationToken;

fn samples(r: &roundtable_app::core::RoundtableResponse) -> Vec<(usize, Option<u32>)> {
    r.model_results
        .iter()
        .map(|m| (m.index, m.sample))
        .collect()
}

#[tokio::test]
async fn a_sampled_run_is_stored_expanded_and_reruns_and_reresolves_the_same() {
    let fx = Fixture::start(script()).await;
    let mut req = request("Capital?", &["fake/a", "fake/b"], Resolution::Fast);
    req.models[0].samples = Some(3);
    let first = fx.run(req).await.0.unwrap();
    let numbered = vec![(0, Some(1)), (1, Some(2)), (2, Some(3)), (3, None)];
    assert_eq!(samples(&first.response), numbered);
    assert_eq!(fx.fake.calls_for("a"), 3);

    let stored = fx.app.get_run(&first.response.id).unwrap();
    assert_eq!(stored.request.models.len(), 4);
    assert!(stored.request.models.iter().all(|m| m.samples.is_none()));
    assert_eq!(stored.response.model_results, first.response.model_results);

    let again = fx
        .app
        .rerun(&first.response.id, &(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(again.status, RunStatus::Completed);
    assert_eq!(samples(&again.response), numbered);
    assert_eq!(fx.fake.calls_for("a"), 6);

    let how = Reresolve {
        resolution: Resolution::MultipleChoice,
        choices: Some(vec!["Paris".into(), "London".into()]),
        ..Default::default()
    };
    let voted = fx
        .app
        .reresolve(&first.response.id, how, &(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(samples(&voted.response), numbered);
    let votes = voted.response.meta.votes.as_ref().unwrap();
    assert_eq!((votes["Paris"], votes["London"]), (3, 1));
    assert_eq!(voted.response.data.as_deref(), Some("Paris"));
    assert_eq!(fx.fake.calls_for("a"), 6, "the panel was not called again");
}

#[tokio::test]
async fn a_models_samples_are_one_entrant_on_the_leaderboard() {
    use roundtable_app::LeaderboardQuery;
    use roundtable_app::store::{Ballot, VoteKind};
    let fx = Fixture::start(script()).await;
    let mut req = request("Capital?", &["fake/a", "fake/b"], Resolution::Fast);
    req.models[0].samples = Some(3);
    // Panel a*3 + b, twice: one "best" vote for a sample of a, one for b.
    for best in [1, 3] {
        let run = fx.run(req.clone()).await.0.unwrap();
        let ballot = Ballot {
            kind: VoteKind::Best,
            ranking: vec![vec![best]],
            blind: false,
        };
        fx.app.cast_vote(&run.response.id, &ballot).unwrap();
    }
    let board = fx.app.leaderboard(&LeaderboardQuery::default()).unwrap();
    let row = |m: &str| board.rows.iter().find(|r| r.model == m).unwrap();
    let (a, b) = (row("fake/a"), row("fake/b"));
    assert_eq!(
        (a.wins, a.losses, b.wins, b.losses),
        (1, 1, 1, 1),
        "{board:?}"
    );
    assert!((a.rating - b.rating).abs() < 1e-6, "{a:?} {b:?}");
}
