//! `roundtable-app`: the use cases every host (CLI, local HTTP API, desktop) calls.
//! It owns the configuration, the keys and the history, and wires them to the
//! engine in `roundtable-core`.
//!
//! Extending it: a new use case is a method on [`App`] that hosts call in one
//! line; errors cross host boundaries as [`AppError`] (`{code, message}`).

pub mod config;
pub mod keys;

use config::{Config, ResolvedProvider};
use keys::KeySource;
use roundtable_core::{
    Engine, PriceTable, ProviderConfig, ProviderKey, RoundtableRequest, RunEvent, RunOutcome,
    ValidationError,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

pub use roundtable_core as core;

/// An error at the app boundary: a stable `code` hosts may branch on, and a
/// message for people.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: &'static str,
    pub message: String,
    /// For `invalid_request`: the offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError {
            code: "invalid_request",
            message: e.to_string(),
            field: Some(e.field),
        }
    }
}

impl From<config::ConfigError> for AppError {
    fn from(e: config::ConfigError) -> Self {
        AppError::new("config", e.to_string())
    }
}

/// Where the app keeps its files.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// `ROUNDTABLE_HOME`; the platform's data directory when `None`.
    pub home: Option<PathBuf>,
}

/// A provider as the user sees it, with where its key comes from (never the key).
#[derive(Debug, Clone, Serialize)]
pub struct ProviderStatus {
    #[serde(flatten)]
    pub provider: ResolvedProvider,
    pub key_source: KeySource,
    /// The environment variable the key came from, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// `…abcd`, for keys long enough that four characters give nothing away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_hint: Option<String>,
}

pub struct App {
    home: PathBuf,
    config: Config,
    engine: Engine,
    providers: Vec<ProviderStatus>,
}

impl App {
    pub fn open(options: AppOptions) -> Result<App, AppError> {
        let home = options.home.unwrap_or_else(config::default_home);
        let config = Config::load(&home.join("config.toml"))?;
        let mut prices = PriceTable::builtin();
        for file in &config.price_files {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                home.join(file)
            };
            let text = std::fs::read_to_string(&path).map_err(|e| {
                AppError::new("config", format!("price file {}: {e}", path.display()))
            })?;
            prices.merge_litellm_json(&text).map_err(|e| {
                AppError::new(
                    "config",
                    format!(
                        "price file {}: not a LiteLLM price table: {e}",
                        path.display()
                    ),
                )
            })?;
        }
        let mut providers = Vec::new();
        let mut engine_providers = Vec::new();
        for p in config.providers() {
            let (key, status) = Self::resolve_key(&p);
            engine_providers.push(ProviderConfig {
                id: p.id.clone(),
                format: p.format,
                base_url: p.base_url.clone(),
                dialect: p.dialect,
                key,
                headers: p.headers.clone().into_iter().collect(),
                stream: p.stream,
                local: p.local,
            });
            providers.push(ProviderStatus {
                provider: p,
                ..status
            });
        }
        let engine = Engine::new(engine_providers, prices)
            .with_default_summary_model(config.default_summary_model.clone());
        Ok(App {
            home,
            config,
            engine,
            providers,
        })
    }

    fn resolve_key(p: &ResolvedProvider) -> (ProviderKey, ProviderStatus) {
        let status = |key_source, key_env: Option<String>, key_hint| ProviderStatus {
            provider: p.clone(),
            key_source,
            key_env,
            key_hint,
        };
        if let Some((key, var)) = keys::from_env(&p.id) {
            let hint = Some(key.masked_suffix()).filter(|h| h != "…");
            return (
                ProviderKey::Key(key),
                status(KeySource::Environment, Some(var), hint),
            );
        }
        if p.local {
            return (ProviderKey::NotNeeded, status(KeySource::NotNeeded, None, None));
        }
        (
            ProviderKey::Missing {
                hint: keys::hint(&p.id),
            },
            status(KeySource::Missing, None, None),
        )
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn providers(&self) -> &[ProviderStatus] {
        &self.providers
    }

    /// Runs a roundtable: validates it before any provider is called, then runs
    /// the panel and the resolution, sending events to `events` as they happen.
    pub async fn run(
        &self,
        request: RoundtableRequest,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let prepared = self.engine.prepare(request)?;
        Ok(self.engine.execute(prepared, events, cancel).await)
    }
}
