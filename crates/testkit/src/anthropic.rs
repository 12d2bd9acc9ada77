//! Anthropic Messages: `POST /v1/messages`, `GET /v1/models`.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::reply::{ErrorReply, Frame, FrameKind, Prompt, Reply};

pub(crate) const MALFORMED: &str = "event: content_block_delta\ndata: {not json\n\n";
/// A made-up thinking signature (base64 of "fake-signature").
const SIGNATURE: &str = "ZmFrZS1zaWduYXR1cmU=";

/// The key from `x-api-key`.
pub(crate) fn api_key(headers: &HeaderMap) -> Option<String> {
    Some(headers.get("x-api-key")?.to_str().ok()?.to_owned())
}

/// Whether a `GET /v1/models` comes from an Anthropic client rather than an OpenAI one.
pub(crate) fn is_anthropic_client(headers: &HeaderMap) -> bool {
    headers.contains_key("anthropic-version") || headers.contains_key("x-api-key")
}

pub(crate) fn prompt(body: &Value) -> Prompt {
    let messages = &body["messages"];
    let last_user = messages.as_array().and_then(|messages| {
        messages
            .iter()
            .rev()
            .find(|message| message["role"] == "user")
            .map(|message| &message["content"])
    });
    Prompt::from_parts([&body["system"], messages], last_user)
}

/// Anthropic counts cache reads and writes apart from `input_tokens`.
fn uncached_input(reply: &Reply) -> u64 {
    let usage = &reply.usage;
    usage
        .input_tokens
        .saturating_sub(usage.cached_tokens)
        .saturating_sub(usage.cache_creation_tokens)
}

fn usage(reply: &Reply, output_tokens: u64) -> Value {
    json!({
        "input_tokens": uncached_input(reply),
        "cache_creation_input_tokens": reply.usage.cache_creation_tokens,
        "cache_read_input_tokens": reply.usage.cached_tokens,
        "output_tokens": output_tokens
    })
}

pub(crate) fn message(reply: &Reply) -> Value {
    let mut content = Vec::new();
    if let Some(thinking) = &reply.thinking {
        content.push(json!({"type": "thinking", "thinking": thinking, "signature": SIGNATURE}));
    }
    content.push(json!({"type": "text", "text": reply.answer}));
    json!({
        "id": format!("msg_{}", reply.id),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": usage(reply, reply.usage.output_tokens)
    })
}

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

pub(crate) fn stream(reply: &Reply) -> Vec<Frame> {
    stream_from(reply, 0)
}

/// The stream with its content blocks numbered from `first_index` (a hostile
/// server's giant indices).
pub(crate) fn stream_from(reply: &Reply, first_index: u64) -> Vec<Frame> {
    let mut frames = vec![Frame::meta(event(
        "message_start",
        json!({
            "type": "message_start",
            "message": {
                "id": format!("msg_{}", reply.id),
                "type": "message",
                "role": "assistant",
                "model": reply.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage(reply, 1)
            }
        }),
    ))];

    let mut blocks: Vec<(Value, FrameKind, &[String])> = Vec::new();
    if reply.thinking.is_some() {
        blocks.push((
            json!({"type": "thinking", "thinking": "", "signature": ""}),
            FrameKind::Thinking,
            &reply.thinking_chunks,
        ));
    }
    blocks.push((
        json!({"type": "text", "text": ""}),
        FrameKind::Answer,
        &reply.answer_chunks,
    ));

    for (n, (start, kind, pieces)) in blocks.into_iter().enumerate() {
        let index = first_index.saturating_add(n as u64);
        frames.push(Frame::meta(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": start}),
        )));
        if n == 0 {
            frames.push(Frame::meta(event("ping", json!({"type": "ping"}))));
        }
        for piece in pieces {
            let delta = match kind {
                FrameKind::Thinking => json!({"type": "thinking_delta", "thinking": piece}),
                _ => json!({"type": "text_delta", "text": piece}),
            };
            frames.push(Frame::content(
                kind,
                event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": delta}),
                ),
            ));
        }
        if kind == FrameKind::Thinking {
            frames.push(Frame::meta(event(
                "content_block_delta",
                json!({
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": SIGNATURE}
                }),
            )));
        }
        frames.push(Frame::meta(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        )));
    }

    frames.push(Frame::meta(event(
        "message_delta",
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": usage(reply, reply.usage.output_tokens)
        }),
    )));
    frames.push(Frame::meta(event(
        "message_stop",
        json!({"type": "message_stop"}),
    )));
    frames
}

pub(crate) fn error_body(error: &ErrorReply) -> Value {
    let kind = error.code.as_deref().unwrap_or(match error.status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        500.. => "api_error",
        _ => "invalid_request_error",
    });
    json!({"type": "error", "error": {"type": kind, "message": error.message}})
}

pub(crate) fn auth_message(key: Option<&str>, echo: bool) -> String {
    match key {
        Some(key) if echo => format!("invalid x-api-key: {key}"),
        Some(_) => "invalid x-api-key".to_owned(),
        None => "x-api-key header is required".to_owned(),
    }
}

pub(crate) fn model_list(models: &[&String]) -> Value {
    let data: Vec<Value> = models
        .iter()
        .map(|id| {
            json!({"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"})
        })
        .collect();
    json!({
        "data": data,
        "has_more": false,
        "first_id": models.first(),
        "last_id": models.last()
    })
}
