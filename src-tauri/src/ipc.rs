//! The types that cross IPC besides the app's own: a run's end, the history's
//! filters, how to resolve a stored run again, what the UI learns at start.
//! Each derives `ts_rs::TS` in tests and is listed in `ipc_types.rs`.

use roundtable_app::AppError;
use roundtable_app::core::{Resolution, RoundtableResponse, RunStatus};
use serde::{Deserialize, Serialize};

/// A run's end: the whole response and how it ended.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RunResult {
    pub response: RoundtableResponse,
    pub status: RunStatus,
}

/// The history list's filters; `text` searches the full text.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct HistoryQuery {
    pub text: Option<String>,
    pub model: Option<String>,
    pub status: Option<RunStatus>,
    pub starred: Option<bool>,
    pub tag: Option<String>,
    /// Runs created at or after this time (unix ms).
    pub since_ms: Option<i64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

impl HistoryQuery {
    pub fn list_query(&self) -> roundtable_app::store::ListQuery {
        roundtable_app::store::ListQuery {
            limit: self.limit.unwrap_or(100) as usize,
            offset: self.offset.unwrap_or(0) as usize,
            status: self.status,
            starred: self.starred,
            model: self.model.clone().filter(|m| !m.trim().is_empty()),
            tag: self.tag.clone().filter(|t| !t.trim().is_empty()),
            since_ms: self.since_ms,
            ..Default::default()
        }
    }

    /// The search text, when there is one.
    pub fn text(&self) -> Option<&str> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

/// How to resolve a stored run again.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct ResolveArgs {
    pub resolution: Resolution,
    pub summary_model: Option<String>,
    pub choices: Option<Vec<String>>,
}

impl From<ResolveArgs> for roundtable_app::Reresolve {
    fn from(a: ResolveArgs) -> Self {
        roundtable_app::Reresolve {
            resolution: a.resolution,
            summary_model: a.summary_model,
            choices: a.choices,
        }
    }
}

/// What the UI needs to know about the app at start.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppInfo {
    pub version: String,
    /// `ROUNDTABLE_HOME`.
    pub home: String,
    /// Why the app could not open (a bad `config.toml`), when it could not.
    pub open_error: Option<AppError>,
    /// The port `roundtable serve` listens on (`[server] port` in config.toml).
    pub server_port: u16,
    pub default_models: Vec<String>,
    pub default_summary_model: Option<String>,
}
