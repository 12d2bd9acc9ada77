//! Anthropic Messages: `POST {base}/v1/messages` (base URL [`DEFAULT_BASE_URL`]),
//! streamed (`message_start` … `message_stop`) and not.
//!
//! What a call sends depends on the model's generation, read from its id by
//! [`claude_version`] (`claude-sonnet-4-5-20250929` is 4.5,
//! `claude-3-7-sonnet-latest` 3.7, `claude-opus-4-20250514` 4.0).
//!
//! # `max_tokens`
//!
//! Anthropic requires it. Without one in the spec the answer gets 8192 tokens, or
//! 4096 on the Claude 3 models (3 Haiku, Sonnet, Opus) whose output limit that is.
//! With thinking on, `max_tokens` is the thinking budget plus that answer
//! allowance. Either way it is capped at the model's output limit: 4096 for Claude
//! 3, 8192 for 3.5, 32000 for Opus 4 and 4.1, 64000 for the others from 3.7 on.
//!
//! # Sampling
//!
//! When both `temperature` and `top_p` are given only `temperature` is sent
//! (Claude 4.1 and later refuse the pair), at most 1 (Anthropic's range is 0–1).
//! Neither is sent with thinking on, nor to Claude 4.7 and later, which reject them.
//!
//! # Reasoning
//!
//! | `reasoning` | Claude 3.7, 4, 4.1, 4.5: `thinking: {type: "enabled", budget_tokens}` | Claude 4.6 and later: `thinking: {type: "adaptive"}` + `output_config.effort` |
//! |---|---|---|
//! | `low` | `budget_tokens: 2048` | `effort: "low"` |
//! | `medium` | `budget_tokens: 8192` | `effort: "medium"` |
//! | `high` | `budget_tokens: 16384` | `effort: "high"` |
//! | `max` | `budget_tokens: 32000` | `effort: "max"` (`"high"` on Haiku) |
//!
//! Claude 3.5 and older do not reason and are sent nothing; neither is a Claude id
//! without a version number. An Anthropic-compatible server
//! ([`Dialect::Compatible`]) gets the `enabled` form whatever the model. Thinking
//! comes back in `thinking` blocks, kept in [`Completion::thinking`].
//!
//! # Structured output
//!
//! Claude 4.5 and later get native structured output,
//! `output_config: {format: {type: "json_schema", schema}}`, when the schema fits
//! its constrained decoding ([`schema_fits_native`]: every object closed with
//! `additionalProperties: false`, no numeric, length or size bounds). Otherwise the
//! schema is forced through a tool ([`OUTPUT_TOOL`], named by `tool_choice`) whose
//! input JSON becomes the answer text. Where a tool cannot be forced (with thinking
//! on, or for a schema whose root is not an object) the schema goes into the system
//! prompt, and the answer is validated afterwards like any other.
//!
//! # Answers, usage and errors
//!
//! A `refusal` stop sets [`Completion::refusal`]. Anthropic's `input_tokens` leaves
//! out cache reads and writes, so the contract's `input_tokens` is the sum of the
//! three; writes split into 5-minute and 1-hour ones by `cache_creation`;
//! `server_tool_use.web_search_requests` is counted. Errors are
//! `{"type": "error", "error": {"type", "message"}}`, in a 4xx/5xx body or as a
//! stream's `error` event; `overloaded_error` (529) and the other 5xx are transient.

use super::{
    ChatCall, Completion, Delta, Dialect, ProviderError, StreamParser, body_excerpt, http_error,
    is_transient_status, openai::schema_instruction,
};
use crate::contract::Usage;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The tool an `output_schema` is forced through on models without native
/// structured output. Its input is the answer.
pub const OUTPUT_TOOL: &str = "output";

/// The smallest thinking budget Anthropic accepts.
const MIN_THINKING_BUDGET: u32 = 1024;

/// `{base}/v1/messages`; a base that already ends in `/v1` is not doubled.
pub fn endpoint(base: &str) -> String {
    if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

/// The `(major, minor)` version in a Claude model id: the first short number after
/// `claude-`, and the one after it when there is one (a trailing date is not a
/// version). `None` when the id has no version number.
pub fn claude_version(model: &str) -> Option<(u32, u32)> {
    let rest = &model[model.find("claude-")? + "claude-".len()..];
    let is_short_number =
        |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit());
    let mut tokens = rest.split(['-', '.', '@', ':']);
    let major = tokens.by_ref().find(|t| is_short_number(t))?.parse().ok()?;
    let minor = tokens
        .next()
        .filter(|t| is_short_number(t))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    Some((major, minor))
}

/// How a model thinks, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ThinkingForm {
    None,
    /// `thinking: {type: "enabled", budget_tokens}`.
    Budget,
    /// `thinking: {type: "adaptive"}` and `output_config.effort`.
    Adaptive,
}

/// What a model accepts, from its id and the server's dialect.
#[derive(Debug, Clone, Copy)]
struct Profile {
    thinking: ThinkingForm,
    /// Takes `temperature` / `top_p`.
    sampling: bool,
    /// Takes `output_config.format`.
    native_schema: bool,
    /// Takes `effort: "max"`.
    max_effort: bool,
    /// Output token limit, when known.
    max_output: Option<u32>,
}

fn profile(model: &str, dialect: Dialect) -> Profile {
    if dialect != Dialect::Native {
        return Profile {
            thinking: ThinkingForm::Budget,
            sampling: true,
            native_schema: false,
            max_effort: false,
            max_output: None,
        };
    }
    let Some(v) = claude_version(model) else {
        // An id without a Claude version (a gateway's alias, a model newer than
        // this table): what was asked for is sent, in the form every thinking
        // model takes, and the provider may refuse it; never dropped silently.
        return Profile {
            thinking: ThinkingForm::Budget,
            sampling: true,
            native_schema: false,
            max_effort: false,
            max_output: None,
        };
    };
    let opus = model.contains("opus");
    let thinking = if v >= (4, 6) {
        ThinkingForm::Adaptive
    } else if v >= (3, 7) {
        ThinkingForm::Budget
    } else {
        ThinkingForm::None
    };
    let max_output = match v {
        (0..=2, _) | (3, 0..=4) => 4096,
        (3, 5..=6) => 8192,
        (4, 0..=1) if opus => 32000,
        _ => 64000,
    };
    Profile {
        thinking,
        sampling: v < (4, 7),
        native_schema: v >= (4, 5),
        max_effort: !model.contains("haiku"),
        max_output: Some(max_output),
    }
}

/// The thinking budget of a `reasoning` level.
pub fn thinking_budget(level: &str) -> u32 {
    match level {
        "low" => 2048,
        "medium" => 8192,
        "high" => 16384,
        _ => 32000,
    }
}

/// `max_tokens` and the thinking budget inside it: the budget plus the answer's
/// allowance, both shrunk to fit under the model's output limit.
fn fit_thinking(answer: u32, budget: u32, cap: Option<u32>) -> (u32, u32) {
    let total = answer.saturating_add(budget);
    match cap {
        Some(cap) if total > cap => {
            let budget = budget
                .min(cap.saturating_sub(answer.min(cap / 2)))
                .max(MIN_THINKING_BUDGET)
                .min(cap.saturating_sub(1));
            (cap, budget)
        }
        _ => (total, budget),
    }
}

/// How an `output_schema` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchemaMode {
    /// `output_config.format`.
    Native,
    /// A forced [`OUTPUT_TOOL`] call.
    Tool,
    /// In the system prompt.
    Prompt,
}

/// Keywords Anthropic's constrained decoding does not take.
const UNSUPPORTED_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "patternProperties",
];

/// Whether a schema fits Anthropic's constrained decoding: every object closed
/// with `additionalProperties: false`, no numeric bounds (`minimum`, …), length
/// bounds (`maxLength`, …) or size bounds (`maxItems`, `minProperties`, …), and
/// `minItems` at most 1.
pub fn schema_fits_native(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            let is_object = map.get("type").and_then(Value::as_str) == Some("object")
                || map.contains_key("properties");
            if is_object && map.get("additionalProperties") != Some(&Value::Bool(false)) {
                return false;
            }
            if UNSUPPORTED_KEYWORDS.iter().any(|k| map.contains_key(*k))
                || map
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .is_some_and(|n| n > 1)
            {
                return false;
            }
            map.iter()
                // A property named like a keyword is not one.
                .filter(|(k, _)| k.as_str() != "properties")
                .all(|(_, v)| schema_fits_native(v))
                && map
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_none_or(|p| p.values().all(schema_fits_native))
        }
        Value::Array(items) => items.iter().all(schema_fits_native),
        _ => true,
    }
}

fn schema_mode(call: &ChatCall, profile: &Profile, thinking: bool, schema: &Value) -> SchemaMode {
    let object_root = schema.get("type").and_then(Value::as_str) == Some("object");
    if call.dialect == Dialect::CompatibleJsonMode {
        SchemaMode::Prompt
    } else if profile.native_schema && schema_fits_native(schema) {
        SchemaMode::Native
    } else if !thinking && object_root {
        // Anthropic cannot force a tool while thinking.
        SchemaMode::Tool
    } else {
        SchemaMode::Prompt
    }
}

pub fn build_body(call: &ChatCall) -> Value {
    let profile = profile(call.model, call.dialect);
    let default_answer = if profile.max_output == Some(4096) {
        4096
    } else {
        8192
    };
    let answer = call.max_tokens.unwrap_or(default_answer);
    let level = call
        .reasoning
        .filter(|_| profile.thinking != ThinkingForm::None);

    let mut body = Map::new();
    body.insert("model".into(), json!(call.model));
    let mut output_config = Map::new();
    match level {
        Some(level) => {
            let (max_tokens, budget) =
                fit_thinking(answer, thinking_budget(level), profile.max_output);
            body.insert("max_tokens".into(), json!(max_tokens));
            if profile.thinking == ThinkingForm::Adaptive {
                body.insert("thinking".into(), json!({"type": "adaptive"}));
                let effort = match level {
                    "max" if !profile.max_effort => "high",
                    "low" | "medium" | "high" | "max" => level,
                    _ => "high",
                };
                output_config.insert("effort".into(), json!(effort));
            } else {
                body.insert(
                    "thinking".into(),
                    json!({"type": "enabled", "budget_tokens": budget}),
                );
            }
        }
        None => {
            let max_tokens = profile.max_output.map_or(answer, |cap| answer.min(cap));
            body.insert("max_tokens".into(), json!(max_tokens));
            if profile.sampling {
                // Only one of the two: newer models refuse the pair. Anthropic's
                // temperature goes up to 1.
                if let Some(t) = call.temperature {
                    body.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
                } else if let Some(p) = call.top_p {
                    body.insert("top_p".into(), json!(p));
                }
            }
        }
    }

    let mut system = call.instructions.map(str::to_string);
    if let Some(schema) = call.output_schema {
        match schema_mode(call, &profile, level.is_some(), schema) {
            SchemaMode::Native => {
                output_config.insert(
                    "format".into(),
                    json!({"type": "json_schema", "schema": schema}),
                );
            }
            SchemaMode::Tool => {
                body.insert(
                    "tools".into(),
                    json!([{
                        "name": OUTPUT_TOOL,
                        "description": "Give the answer, as the input of this tool.",
                        "input_schema": schema,
                    }]),
                );
                body.insert(
                    "tool_choice".into(),
                    json!({"type": "tool", "name": OUTPUT_TOOL}),
                );
            }
            SchemaMode::Prompt => {
                let line = schema_instruction(schema);
                system = Some(match system {
                    Some(s) => format!("{s}\n\n{line}"),
                    None => line,
                });
            }
        }
    }
    if let Some(s) = system {
        body.insert("system".into(), json!(s));
    }
    body.insert(
        "messages".into(),
        json!([{"role": "user", "content": call.input}]),
    );
    if !output_config.is_empty() {
        body.insert("output_config".into(), Value::Object(output_config));
    }
    if call.stream {
        body.insert("stream".into(), json!(true));
    }
    Value::Object(body)
}

/// Anthropic's usage block. In a stream, `message_start` carries one and every
/// `message_delta` carries the cumulative counts it updates.
#[derive(Debug, Deserialize, Default, Clone)]
struct WireUsage {
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
}

#[derive(Debug, Deserialize, Default, Clone)]
struct OutputDetails {
    #[serde(default)]
    thinking_tokens: Option<u64>,
}

impl WireUsage {
    /// Takes the counts `newer` reports, keeping the others.
    fn merge(&mut self, newer: WireUsage) {
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
    fn to_usage(&self) -> Usage {
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
            ..Default::default()
        }
    }
}

/// A content block, in a response or a `content_block_start`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
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
struct StopDetails {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    explanation: Option<String>,
}

/// What a `refusal` stop says, for the engine's "the model refused: …".
fn refusal_text(details: Option<&StopDetails>) -> String {
    let explanation = details.and_then(|d| d.explanation.clone());
    let category = details.and_then(|d| d.category.clone());
    let text = explanation.unwrap_or_else(|| "Claude declined to answer".to_string());
    match category {
        Some(c) => format!("{text} (stop_reason: refusal, category: {c})"),
        None => format!("{text} (stop_reason: refusal)"),
    }
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<Block>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_details: Option<StopDetails>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct WireError {
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
fn stream_error(e: &WireError) -> ProviderError {
    let status = e.kind.as_deref().and_then(status_of_error_type);
    ProviderError {
        status,
        message: error_message(e),
        // An unknown error type mid-stream is most likely the server's trouble.
        transient: status.is_none_or(is_transient_status),
        retry_after: None,
    }
}

pub fn parse_response(body: &[u8]) -> Result<Completion, ProviderError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ProviderError::permanent(format!("unreadable response ({e}): {}", body_excerpt(body)))
    })?;
    if value.get("type").and_then(Value::as_str) == Some("error")
        && let Some(err) = value.get("error")
    {
        let err: WireError = serde_json::from_value(err.clone())
            .map_err(|e| ProviderError::permanent(format!("unexpected error shape: {e}")))?;
        return Err(stream_error(&err));
    }
    let msg: WireMessage = serde_json::from_value(value)
        .map_err(|e| ProviderError::permanent(format!("unexpected response shape: {e}")))?;
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

/// What a streamed content block is, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
    /// The forced [`OUTPUT_TOOL`] call: its input JSON is the answer.
    Output,
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    ThinkingDelta {
        #[serde(default)]
        thinking: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    /// Signatures, citations, compaction, …
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize, Default)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_details: Option<StopDetails>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u64,
        delta: BlockDelta,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {
        error: WireError,
    },
    /// `ping`, `content_block_stop`, and event types added later.
    #[serde(other)]
    Other,
}

/// The stream of Messages events, ended by `message_stop`.
#[derive(Debug, Default)]
pub struct StreamState {
    text: String,
    thinking: String,
    /// The [`OUTPUT_TOOL`] input: `Some` once that block started.
    output_json: Option<String>,
    /// Kinds by block index. A map: the index is the server's to choose, and a
    /// vector grown to it would let one event allocate without bound.
    blocks: HashMap<u64, BlockKind>,
    usage: Option<WireUsage>,
    stop_reason: Option<String>,
    refusal: Option<String>,
    stopped: bool,
}

impl StreamState {
    fn kind(&self, index: u64) -> BlockKind {
        self.blocks.get(&index).copied().unwrap_or(BlockKind::Other)
    }

    fn set_kind(&mut self, index: u64, kind: BlockKind) {
        self.blocks.insert(index, kind);
    }

    fn merge_usage(&mut self, usage: WireUsage) {
        match &mut self.usage {
            Some(u) => u.merge(usage),
            None => self.usage = Some(usage),
        }
    }
}

impl StreamParser for StreamState {
    fn feed(&mut self, _event: &str, data: &str) -> Result<Vec<Delta>, ProviderError> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let event: StreamEvent = serde_json::from_str(data).map_err(|e| {
            ProviderError::transient(format!(
                "malformed stream event ({e}): {}",
                body_excerpt(data.as_bytes())
            ))
        })?;
        let mut deltas = Vec::new();
        match event {
            StreamEvent::MessageStart { message } => {
                if let Some(u) = message.usage {
                    self.merge_usage(u);
                }
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let kind = match content_block {
                    Block::Text { text } => {
                        if !text.is_empty() {
                            self.text.push_str(&text);
                            deltas.push(Delta::Text(text));
                        }
                        BlockKind::Text
                    }
                    Block::Thinking { thinking } => {
                        if !thinking.is_empty() {
                            self.thinking.push_str(&thinking);
                            deltas.push(Delta::Thinking(thinking));
                        }
                        BlockKind::Thinking
                    }
                    Block::ToolUse { name, .. } if name == OUTPUT_TOOL => {
                        self.output_json.get_or_insert_default();
                        BlockKind::Output
                    }
                    Block::ToolUse { .. } | Block::Other => BlockKind::Other,
                };
                self.set_kind(index, kind);
            }
            StreamEvent::ContentBlockDelta { index, delta } => match (self.kind(index), delta) {
                (BlockKind::Text, BlockDelta::TextDelta { text }) if !text.is_empty() => {
                    self.text.push_str(&text);
                    deltas.push(Delta::Text(text));
                }
                (BlockKind::Thinking, BlockDelta::ThinkingDelta { thinking })
                    if !thinking.is_empty() =>
                {
                    self.thinking.push_str(&thinking);
                    deltas.push(Delta::Thinking(thinking));
                }
                (BlockKind::Output, BlockDelta::InputJsonDelta { partial_json })
                    if !partial_json.is_empty() =>
                {
                    self.output_json
                        .get_or_insert_default()
                        .push_str(&partial_json);
                    deltas.push(Delta::Text(partial_json));
                }
                _ => {}
            },
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.as_deref() == Some("refusal") {
                    self.refusal = Some(refusal_text(delta.stop_details.as_ref()));
                }
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if let Some(u) = usage {
                    self.merge_usage(u);
                    if let Some(u) = &self.usage {
                        deltas.push(Delta::Usage(u.to_usage()));
                    }
                }
            }
            StreamEvent::MessageStop => self.stopped = true,
            StreamEvent::Error { error } => return Err(stream_error(&error)),
            StreamEvent::Other => {}
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.stopped || self.stop_reason.is_some()
    }

    fn completion(&self) -> Completion {
        let text = match &self.output_json {
            // A forced tool with no input streamed is an empty object.
            Some(json) if json.is_empty() => "{}".to_string(),
            Some(json) => json.clone(),
            None => self.text.clone(),
        };
        Completion {
            text,
            thinking: self.thinking.clone(),
            usage: self.usage.as_ref().map(WireUsage::to_usage),
            finish_reason: self.stop_reason.clone(),
            refusal: self.refusal.clone(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>() -> ChatCall<'a> {
        ChatCall {
            model: "claude-sonnet-4-5-20250929",
            instructions: Some("Be brief."),
            input: "Hi",
            max_tokens: None,
            temperature: Some(0.2),
            top_p: Some(0.9),
            reasoning: None,
            output_schema: None,
            stream: true,
            dialect: Dialect::Native,
        }
    }

    #[test]
    fn reads_versions_from_model_ids() {
        assert_eq!(claude_version("claude-sonnet-4-5-20250929"), Some((4, 5)));
        assert_eq!(claude_version("claude-3-7-sonnet-latest"), Some((3, 7)));
        assert_eq!(claude_version("claude-3-5-haiku-20241022"), Some((3, 5)));
        assert_eq!(claude_version("claude-3-haiku-20240307"), Some((3, 0)));
        assert_eq!(claude_version("claude-opus-4-20250514"), Some((4, 0)));
        assert_eq!(claude_version("claude-opus-4-1"), Some((4, 1)));
        assert_eq!(claude_version("claude-fable-5"), Some((5, 0)));
        assert_eq!(
            claude_version("us.anthropic.claude-opus-4-6-v1"),
            Some((4, 6))
        );
        assert_eq!(claude_version("claude-opus-4-1@20250805"), Some((4, 1)));
        assert_eq!(claude_version("claude-mythos-preview"), None);
        assert_eq!(claude_version("llama3"), None);
    }

    #[test]
    fn builds_a_plain_body() {
        let b = build_body(&call());
        assert_eq!(b["model"], "claude-sonnet-4-5-20250929");
        assert_eq!(b["system"], "Be brief.");
        assert_eq!(b["messages"], json!([{"role": "user", "content": "Hi"}]));
        assert_eq!(b["max_tokens"], 8192);
        assert_eq!(b["stream"], true);
        // Not both: only temperature.
        assert_eq!(b["temperature"], 0.2);
        assert!(b.get("top_p").is_none());
        assert!(b.get("thinking").is_none());
        assert!(b.get("output_config").is_none());
        assert_eq!(
            endpoint("https://api.anthropic.com"),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(endpoint("http://h/v1"), "http://h/v1/messages");
    }

    #[test]
    fn max_tokens_defaults_and_caps_per_model() {
        let mut c = call();
        c.model = "claude-3-haiku-20240307";
        assert_eq!(build_body(&c)["max_tokens"], 4096);
        c.max_tokens = Some(100_000);
        assert_eq!(build_body(&c)["max_tokens"], 4096);
        c.model = "claude-3-5-haiku-latest";
        assert_eq!(build_body(&c)["max_tokens"], 8192);
        c.model = "claude-sonnet-4-5";
        assert_eq!(build_body(&c)["max_tokens"], 64000);
        c.max_tokens = Some(300);
        assert_eq!(build_body(&c)["max_tokens"], 300);
        c.model = "some-proxy-model";
        c.max_tokens = None;
        assert_eq!(build_body(&c)["max_tokens"], 8192);
    }

    #[test]
    fn budget_thinking_raises_max_tokens_and_drops_sampling() {
        let mut c = call();
        c.reasoning = Some("medium");
        c.max_tokens = Some(1000);
        let b = build_body(&c);
        assert_eq!(
            b["thinking"],
            json!({"type": "enabled", "budget_tokens": 8192})
        );
        assert_eq!(b["max_tokens"], 9192);
        assert!(b.get("temperature").is_none() && b.get("top_p").is_none());

        // Opus 4.1 writes at most 32000 tokens: the budget shrinks to fit.
        c.model = "claude-opus-4-1-20250805";
        c.reasoning = Some("max");
        c.max_tokens = None;
        let b = build_body(&c);
        assert_eq!(b["max_tokens"], 32000);
        assert_eq!(b["thinking"]["budget_tokens"], 32000 - 8192);

        c.model = "claude-3-7-sonnet-20250219";
        c.reasoning = Some("low");
        assert_eq!(build_body(&c)["thinking"]["budget_tokens"], 2048);
    }

    #[test]
    fn adaptive_thinking_on_newer_models() {
        let mut c = call();
        c.model = "claude-opus-4-7";
        c.reasoning = Some("max");
        let b = build_body(&c);
        assert_eq!(b["thinking"], json!({"type": "adaptive"}));
        assert_eq!(b["output_config"]["effort"], "max");
        assert_eq!(b["max_tokens"], 32000 + 8192);
        // 4.7 rejects sampling parameters even without thinking.
        c.reasoning = None;
        let b = build_body(&c);
        assert!(b.get("temperature").is_none() && b.get("thinking").is_none());
        c.model = "claude-haiku-5-5";
        c.reasoning = Some("max");
        assert_eq!(build_body(&c)["output_config"]["effort"], "high");
        c.model = "claude-sonnet-4-6";
        c.reasoning = None;
        assert_eq!(build_body(&c)["temperature"], 0.2);
    }

    #[test]
    fn models_that_do_not_reason_get_no_thinking() {
        let mut c = call();
        c.reasoning = Some("high");
        for model in ["claude-3-5-sonnet-20241022", "claude-3-5-haiku-latest"] {
            c.model = model;
            let b = build_body(&c);
            assert!(b.get("thinking").is_none(), "{model}");
            assert_eq!(b["temperature"], 0.2, "{model}");
        }
        // An id without a version (an alias) gets what was asked for, not nothing.
        c.model = "claude-mythos-preview";
        assert_eq!(build_body(&c)["thinking"]["budget_tokens"], 16384);
        // A compatible server gets the budget form when asked.
        c.model = "deepseek-chat";
        c.dialect = Dialect::Compatible;
        assert_eq!(build_body(&c)["thinking"]["budget_tokens"], 16384);
    }

    #[test]
    fn schemas_go_native_through_a_tool_or_into_the_prompt() {
        let closed = json!({"type": "object", "properties": {"a": {"type": "string"}},
            "required": ["a"], "additionalProperties": false});
        let open =
            json!({"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}});
        let list = json!({"type": "array", "items": {"type": "string"}});
        assert!(schema_fits_native(&closed));
        assert!(!schema_fits_native(&open));

        let mut c = call();
        c.output_schema = Some(&closed);
        let b = build_body(&c);
        assert_eq!(
            b["output_config"]["format"],
            json!({"type": "json_schema", "schema": closed})
        );
        assert!(b.get("tools").is_none());

        // Native output does not take this schema: a forced tool does.
        c.output_schema = Some(&open);
        let b = build_body(&c);
        assert_eq!(b["tools"][0]["name"], OUTPUT_TOOL);
        assert_eq!(b["tools"][0]["input_schema"], open);
        assert_eq!(
            b["tool_choice"],
            json!({"type": "tool", "name": OUTPUT_TOOL})
        );

        // Older models: the tool too.
        c.model = "claude-sonnet-4-20250514";
        c.output_schema = Some(&closed);
        assert_eq!(build_body(&c)["tool_choice"]["name"], OUTPUT_TOOL);

        // Thinking cannot be combined with a forced tool: the prompt carries it.
        c.reasoning = Some("low");
        let b = build_body(&c);
        assert!(b.get("tools").is_none());
        let system = b["system"].as_str().unwrap();
        assert!(system.starts_with("Be brief.") && system.contains("\"additionalProperties\""));

        // A non-object root cannot be a tool input.
        c.reasoning = None;
        c.output_schema = Some(&list);
        let b = build_body(&c);
        assert!(b.get("tools").is_none());
        assert!(b["system"].as_str().unwrap().contains("\"array\""));
    }

    #[test]
    fn parses_a_response_with_thinking_tool_output_and_cache_usage() {
        let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
            "content":[{"type":"thinking","thinking":"Let me see.","signature":"x"},
                       {"type":"tool_use","id":"t","name":"output","input":{"city":"Paris"}}],
            "stop_reason":"tool_use","stop_sequence":null,
            "usage":{"input_tokens":10,"cache_read_input_tokens":200,"cache_creation_input_tokens":50,
                     "cache_creation":{"ephemeral_5m_input_tokens":30,"ephemeral_1h_input_tokens":20},
                     "output_tokens":40,"server_tool_use":{"web_search_requests":2}}}"#;
        let c = parse_response(body).unwrap();
        assert_eq!(c.text, r#"{"city":"Paris"}"#);
        assert_eq!(c.thinking, "Let me see.");
        assert_eq!(c.finish_reason.as_deref(), Some("tool_use"));
        let u = c.usage.unwrap();
        assert_eq!(u.input_tokens, 260);
        assert_eq!(u.cache_read_tokens, 200);
        assert_eq!(
            (u.cache_creation_tokens, u.cache_creation_1h_tokens),
            (30, 20)
        );
        assert_eq!(u.output_tokens, 40);
        assert_eq!(u.web_search_requests, 2);
    }

    #[test]
    fn a_refusal_is_flagged() {
        let body = br#"{"type":"message","content":[],"stop_reason":"refusal",
            "stop_details":{"type":"refusal","category":"cyber","explanation":"Not this."},
            "usage":{"input_tokens":5,"output_tokens":0}}"#;
        let c = parse_response(body).unwrap();
        assert_eq!(
            c.refusal.as_deref(),
            Some("Not this. (stop_reason: refusal, category: cyber)")
        );
    }

    #[test]
    fn errors_carry_the_providers_message() {
        let e = parse_error(
            529,
            &HeaderMap::new(),
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert!(e.transient);
        assert_eq!(e.status, Some(529));
        assert_eq!(e.message, "Overloaded (overloaded_error)");
        let e = parse_error(
            400,
            &HeaderMap::new(),
            br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}}"#,
        );
        assert!(!e.transient);
        let mut h = HeaderMap::new();
        h.insert("x-should-retry", "false".parse().unwrap());
        assert!(!parse_error(529, &h, b"").transient);

        // Mid-stream.
        let mut s = StreamState::default();
        let e = s
            .feed(
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            )
            .unwrap_err();
        assert!(e.transient);
        assert_eq!(e.status, Some(529));
        let e = s
            .feed(
                "error",
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#,
            )
            .unwrap_err();
        assert!(!e.transient);
        assert!(s.feed("", "{not json").unwrap_err().transient);
    }

    #[test]
    fn huge_block_indices_neither_allocate_nor_overflow() {
        let mut s = StreamState::default();
        for index in ["100000000000", "18446744073709551615"] {
            let start = format!(
                r#"{{"type":"content_block_start","index":{index},"content_block":{{"type":"text","text":""}}}}"#
            );
            s.feed("", &start).unwrap();
            let delta = format!(
                r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"text_delta","text":"hi"}}}}"#
            );
            assert_eq!(s.feed("", &delta).unwrap(), vec![Delta::Text("hi".into())]);
        }
        assert_eq!(s.completion().text, "hihi");
    }
}
