//! Provider adapters: one folder per wire format, each a set of pure functions
//! (build the HTTP request body; parse a response or a stream event) dispatched on
//! [`WireFormat`], plus the thin client in [`client`] that sends them.
//!
//! Every format's folder is laid out the same way, its files private and its API
//! re-exported by its `mod.rs` (whose `//!` says what the format sends and reads):
//!
//! - `profile.rs`: what a model accepts, read from its id (version, reasoning
//!   form and budgets, sampling, output limit);
//! - `request.rs`: `endpoint` and `build_body`;
//! - `response.rs`: the wire types, usage in the contract's convention,
//!   `parse_response` and `parse_error`;
//! - `stream.rs`: `StreamState`, the format's [`StreamParser`];
//! - `tests.rs`: its unit tests.
//!
//! What the formats do alike lives once in `shared.rs`: the schema instruction
//! for servers that take no schema ([`openai::schema_instruction`]), opening a
//! response body or a stream chunk, and turning an HTTP, body or stream error into
//! a [`ProviderError`].
//!
//! To add a wire format: a folder laid out as above, whose `mod.rs` exports
//! `build_body`, `endpoint`, `parse_response`, a `StreamState` implementing
//! [`StreamParser`], and `parse_error`; a variant of [`WireFormat`]; and the arms
//! in the `match`es below (auth and fixed headers included).

pub mod anthropic;
pub mod client;
pub mod gemini;
pub mod openai;
mod shared;
pub mod support;

use shared::delay_from_secs;

use crate::attachments::Part;
use crate::contract::Usage;
use crate::secret::ApiKey;
use crate::thread::Message;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum WireFormat {
    /// OpenAI Chat Completions, and every OpenAI-compatible server.
    Openai,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini `generateContent`.
    Gemini,
}

impl std::str::FromStr for WireFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            WireFormat::Openai,
            WireFormat::Anthropic,
            WireFormat::Gemini,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
        .ok_or_else(|| format!("unknown format '{s}': expected openai, anthropic or gemini"))
    }
}

/// How closely a server follows its format's reference API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// The reference API itself (api.openai.com, api.anthropic.com, …).
    #[default]
    Native,
    /// A compatible server: conservative parameter names (`max_tokens`), and
    /// reasoning sent only when asked for.
    Compatible,
    /// A compatible server that knows JSON mode but not JSON Schema output: it gets
    /// `json_object` and the schema in the prompt.
    CompatibleJsonMode,
}

/// One model call, in provider-neutral terms.
#[derive(Debug, Clone, Copy)]
pub struct ChatCall<'a> {
    /// The provider's own model id (the part after `provider/`).
    pub model: &'a str,
    pub instructions: Option<&'a str>,
    pub input: &'a str,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub reasoning: Option<&'a str>,
    pub output_schema: Option<&'a Value>,
    pub stream: bool,
    pub dialect: Dialect,
    /// Files sent with `input` (see [`crate::attachments`]); each format puts
    /// them in its own shape, before the prompt.
    pub attachments: &'a [Part],
    /// The earlier messages of a conversation, oldest first (see
    /// [`crate::thread`]); `input` is the next user message.
    pub history: &'a [Message],
}

/// What a call produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    pub text: String,
    pub thinking: String,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    /// The model declined to answer (OpenAI `refusal`, Anthropic `refusal` stop).
    pub refusal: Option<String>,
}

/// A piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    Text(String),
    Thinking(String),
    Usage(Usage),
}

/// Parses one format's server-sent events, accumulating the completion.
pub trait StreamParser: Send {
    /// Feeds one SSE event (`event` is the `event:` field, often empty). Returns
    /// the deltas it carried; an `Err` ends the attempt.
    fn feed(&mut self, event: &str, data: &str) -> Result<Vec<Delta>, ProviderError>;
    /// Whether the stream said it is complete (`[DONE]`, `message_stop`, a finish
    /// reason, …).
    fn is_complete(&self) -> bool;
    fn completion(&self) -> Completion;
}

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    pub status: Option<u16>,
    /// The provider's own message when it gave one.
    pub message: String,
    pub transient: bool,
    /// How long the provider asked us to wait (`Retry-After`, `retry-after-ms`,
    /// Gemini `RetryInfo`).
    pub retry_after: Option<Duration>,
    /// The answer had begun and its stream broke off before its end (the
    /// connection dropped, or the stream ended unfinished): what a server that
    /// cuts a stream to serve another request does (see [`crate::slots`]).
    pub broke_off: bool,
}

impl ProviderError {
    pub fn transient(message: impl Into<String>) -> Self {
        ProviderError {
            status: None,
            message: message.into(),
            transient: true,
            retry_after: None,
            broke_off: false,
        }
    }
    /// A stream that broke off before its end (transient).
    pub fn broke_off(message: impl Into<String>) -> Self {
        ProviderError {
            broke_off: true,
            ..ProviderError::transient(message)
        }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        ProviderError {
            status: None,
            message: message.into(),
            transient: false,
            retry_after: None,
            broke_off: false,
        }
    }
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Statuses worth another try: timeouts, conflicts, rate limits, server errors.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..600).contains(&status)
}

/// The delay a response asks for: `retry-after-ms`, then `Retry-After` in seconds
/// or as an HTTP date.
pub fn retry_after_from_headers(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    if let Some(delay) = number("retry-after-ms").and_then(|ms| delay_from_secs(ms / 1000.0)) {
        return Some(delay);
    }
    if let Some(secs) = number("retry-after") {
        return delay_from_secs(secs);
    }
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

impl WireFormat {
    /// Its name in `config.toml` and on the wire of the IPC (`openai`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            WireFormat::Openai => "openai",
            WireFormat::Anthropic => "anthropic",
            WireFormat::Gemini => "gemini",
        }
    }

    /// The URL of a call, from the provider's base URL.
    pub fn endpoint(self, base_url: &str, call: &ChatCall) -> String {
        let base = base_url.trim_end_matches('/');
        match self {
            WireFormat::Openai => openai::endpoint(base),
            WireFormat::Anthropic => anthropic::endpoint(base),
            WireFormat::Gemini => gemini::endpoint(base, call),
        }
    }

    /// The JSON body of a call.
    pub fn build_body(self, call: &ChatCall) -> Value {
        match self {
            WireFormat::Openai => openai::build_body(call),
            WireFormat::Anthropic => anthropic::build_body(call),
            WireFormat::Gemini => gemini::build_body(call),
        }
    }

    /// The auth headers, marked sensitive so no `Debug` of a request shows them.
    pub fn auth_headers(self, key: &ApiKey) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let (name, value) = match self {
            WireFormat::Openai => ("authorization", format!("Bearer {}", key.expose())),
            WireFormat::Anthropic => ("x-api-key", key.expose().to_string()),
            WireFormat::Gemini => ("x-goog-api-key", key.expose().to_string()),
        };
        if let Ok(mut v) = HeaderValue::from_str(&value) {
            v.set_sensitive(true);
            headers.insert(HeaderName::from_static(name), v);
        }
        headers
    }

    /// Headers every call of the format carries, besides auth.
    pub fn fixed_headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            WireFormat::Anthropic => &[("anthropic-version", anthropic::API_VERSION)],
            _ => &[],
        }
    }

    pub fn parse_response(self, body: &[u8]) -> Result<Completion, ProviderError> {
        match self {
            WireFormat::Openai => openai::parse_response(body),
            WireFormat::Anthropic => anthropic::parse_response(body),
            WireFormat::Gemini => gemini::parse_response(body),
        }
    }

    pub fn stream_parser(self) -> Box<dyn StreamParser> {
        match self {
            WireFormat::Openai => Box::new(openai::StreamState::default()),
            WireFormat::Anthropic => Box::new(anthropic::StreamState::default()),
            WireFormat::Gemini => Box::new(gemini::StreamState::default()),
        }
    }

    pub fn parse_error(self, status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
        match self {
            WireFormat::Openai => openai::parse_error(status, headers, body),
            WireFormat::Anthropic => anthropic::parse_error(status, headers, body),
            WireFormat::Gemini => gemini::parse_error(status, headers, body),
        }
    }
}
