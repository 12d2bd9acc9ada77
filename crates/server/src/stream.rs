//! `"stream": true`: the run's events as server-sent events, one `data: {chunk}`
//! line each (see the `type` table in the crate docs), then `data: [DONE]`.

use crate::Shared;
use crate::error::{ApiError, no_model_answered_message};
use crate::spawn::{RunTask, spawn_run};
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use roundtable_app::core::{RoundtableRequest, RunEvent, RunStatus, StreamChunk};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::mpsc::{self, UnboundedReceiver, unbounded_channel};
use tokio_util::sync::DropGuard;

/// Most chunks that wait, made, for a client that reads slowly. Past it the
/// run's deltas are merged as they come (per model and kind) until the client
/// catches up: what the server holds is the text not yet sent, not one chunk
/// per event.
pub const SSE_BUFFER: usize = 64;

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
    let (chunks, out) = mpsc::channel(SSE_BUFFER);
    tokio::spawn(forward(id.clone(), rx, chunks));
    let state = Sse {
        id,
        rx: out,
        task: Some(task),
        guard: Some(guard),
    };
    let body = futures_util::stream::unfold(Some(state), |state| async move {
        let mut sse = state?;
        match sse.rx.recv().await {
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

/// Takes the run's events as they come (the engine never waits for a client)
/// and hands them to the stream as chunks, at most [`SSE_BUFFER`] ahead of the
/// client; whatever comes meanwhile waits in a [`Backlog`]. Ends when the run
/// has sent its last event and every chunk was handed on, or the client left.
async fn forward(
    id: String,
    mut events: UnboundedReceiver<RunEvent>,
    out: mpsc::Sender<StreamChunk>,
) {
    let mut backlog = Backlog::default();
    let mut open = true;
    while open || !backlog.is_empty() {
        tokio::select! {
            biased;
            permit = out.reserve(), if !backlog.is_empty() => match permit {
                Ok(permit) => permit.send(backlog.pop().expect("not empty")),
                Err(_) => return,
            },
            event = events.recv(), if open => match event {
                Some(event) => {
                    if let Some(chunk) = chunk_for(&id, event) {
                        backlog.push(chunk);
                    }
                }
                None => open = false,
            },
        }
    }
}

fn is_delta(kind: &str) -> bool {
    matches!(
        kind,
        "model_delta" | "model_thinking_delta" | "consolidation_delta"
    )
}

/// Chunks waiting for a slow client. A delta joins the last waiting delta of
/// the same model (or of the consolidation) and kind, unless a `model_retry` or
/// `model_result` of that model came after it: each model's text stays in
/// order and a retry still voids what came before it. So it holds at most two
/// deltas per model between two of its other chunks, whatever the number of
/// events.
#[derive(Default)]
pub(crate) struct Backlog {
    queue: VecDeque<StreamChunk>,
}

impl Backlog {
    pub fn push(&mut self, chunk: StreamChunk) {
        if is_delta(&chunk.kind) {
            let same_source = self
                .queue
                .iter_mut()
                .rev()
                .filter(|c| c.model_index == chunk.model_index)
                .find(|c| c.kind == chunk.kind || !is_delta(&c.kind));
            if let Some(waiting) = same_source
                && waiting.kind == chunk.kind
                && let (Some(text), Some(more)) = (waiting.delta.as_mut(), chunk.delta.as_deref())
            {
                text.push_str(more);
                return;
            }
        }
        self.queue.push_back(chunk);
    }

    pub fn pop(&mut self) -> Option<StreamChunk> {
        self.queue.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.queue.len()
    }
}

/// A stream in progress. Dropped before its end (the client went away), its
/// guard cancels the run, which is then recorded as interrupted.
struct Sse {
    id: String,
    rx: mpsc::Receiver<StreamChunk>,
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
        // Events the contract has no chunk for, such as a model waiting for its
        // provider's slot (`ModelQueued`): clients see it start with its deltas.
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_nobody_reads_holds_its_buffer_and_the_text_not_every_event() {
        const EVENTS: usize = 20_000;
        let (tx, rx) = unbounded_channel();
        for i in 0..EVENTS {
            tx.send(RunEvent::TextDelta {
                index: 0,
                model: "fake/a".into(),
                delta: ((b'a' + (i % 26) as u8) as char).to_string(),
            })
            .unwrap();
        }
        let (out_tx, mut out) = mpsc::channel(SSE_BUFFER);
        let mut forwarding = std::pin::pin!(forward("rt_1".into(), rx, out_tx));
        // Nobody reads for a while: the run's events are taken all the same.
        tokio::select! {
            _ = &mut forwarding => panic!("the forwarder ended while the run was on"),
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
        }
        assert_eq!(out.len(), SSE_BUFFER);
        drop(tx);
        let mut chunks = Vec::new();
        let read = async {
            while let Some(chunk) = out.recv().await {
                chunks.push(chunk);
            }
        };
        tokio::join!(forwarding, read);
        // The buffer, then everything that came meanwhile as one chunk.
        assert_eq!(chunks.len(), SSE_BUFFER + 1);
        let text: String = chunks.iter().filter_map(|c| c.delta.as_deref()).collect();
        let sent: String = (0..EVENTS)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        assert_eq!(text, sent);
        assert!(chunks.iter().all(|c| c.id.as_deref() == Some("rt_1")));
    }

    fn delta(kind: &str, index: Option<usize>, text: &str) -> StreamChunk {
        StreamChunk {
            kind: kind.into(),
            model_index: index,
            delta: Some(text.into()),
            ..Default::default()
        }
    }

    fn drain(b: &mut Backlog) -> Vec<(String, Option<usize>, String)> {
        std::iter::from_fn(|| b.pop())
            .map(|c| (c.kind, c.model_index, c.delta.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_backlog_holds_the_text_not_one_chunk_per_event() {
        let mut b = Backlog::default();
        for i in 0..10_000 {
            b.push(delta("model_delta", Some(i % 2), "x"));
            b.push(delta("model_thinking_delta", Some(i % 2), "t"));
            b.push(delta("consolidation_delta", None, "c"));
        }
        assert_eq!(b.len(), 5);
        let chunks: Vec<_> = drain(&mut b)
            .into_iter()
            .map(|(kind, index, text)| (kind, index, text.len()))
            .collect();
        assert_eq!(
            chunks,
            [
                ("model_delta".into(), Some(0), 5000),
                ("model_thinking_delta".into(), Some(0), 5000),
                ("consolidation_delta".into(), None, 10_000),
                ("model_delta".into(), Some(1), 5000),
                ("model_thinking_delta".into(), Some(1), 5000),
            ]
        );
    }

    #[test]
    fn deltas_never_merge_across_a_retry_or_a_result() {
        let mut b = Backlog::default();
        b.push(delta("model_delta", Some(0), "void "));
        b.push(StreamChunk {
            kind: "model_retry".into(),
            model_index: Some(0),
            ..Default::default()
        });
        b.push(delta("model_delta", Some(1), "other "));
        b.push(delta("model_delta", Some(0), "fresh "));
        b.push(delta("model_delta", Some(1), "still"));
        b.push(delta("model_delta", Some(0), "start"));
        b.push(StreamChunk {
            kind: "model_result".into(),
            model_index: Some(0),
            ..Default::default()
        });
        let chunks = drain(&mut b);
        let kinds: Vec<_> = chunks
            .iter()
            .map(|(k, i, d)| format!("{k}:{i:?}:{d}"))
            .collect();
        assert_eq!(
            kinds,
            [
                "model_delta:Some(0):void ",
                "model_retry:Some(0):",
                "model_delta:Some(1):other still",
                "model_delta:Some(0):fresh start",
                "model_result:Some(0):",
            ]
        );
    }
}
