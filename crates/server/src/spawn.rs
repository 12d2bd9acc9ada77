//! Starting a run for a request, plain or streamed: in a task the server
//! tracks (so stopping waits until the run is recorded), with a slot of
//! [`limits::MAX_CONCURRENT_RUNS`] and a cancel token that is a child of the
//! server's. Both [`crate::handlers`] and [`crate::stream`] start runs here.

use crate::Shared;
use crate::error::ApiError;
use crate::limits;
use axum::http::StatusCode;
use roundtable_app::RunSink;
use roundtable_app::core::RoundtableRequest;
use std::sync::Arc;

pub(crate) type RunTask =
    tokio::task::JoinHandle<Result<roundtable_app::core::RunOutcome, roundtable_app::AppError>>;

/// Starts a run in its own task (tracked, so stopping waits until it is
/// recorded), with a token that is a child of the server's; its events go to
/// `sink`, which the task drops when the run is over.
pub(crate) fn spawn_run(
    shared: &Shared,
    request: RoundtableRequest,
    sink: impl RunSink + 'static,
) -> Result<(tokio_util::sync::CancellationToken, RunTask), ApiError> {
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
    let app = Arc::clone(&shared.app);
    let token = cancel.clone();
    let task = shared.runs.spawn(async move {
        // Held until the run is recorded.
        let _slot = slot;
        app.run(request, &sink, token).await
    });
    Ok((cancel, task))
}
