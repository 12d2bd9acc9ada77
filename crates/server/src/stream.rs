//! `"stream": true`: the run's events as server-sent events, one `data: {chunk}`
//! line each (see the `type` table in the crate docs), then `data: [DONE]`.

use crate::Shared;
use crate::error::{ApiError, no_model_answered_message};
use crate::handlers::{RunTask, spawn_run, sse_response};
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roundtable_app::core::{RoundtableRequest, RunEvent, RunStatus, StreamChunk};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio_util::sync::DropGuard;

/// Starts the run; answers with a JSON error when it fails before it starts (an
/// invalid request), else with the stream.
pub(crate) async fn run(shared: Arc<Shared>, request: RoundtableRequest) -> Response {
    let (tx, mut rx) = unbounded_channel();
    let (cancel, task) = match spawn_run(&shared, request, Some(tx)) {
        Ok(started) => started,
        Err(e) => return e.into_response(),
    };
    let guard = cancel.drop_guard();
    // The first event is `RunStarted`, once the request is valid and recorded; the
    // channel closes without one when the run could not start.
    let id = match rx.recv().await {
        Some(RunEvent::RunStarted { id, .. }) => id,
        Some(_) => String::new(),
        None => {
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
        }
    };
    let state = Sse {
        id,
        rx,
        task: Some(task),
        guard: Some(guard),
    };
    let body = futures_util::stream::unfold(Some(state), |state| async move {
        let mut sse = state?;
        loop {
            match sse.rx.recv().await {
                Some(event) => {
                    if let Some(chunk) = chunk_for(&sse.id, event) {
                        return Some((Ok::<_, Infallible>(frame(&chunk)), Some(sse)));
                    }
                }
                None => {
                    let end = sse.finish().await;
                    return Some((Ok(end), None));
                }
            }
        }
    });
    sse_response(Body::from_stream(body))
}

/// A stream in progress. Dropped before its end (the client went away), its
/// guard cancels the run, which is then recorded as interrupted.
struct Sse {
    id: String,
    rx: UnboundedReceiver<RunEvent>,
    task: Option<RunTask>,
    guard: Option<DropGuard>,
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

/// The chunk for an event; `None` for events clients do not see (start, usage,
/// the engine's own `Done`, which the final chunk replaces).
pub(crate) fn chunk_for(id: &str, event: RunEvent) -> Option<StreamChunk> {
    let base = |kind: &str| StreamChunk {
        kind: kind.into(),
        id: Some(id.to_string()).filter(|id| !id.is_empty()),
        ..Default::default()
    };
    Some(match event {
        RunEvent::TextDelta {
            index,
            model,
            delta,
        } => StreamChunk {
            model: Some(model),
            model_index: Some(index),
            delta: Some(delta),
            ..base("model_delta")
        },
        RunEvent::ThinkingDelta {
            index,
            model,
            delta,
        } => StreamChunk {
            model: Some(model),
            model_index: Some(index),
            delta: Some(delta),
            ..base("model_thinking_delta")
        },
        RunEvent::ModelRetrying {
            index,
            model,
            attempt,
            delay_ms,
            reason,
        } => StreamChunk {
            model: Some(model),
            model_index: Some(index),
            error: Some(format!(
                "{reason}: retrying in {delay_ms} ms (attempt {attempt})"
            )),
            ..base("model_retry")
        },
        RunEvent::ModelFinished { result } | RunEvent::ModelFailed { result } => StreamChunk {
            model_index: Some(result.index),
            cost: Some(result.cost),
            usage: Some(result.usage),
            error: result.error,
            data: Some(result.data),
            model: Some(result.model),
            ..base("model_result")
        },
        RunEvent::ConsolidationDelta { model, delta } => StreamChunk {
            model: Some(model),
            delta: Some(delta),
            ..base("consolidation_delta")
        },
        RunEvent::RunStarted { .. }
        | RunEvent::ModelStarted { .. }
        | RunEvent::ModelUsage { .. }
        | RunEvent::ConsolidationStarted { .. }
        | RunEvent::Done { .. } => return None,
    })
}
