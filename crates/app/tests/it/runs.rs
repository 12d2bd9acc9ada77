//! `App::run`: the events reach the host's sink in order, with `Done` last and
//! only once the history has the run; the run is recorded as it happens; one
//! model failing does not fail the run; a refused request calls nobody;
//! `App::rerun` is the same request again, linked to the first.

use crate::common::{Events, Fixture, kind, request, script};
use roundtable_app::RunSink;
use roundtable_app::core::{ModelOutcome, Resolution, RunEvent, RunStatus};
use roundtable_app::store::ParentKind;
use roundtable_app::{App, Code};
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn events_reach_the_sink_in_order_and_done_only_once_the_run_is_recorded() {
    let fx = Fixture::start(script()).await;
    let app = &fx.app;
    // On `Done`, what the history holds for the run at that moment.
    let at_done: Mutex<Option<RunStatus>> = Mutex::default();
    let events = Events::default();
    let sink = |event: RunEvent| {
        if let RunEvent::Done { response } = &event {
            let stored = app.get_run(&response.id).unwrap();
            *at_done.lock().unwrap() = Some(stored.summary.status);
        }
        events.event(event);
    };
    let out = app
        .run(
            request("Capital?", &["fake/a", "fake/b"], Resolution::Fast),
            &sink,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    assert_eq!(*at_done.lock().unwrap(), Some(RunStatus::Completed));

    let all = events.all();
    let RunEvent::RunStarted { id, models, .. } = &all[0] else {
        panic!("first: {:?}", all[0]);
    };
    assert_eq!(id, &out.response.id);
    assert_eq!(models, &["fake/a", "fake/b"]);
    let RunEvent::Done { response } = all.last().unwrap() else {
        panic!("last: {:?}", all.last());
    };
    assert_eq!(response, &out.response);
    assert_eq!(events.kinds().iter().filter(|k| *k == "done").count(), 1);
    // Each model: started, its text, then its result, in that order.
    for (index, answer) in [(0, "Paris"), (1, "London")] {
        let of_model: Vec<String> =
            all.iter()
                .filter(|e| match e {
                    RunEvent::ModelStarted { index: i, .. }
                    | RunEvent::TextDelta { index: i, .. } => *i == index,
                    RunEvent::ModelFinished { result } => result.index == index,
                    _ => false,
                })
                .map(kind)
                .collect();
        assert_eq!(of_model.first().map(String::as_str), Some("model_started"));
        assert_eq!(of_model.last().map(String::as_str), Some("model_finished"));
        assert!(of_model.iter().any(|k| k == "text_delta"), "{of_model:?}");
        assert_eq!(events.text_of(index), answer);
    }

    // The history has the run as it ended, answers included.
    let stored = app.get_run(&out.response.id).unwrap();
    assert_eq!(stored.summary.status, RunStatus::Completed);
    assert_eq!(stored.request.input, "Capital?");
    let answers: Vec<_> = stored
        .response
        .model_results
        .iter()
        .map(|r| r.data.clone())
        .collect();
    assert_eq!(answers, ["Paris", "London"]);
}

#[tokio::test]
async fn a_failing_model_does_not_fail_the_run() {
    let fx = Fixture::start(script()).await;
    let (out, events) = fx.fast(&["fake/a", "fake/down"]).await;
    let out = out.unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    let results = &out.response.model_results;
    assert!(results[0].succeeded());
    assert_eq!(results[1].outcome, Some(ModelOutcome::Failed));
    assert!(
        results[1].error.as_deref().unwrap().contains("exploded"),
        "{:?}",
        results[1].error
    );
    let kinds = events.kinds();
    assert!(kinds.contains(&"model_failed".to_string()), "{kinds:?}");
    // Both results are recorded, the failure with its reason.
    let stored = fx.app.get_run(&out.response.id).unwrap();
    assert_eq!(stored.summary.status, RunStatus::Completed);
    assert_eq!(stored.response.model_results, out.response.model_results);
}

#[tokio::test]
async fn a_run_where_no_model_answers_is_recorded_failed() {
    let fx = Fixture::start(script()).await;
    let (out, events) = fx.fast(&["fake/down"]).await;
    let out = out.unwrap();
    assert_eq!(out.status, RunStatus::Failed);
    assert_eq!(events.kinds().last().map(String::as_str), Some("done"));
    let stored = fx.app.get_run(&out.response.id).unwrap();
    assert_eq!(stored.summary.status, RunStatus::Failed);
}

#[tokio::test]
async fn a_refused_request_calls_no_provider_and_records_nothing() {
    let fx = Fixture::start(script()).await;
    let (out, events) = fx.fast(&["nosuch/x", "fake/a"]).await;
    let e = out.unwrap_err();
    assert!(
        matches!(e.code, Code::InvalidRequest | Code::UnknownProvider),
        "{e:?}"
    );
    assert!(events.all().is_empty(), "{:?}", events.kinds());
    assert!(fx.fake.requests().is_empty());
    assert!(fx.app.query_runs(&Default::default()).unwrap().is_empty());
}

#[tokio::test]
async fn a_cancelled_run_keeps_what_had_arrived_and_is_recorded_interrupted() {
    let fx = Fixture::start(script()).await;
    let cancel = CancellationToken::new();
    let events = Events::default();
    // Cancelled as soon as the quick model has answered; the slow one never does.
    let sink = |event: RunEvent| {
        if matches!(&event, RunEvent::ModelFinished { result } if result.index == 0) {
            cancel.cancel();
        }
        events.event(event);
    };
    let out = fx
        .app
        .run(
            request("Capital?", &["fake/a", "fake/slow"], Resolution::Fast),
            &sink,
            cancel.clone(),
        )
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Interrupted);
    let results = &out.response.model_results;
    assert_eq!(results[0].data, "Paris");
    assert_eq!(results[1].outcome, Some(ModelOutcome::Cancelled));
    assert_eq!(events.kinds().last().map(String::as_str), Some("done"));
    let stored = fx.app.get_run(&out.response.id).unwrap();
    assert_eq!(stored.summary.status, RunStatus::Interrupted);
    assert_eq!(stored.response.model_results[0].data, "Paris");
}

#[tokio::test]
async fn a_rerun_is_the_same_request_again_as_a_new_run_linked_to_the_first() {
    let fx = Fixture::start(script()).await;
    let first = fx.fast(&["fake/a", "fake/b"]).await.0.unwrap();
    let events = Events::default();
    let again = fx
        .app
        .rerun(&first.response.id, &events, CancellationToken::new())
        .await
        .unwrap();
    assert_ne!(again.response.id, first.response.id);
    assert_eq!(again.status, RunStatus::Completed);
    // The panel was called again, and the host saw the new run's events.
    assert_eq!(fx.fake.calls_for("a"), 2);
    assert_eq!(fx.fake.calls_for("b"), 2);
    assert!(
        matches!(&events.all()[0], RunEvent::RunStarted { id, .. } if *id == again.response.id)
    );
    assert_eq!(events.text_of(1), "London");

    let stored = fx.app.get_run(&again.response.id).unwrap();
    assert_eq!(
        stored.summary.parent_id.as_deref(),
        Some(&*first.response.id)
    );
    assert_eq!(stored.summary.parent_kind, Some(ParentKind::Rerun));
    assert_eq!(
        stored.request,
        fx.app.get_run(&first.response.id).unwrap().request
    );
}

#[tokio::test]
async fn a_rerun_of_a_run_not_in_the_history_is_not_found() {
    let fx = Fixture::start(script()).await;
    let e = fx
        .app
        .rerun("rt_nosuch", &(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::NotFound);
    assert!(fx.fake.requests().is_empty());
}

/// `App` is shared across a host's tasks: a run's future must be `Send`.
#[allow(dead_code)]
fn runs_are_send(app: &App) {
    fn send<T: Send>(_: T) {}
    send(app.run(Default::default(), &(), CancellationToken::new()));
}
