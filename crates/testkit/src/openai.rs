//! OpenAI Chat Completions: `POST /v1/chat/completions`, `GET /v1/models`.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::reply::{ErrorReply, Frame, FrameKind, Prompt, Reply};

pub(crate) const MALFORMED: &str = "data: {not json\n\n";
const FINGERPRINT: &str = "fp_roundtable";

/// The key from `Authorization: Bearer KEY`.
pub(crate) fn api_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_owned())
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
    Prompt::from_parts([messages], last_user)
}

/// Whether a streamed answer ends with a usage chunk.
pub(crate) fn include_usage(body: &Value) -> bool {
    body["stream_options"]["include_usage"] == true
}

fn usage(reply: &Reply) -> Value {
    let usage = &reply.usage;
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

pub(crate) fn completion(reply: &Reply) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": reply.answer,
        "refusal": null,
        "annotations": []
    });
    if let Some(thinking) = &reply.thinking {
        message["reasoning_content"] = json!(thinking);
    }
    json!({
        "id": format!("chatcmpl-{}", reply.id),
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": "stop"}],
        "usage": usage(reply),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT
    })
}

pub(crate) fn stream(reply: &Reply, include_usage: bool) -> Vec<Frame> {
    let id = format!("chatcmpl-{}", reply.id);
    let chunk = |choices: Value, usage: Value| {
        let mut chunk = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": reply.created,
            "model": reply.model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": choices
        });
        if include_usage {
            chunk["usage"] = usage;
        }
        format!("data: {chunk}\n\n")
    };
    let delta = |delta: Value, finish_reason: Value| {
        chunk(
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]),
            Value::Null,
        )
    };

    let mut frames = vec![Frame::meta(delta(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    ))];
    for piece in &reply.thinking_chunks {
        frames.push(Frame::content(
            FrameKind::Thinking,
            delta(json!({"reasoning_content": piece}), Value::Null),
        ));
    }
    for piece in &reply.answer_chunks {
        frames.push(Frame::content(
            FrameKind::Answer,
            delta(json!({"content": piece}), Value::Null),
        ));
    }
    frames.push(Frame::meta(delta(json!({}), json!("stop"))));
    if include_usage {
        frames.push(Frame::meta(chunk(json!([]), usage(reply))));
    }
    frames.push(Frame::meta("data: [DONE]\n\n".to_owned()));
    frames
}

pub(crate) fn error_body(error: &ErrorReply) -> Value {
    let kind = match error.status {
        429 if error.code.as_deref() == Some("insufficient_quota") => "insufficient_quota",
        429 => "requests",
        500.. => "server_error",
        _ => "invalid_request_error",
    };
    let code = error.code.as_deref().or(match error.status {
        401 => Some("invalid_api_key"),
        429 => Some("rate_limit_exceeded"),
        _ => None,
    });
    json!({"error": {"message": error.message, "type": kind, "param": null, "code": code}})
}

pub(crate) fn auth_message(key: Option<&str>, echo: bool) -> String {
    match key {
        Some(key) if echo => format!(
            "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys."
        ),
        Some(_) => "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.".to_owned(),
        None => "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).".to_owned(),
    }
}

pub(crate) fn model_list<'a>(models: impl Iterator<Item = &'a String>, owner: &str) -> Value {
    let data: Vec<Value> = models
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": owner}))
        .collect();
    json!({"object": "list", "data": data})
}
