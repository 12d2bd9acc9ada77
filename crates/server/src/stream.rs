//! `"stream": true`: the run's events as server-sent events, one `data: {chunk}`
//! line each (see the `type` table in the crate docs), then `data: [DONE]`.

use crate::Shared;
use crate::error::{ApiError, no_model_answered_message};
use crate::outbox::{Outbox, SseSink};
use crate::spawn::{RunTask, spawn_run};
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use roundtable_app::core::{RoundtableRequest, RunStatus, StreamChunk};
use std::convert::Infallible;
use std::sync::Arc;
use tokio_util::sync::DropGuard;

/// Starts the run; answers with a JSON error when it fails before it starts (an
/// invalid request), else with the stream.
pub(crate) async fn run(shared: Arc<Shared>, request: RoundtableRequest) -> Response {
    let (sink, outbox, started) = SseSink::new();
    let (cancel, task) = match spawn_run(&shared, request, sink) {
        Ok(started) => started,
        Err(e) => return e.into_response(),
    };
    let guard = cancel.drop_guard();
    // The first event is `RunStarted`, once the request is valid and recorded; the
    // sink is dropped without one when the run could not start.
    let Ok(id) = started.await else {
        guard.disarm();
        return match task.await {
            Ok(Err(e)) => ApiError::from(e).into_response(),
            Ok(Ok(_)) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the run ended without starting",
            )
            .into_response(),
            Err(e) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the run broke off: {e}"),
            )
            .into_response(),
        };
    };
    let state = Sse {
        id,
        outbox,
        task: Some(task),
        guard: Some(guard),
    };
    let body = futures_util::stream::unfold(Some(state), |state| async move {
        let mut sse = state?;
        match sse.outbox.next().await {
            Some(chunk) => Some((Ok::<_, Infallible>(frame(&chunk)), Some(sse))),
            None => {
                let end = sse.finish().await;
                Some((Ok(end), None))
            }
        }
    });
    sse_response(Body::from_stream(body))
}

/// A body of SSE bytes, for [`run`].
fn sse_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    headers.insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    response
}

/// A stream in progress. Dropped before its end (the client went away), its
/// guard cancels the run, which is then recorded as interrupted.
struct Sse {
    id: String,
    outbox: Arc<Outbox>,
    task: Option<RunTask>,
    guard: Option<DropGuard>,
}

impl Drop for Sse {
    /// Nothing more is kept for a client that left.
    fn drop(&mut self) {
        self.outbox.leave();
    }
}

impl Sse {
    /// The last frames, once every event was sent: `error` when the run failed,
    /// `done` with the whole response, `[DONE]`.
    async fn finish(&mut self) -> Bytes {
        let result = match self.task.take() {
            Some(task) => task.await,
            None => return Bytes::from_static(b"data: [DONE]\n\n"),
        };
        if let Some(guard) = self.guard.take() {
            guard.disarm();
        }
        let mut out = Vec::new();
        let error = |message: String| StreamChunk {
            kind: "error".into(),
            error: Some(message),
            id: Some(self.id.clone()).filter(|id| !id.is_empty()),
            ..Default::default()
        };
        match result {
            Ok(Ok(outcome)) => {
                let response = outcome.response;
                match outcome.status {
                    RunStatus::Failed => {
                        out.extend(frame(&error(no_model_answered_message(&response))));
                    }
                    RunStatus::Interrupted | RunStatus::Running => out.extend(frame(&error(
                        format!(
                            "interrupted: the run was cancelled (the server is shutting down); what had arrived is kept in the history as {}",
                            response.id
                        ),
                    ))),
                    RunStatus::Completed => {}
                }
                let done = StreamChunk {
                    kind: "done".into(),
                    id: Some(response.id.clone()),
                    data: response.data.clone(),
                    meta: Some(response.meta.clone()),
                    response: Some(Box::new(response)),
                    ..Default::default()
                };
                out.extend(frame(&done));
            }
            Ok(Err(e)) => out.extend(frame(&error(e.message))),
            Err(e) => out.extend(frame(&error(format!(
                "internal error: the run broke off: {e}"
            )))),
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        Bytes::from(out)
    }
}

fn frame(chunk: &StreamChunk) -> Bytes {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"data: ");
    serde_json::to_writer(&mut out, chunk).expect("a chunk serialises");
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}
