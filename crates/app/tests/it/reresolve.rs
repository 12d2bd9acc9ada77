//! `App::reresolve`: a stored run resolved again from its stored answers, as a
//! new run linked to the first, without calling the panel again.

use crate::common::{Events, Fixture, request, script};
use roundtable_app::core::{Resolution, RunEvent, RunStatus};
use roundtable_app::store::ParentKind;
use roundtable_app::{Code, Reresolve};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_stored_run_is_resolved_again_without_calling_the_panel() {
    let fx = Fixture::start(script()).await;
    let (first, _) = fx.fast(&["fake/a", "fake/b"]).await;
    let first = first.unwrap();
    assert_eq!(first.response.meta.resolution, Resolution::Fast);
    let events = Events::default();
    let how = Reresolve {
        resolution: Resolution::Summary,
        summary_model: Some("fake/b".into()),
        ..Default::default()
    };
    let again = fx
        .app
        .reresolve(&first.response.id, how, &events, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(again.status, RunStatus::Completed);
    assert_ne!(again.response.id, first.response.id);
    assert_eq!(again.response.meta.resolution, Resolution::Summary);
    // The answers are the stored ones; only the summary model was called.
    assert_eq!(fx.fake.calls_for("a"), 1);
    assert_eq!(fx.fake.calls_for("b"), 2);
    let answers = |r: &roundtable_app::core::RoundtableResponse| -> Vec<_> {
        r.model_results.iter().map(|m| m.data.clone()).collect()
    };
    assert_eq!(answers(&again.response), answers(&first.response));

    // The host saw the consolidation, then `Done`, and no model start again.
    let kinds = events.kinds();
    assert!(
        !kinds.iter().any(|k| k == "model_started"),
        "the panel was called again: {kinds:?}"
    );
    assert!(
        events
            .all()
            .iter()
            .any(|e| matches!(e, RunEvent::ConsolidationStarted { model } if model == "fake/b")),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("done"));

    let stored = fx.app.get_run(&again.response.id).unwrap();
    assert_eq!(
        stored.summary.parent_id.as_deref(),
        Some(&*first.response.id)
    );
    assert_eq!(stored.summary.parent_kind, Some(ParentKind::Resolve));
    assert_eq!(stored.request.resolution, Some(Resolution::Summary));
    assert_eq!(stored.request.summary_model.as_deref(), Some("fake/b"));
    assert_eq!(answers(&stored.response), answers(&first.response));
    // The first run is as it was.
    let kept = fx.app.get_run(&first.response.id).unwrap();
    assert_eq!(kept.response, first.response);
}

#[tokio::test]
async fn multiple_choice_counts_the_stored_answers_as_votes() {
    let fx = Fixture::start(script()).await;
    let (first, _) = fx
        .run(request(
            "Capital of France?",
            &["fake/a", "fake/a"],
            Resolution::Fast,
        ))
        .await;
    let first = first.unwrap();
    let how = Reresolve {
        resolution: Resolution::MultipleChoice,
        choices: Some(vec!["Paris".into(), "London".into()]),
        ..Default::default()
    };
    let again = fx
        .app
        .reresolve(&first.response.id, how, &(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(again.status, RunStatus::Completed);
    assert_eq!(again.response.data.as_deref(), Some("Paris"));
    assert_eq!(fx.fake.calls_for("a"), 2, "the panel was called again");
}

#[tokio::test]
async fn a_run_not_in_the_history_is_not_found_and_a_bad_resolution_is_refused() {
    let fx = Fixture::start(script()).await;
    let e = fx
        .app
        .reresolve(
            "rt_nosuch",
            Reresolve::default(),
            &(),
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::NotFound);

    let (first, _) = fx.fast(&["fake/a"]).await;
    let first = first.unwrap();
    // Multiple choice without choices: refused before anything is recorded.
    let before = fx.app.query_runs(&Default::default()).unwrap().len();
    let how = Reresolve {
        resolution: Resolution::MultipleChoice,
        ..Default::default()
    };
    let e = fx
        .app
        .reresolve(&first.response.id, how, &(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::InvalidRequest, "{e:?}");
    assert_eq!(
        fx.app.query_runs(&Default::default()).unwrap().len(),
        before
    );
}
