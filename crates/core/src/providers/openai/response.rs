//! A `chat.completion` and an error body: the wire types a response and each
//! stream chunk are made of, usage in the contract's convention, errors.

use crate::contract::Usage;
use crate::providers::shared::{body_excerpt, decode, http_error, read_body};
use crate::providers::{Completion, ProviderError};
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize, Default)]
pub(super) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    audio_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
    #[serde(default)]
    audio_tokens: Option<u64>,
}

/// OpenAI counts cached and reasoning tokens inside the prompt and completion
/// counts, which is the contract's convention too.
pub(super) fn usage_from_wire(u: WireUsage) -> Usage {
    let p = u.prompt_tokens_details.unwrap_or_default();
    let c = u.completion_tokens_details.unwrap_or_default();
    Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        cache_read_tokens: p.cached_tokens.unwrap_or(0),
        reasoning_tokens: c.reasoning_tokens.unwrap_or(0),
        input_audio_tokens: p.audio_tokens.unwrap_or(0),
        output_audio_tokens: c.audio_tokens.unwrap_or(0),
        ..Default::default()
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireResponse {
    #[serde(default)]
    pub(super) choices: Vec<WireChoice>,
    #[serde(default)]
    pub(super) usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireChoice {
    /// With `n > 1` a stream interleaves several choices; the answer is the first.
    #[serde(default)]
    pub(super) index: usize,
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    pub(super) delta: Option<WireMessage>,
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct WireMessage {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) refusal: Option<String>,
    /// DeepSeek, vLLM, LM Studio: reasoning text beside the answer.
    #[serde(default)]
    pub(super) reasoning_content: Option<String>,
    /// OpenRouter, Ollama, Groq.
    #[serde(default)]
    pub(super) reasoning: Option<String>,
}

/// An `{"error": …}` object some servers send in a 200 body or a stream chunk.
pub(super) fn embedded_error(v: &Value) -> Option<ProviderError> {
    let err = v.get("error")?;
    if err.is_null() {
        return None;
    }
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| err.to_string());
    Some(ProviderError::transient(message))
}

pub fn parse_response(body: &[u8]) -> Result<Completion, ProviderError> {
    let value = read_body(body)?;
    if let Some(err) = embedded_error(&value) {
        return Err(err);
    }
    let wire: WireResponse = decode(value)?;
    let mut out = Completion {
        usage: wire.usage.map(usage_from_wire),
        ..Default::default()
    };
    if let Some(choice) = wire.choices.into_iter().find(|c| c.index == 0) {
        let msg = choice.message.unwrap_or_default();
        out.text = msg.content.unwrap_or_default();
        out.thinking = msg.reasoning_content.or(msg.reasoning).unwrap_or_default();
        out.refusal = msg.refusal.filter(|r| !r.is_empty());
        out.finish_reason = choice.finish_reason;
    }
    Ok(out)
}

pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let err = parsed.as_ref().and_then(|v| v.get("error"));
    let message = err
        .and_then(|e| e.get("message").and_then(Value::as_str).or(e.as_str()))
        .map(str::to_string)
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| v.get("message").and_then(Value::as_str))
                .map(str::to_string)
        })
        .unwrap_or_else(|| body_excerpt(body));
    let code = err
        .and_then(|e| e.get("code").or_else(|| e.get("type")))
        .and_then(Value::as_str);
    let mut e = http_error(status, headers, message);
    // Out of credit is not a rate limit: waiting will not help.
    if code == Some("insufficient_quota") {
        e.transient = false;
        e.message = format!("{} (insufficient_quota)", e.message);
    }
    e
}
