//! What a client sends: the request and the models of its panel (with their
//! samples). Field names are exactly the contract's; extensions are marked.

use super::Resolution;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Extension: files sent with `input` to every model of the panel (images,
    /// PDFs, text files); see [`crate::attachments`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Extension: this run follows up the run with this id (in the host's
    /// history): each model is sent the conversation so far (see
    /// [`crate::thread`]). An unknown id is refused naming the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<String>,
    /// Extension (with `previous_id`): which earlier answers each model is
    /// sent, its `own` (the default) or the `resolved` ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<crate::thread::Context>,
}

/// Extension: a file sent with the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attachment {
    /// The file's name, as shown and as sent (text files are fenced under it).
    pub name: String,
    /// `image/png`, `image/jpeg`, `image/webp`, `image/gif`, `application/pdf`,
    /// or a text type (`text/*`, `application/json`, …).
    pub media_type: String,
    /// The bytes, base64 (standard alphabet, padded). Empty in a request read
    /// back from the history, which keeps the bytes apart under `sha256`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
    /// The bytes' SHA-256 (hex), set by the history when it stores them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The size in bytes, set by the history when it stores them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: Option<u64>,
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
