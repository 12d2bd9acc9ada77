//! What a client gets back: the response, its meta, each model's result and
//! its token usage. Field names are exactly the contract's; extensions are marked.

use super::Resolution;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Token counts of one call. `input_tokens` counts every prompt token, cached ones
/// included (`cache_read_tokens` and the cache writes are parts of it), and
/// `output_tokens` counts every generated token, reasoning included
/// (`reasoning_tokens` is part of it), whatever the provider's own convention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_read_tokens: u64,
    /// Cache writes at the default (5-minute) lifetime.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_creation_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_creation_1h_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub input_audio_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub output_audio_tokens: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub web_search_requests: u64,
    /// Web fetches a server tool made (Anthropic's `server_tool_use`); 0 from
    /// providers that report none. Always sent, as the contract lists it.
    #[serde(default)]
    pub web_fetch_requests: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The key of [`Usage::extra`] set to `true` when the counts are an estimate:
/// the provider reported no usage (local servers often do not when streaming).
pub const USAGE_ESTIMATED: &str = "estimated";

impl Usage {
    /// Counts estimated from the text sent and received (about four characters
    /// a token), marked as such.
    pub fn estimated(input: &[&str], output: &[&str]) -> Usage {
        let tokens = |parts: &[&str]| {
            let chars: usize = parts.iter().map(|p| p.chars().count()).sum();
            chars.div_ceil(4) as u64
        };
        let mut usage = Usage {
            input_tokens: tokens(input),
            output_tokens: tokens(output),
            ..Usage::default()
        };
        usage
            .extra
            .insert(USAGE_ESTIMATED.into(), Value::Bool(true));
        usage
    }

    /// Whether the counts are an estimate rather than the provider's.
    pub fn is_estimated(&self) -> bool {
        self.extra.get(USAGE_ESTIMATED) == Some(&Value::Bool(true))
    }

    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_creation_tokens += other.cache_creation_tokens;
        self.cache_creation_1h_tokens += other.cache_creation_1h_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.input_audio_tokens += other.input_audio_tokens;
        self.output_audio_tokens += other.output_audio_tokens;
        self.web_search_requests += other.web_search_requests;
        self.web_fetch_requests += other.web_fetch_requests;
    }
}

/// One model's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelResult {
    /// Position in the request's `models` (as expanded for `samples`: the
    /// stored request is the expanded one).
    pub index: usize,
    pub model: String,
    /// Extension: which sample of its model entry this result is (1-based),
    /// when the entry asked for more than one (`samples`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u32>,
    /// The answer; when the model failed or was cancelled, what had arrived of
    /// it before (often `""`).
    pub data: String,
    /// From when the call started, after any wait for a slot (`queued_ms`).
    pub duration_ms: u64,
    /// Extension: how long the model waited for a free slot of its provider
    /// before its call started; absent when it did not wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_ms: Option<u64>,
    #[serde(default)]
    pub cost: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub usage: Usage,
    /// Extension: whether `data` validates against `output_schema`, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_valid: Option<bool>,
    /// Extension: why `data` is not valid against `output_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_error: Option<String>,
    /// Extension: `true` when the server refused JSON Schema output and JSON mode
    /// with the schema in the prompt was used instead (remembered for the
    /// provider for the life of the process); the answer is validated as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_fallback: Option<bool>,
    /// Extension: the model's reasoning / thinking text, kept apart from `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Extension: how many attempts the call took (1 when it was not retried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Extension (multiple_choice): the choice this answer was counted for; absent
    /// when the answer matched no choice (an off-list answer counts for nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<String>,
    /// Extension: how the call ended (answered, failed, cancelled, timed out,
    /// missing key, refused); absent in runs stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ModelOutcome>,
    /// Extension (a follow-up in `own` context): the earlier turns (1-based)
    /// where this model had no answer of its own, so it was sent the turn's
    /// resolved answer instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_resolved: Option<Vec<u32>>,
    /// Extension (multiple_choice): how `vote` was read from the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_read: Option<VoteRead>,
}

/// How a multiple-choice vote was read from an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum VoteRead {
    /// Structured output: `{"choice": …}` among the choices.
    Structured,
    /// The answer was a choice (or its letter), give or take quotes and case.
    Answer,
    /// Prose that names exactly one of the choices.
    Prose,
}

impl VoteRead {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteRead::Structured => "structured output",
            VoteRead::Answer => "the answer",
            VoteRead::Prose => "prose",
        }
    }
}

impl ModelResult {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// How the call ended: `outcome` when recorded, else read from `error` (a
    /// run stored before outcomes were typed).
    pub fn ended(&self) -> ModelOutcome {
        match (self.outcome, self.error.as_deref()) {
            (Some(o), _) => o,
            (None, None) => ModelOutcome::Answered,
            (None, Some("cancelled")) => ModelOutcome::Cancelled,
            (None, Some(_)) => ModelOutcome::Failed,
        }
    }
}

/// How a model's call ended, for hosts to branch on (the `error` says why in
/// words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ModelOutcome {
    Answered,
    /// The provider's error, a broken stream, a limit passed, an empty answer.
    Failed,
    /// The run was cancelled; what had arrived is kept.
    Cancelled,
    /// The model's `timeout_ms` passed, its retries included.
    TimedOut,
    /// The provider needs a key and has none: set one in Settings or the keychain.
    MissingKey,
    /// The model declined to answer.
    Refused,
    /// Stopped when the run's running cost reached its `max_cost`; what had
    /// arrived is kept.
    BudgetExceeded,
    /// Not called: the model is known not to take an attachment of the run
    /// (a kind it does not read, or over its provider's limit); `error` names it.
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Meta {
    pub resolution: Resolution,
    /// Models that returned an answer.
    pub models_used: Vec<String>,
    /// USD: every model call plus the consolidation.
    pub total_cost: f64,
    pub total_duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace_uuid: String,
    /// Extension (multiple_choice): votes per choice, every choice listed, in the
    /// order of `choices`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<IndexMap<String, u32>>,
    /// Extension: why the consolidation failed, when it did (`data` is then "").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_error: Option<String>,
    /// Extension: the consolidation's thinking text, when the summary model reasoned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_thinking: Option<String>,
    /// Extension: `data` validated against `output_schema`, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_valid: Option<bool>,
    /// Extension: where the answers agree, computed from them without a model
    /// call ([`crate::agreement`]); absent when fewer than two models answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Box<crate::agreement::Agreement>>,
    /// Extension (`consensus`): the claims the answers make, and each one's stance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Box<crate::resolution::claims::ClaimMatrix>>,
    /// Extension (`consensus`): why there is no claims matrix, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoundtableResponse {
    /// `rt_` plus a unique suffix; also the run's history id.
    pub id: String,
    /// The resolved answer; a JSON text with `output_schema`; `null` in fast mode.
    pub data: Option<String>,
    pub meta: Meta,
    pub model_results: Vec<ModelResult>,
}
