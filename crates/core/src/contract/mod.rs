//! The roundtable contract (`shared/roundtable-api.md`): request, model spec, response,
//! meta, model result, usage, stream chunk and error. Field names are exactly the
//! contract's; fields marked *extension* are ours and additive.
//!
//! `request.rs` holds what a client sends (the request, a model of the panel,
//! samples), `response.rs` what it gets back (the response, meta, each model's
//! result and usage); this file what both share (the resolution, a run's
//! status) and the stream's chunks and errors. A new extension field goes in
//! the struct it extends, `#[serde(default, skip_serializing_if = …)]`, with
//! a doc comment saying it is an extension.

mod request;
mod response;

pub use request::*;
pub use response::*;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
