//! A Messages response and an error body: the wire types both the response and
//! the stream are made of, usage in the contract's convention, refusals, errors.

use super::OUTPUT_TOOL;
use crate::contract::Usage;
use crate::providers::shared::{body_excerpt, decode, error_in_body, http_error, read_body};
use crate::providers::{Completion, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

/// Anthropic's usage block. In a stream, `message_start` carries one and every
/// `message_delta` carries the cumulative counts it updates.
#[derive(Debug, Deserialize, Default, Clone)]
pub(super) struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation: Option<CacheCreation>,
    #[serde(default)]
    server_tool_use: Option<ServerToolUse>,
    #[serde(default)]
    output_tokens_details: Option<OutputDetails>,
}

#[derive(Debug, Deserialize, Default, Clone)]
struct CacheCreation {
    #[serde(default)]
    ephemeral_5m_input_tokens: Option<u64>,
    #[serde(default)]
    ephemeral_1h_input_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, Default, Clone)]
struct ServerToolUse {
    #[serde(default)]
    web_search_requests: Option<u64>,
    #[serde(default)]
    web_fetch_requests: Option<u64>,
}

#[derive(Debug, Deserialize, Default, Clone)]
struct OutputDetails {
    #[serde(default)]
    thinking_tokens: Option<u64>,
}

impl WireUsage {
    /// Takes the counts `newer` reports, keeping the others.
    pub(super) fn merge(&mut self, newer: WireUsage) {
        fn take<T>(old: &mut Option<T>, new: Option<T>) {
            if new.is_some() {
                *old = new;
            }
        }
        take(&mut self.input_tokens, newer.input_tokens);
        take(&mut self.output_tokens, newer.output_tokens);
        take(
            &mut self.cache_read_input_tokens,
            newer.cache_read_input_tokens,
        );
        take(
            &mut self.cache_creation_input_tokens,
            newer.cache_creation_input_tokens,
        );
        take(&mut self.cache_creation, newer.cache_creation);
        take(&mut self.server_tool_use, newer.server_tool_use);
        take(&mut self.output_tokens_details, newer.output_tokens_details);
    }

    /// In the contract's convention: cache reads and writes are parts of
    /// `input_tokens`, thinking part of `output_tokens`.
    pub(super) fn to_usage(&self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let split = self.cache_creation.clone().unwrap_or_default();
        let one_hour = split.ephemeral_1h_input_tokens.unwrap_or(0);
        let writes = self
            .cache_creation_input_tokens
            .unwrap_or_else(|| split.ephemeral_5m_input_tokens.unwrap_or(0) + one_hour);
        let one_hour = one_hour.min(writes);
        let output = self.output_tokens.unwrap_or(0);
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0) + read + writes,
            output_tokens: output,
            cache_read_tokens: read,
            cache_creation_tokens: writes - one_hour,
            cache_creation_1h_tokens: one_hour,
            reasoning_tokens: self
                .output_tokens_details
                .as_ref()
                .and_then(|d| d.thinking_tokens)
                .unwrap_or(0)
                .min(output),
            web_search_requests: self
                .server_tool_use
                .as_ref()
                .and_then(|s| s.web_search_requests)
                .unwrap_or(0),
            web_fetch_requests: self
                .server_tool_use
                .as_ref()
                .and_then(|s| s.web_fetch_requests)
                .unwrap_or(0),
            ..Default::default()
        }
    }
}

/// A content block, in a response or a `content_block_start`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    ToolUse {
        #[serde(default)]
        name: String,
        #[serde(default)]
        input: Value,
    },
    /// Redacted thinking, server tools and their results, citations, compaction,
    /// model fallbacks, …: not part of the answer.
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct StopDetails {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    explanation: Option<String>,
}

/// What a `refusal` stop says, for the engine's "the model refused: …".
pub(super) fn refusal_text(details: Option<&StopDetails>) -> String {
    let explanation = details.and_then(|d| d.explanation.clone());
    let category = details.and_then(|d| d.category.clone());
    let text = explanation.unwrap_or_else(|| "Claude declined to answer".to_string());
    match category {
        Some(c) => format!("{text} (stop_reason: refusal, category: {c})"),
        None => format!("{text} (stop_reason: refusal)"),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireMessage {
    #[serde(default)]
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_details: Option<StopDetails>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The HTTP status an Anthropic error type stands for, for errors that arrive
/// inside a stream or a 200 body.
fn status_of_error_type(kind: &str) -> Option<u16> {
    Some(match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => return None,
    })
}

fn error_message(e: &WireError) -> String {
    match (&e.message, &e.kind) {
        (Some(m), Some(k)) => format!("{m} ({k})"),
        (Some(m), None) => m.clone(),
        (None, Some(k)) => k.clone(),
        (None, None) => "unknown error".to_string(),
    }
}

/// An `error` event of a stream (`overloaded_error` mid-answer, …).
pub(super) fn stream_error(e: &WireError) -> ProviderError {
    let status = e.kind.as_deref().and_then(status_of_error_type);
    error_in_body(status, error_message(e))
}

pub fn parse_response(body: &[u8]) -> Result<Completion, ProviderError> {
    let value = read_body(body)?;
    if value.get("type").and_then(Value::as_str) == Some("error")
        && let Some(err) = value.get("error")
    {
        let err: WireError = serde_json::from_value(err.clone())
            .map_err(|e| ProviderError::permanent(format!("unexpected error shape: {e}")))?;
        return Err(stream_error(&err));
    }
    let msg: WireMessage = decode(value)?;
    let mut out = Completion {
        usage: msg.usage.as_ref().map(WireUsage::to_usage),
        ..Default::default()
    };
    let mut tool_answer = None;
    for block in msg.content {
        match block {
            Block::Text { text } => out.text.push_str(&text),
            Block::Thinking { thinking } => out.thinking.push_str(&thinking),
            Block::ToolUse { name, input } if name == OUTPUT_TOOL => {
                tool_answer = Some(input.to_string());
            }
            Block::ToolUse { .. } | Block::Other => {}
        }
    }
    if let Some(answer) = tool_answer {
        out.text = answer;
    }
    if msg.stop_reason.as_deref() == Some("refusal") {
        out.refusal = Some(refusal_text(msg.stop_details.as_ref()));
    }
    out.finish_reason = msg.stop_reason;
    Ok(out)
}

/// `{"type": "error", "error": {"type", "message"}}`; 529 `overloaded_error` is
/// transient like every 5xx.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(|e| serde_json::from_value::<WireError>(e.clone()).ok())
        .filter(|e| e.message.is_some() || e.kind.is_some())
        .map(|e| error_message(&e))
        .unwrap_or_else(|| body_excerpt(body));
    http_error(status, headers, message)
}
