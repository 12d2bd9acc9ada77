//! Starting a run for a request, plain or streamed, or a judge's call: in a
//! task the server tracks (so stopping waits until it is recorded), with a
//! slot of [`limits::MAX_CONCURRENT_RUNS`] and a cancel token that is a child
//! of the server's. [`crate::handlers`], [`crate::stream`] and
//! [`crate::verdicts`] start their work here.

use crate::Shared;
use crate::error::ApiError;
use crate::limits;
use axum::http::StatusCode;
use roundtable_app::core::RoundtableRequest;
use roundtable_app::{App, RunSink};
use std::future::Future;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub(crate) type RunTask =
    tokio::task::JoinHandle<Result<roundtable_app::core::RunOutcome, roundtable_app::AppError>>;

/// Starts a run in its own task (tracked, so stopping waits until it is
/// recorded), with a token that is a child of the server's; its events go to
/// `sink`, which the task drops when the run is over.
pub(crate) fn spawn_run(
    shared: &Shared,
    request: RoundtableRequest,
    sink: impl RunSink + 'static,
) -> Result<(CancellationToken, RunTask), ApiError> {
    spawn_tracked(shared, move |app, token| async move {
        app.run(request, &sink, token).await
    })
}

/// Starts `work` in its own task, tracked (stopping waits for it) and holding
/// one of the [`limits::MAX_CONCURRENT_RUNS`] slots until it ends; it is given
/// the app and a token that is a child of the server's. `503` when the server
/// is stopping or every slot is taken.
pub(crate) fn spawn_tracked<T, F>(
    shared: &Shared,
    work: impl FnOnce(Arc<App>, CancellationToken) -> F,
) -> Result<(CancellationToken, tokio::task::JoinHandle<T>), ApiError>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    if shared.shutdown.is_cancelled() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        ));
    }
    let slot = Arc::clone(&shared.run_slots)
        .try_acquire_owned()
        .map_err(|_| {
            limits::busy(
                "runs are in flight",
                limits::MAX_CONCURRENT_RUNS,
                "MAX_CONCURRENT_RUNS",
            )
        })?;
    let cancel = shared.shutdown.child_token();
    let work = work(Arc::clone(&shared.app), cancel.clone());
    let task = shared.runs.spawn(async move {
        // Held until the work is done (a run recorded).
        let _slot = slot;
        work.await
    });
    Ok((cancel, task))
}
