//! The roundtable contract (`shared/roundtable-api.md`): request, model spec, response,
//! meta, model result, usage, stream chunk and error. Field names are exactly the
//! contract's; fields marked *extension* are ours and additive.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// How the answers are resolved into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    #[default]
    Summary,
    Fast,
    MultipleChoice,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Summary => "summary",
            Resolution::Fast => "fast",
            Resolution::MultipleChoice => "multiple_choice",
        }
    }
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Resolution {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "summary" => Ok(Resolution::Summary),
            "fast" => Ok(Resolution::Fast),
            "multiple_choice" => Ok(Resolution::MultipleChoice),
            other => Err(format!(
                "unknown resolution '{other}': expected summary, fast or multiple_choice"
            )),
        }
    }
}

/// A model of the panel. The same model may appear several times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelSpec {
    /// `provider/model`, e.g. `openai/gpt-4.1-mini`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// `low`, `medium`, `high` or `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Extension: how many times to call this model (1 to [`MAX_SAMPLES`],
    /// default 1), each call its own model result: self-consistency under
    /// multiple choice, Self-MoA under summary. The engine expands the entry
    /// into that many entries at prepare time (see [`expand_samples`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
    /// Extension, set by the engine on an entry expanded from `samples`: which
    /// sample of its entry it is (1-based); its result carries the same number.
    /// A host need not send it (a stored run's request has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u32>,
}

/// The most samples one model entry may ask for.
pub const MAX_SAMPLES: u32 = 32;

impl ModelSpec {
    pub fn named(name: impl Into<String>) -> Self {
        ModelSpec {
            name: name.into(),
            ..Default::default()
        }
    }

    /// How many calls this entry makes: `samples`, else 1.
    pub fn samples(&self) -> u32 {
        self.samples.unwrap_or(1)
    }
}

/// The panel with each entry that asks for N > 1 `samples` replaced by N copies
/// of it, numbered by `sample` (1 to N) and without `samples`; other entries are
/// kept as they are, so expanding twice changes nothing.
pub fn expand_samples(models: &[ModelSpec]) -> Vec<ModelSpec> {
    let mut out = Vec::with_capacity(models.len());
    for spec in models {
        match spec.samples() {
            n if n > 1 => out.extend((1..=n).map(|k| ModelSpec {
                samples: None,
                sample: Some(k),
                ..spec.clone()
            })),
            _ => out.push(spec.clone()),
        }
    }
    out
}

/// The ensemble call. Unknown fields are tolerated (and ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoundtableRequest {
    pub input: String,
    pub models: Vec<ModelSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Extension (summary resolution): also ask the summary model for the claims
    /// the answers make and each answer's stance on them (`meta.claims`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<bool>,
    /// Extension: the most this run may cost (USD). Refused before any call when
    /// the estimate's worst case is over it (unless `confirm_cost`); while it
    /// streams, the models still running are stopped once its cost reaches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
    /// Extension: start even though the estimate's worst case is over `max_cost`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_cost: Option<bool>,
    /// Extension (the local API): answer with the run's cost estimate and call no one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

pub const DEFAULT_MAX_RETRIES: u32 = 1;
pub const MAX_MAX_RETRIES: u32 = 3;
pub const DEFAULT_TIMEOUT_MS: u64 = 120_000;
pub const MAX_TIMEOUT_MS: u64 = 300_000;

impl RoundtableRequest {
    /// How many model calls the panel makes, every sample counted (a `samples`
    /// value out of 1 to [`MAX_SAMPLES`] counts as 1: validation refuses it).
    pub fn panel_size(&self) -> usize {
        self.models
            .iter()
            .map(|m| match m.samples() {
                n @ 1..=MAX_SAMPLES => n as usize,
                _ => 1,
            })
            .sum()
    }
    pub fn resolution(&self) -> Resolution {
        self.resolution.unwrap_or_default()
    }
    pub fn max_retries(&self) -> u32 {
        self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES)
    }
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS)
    }
}

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

/// One server-sent event of a streamed call. See the README for the `type` values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StreamChunk {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_index: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Extension: the whole response, on the final `done` chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Box<RoundtableResponse>>,
    /// Extension: the run id, on every chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// Where a run stands; kept with it in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Recorded before any provider is called; answers arrive one by one.
    Running,
    /// Resolved: at least one model answered.
    Completed,
    /// No model answered (each model's failure is in its result).
    Failed,
    /// Cancelled, or its process died before the end; what had arrived is kept.
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(RunStatus::Running),
            "completed" => Ok(RunStatus::Completed),
            "failed" => Ok(RunStatus::Failed),
            "interrupted" => Ok(RunStatus::Interrupted),
            other => Err(format!(
                "unknown status '{other}': expected running, completed, failed or interrupted"
            )),
        }
    }
}
