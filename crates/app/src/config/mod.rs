//! `config.toml` in `ROUNDTABLE_HOME`: what it holds, what is refused, and the
//! providers it resolves to (the built-ins of `roundtable_core::provider`, with
//! the user's overrides, then the user's own).
//!
//! ```toml
//! default_summary_model = "openai/gpt-4.1-mini"   # optional
//! default_models = ["openai/gpt-4.1-mini", "ollama/llama3.2"]   # the panel when none is given
//! price_files = ["my-prices.json"]   # LiteLLM-format price tables, relative to ROUNDTABLE_HOME
//!
//! [providers.myllm]            # a new provider, or a built-in's id to override it
//! format = "openai"            # openai | anthropic | gemini
//! base_url = "http://127.0.0.1:1234/v1"
//! headers = { "X-Title" = "roundtable" }   # optional
//! stream = true                # optional, default true
//! json_mode_only = false       # optional: the server knows JSON mode but not JSON Schema
//! local = true                 # optional: no key needed, free (default: a loopback base_url)
//! max_concurrency = 1          # optional: calls at once, the rest wait their turn (default:
//!                              # none for a remote API; a local server's own word, else 1)
//!
//! [limits]
//! max_answer_bytes = 8388608   # the most of one answer read from a provider (8 MiB)
//!
//! [server]
//! port = 8787                  # `roundtable serve`, and the local API started by the desktop app
//!
//! [budget]                     # spend limits, the history's own sum (see crate::budget)
//! daily_usd = 5.0              # optional: USD a local day
//! monthly_usd = 50.0           # optional: USD a calendar month
//! soft = false                 # true: past a limit warns instead of refusing a run
//!
//! [desktop]                    # the desktop app's own preferences (written by its Settings)
//! theme = "system"             # system | light | dark
//! local_api = false            # start the local API (on [server] port) with the app
//! ```
//!
//! The desktop app rewrites this file with [`crate::prefs`], keeping comments:
//! `edit.rs` is the `toml_edit` writer every such change goes through, and
//! [`mod@file`] replaces the file safely.
//!
//! Each rule lives once: a port in [`check_port`], the default panel in
//! [`check_default_panel`] (with core's rule for a model name), a provider id in
//! `provider_id.rs`; the use cases that take the same values from Settings call
//! them.
//!
//! Extending it: a new entry is a field here (checked in `Config::check`);
//! one that Settings changes gets an `edit_*` beside its use case, written
//! with `edit.rs`.

pub(crate) mod edit;
pub mod file;
mod provider_id;

use roundtable_core::attachments::AttachmentLimits;
use roundtable_core::provider::{Provider, builtin, builtins};
use roundtable_core::providers::Dialect;
use roundtable_core::providers::client::Limits;
use roundtable_core::validate::check_model_name;
use roundtable_core::{ValidationError, WireFormat};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use provider_id::{check_provider_id, is_valid_provider_id};

/// The most calls at once `max_concurrency` may allow.
pub const MAX_CONCURRENCY_LIMIT: usize = 1024;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_summary_model: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_models: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_files: Vec<PathBuf>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, ProviderEntry>,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub desktop: DesktopConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub budget: crate::budget::BudgetConfig,
}

/// `[limits]`: how much of a provider's answer is read, and how much a run
/// may attach (per file, and all of a run's files together).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_answer_bytes: usize,
    pub max_attachment_bytes: u64,
    pub max_run_attachment_bytes: u64,
    /// A follow-up's files with its earlier turns' (sent again): how many.
    pub max_thread_attachments: usize,
    /// … and how many bytes in all.
    pub max_thread_attachment_bytes: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let attachments = AttachmentLimits::default();
        LimitsConfig {
            max_answer_bytes: roundtable_core::providers::client::DEFAULT_MAX_ANSWER_BYTES,
            max_attachment_bytes: attachments.max_file_bytes,
            max_run_attachment_bytes: attachments.max_run_bytes,
            max_thread_attachments: attachments.max_thread_files,
            max_thread_attachment_bytes: attachments.max_thread_bytes,
        }
    }
}

impl LimitsConfig {
    /// The engine's limits.
    pub fn engine(&self) -> Limits {
        Limits {
            max_answer_bytes: self.max_answer_bytes,
            attachments: AttachmentLimits {
                max_file_bytes: self.max_attachment_bytes,
                max_run_bytes: self.max_run_attachment_bytes,
                max_thread_files: self.max_thread_attachments,
                max_thread_bytes: self.max_thread_attachment_bytes,
            },
        }
    }
}

/// The desktop app's theme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the system's light or dark setting.
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// `[desktop]`: the desktop app's preferences.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DesktopConfig {
    pub theme: Theme,
    /// Start the local API (on `[server] port`) with the app.
    pub local_api: bool,
}

/// `[providers.ID]` as written in `config.toml`: a provider of the user's own,
/// or overrides of a built-in's settings (then every field is optional).
/// [`Config::providers`] resolves it into a [`Provider`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<WireFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_mode_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub port: u16,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most models accepted in one request.
    pub max_models: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: 8787,
            max_body_bytes: 2 * 1024 * 1024,
            max_models: 64,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads `config.toml`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Config::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses and checks the text of a `config.toml`.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        check_port(self.server.port).map_err(|e| e.to_string())?;
        self.budget.check().map_err(|e| e.to_string())?;
        if self.limits.max_answer_bytes < 1024 {
            return Err("limits.max_answer_bytes: must be at least 1024".into());
        }
        let ids: Vec<&str> = builtins()
            .iter()
            .map(|b| b.id.as_str())
            .chain(self.providers.keys().map(String::as_str))
            .collect();
        for (id, entry) in &self.providers {
            check_provider_id(id, ids.iter().copied())
                .map_err(|message| format!("providers.{id}: {message}"))?;
            if entry.max_concurrency == Some(0) {
                return Err(format!(
                    "providers.{id}.max_concurrency: must be at least 1 (leave it out for the default)"
                ));
            }
            if entry.max_concurrency > Some(MAX_CONCURRENCY_LIMIT) {
                return Err(format!(
                    "providers.{id}.max_concurrency: must be at most {MAX_CONCURRENCY_LIMIT}"
                ));
            }
            if builtin(id).is_none() {
                if entry.format.is_none() {
                    return Err(format!(
                        "providers.{id}.format is required for a new provider (openai, anthropic or gemini)"
                    ));
                }
                if entry.base_url.is_none() {
                    return Err(format!(
                        "providers.{id}.base_url is required for a new provider"
                    ));
                }
            }
            if let Some(url) = &entry.base_url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(format!(
                    "providers.{id}.base_url: '{url}' must start with http:// or https://"
                ));
            }
        }
        Ok(())
    }

    /// Every provider: the built-ins (with any override), then the user's own.
    pub fn providers(&self) -> Vec<Provider> {
        let mut out: Vec<Provider> = builtins()
            .iter()
            .map(|b| match self.providers.get(&b.id) {
                Some(entry) => entry.apply(b.clone()),
                None => b.clone(),
            })
            .collect();
        for (id, entry) in &self.providers {
            if builtin(id).is_some() {
                continue;
            }
            let format = entry.format.unwrap_or(WireFormat::Openai);
            let base_url = entry.base_url.clone().unwrap_or_default();
            out.push(entry.apply(Provider::new(id.as_str(), format, base_url)));
        }
        out
    }
}

impl ProviderEntry {
    /// `provider` with this entry's settings over its own.
    fn apply(&self, provider: Provider) -> Provider {
        Provider {
            format: self.format.unwrap_or(provider.format),
            base_url: self.base_url.clone().unwrap_or(provider.base_url),
            dialect: match self.json_mode_only {
                Some(true) => Dialect::CompatibleJsonMode,
                _ => provider.dialect,
            },
            headers: self.headers.clone(),
            stream: self.stream.unwrap_or(true),
            local: self.local.unwrap_or(provider.local),
            max_concurrency: self.max_concurrency,
            ..provider
        }
    }
}

/// The rule for a port (`[server] port`, the local API's port in Settings).
pub fn check_port(port: u16) -> Result<(), ValidationError> {
    if port == 0 {
        return Err(ValidationError::new(
            "server.port",
            "must be between 1 and 65535",
        ));
    }
    Ok(())
}

/// The rule for the default panel and summary model (`default_models`,
/// `default_summary_model`): each a model name of a known provider (core's
/// [`check_model_name`]), the error naming the entry.
pub fn check_default_panel(
    models: &[String],
    summary_model: Option<&str>,
    is_known_provider: &dyn Fn(&str) -> bool,
) -> Result<(), ValidationError> {
    for (i, name) in models.iter().enumerate() {
        check_model_name(name, &format!("default_models[{i}]"), is_known_provider)?;
    }
    if let Some(name) = summary_model {
        check_model_name(name, "default_summary_model", is_known_provider)?;
    }
    Ok(())
}

/// `ROUNDTABLE_HOME`, else the platform's data directory.
pub fn default_home() -> PathBuf {
    if let Some(home) = std::env::var_os("ROUNDTABLE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("roundtable")
}

#[cfg(test)]
mod tests;
