//! The common path of every generation request, whatever its format:
//! recording, counting, the key check, the scripted faults and latency, a
//! server's few slots, then the answer in the format's shape (streamed or not)
//! or its error body.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::reply::{ErrorReply, Prompt, Reply, Step, body_from_steps, plan_stream};
use crate::script::{Behavior, Fault, Script};
use crate::server::{Format, JSON, RecordedRequest, SSE, Shared, recorded};
use crate::slots;
use crate::{anthropic, gemini, hostile, openai};

/// A generation request, read from its format.
pub(crate) struct Call {
    pub(crate) format: Format,
    pub(crate) model: String,
    pub(crate) stream: bool,
    pub(crate) key: Option<String>,
    pub(crate) prompt: Prompt,
    /// OpenAI: end the stream with a usage chunk.
    pub(crate) include_usage: bool,
    /// Gemini: server-sent events rather than a streamed JSON array.
    pub(crate) sse: bool,
}

/// A generation request, in one of the server's slots when it has few.
pub(crate) async fn generate(
    shared: Arc<Shared>,
    call: Call,
    uri: &Uri,
    headers: &HeaderMap,
    body: Value,
) -> Response {
    let (slots, end_with_done) = {
        let script = shared.script();
        (script.slots, script.cut_with_done)
    };
    let in_flight = Arc::clone(&shared.in_flight);
    let seq = slots.map(|_| shared.next_seq());
    let response = generate_now(shared, call, uri, headers, body).await;
    match (slots, seq) {
        (Some(n), Some(seq)) => slots::in_slot(in_flight, seq, n, end_with_done, response),
        _ => response,
    }
}

/// The common path of every generation request: record, count, check the key,
/// wait, then answer or fail as scripted.
async fn generate_now(
    shared: Arc<Shared>,
    call: Call,
    uri: &Uri,
    headers: &HeaderMap,
    body: Value,
) -> Response {
    let asks_json_schema = body["response_format"]["type"] == "json_schema";
    shared.record(RecordedRequest {
        model: call.model.clone(),
        stream: call.stream,
        ..recorded(call.format, uri, headers, body)
    });
    if call.model.is_empty() {
        let error = ErrorReply::new(400, "The request names no model.");
        return error_response(call.format, &error);
    }
    let index = shared.next_call(&call.model);
    let script = shared.script();
    if let Some(response) = check_key(&script, call.format, call.key.as_deref()) {
        return response;
    }
    let behavior = script.behavior_for(&call.model);
    if behavior.refuse_json_schema && call.format == Format::OpenAi && asks_json_schema {
        return hostile::json_schema_traceback();
    }
    let fault = behavior.faults.get(index).cloned().unwrap_or_default();
    if behavior.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(behavior.latency_ms)).await;
    }
    match fault {
        Fault::Hang => std::future::pending().await,
        Fault::Status {
            status,
            message,
            retry_after,
            retry_after_ms,
            code,
            should_retry,
        } => {
            let error = ErrorReply {
                status,
                message,
                code,
                retry_after,
                retry_after_ms,
                should_retry,
            };
            error_response(call.format, &error)
        }
        Fault::EchoKey => {
            let message = auth_message(call.format, call.key.as_deref(), true);
            error_response(call.format, &ErrorReply::new(401, message))
        }
        Fault::EchoKeyAt { offset } => {
            hostile::echo_key_at(offset, call.key.as_deref().unwrap_or(""))
        }
        Fault::Redirect { status, location } => hostile::redirect(status, &location),
        Fault::HugeErrorBody { bytes } => hostile::huge_error(bytes),
        Fault::EndlessLine => hostile::endless_line(SSE),
        Fault::Flood { bytes } if !call.stream => hostile::flood_body(JSON, bytes),
        Fault::None
        | Fault::DisconnectMidStream
        | Fault::MalformedChunk
        | Fault::InvalidUtf8
        | Fault::GiantBlockIndex
        | Fault::Flood { .. } => success(&call, behavior, &fault, shared.next_seq()),
    }
}

fn success(call: &Call, behavior: &Behavior, fault: &Fault, seq: u64) -> Response {
    let reply = Reply::new(&call.model, behavior, &call.prompt, seq);
    if call.stream {
        let (frames, malformed, content_type) = match call.format {
            Format::OpenAi => (
                openai::stream(&reply, call.include_usage && !behavior.no_stream_usage),
                openai::MALFORMED,
                SSE,
            ),
            Format::Anthropic if fault == &Fault::GiantBlockIndex => (
                anthropic::stream_from(&reply, 100_000_000_000),
                anthropic::MALFORMED,
                SSE,
            ),
            Format::Anthropic => (anthropic::stream(&reply), anthropic::MALFORMED, SSE),
            Format::Gemini if call.sse => {
                (gemini::stream(&reply, true), gemini::MALFORMED_SSE, SSE)
            }
            Format::Gemini => (gemini::stream(&reply, false), gemini::MALFORMED_ARRAY, JSON),
        };
        if let Fault::Flood { bytes } = fault {
            return hostile::flood_stream(frames, content_type, *bytes);
        }
        let delay = Duration::from_millis(behavior.chunk_delay_ms);
        let steps = plan_stream(frames, malformed, delay, fault);
        return (
            [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
            body_from_steps(steps),
        )
            .into_response();
    }

    let json = match call.format {
        Format::OpenAi => openai::completion(&reply),
        Format::Anthropic => anthropic::message(&reply),
        Format::Gemini => gemini::generate(&reply),
    };
    let bytes = Bytes::from(json.to_string());
    let half = bytes.slice(..bytes.len() / 2);
    let (length, body) = match fault {
        Fault::DisconnectMidStream => (
            bytes.len(),
            body_from_steps(vec![Step::Send(half), Step::Abort]),
        ),
        Fault::MalformedChunk => (half.len(), Body::from(half)),
        _ => (bytes.len(), Body::from(bytes)),
    };
    (
        [
            (CONTENT_TYPE, JSON.to_owned()),
            (CONTENT_LENGTH, length.to_string()),
        ],
        body,
    )
        .into_response()
}

fn auth_message(format: Format, key: Option<&str>, echo: bool) -> String {
    match format {
        Format::OpenAi => openai::auth_message(key, echo),
        Format::Anthropic => anthropic::auth_message(key, echo),
        Format::Gemini => gemini::auth_message(key, echo),
    }
}

/// The format's 401 when the script requires a key and `presented` is not it.
pub(crate) fn check_key(
    script: &Script,
    format: Format,
    presented: Option<&str>,
) -> Option<Response> {
    let required = script.require_key.as_deref()?;
    if presented == Some(required) {
        return None;
    }
    let message = auth_message(format, presented, false);
    Some(error_response(format, &ErrorReply::new(401, message)))
}

pub(crate) fn error_response(format: Format, error: &ErrorReply) -> Response {
    let body = match format {
        Format::OpenAi => openai::error_body(error),
        Format::Anthropic => anthropic::error_body(error),
        Format::Gemini => gemini::error_body(error),
    };
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    let extra = [
        ("retry-after", error.retry_after.clone()),
        (
            "retry-after-ms",
            error.retry_after_ms.map(|ms| ms.to_string()),
        ),
        (
            "x-should-retry",
            error.should_retry.map(|retry| retry.to_string()),
        ),
    ];
    for (name, value) in extra {
        if let Some(value) = value.and_then(|value| HeaderValue::from_str(&value).ok()) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}
