//! The one type that crosses IPC besides the app's own (a run's end, the
//! history's filters, how to resolve a stored run again are the app's): what
//! the UI learns at start. It derives `ts_rs::TS` in tests and is listed in
//! `ipc_types.rs`.

use roundtable_app::AppError;
use serde::Serialize;

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
    /// The most one attached file may hold (`[limits] max_attachment_bytes`),
    /// so the workbench refuses a bigger file before sending it.
    pub max_attachment_bytes: u64,
    /// The most all of a run's attachments may hold together
    /// (`[limits] max_run_attachment_bytes`).
    pub max_run_attachment_bytes: u64,
}
