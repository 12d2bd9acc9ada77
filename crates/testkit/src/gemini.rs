//! Google Gemini: `POST /v1beta/models/{model}:generateContent`,
//! `POST /v1beta/models/{model}:streamGenerateContent[?alt=sse]`, `GET /v1beta/models`.

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::reply::{ErrorReply, Frame, FrameKind, Prompt, Reply};

pub(crate) const MALFORMED_SSE: &str = "data: {not json\r\n\r\n";
pub(crate) const MALFORMED_ARRAY: &str = ",\r\n{not json";

/// The key from `x-goog-api-key`, else from the `key` query parameter.
pub(crate) fn api_key(headers: &HeaderMap, query_key: Option<&str>) -> Option<String> {
    headers
        .get("x-goog-api-key")
        .and_then(|value| value.to_str().ok())
        .or(query_key)
        .map(str::to_owned)
}

/// Splits `gemini-2.5-flash:streamGenerateContent` into the model and the method.
pub(crate) fn split_target(target: &str) -> Option<(&str, &str)> {
    let target = target.strip_prefix("models/").unwrap_or(target);
    target
        .rsplit_once(':')
        .filter(|(model, _)| !model.is_empty())
}

pub(crate) fn prompt(body: &Value) -> Prompt {
    let contents = &body["contents"];
    let last_user = contents.as_array().and_then(|contents| {
        contents
            .iter()
            .rev()
            .find(|content| content["role"].is_null() || content["role"] == "user")
            .map(|content| &content["parts"])
    });
    Prompt::from_parts([&body["systemInstruction"], contents], last_user)
}

/// `usageMetadata`; zero counts are left out as the real API does.
fn usage_metadata(reply: &Reply, complete: bool) -> Value {
    let usage = &reply.usage;
    let mut meta = Map::new();
    meta.insert("promptTokenCount".into(), json!(usage.input_tokens));
    if complete {
        let candidates = usage.output_tokens.saturating_sub(usage.reasoning_tokens);
        meta.insert("candidatesTokenCount".into(), json!(candidates));
        meta.insert(
            "totalTokenCount".into(),
            json!(usage.input_tokens + usage.output_tokens),
        );
    } else {
        meta.insert(
            "totalTokenCount".into(),
            json!(usage.input_tokens + usage.reasoning_tokens),
        );
    }
    if usage.cached_tokens > 0 {
        meta.insert("cachedContentTokenCount".into(), json!(usage.cached_tokens));
    }
    meta.insert(
        "promptTokensDetails".into(),
        json!([{"modality": "TEXT", "tokenCount": usage.input_tokens}]),
    );
    if usage.reasoning_tokens > 0 {
        meta.insert("thoughtsTokenCount".into(), json!(usage.reasoning_tokens));
    }
    Value::Object(meta)
}

fn response(reply: &Reply, parts: Vec<Value>, finished: bool) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if finished {
        candidate["finishReason"] = json!("STOP");
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": usage_metadata(reply, finished),
        "modelVersion": reply.model,
        "responseId": reply.id
    })
}

fn thought(text: &str) -> Value {
    json!({"text": text, "thought": true})
}

pub(crate) fn generate(reply: &Reply) -> Value {
    let mut parts = Vec::new();
    if let Some(thinking) = &reply.thinking {
        parts.push(thought(thinking));
    }
    parts.push(json!({"text": reply.answer}));
    response(reply, parts, true)
}

/// The streamed responses: server-sent events when `sse`, else the pieces of one
/// JSON array (what the API sends without `alt=sse`).
pub(crate) fn stream(reply: &Reply, sse: bool) -> Vec<Frame> {
    let last = reply.answer_chunks.len() - 1;
    let pieces = reply
        .thinking_chunks
        .iter()
        .map(|piece| (FrameKind::Thinking, thought(piece), false))
        .chain(
            reply
                .answer_chunks
                .iter()
                .enumerate()
                .map(|(i, piece)| (FrameKind::Answer, json!({"text": piece}), i == last)),
        );
    let mut frames: Vec<Frame> = pieces
        .enumerate()
        .map(|(i, (kind, part, finished))| {
            let chunk = response(reply, vec![part], finished);
            let text = match (sse, i) {
                (true, _) => format!("data: {chunk}\r\n\r\n"),
                (false, 0) => format!("[{chunk}"),
                (false, _) => format!(",\r\n{chunk}"),
            };
            Frame::content(kind, text)
        })
        .collect();
    if !sse {
        frames.push(Frame::meta("]".to_owned()));
    }
    frames
}

fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        other if other < 500 => "FAILED_PRECONDITION",
        _ => "UNKNOWN",
    }
}

pub(crate) fn error_body(error: &ErrorReply) -> Value {
    let status = error
        .code
        .clone()
        .unwrap_or_else(|| status_name(error.status).to_owned());
    let mut details = Vec::new();
    if error.status == 401 {
        details.push(json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"}
        }));
    }
    if let Some(delay) = error.retry_delay() {
        details.push(json!({
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": delay
        }));
    }
    let mut body = json!({"code": error.status, "message": error.message, "status": status});
    if !details.is_empty() {
        body["details"] = Value::Array(details);
    }
    json!({"error": body})
}

pub(crate) fn auth_message(key: Option<&str>, echo: bool) -> String {
    match key {
        Some(key) if echo => format!("API key not valid: {key}. Please pass a valid API key."),
        Some(_) => "API key not valid. Please pass a valid API key.".to_owned(),
        None => "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.".to_owned(),
    }
}

pub(crate) fn model_list<'a>(models: impl Iterator<Item = &'a String>) -> Value {
    let models: Vec<Value> = models
        .map(|id| {
            json!({
                "name": format!("models/{id}"),
                "displayName": id,
                "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"]
            })
        })
        .collect();
    json!({"models": models})
}
