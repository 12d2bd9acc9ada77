//! A `GenerateContentResponse` and an error body: the wire types a response and
//! each stream chunk are made of, usage in the contract's convention, filters,
//! errors and the wait they ask for.

use super::stream::StreamState;
use crate::contract::Usage;
use crate::providers::shared::{
    body_excerpt, decode as decode_shape, delay_from_secs, error_in_body, http_error, read_body,
};
use crate::providers::{Completion, ProviderError, StreamParser};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Finish reasons that mean a filter stopped the answer.
pub(super) const BLOCKING_FINISH_REASONS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "LANGUAGE",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireResponse {
    #[serde(default)]
    pub(super) candidates: Vec<Candidate>,
    #[serde(default)]
    pub(super) prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    pub(super) usage_metadata: Option<UsageMetadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Candidate {
    #[serde(default)]
    pub(super) index: u32,
    #[serde(default)]
    pub(super) content: Option<Content>,
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
    #[serde(default)]
    pub(super) finish_message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Content {
    #[serde(default)]
    pub(super) parts: Vec<Part>,
}

/// A part; only text parts matter here (function calls, code, images, … are not
/// asked for, and are skipped).
#[derive(Debug, Deserialize)]
pub(super) struct Part {
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) thought: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PromptFeedback {
    #[serde(default)]
    pub(super) block_reason: Option<String>,
    #[serde(default)]
    pub(super) block_reason_message: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    cached_content_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
    #[serde(default)]
    tool_use_prompt_token_count: u64,
    #[serde(default)]
    prompt_tokens_details: Vec<ModalityCount>,
    #[serde(default)]
    candidates_tokens_details: Vec<ModalityCount>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ModalityCount {
    #[serde(default)]
    modality: String,
    #[serde(default)]
    token_count: u64,
}

fn audio_tokens(details: &[ModalityCount]) -> u64 {
    details
        .iter()
        .filter(|d| d.modality == "AUDIO")
        .map(|d| d.token_count)
        .sum()
}

impl UsageMetadata {
    pub(super) fn to_usage(&self) -> Usage {
        let mut extra = BTreeMap::new();
        if self.tool_use_prompt_token_count > 0 {
            extra.insert(
                "tool_use_prompt_tokens".to_string(),
                json!(self.tool_use_prompt_token_count),
            );
        }
        Usage {
            input_tokens: self.prompt_token_count + self.tool_use_prompt_token_count,
            output_tokens: self.candidates_token_count + self.thoughts_token_count,
            cache_read_tokens: self.cached_content_token_count,
            reasoning_tokens: self.thoughts_token_count,
            input_audio_tokens: audio_tokens(&self.prompt_tokens_details),
            output_audio_tokens: audio_tokens(&self.candidates_tokens_details),
            extra,
            ..Default::default()
        }
    }
}

/// Why a filter stopped a candidate, in words.
pub(super) fn block_description(reason: &str) -> String {
    let why = match reason {
        "SAFETY" | "IMAGE_SAFETY" => "blocked by Gemini safety filters",
        "RECITATION" | "IMAGE_RECITATION" => "blocked by Gemini for reciting a source too closely",
        "LANGUAGE" => "blocked by Gemini: unsupported language",
        _ => "blocked by Gemini content filters",
    };
    format!("{why} ({reason})")
}

/// `{"error": {"code", "message", "status", "details"}}`, alone or as the first
/// element of an array (how the non-SSE stream reports errors).
fn error_object(v: &Value) -> Option<&Value> {
    let v = match v {
        Value::Array(items) => items.first()?,
        other => other,
    };
    v.get("error").filter(|e| e.is_object())
}

fn error_message(err: &Value) -> Option<String> {
    let message = err.get("message").and_then(Value::as_str)?;
    Some(match err.get("status").and_then(Value::as_str) {
        Some(status) => format!("{message} ({status})"),
        None => message.to_string(),
    })
}

/// The wait a `google.rpc.RetryInfo` detail asks for (`"retryDelay": "1.5s"`).
fn retry_info(err: &Value) -> Option<Duration> {
    err.get("details")?
        .as_array()?
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| {
            let delay = d.get("retryDelay")?.as_str()?.trim();
            let secs: f64 = delay.strip_suffix('s').unwrap_or(delay).parse().ok()?;
            delay_from_secs(secs)
        })
}

/// An error object inside a 200 body or a stream chunk.
fn embedded_error(err: &Value) -> ProviderError {
    let status = err
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    ProviderError {
        retry_after: retry_info(err),
        ..error_in_body(
            status,
            error_message(err).unwrap_or_else(|| err.to_string()),
        )
    }
}

/// A response (or stream chunk), or the error it carries. A body of an unexpected
/// shape is a permanent error in a unary answer and a transient one mid-stream.
pub(super) fn decode(value: Value, streamed: bool) -> Result<WireResponse, ProviderError> {
    if let Some(err) = error_object(&value) {
        return Err(embedded_error(err));
    }
    decode_shape(value).map_err(|e| ProviderError {
        transient: streamed,
        ..e
    })
}

pub fn parse_response(body: &[u8]) -> Result<Completion, ProviderError> {
    let value = read_body(body)?;
    let mut state = StreamState::default();
    state.absorb(decode(value, false)?)?;
    let answered = !state.completion.text.is_empty() || !state.completion.thinking.is_empty();
    if !state.done && !answered {
        return Err(ProviderError::permanent(
            "Gemini returned no answer (no candidate finished)",
        ));
    }
    Ok(state.completion())
}

/// `{"error": {"code", "message", "status", "details"}}`; the wait comes from
/// `Retry-After` when sent, else from a `RetryInfo` detail.
pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let err = parsed.as_ref().and_then(error_object);
    let message = err
        .and_then(error_message)
        .unwrap_or_else(|| body_excerpt(body));
    let mut e = http_error(status, headers, message);
    if e.retry_after.is_none() {
        e.retry_after = err.and_then(retry_info);
    }
    e
}
