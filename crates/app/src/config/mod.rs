//! `config.toml` in `ROUNDTABLE_HOME`, and the built-in providers.
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
//! [desktop]                    # the desktop app's own preferences (written by its Settings)
//! theme = "system"             # system | light | dark
//! local_api = false            # start the local API (on [server] port) with the app
//! ```
//!
//! The desktop app rewrites this file with [`crate::prefs`], keeping comments:
//! `edit.rs` is the `toml_edit` writer every such change goes through, and
//! [`mod@file`] replaces the file safely.
//!
//! Extending it: a new entry is a field here (checked in `Config::check`);
//! one that Settings changes gets an `edit_*` beside its use case, written
//! with `edit.rs`.

pub(crate) mod edit;
pub mod file;
mod provider_id;

use roundtable_core::WireFormat;
use roundtable_core::providers::Dialect;
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
}

/// `[limits]`: how much of a provider's answer is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_answer_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_answer_bytes: roundtable_core::providers::client::DEFAULT_MAX_ANSWER_BYTES,
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

/// A provider's settings in `config.toml`; for a built-in every field is optional.
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

/// A built-in provider.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub id: &'static str,
    pub name: &'static str,
    pub format: WireFormat,
    pub base_url: &'static str,
    pub dialect: Dialect,
    pub local: bool,
}

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        id: "openai",
        name: "OpenAI",
        format: WireFormat::Openai,
        base_url: "https://api.openai.com/v1",
        dialect: Dialect::Native,
        local: false,
    },
    Builtin {
        id: "anthropic",
        name: "Anthropic",
        format: WireFormat::Anthropic,
        base_url: "https://api.anthropic.com",
        dialect: Dialect::Native,
        local: false,
    },
    Builtin {
        id: "gemini",
        name: "Google Gemini",
        format: WireFormat::Gemini,
        base_url: "https://generativelanguage.googleapis.com/v1beta",
        dialect: Dialect::Native,
        local: false,
    },
    Builtin {
        id: "ollama",
        name: "Ollama",
        format: WireFormat::Openai,
        base_url: "http://127.0.0.1:11434/v1",
        dialect: Dialect::Compatible,
        local: true,
    },
    Builtin {
        id: "lmstudio",
        name: "LM Studio",
        format: WireFormat::Openai,
        base_url: "http://127.0.0.1:1234/v1",
        dialect: Dialect::Compatible,
        local: true,
    },
    Builtin {
        id: "openrouter",
        name: "OpenRouter",
        format: WireFormat::Openai,
        base_url: "https://openrouter.ai/api/v1",
        dialect: Dialect::Compatible,
        local: false,
    },
    Builtin {
        id: "groq",
        name: "Groq",
        format: WireFormat::Openai,
        base_url: "https://api.groq.com/openai/v1",
        dialect: Dialect::Compatible,
        local: false,
    },
    Builtin {
        id: "mistral",
        name: "Mistral",
        format: WireFormat::Openai,
        base_url: "https://api.mistral.ai/v1",
        dialect: Dialect::Compatible,
        local: false,
    },
    Builtin {
        id: "deepseek",
        name: "DeepSeek",
        format: WireFormat::Openai,
        base_url: "https://api.deepseek.com/v1",
        dialect: Dialect::Compatible,
        local: false,
    },
    Builtin {
        id: "xai",
        name: "xAI",
        format: WireFormat::Openai,
        base_url: "https://api.x.ai/v1",
        dialect: Dialect::Compatible,
        local: false,
    },
];

pub fn builtin(id: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.id == id)
}

/// A provider with its settings resolved (built-in defaults, then config).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResolvedProvider {
    pub id: String,
    pub name: String,
    pub format: WireFormat,
    pub base_url: String,
    pub dialect: Dialect,
    /// Extra request headers. Their values may be credentials (a gateway's
    /// `Authorization`), so only their names are ever serialised.
    #[serde(rename = "header_names", serialize_with = "header_names")]
    #[cfg_attr(feature = "ts", ts(rename = "header_names", as = "Vec<String>"))]
    pub headers: BTreeMap<String, String>,
    pub stream: bool,
    pub local: bool,
    /// Calls at once, as configured; `None`: the engine's default (see
    /// `roundtable_core::slots`).
    pub max_concurrency: Option<usize>,
    pub builtin: bool,
}

fn header_names<S: serde::Serializer>(
    headers: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(headers.keys())
}

/// Whether a base URL points at this machine.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
        if self.server.port == 0 {
            return Err("server.port: must be between 1 and 65535".into());
        }
        if self.limits.max_answer_bytes < 1024 {
            return Err("limits.max_answer_bytes: must be at least 1024".into());
        }
        let ids: Vec<&str> = BUILTINS
            .iter()
            .map(|b| b.id)
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
    pub fn providers(&self) -> Vec<ResolvedProvider> {
        let mut out: Vec<ResolvedProvider> = BUILTINS
            .iter()
            .map(|b| {
                let entry = self.providers.get(b.id).cloned().unwrap_or_default();
                let base_url = entry
                    .base_url
                    .clone()
                    .unwrap_or_else(|| b.base_url.to_string());
                ResolvedProvider {
                    id: b.id.to_string(),
                    name: b.name.to_string(),
                    format: entry.format.unwrap_or(b.format),
                    dialect: dialect_for(b.dialect, &entry),
                    local: entry.local.unwrap_or(b.local),
                    max_concurrency: entry.max_concurrency,
                    base_url,
                    headers: entry.headers,
                    stream: entry.stream.unwrap_or(true),
                    builtin: true,
                }
            })
            .collect();
        for (id, entry) in &self.providers {
            if builtin(id).is_some() {
                continue;
            }
            let base_url = entry.base_url.clone().unwrap_or_default();
            out.push(ResolvedProvider {
                id: id.clone(),
                name: id.clone(),
                format: entry.format.unwrap_or(WireFormat::Openai),
                dialect: dialect_for(Dialect::Compatible, entry),
                local: entry.local.unwrap_or_else(|| is_loopback_url(&base_url)),
                max_concurrency: entry.max_concurrency,
                base_url,
                headers: entry.headers.clone(),
                stream: entry.stream.unwrap_or(true),
                builtin: false,
            });
        }
        out
    }
}

fn dialect_for(default: Dialect, entry: &ProviderEntry) -> Dialect {
    match entry.json_mode_only {
        Some(true) => Dialect::CompatibleJsonMode,
        _ => default,
    }
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
