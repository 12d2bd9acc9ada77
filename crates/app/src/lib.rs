//! `roundtable-app`: the use cases every host (CLI, local HTTP API, desktop) calls.
//! It owns the configuration, the keys and the history, and wires them to the
//! engine in `roundtable-core`: a run is validated, recorded as running before any
//! provider is called, recorded answer by answer as they arrive, and finished.
//!
//! Where things are: one use case (or a few of one kind) a file, each an
//! `impl App` block over the state this file holds.
//!
//! | file | what |
//! |---|---|
//! | `error.rs` | [`AppError`], what every use case returns |
//! | `providers.rs` | the configured providers and the engine over them |
//! | `key_status.rs`, `keys.rs` | where each key comes from ([`ProviderStatus`]), setting and deleting keys; the keychains |
//! | `runs/` | run, rerun, re-resolve, recording them as they happen, the host's [`RunSink`] |
//! | `attachments.rs` | files read from disk for a prompt ([`App::attach_files`]); a stored file with its bytes |
//! | `votes.rs`, `judge.rs`, `leaderboard/` | a person's vote on a run; a judge model's ranking of one; the private leaderboard (Bradley–Terry) from either |
//! | `estimate.rs` | a run's cost before it starts, and its `max_cost` checked against it |
//! | `budget.rs`, `spend.rs` | the daily and monthly budget (`[budget]`, refusing a run past it); where the money went ([`App::spend_stats`]) |
//! | `prices.rs` | a LiteLLM-format price file imported (`price_files`), pricing the next runs |
//! | `history.rs` | listing and searching ([`HistoryQuery`]), starring, tagging, export and import |
//! | `prefs.rs`, `custom_providers.rs`, `provider_limits.rs` | what Settings changes in `config.toml` |
//! | `config/` | `config.toml` as read, its `toml_edit` writer, replacing the file safely |
//! | `api_token.rs`, `local_servers.rs` | the local API's token; local servers (Ollama, LM Studio) found |
//!
//! Extending it: a new use case is a method on [`App`], in a file of its own
//! when it is more than a few lines, that hosts call in one line; errors cross
//! host boundaries as [`AppError`] (`{code, message}`).

pub mod api_token;
mod attachments;
pub mod budget;
pub mod config;
mod custom_providers;
mod error;
mod estimate;
mod history;
mod judge;
mod key_status;
pub mod keys;
pub mod leaderboard;
pub mod local_servers;
pub mod prefs;
mod prices;
pub mod provider_limits;
mod providers;
mod runs;
mod spend;
#[cfg(test)]
mod testing;
mod votes;

pub use budget::{BudgetConfig, BudgetPeriod, BudgetState, BudgetStatus};
pub use custom_providers::CustomProvider;
pub use error::{AppError, Code};
pub use history::{ExportFormat, HistoryQuery};
pub use key_status::ProviderStatus;
pub use leaderboard::{Leaderboard, LeaderboardQuery, LeaderboardRow};
pub use prices::PriceImport;
pub use runs::{Mergeable, Merging, Reresolve, RunSink};
pub use votes::RunVerdicts;

use config::Config;
use key_status::CachedKey;
use keys::{OsKeychain, SecretStore};
use providers::Providers;
use roundtable_core::{Engine, PriceTable};
use roundtable_store::Store;
use runs::recorder::Recorder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

pub use roundtable_core as core;
pub use roundtable_store as store;

/// How the app is opened.
#[derive(Clone, Default)]
pub struct AppOptions {
    /// `ROUNDTABLE_HOME`; the platform's data directory when `None`.
    pub home: Option<PathBuf>,
    /// Where keys are kept; the OS keychain when `None`.
    pub keychain: Option<Arc<dyn SecretStore>>,
}

pub struct App {
    home: PathBuf,
    config: Config,
    /// Replaced whole when Settings adds or removes a provider (see
    /// [`App::save_provider`]); a run keeps the set it started with.
    providers: RwLock<Arc<Providers>>,
    /// The summary model of a run that names none: `config.toml`'s, as last
    /// saved by [`App::save_prefs`] (the desktop's local API serves this same
    /// `App`, so a change in Settings reaches its next run).
    default_summary_model: RwLock<Option<String>>,
    keychain: Arc<dyn SecretStore>,
    keys: Mutex<HashMap<String, CachedKey>>,
    store: Arc<Mutex<Store>>,
    /// Records runs as they happen; see `runs/recorder.rs`.
    recorder: Recorder,
    /// The local API's token, loaded once (see [`api_token`]).
    api_token: std::sync::OnceLock<api_token::ApiToken>,
}

impl App {
    /// Opens the app at its home: reads `config.toml` and the price files, opens
    /// the history (marking runs of dead processes interrupted).
    pub fn open(options: AppOptions) -> Result<App, AppError> {
        let home = options.home.unwrap_or_else(config::default_home);
        let config = Config::load(&home.join("config.toml"))?;
        let prices = Self::load_prices(&home, &config)?;
        let list = config.providers();
        let engine = Engine::new(list.clone(), prices).with_limits(config.limits.engine());
        let default_summary_model = config.default_summary_model.clone();
        let store = Store::open(&home.join("history.db"))?;
        let recovered = store.recover_interrupted()?;
        if !recovered.is_empty() {
            tracing::info!(runs = ?recovered, "marked runs of ended processes as interrupted");
        }
        let store = Arc::new(Mutex::new(store));
        let recorder = Recorder::start(store.clone()).map_err(|e| {
            AppError::new(
                Code::Storage,
                format!("could not start the history writer: {e}"),
            )
        })?;
        Ok(App {
            home,
            config,
            providers: RwLock::new(Arc::new(Providers { list, engine })),
            default_summary_model: RwLock::new(default_summary_model),
            keychain: options.keychain.unwrap_or_else(|| Arc::new(OsKeychain)),
            keys: Mutex::new(HashMap::new()),
            store,
            recorder,
            api_token: std::sync::OnceLock::new(),
        })
    }

    pub(crate) fn load_prices(home: &Path, config: &Config) -> Result<PriceTable, AppError> {
        let mut prices = PriceTable::builtin();
        for file in &config.price_files {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                home.join(file)
            };
            let text = std::fs::read_to_string(&path).map_err(|e| {
                AppError::new(Code::Config, format!("price file {}: {e}", path.display()))
            })?;
            prices.merge_litellm_json(&text).map_err(|e| {
                AppError::new(
                    Code::Config,
                    format!(
                        "price file {}: not a LiteLLM price table: {e}",
                        path.display()
                    ),
                )
            })?;
        }
        Ok(prices)
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The summary model of a run that names none, as last saved (see
    /// [`App::save_prefs`]); `config()` keeps the one read at open.
    pub fn default_summary_model(&self) -> Option<String> {
        self.default_summary_model
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite half-written: each
        // write is its own transaction.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}
