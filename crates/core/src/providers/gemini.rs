//! Google Gemini: `POST {base}/models/{model}:generateContent`, and
//! `…:streamGenerateContent?alt=sse` when streaming (base URL
//! [`DEFAULT_BASE_URL`]).
//!
//! # Requests
//!
//! `contents: [{role: "user", parts: [{text}]}]`, the instructions as
//! `systemInstruction`, and `generationConfig` with `maxOutputTokens`,
//! `temperature` and `topP`. An `output_schema` is sent as
//! `responseMimeType: "application/json"` with the schema as `responseJsonSchema`;
//! a server in [`Dialect::CompatibleJsonMode`] gets the MIME type and the schema in
//! the system instruction.
//!
//! # Reasoning
//!
//! `generationConfig.thinkingConfig`, with `includeThoughts: true` so the thinking
//! comes back (as `thought: true` parts, kept in [`Completion::thinking`]):
//!
//! | `reasoning` | Gemini 2.5: `thinkingBudget` | Gemini 3 and later: `thinkingLevel` |
//! |---|---|---|
//! | `low` | 1024 | `"low"` |
//! | `medium` | 8192 | `"medium"` on Flash models, `"high"` on the others |
//! | `high` | 24576 | `"high"` |
//! | `max` | 32768 on Pro, 24576 on Flash and Flash-Lite | `"high"` |
//!
//! Older models (2.0, 1.5) and ids without a version (`gemini-flash-latest`) are
//! sent nothing. Gemini counts thinking inside `maxOutputTokens`, so when the spec
//! gives `max_tokens` and thinking is configured, `maxOutputTokens` is `max_tokens`
//! plus the level's budget (the 2.5 column, for levels too), at most 65536.
//!
//! # Answers
//!
//! The stream has no `[DONE]`: it is complete once a candidate has a
//! `finishReason` or the prompt was blocked. A body that ends before that is an
//! interrupted answer (and is retried), even though its chunks carried usage:
//! every chunk does. A blocked prompt (`promptFeedback`) and a candidate stopped by
//! a filter (`SAFETY`, `RECITATION`, `PROHIBITED_CONTENT`, …) set
//! [`Completion::refusal`] ("blocked by Gemini safety filters (SAFETY)"), whatever
//! text came before. A candidate that ends with no text and a `finishMessage` is an
//! error carrying that message (transient for `OTHER`). Parts other than text
//! (function calls, code, images) are not part of the answer.
//!
//! # Usage and errors
//!
//! `promptTokenCount` includes `cachedContentTokenCount` (the cache reads); the
//! tool-use prompt (`toolUsePromptTokenCount`, billed as input) is added to
//! `input_tokens`. Output is `candidatesTokenCount + thoughtsTokenCount`, the
//! latter being the reasoning tokens. Errors are
//! `{"error": {"code", "message", "status", "details"}}`; the wait before a retry
//! is `Retry-After` when the response has one, else a `google.rpc.RetryInfo`
//! detail's `retryDelay`.

use super::{
    ChatCall, Completion, Delta, Dialect, ProviderError, StreamParser, body_excerpt, http_error,
    is_transient_status, openai::schema_instruction,
};
use crate::contract::Usage;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// The most output tokens a thinking budget is allowed to raise the limit to.
const MAX_OUTPUT_TOKENS: u32 = 65536;

/// Finish reasons that mean a filter stopped the answer.
const BLOCKING_FINISH_REASONS: &[&str] = &[
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

fn model_id(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// Whether `word` is one of the dash-separated words of a model id (`pro` in
/// `gemini-2.5-pro`, not in `…-preview`).
fn has_word(model: &str, word: &str) -> bool {
    model.split('-').any(|w| w == word)
}

pub fn endpoint(base: &str, call: &ChatCall) -> String {
    let model = model_id(call.model);
    if call.stream {
        format!("{base}/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("{base}/models/{model}:generateContent")
    }
}

/// The `(major, minor)` version in a Gemini model id (`gemini-2.5-flash` is 2.5,
/// `gemini-3-pro-preview` 3.0); `None` when it has none (`gemini-flash-latest`).
pub fn gemini_version(model: &str) -> Option<(u32, u32)> {
    let rest = &model[model.find("gemini-")? + "gemini-".len()..];
    let token = rest.split('-').next()?;
    let (major, minor) = token.split_once('.').unwrap_or((token, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// How a model's thinking is configured, if it can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ThinkingForm {
    None,
    Budget,
    Level,
}

fn thinking_form(model: &str, dialect: Dialect) -> ThinkingForm {
    if dialect != Dialect::Native {
        return ThinkingForm::Budget;
    }
    match gemini_version(model) {
        Some(v) if v >= (3, 0) => ThinkingForm::Level,
        Some(v) if v >= (2, 5) => ThinkingForm::Budget,
        _ => ThinkingForm::None,
    }
}

/// The `thinkingBudget` of a `reasoning` level for `model`.
pub fn thinking_budget(model: &str, level: &str) -> u32 {
    match level {
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ if has_word(model, "pro") => 32768,
        _ => 24576,
    }
}

/// The `thinkingLevel` of a `reasoning` level for a Gemini 3 model: Pro models
/// take `low` and `high` only.
pub fn thinking_level(model: &str, level: &str) -> &'static str {
    match level {
        "low" => "low",
        "medium" if has_word(model, "flash") => "medium",
        _ => "high",
    }
}

pub fn build_body(call: &ChatCall) -> Value {
    let model = model_id(call.model);
    let mut config = Map::new();
    let mut system = call.instructions.map(str::to_string);

    let form = thinking_form(model, call.dialect);
    let level = call.reasoning.filter(|_| form != ThinkingForm::None);
    let allowance = level.map_or(0, |l| thinking_budget(model, l));
    if let Some(n) = call.max_tokens {
        let limit = if allowance > 0 {
            n.saturating_add(allowance).min(MAX_OUTPUT_TOKENS.max(n))
        } else {
            n
        };
        config.insert("maxOutputTokens".into(), json!(limit));
    }
    if let Some(t) = call.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = call.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(level) = level {
        let thinking = if form == ThinkingForm::Level {
            json!({"thinkingLevel": thinking_level(model, level), "includeThoughts": true})
        } else {
            json!({"thinkingBudget": allowance, "includeThoughts": true})
        };
        config.insert("thinkingConfig".into(), thinking);
    }
    if let Some(schema) = call.output_schema {
        config.insert("responseMimeType".into(), json!("application/json"));
        if call.dialect == Dialect::CompatibleJsonMode {
            let line = schema_instruction(schema);
            system = Some(match system {
                Some(s) => format!("{s}\n\n{line}"),
                None => line,
            });
        } else {
            config.insert("responseJsonSchema".into(), schema.clone());
        }
    }

    let mut body = Map::new();
    body.insert(
        "contents".into(),
        json!([{"role": "user", "parts": [{"text": call.input}]}]),
    );
    if let Some(s) = system {
        body.insert("systemInstruction".into(), json!({"parts": [{"text": s}]}));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    Value::Object(body)
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    finish_message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

/// A part; only text parts matter here (function calls, code, images, … are not
/// asked for, and are skipped).
#[derive(Debug, Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thought: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
    #[serde(default)]
    block_reason_message: Option<String>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
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
    fn to_usage(&self) -> Usage {
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
fn block_description(reason: &str) -> String {
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
            super::delay_from_secs(secs)
        })
}

/// An error object inside a 200 body or a stream chunk.
fn embedded_error(err: &Value) -> ProviderError {
    let status = err
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    ProviderError {
        status,
        message: error_message(err).unwrap_or_else(|| err.to_string()),
        transient: status.is_none_or(is_transient_status),
        retry_after: retry_info(err),
    }
}

/// Accumulates `GenerateContentResponse`s: the chunks of a stream, or the one body
/// of a unary call.
#[derive(Debug, Default)]
pub struct StreamState {
    completion: Completion,
    usage: Option<UsageMetadata>,
    done: bool,
}

/// A response (or stream chunk), or the error it carries. A body of an unexpected
/// shape is a permanent error in a unary answer and a transient one mid-stream.
fn decode(value: Value, streamed: bool) -> Result<WireResponse, ProviderError> {
    if let Some(err) = error_object(&value) {
        return Err(embedded_error(err));
    }
    serde_json::from_value(value).map_err(|e| ProviderError {
        transient: streamed,
        ..ProviderError::permanent(format!("unexpected response shape: {e}"))
    })
}

impl StreamState {
    fn absorb(&mut self, chunk: WireResponse) -> Result<Vec<Delta>, ProviderError> {
        let mut deltas = Vec::new();
        if let Some(u) = chunk.usage_metadata {
            self.usage = Some(u);
        }
        if chunk.candidates.is_empty()
            && let Some(feedback) = chunk.prompt_feedback
            && (feedback.block_reason.is_some() || feedback.block_reason_message.is_some())
        {
            let mut refusal = match &feedback.block_reason {
                Some(reason) => format!("the prompt was {}", block_description(reason)),
                None => "the prompt was blocked by Gemini".to_string(),
            };
            if let Some(message) = feedback.block_reason_message {
                refusal = format!("{refusal}: {message}");
            }
            self.completion.refusal = Some(refusal);
            self.completion.finish_reason = feedback.block_reason.or(Some("BLOCKED".into()));
            self.finish(&mut deltas);
            return Ok(deltas);
        }
        for candidate in chunk.candidates.into_iter().filter(|c| c.index == 0) {
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                let Some(text) = part.text.filter(|t| !t.is_empty()) else {
                    continue;
                };
                if part.thought {
                    self.completion.thinking.push_str(&text);
                    deltas.push(Delta::Thinking(text));
                } else {
                    self.completion.text.push_str(&text);
                    deltas.push(Delta::Text(text));
                }
            }
            let Some(reason) = candidate.finish_reason else {
                continue;
            };
            if BLOCKING_FINISH_REASONS.contains(&reason.as_str()) {
                let mut refusal = block_description(&reason);
                if let Some(message) = &candidate.finish_message {
                    refusal = format!("{refusal}: {message}");
                }
                self.completion.refusal = Some(refusal);
            } else if self.completion.text.is_empty()
                && let Some(message) = &candidate.finish_message
            {
                // An answer that failed ("Model failed to generate content due to
                // internal error."): OTHER may well succeed on another try.
                let mut e = ProviderError::permanent(format!(
                    "Gemini returned no answer (finish reason {reason}): {message}"
                ));
                e.transient = reason == "OTHER";
                return Err(e);
            }
            self.completion.finish_reason = Some(reason);
            self.finish(&mut deltas);
        }
        Ok(deltas)
    }

    /// The answer is complete: its usage goes out once.
    fn finish(&mut self, deltas: &mut Vec<Delta>) {
        if !self.done
            && let Some(u) = &self.usage
        {
            deltas.push(Delta::Usage(u.to_usage()));
        }
        self.done = true;
    }
}

impl StreamParser for StreamState {
    fn feed(&mut self, _event: &str, data: &str) -> Result<Vec<Delta>, ProviderError> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            ProviderError::transient(format!(
                "malformed stream chunk ({e}): {}",
                body_excerpt(data.as_bytes())
            ))
        })?;
        self.absorb(decode(value, true)?)
    }

    fn is_complete(&self) -> bool {
        self.done
    }

    fn completion(&self) -> Completion {
        Completion {
            usage: self.usage.as_ref().map(UsageMetadata::to_usage),
            ..self.completion.clone()
        }
    }
}

pub fn parse_response(body: &[u8]) -> Result<Completion, ProviderError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ProviderError::permanent(format!("unreadable response ({e}): {}", body_excerpt(body)))
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>() -> ChatCall<'a> {
        ChatCall {
            model: "gemini-2.5-flash",
            instructions: Some("Be brief."),
            input: "Hi",
            max_tokens: Some(500),
            temperature: Some(0.2),
            top_p: Some(0.9),
            reasoning: None,
            output_schema: None,
            stream: false,
            dialect: Dialect::Native,
        }
    }

    #[test]
    fn endpoints() {
        let mut c = call();
        assert_eq!(
            endpoint(DEFAULT_BASE_URL, &c),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
        );
        c.stream = true;
        c.model = "models/gemini-2.5-pro";
        assert_eq!(
            endpoint("http://h/v1beta", &c),
            "http://h/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(gemini_version("gemini-2.5-flash-lite"), Some((2, 5)));
        assert_eq!(gemini_version("gemini-3-pro-preview"), Some((3, 0)));
        assert_eq!(gemini_version("gemini-3.8-flash"), Some((3, 8)));
        assert_eq!(gemini_version("gemini-4-argon"), Some((4, 0)));
        assert_eq!(gemini_version("gemini-flash-latest"), None);
    }

    #[test]
    fn builds_a_body() {
        let b = build_body(&call());
        assert_eq!(
            b["contents"],
            json!([{"role": "user", "parts": [{"text": "Hi"}]}])
        );
        assert_eq!(b["systemInstruction"]["parts"][0]["text"], "Be brief.");
        let g = &b["generationConfig"];
        assert_eq!(g["maxOutputTokens"], 500);
        assert_eq!(g["temperature"], 0.2);
        assert_eq!(g["topP"], 0.9);
        assert!(g.get("thinkingConfig").is_none());

        let mut c = call();
        c.instructions = None;
        c.max_tokens = None;
        c.temperature = None;
        c.top_p = None;
        let b = build_body(&c);
        assert!(b.get("generationConfig").is_none() && b.get("systemInstruction").is_none());
    }

    #[test]
    fn reasoning_maps_to_budgets_and_levels() {
        let mut c = call();
        c.reasoning = Some("medium");
        let g = build_body(&c)["generationConfig"].clone();
        assert_eq!(
            g["thinkingConfig"],
            json!({"thinkingBudget": 8192, "includeThoughts": true})
        );
        assert_eq!(g["maxOutputTokens"], 500 + 8192);

        c.reasoning = Some("max");
        c.model = "gemini-2.5-pro";
        assert_eq!(
            build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingBudget"],
            32768
        );
        c.model = "gemini-2.5-flash-lite";
        assert_eq!(
            build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingBudget"],
            24576
        );

        c.model = "gemini-3-pro-preview";
        c.reasoning = Some("medium");
        assert_eq!(
            build_body(&c)["generationConfig"]["thinkingConfig"],
            json!({"thinkingLevel": "high", "includeThoughts": true})
        );
        c.model = "gemini-3.8-flash";
        assert_eq!(
            build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingLevel"],
            "medium"
        );
        c.reasoning = Some("low");
        assert_eq!(
            build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingLevel"],
            "low"
        );

        // Models that do not reason are sent nothing.
        for model in ["gemini-2.0-flash", "gemini-1.5-pro", "gemini-flash-latest"] {
            c.model = model;
            let g = build_body(&c)["generationConfig"].clone();
            assert!(g.get("thinkingConfig").is_none(), "{model}");
            assert_eq!(g["maxOutputTokens"], 500, "{model}");
        }
    }

    #[test]
    fn schemas() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let mut c = call();
        c.output_schema = Some(&schema);
        let g = build_body(&c)["generationConfig"].clone();
        assert_eq!(g["responseMimeType"], "application/json");
        assert_eq!(g["responseJsonSchema"], schema);

        c.dialect = Dialect::CompatibleJsonMode;
        let b = build_body(&c);
        assert!(b["generationConfig"].get("responseJsonSchema").is_none());
        let system = b["systemInstruction"]["parts"][0]["text"].as_str().unwrap();
        assert!(system.starts_with("Be brief.") && system.contains("\"properties\""));
    }

    #[test]
    fn usage_counts_cache_tools_and_thoughts() {
        let body = br#"{"candidates":[{"content":{"parts":[{"text":"Hmm","thought":true},{"text":"Yes"}],"role":"model"},
            "finishReason":"STOP","index":0}],
            "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":60,"candidatesTokenCount":5,
            "thoughtsTokenCount":20,"toolUsePromptTokenCount":7,"totalTokenCount":132}}"#;
        let c = parse_response(body).unwrap();
        assert_eq!((c.text.as_str(), c.thinking.as_str()), ("Yes", "Hmm"));
        let u = c.usage.unwrap();
        assert_eq!(
            (
                u.input_tokens,
                u.cache_read_tokens,
                u.output_tokens,
                u.reasoning_tokens
            ),
            (107, 60, 25, 20)
        );
        assert_eq!(u.extra["tool_use_prompt_tokens"], 7);
    }

    #[test]
    fn retry_info_is_honoured_unless_a_header_says_otherwise() {
        let body = br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED",
            "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},
                       {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}"#;
        let e = parse_error(429, &HeaderMap::new(), body);
        assert!(e.transient);
        assert_eq!(e.message, "Quota exceeded (RESOURCE_EXHAUSTED)");
        assert_eq!(e.retry_after, Some(Duration::from_millis(1500)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(
            parse_error(429, &h, body).retry_after,
            Some(Duration::from_secs(3))
        );
        let e = parse_error(503, &HeaderMap::new(), b"upstream connect error");
        assert!(e.transient);
        assert_eq!(e.message, "upstream connect error");
    }

    #[test]
    fn an_error_inside_a_stream_ends_it() {
        let mut s = StreamState::default();
        let e = s
            .feed("", r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#)
            .unwrap_err();
        assert!(e.transient);
        assert_eq!(e.status, Some(503));
        assert!(s.feed("", "{not json").unwrap_err().transient);
    }
}
