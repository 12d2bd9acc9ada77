//! `roundtable-app`: the use cases every host (CLI, local HTTP API, desktop) calls.
//! It owns the configuration, the keys and the history, and wires them to the
//! engine in `roundtable-core`: a run is validated, recorded as running before any
//! provider is called, recorded answer by answer as they arrive, and finished.
//!
//! Extending it: a new use case is a method on [`App`] that hosts call in one
//! line; errors cross host boundaries as [`AppError`] (`{code, message}`).

pub mod api_token;
pub mod config;
pub mod config_file;
pub mod keys;
pub mod local_servers;
pub mod prefs;
mod provider_id;
pub mod provider_limits;
mod recorder;

use config::{Config, ResolvedProvider};
use keys::{KeySource, KeychainError, OsKeychain, SecretStore};
use recorder::Recorder;
use roundtable_core::engine::PreparedRun;
use roundtable_core::providers::client::Limits;
use roundtable_core::validate::split_model_name;
use roundtable_core::{
    ApiKey, Engine, PriceTable, ProviderConfig, ProviderKey, Resolution, RoundtableRequest,
    RunEvent, RunOutcome, ValidationError,
};
use roundtable_store::{ListQuery, NewRun, ParentKind, RunSummary, RunWrite, Store, StoredRun};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

pub use roundtable_core as core;
pub use roundtable_store as store;

/// An error at the app boundary: a stable `code` hosts may branch on, and a
/// message for people.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{message}")]
pub struct AppError {
    /// `invalid_request`, `not_found`, `config`, `storage`, `keychain`, `unknown_provider`.
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

    fn not_found(id: &str) -> Self {
        AppError::new(
            "not_found",
            format!("no run {id} in the history (see `roundtable history list`)"),
        )
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

impl From<roundtable_store::Error> for AppError {
    fn from(e: roundtable_store::Error) -> Self {
        match e {
            roundtable_store::Error::NotFound(id) => AppError::not_found(&id),
            other => AppError::new("storage", other.to_string()),
        }
    }
}

impl From<KeychainError> for AppError {
    fn from(e: KeychainError) -> Self {
        AppError::new("keychain", e.to_string())
    }
}

/// How the app is opened.
#[derive(Clone, Default)]
pub struct AppOptions {
    /// `ROUNDTABLE_HOME`; the platform's data directory when `None`.
    pub home: Option<PathBuf>,
    /// Where keys are kept; the OS keychain when `None`.
    pub keychain: Option<Arc<dyn SecretStore>>,
}

/// A provider as the user sees it, with where its key comes from (never the key).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    /// Why the keychain could not be asked, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain_error: Option<String>,
}

/// A key looked up in the keychain, or the lack of one, remembered for a while.
struct CachedKey {
    found: Result<Option<ApiKey>, KeychainError>,
    at: Instant,
}

/// How long "no key in the keychain" (or "no keychain") is remembered before the
/// keychain is asked again; a key found is kept until this app changes it.
const NEGATIVE_KEY_TTL: Duration = Duration::from_secs(10);

/// Everything a history export can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Md,
    Json,
    Csv,
    Html,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "md" | "markdown" => Ok(ExportFormat::Md),
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "html" => Ok(ExportFormat::Html),
            other => Err(format!(
                "unknown format '{other}': expected md, json, csv or html"
            )),
        }
    }
}

/// What `resolve` changes about a stored run.
#[derive(Debug, Clone, Default)]
pub struct Reresolve {
    pub resolution: Resolution,
    pub summary_model: Option<String>,
    pub choices: Option<Vec<String>>,
}

/// The providers as `config.toml` last described them, and an engine over them.
struct Providers {
    list: Vec<ResolvedProvider>,
    engine: Engine,
}

impl Providers {
    fn find(&self, id: &str) -> Option<&ResolvedProvider> {
        self.list.iter().find(|p| p.id == id)
    }
}

/// What the engine needs of each provider; keys are looked up per run (see
/// `App::engine_for`).
fn engine_providers(list: &[ResolvedProvider]) -> Vec<ProviderConfig> {
    list.iter()
        .map(|p| ProviderConfig {
            id: p.id.clone(),
            format: p.format,
            base_url: p.base_url.clone(),
            dialect: p.dialect,
            key: ProviderKey::NotNeeded,
            headers: p.headers.clone().into_iter().collect(),
            stream: p.stream,
            local: p.local,
            max_concurrency: p.max_concurrency,
        })
        .collect()
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
    /// Records runs as they happen; see [`recorder`].
    recorder: Recorder,
    /// The local API's token, resolved once (see [`api_token`]).
    api_token: std::sync::OnceLock<api_token::ApiToken>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl App {
    /// Opens the app at its home: reads `config.toml` and the price files, opens
    /// the history (marking runs of dead processes interrupted).
    pub fn open(options: AppOptions) -> Result<App, AppError> {
        let home = options.home.unwrap_or_else(config::default_home);
        let config = Config::load(&home.join("config.toml"))?;
        let prices = Self::load_prices(&home, &config)?;
        let list = config.providers();
        let engine = Engine::new(engine_providers(&list), prices).with_limits(Limits {
            max_answer_bytes: config.limits.max_answer_bytes,
        });
        let default_summary_model = config.default_summary_model.clone();
        let store = Store::open(&home.join("history.db"))?;
        let recovered = store.recover_interrupted()?;
        if !recovered.is_empty() {
            tracing::info!(runs = ?recovered, "marked runs of ended processes as interrupted");
        }
        let store = Arc::new(Mutex::new(store));
        let recorder = Recorder::start(store.clone()).map_err(|e| {
            AppError::new(
                "storage",
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

    fn load_prices(home: &Path, config: &Config) -> Result<PriceTable, AppError> {
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

    fn providers_now(&self) -> Arc<Providers> {
        self.providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads the providers of `config.toml` again: those added or removed since
    /// serve the next run.
    pub(crate) fn reload_providers(&self) -> Result<(), AppError> {
        let list = Config::load(&self.home.join("config.toml"))?.providers();
        let mut providers = self.providers.write().unwrap_or_else(|e| e.into_inner());
        let engine = providers.engine.with_providers(engine_providers(&list));
        *providers = Arc::new(Providers { list, engine });
        Ok(())
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite half-written: each
        // write is its own transaction.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- keys -------------------------------------------------------------

    fn keychain_key(&self, provider: &str) -> Result<Option<ApiKey>, KeychainError> {
        let mut cache = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(provider) {
            let fresh = matches!(c.found, Ok(Some(_))) || c.at.elapsed() < NEGATIVE_KEY_TTL;
            if fresh {
                return c.found.clone();
            }
        }
        let found = self.keychain.get(provider);
        cache.insert(
            provider.to_string(),
            CachedKey {
                found: found.clone(),
                at: Instant::now(),
            },
        );
        found
    }

    /// A provider's key and where it came from: the keychain, then the
    /// environment; a local server needs none.
    fn lookup_key(&self, p: &ResolvedProvider) -> (ProviderKey, ProviderStatus) {
        let mut status = ProviderStatus {
            provider: p.clone(),
            key_source: KeySource::Missing,
            key_env: None,
            key_hint: None,
            keychain_error: None,
        };
        let hint = |k: &ApiKey| Some(k.masked_suffix()).filter(|h| h != "…");
        match self.keychain_key(&p.id) {
            Ok(Some(key)) => {
                status.key_source = KeySource::Keychain;
                status.key_hint = hint(&key);
                return (ProviderKey::Key(key), status);
            }
            Ok(None) => {}
            Err(e) => status.keychain_error = Some(e.to_string()),
        }
        if let Some((key, var)) = keys::from_env(&p.id) {
            status.key_source = KeySource::Environment;
            status.key_env = Some(var);
            status.key_hint = hint(&key);
            return (ProviderKey::Key(key), status);
        }
        if p.local {
            status.key_source = KeySource::NotNeeded;
            return (ProviderKey::NotNeeded, status);
        }
        let mut hint = keys::hint(&p.id);
        if let Some(e) = &status.keychain_error {
            hint.push_str(&format!(" ({e})"));
        }
        (ProviderKey::Missing { hint }, status)
    }

    /// Every provider, with where its key comes from (never the key).
    pub fn providers(&self) -> Vec<ProviderStatus> {
        self.providers_now()
            .list
            .iter()
            .map(|p| self.lookup_key(p).1)
            .collect()
    }

    /// Whether `id` is a configured provider; the error lists the known ones.
    pub fn check_provider(&self, id: &str) -> Result<(), AppError> {
        let providers = self.providers_now();
        if providers.find(id).is_some() {
            return Ok(());
        }
        let known: Vec<&str> = providers.list.iter().map(|p| p.id.as_str()).collect();
        Err(AppError::new(
            "unknown_provider",
            format!(
                "unknown provider '{id}': known providers are {} (add others under [providers.ID] in config.toml)",
                known.join(", ")
            ),
        ))
    }

    /// Stores a provider's key in the keychain; refuses one that could not be
    /// sent (see [`keys::key_problem`]), before the keychain is asked.
    pub fn set_key(&self, provider: &str, key: &str) -> Result<(), AppError> {
        self.check_provider(provider)?;
        let key = key.trim();
        if let Some(problem) = keys::key_problem(key) {
            return Err(AppError {
                field: Some("key".into()),
                ..AppError::new("invalid_request", problem)
            });
        }
        self.keychain.set(provider, key)?;
        self.forget_key(provider);
        Ok(())
    }

    /// Deletes a provider's key from the keychain; whether there was one.
    pub fn delete_key(&self, provider: &str) -> Result<bool, AppError> {
        self.check_provider(provider)?;
        let deleted = self.keychain.delete(provider)?;
        self.forget_key(provider);
        Ok(deleted)
    }

    fn forget_key(&self, provider: &str) {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(provider);
    }

    /// The engine with the keys of the providers `request` uses, and the
    /// current default summary model.
    fn engine_for(&self, request: &RoundtableRequest) -> Engine {
        let default_summary_model = self.default_summary_model();
        let mut ids: Vec<&str> = request
            .models
            .iter()
            .map(|m| m.name.as_str())
            .chain(request.summary_model.as_deref())
            .chain(default_summary_model.as_deref())
            .filter_map(|name| split_model_name(name).map(|(p, _)| p))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let providers = self.providers_now();
        let keys: Vec<(String, ProviderKey)> = ids
            .into_iter()
            .filter_map(|id| providers.find(id))
            .map(|p| (p.id.clone(), self.lookup_key(p).0))
            .collect();
        providers
            .engine
            .with_keys(keys)
            .with_default_summary_model(default_summary_model)
    }

    // ---- runs -------------------------------------------------------------

    /// Runs a roundtable: validates it before any provider is called, records it
    /// as running, runs the panel and the resolution, recording each answer as it
    /// arrives, and sends the events to `events` as they happen.
    pub async fn run(
        &self,
        request: RoundtableRequest,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        self.run_with_parent(request, None, events, cancel).await
    }

    async fn run_with_parent(
        &self,
        request: RoundtableRequest,
        parent: Option<(String, ParentKind)>,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let engine = self.engine_for(&request);
        let prepared = engine.prepare(request)?;
        self.recorder
            .write(vec![Self::begin(&prepared, parent)])
            .await?;
        let id = prepared.id.clone();
        self.record_while(&id, events, |tx| engine.execute(prepared, Some(tx), cancel))
            .await
    }

    /// The step that records `prepared` as running.
    fn begin(prepared: &PreparedRun, parent: Option<(String, ParentKind)>) -> RunWrite {
        let (parent_id, parent_kind) = parent.unzip();
        RunWrite::Begin(NewRun {
            id: prepared.id.clone(),
            created_at_ms: now_ms(),
            request: prepared.request.clone(),
            parent_id,
            parent_kind,
        })
    }

    /// Drives a run to its end while recording its events: each model's result as
    /// it arrives, the whole response at the end. The host gets every event, and
    /// `Done` only once the history has the whole run.
    async fn record_while<F>(
        &self,
        id: &str,
        events: Option<UnboundedSender<RunEvent>>,
        run: impl FnOnce(UnboundedSender<RunEvent>) -> F,
    ) -> Result<RunOutcome, AppError>
    where
        F: std::future::Future<Output = RunOutcome>,
    {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
        let mut done = None;
        let mut handle = |event: RunEvent| {
            match &event {
                RunEvent::ModelFinished { result } | RunEvent::ModelFailed { result } => {
                    self.recorder.send(RunWrite::Result {
                        run_id: id.to_string(),
                        result: result.clone(),
                    });
                }
                RunEvent::Done { .. } => {
                    done = Some(event);
                    return;
                }
                _ => {}
            }
            if let Some(host) = &events {
                let _ = host.send(event);
            }
        };
        let run = run(tx);
        tokio::pin!(run);
        let outcome = loop {
            tokio::select! {
                biased;
                Some(event) = rx.recv() => handle(event),
                outcome = &mut run => break outcome,
            }
        };
        while let Ok(event) = rx.try_recv() {
            handle(event);
        }
        let finish = RunWrite::Finish {
            response: outcome.response.clone(),
            status: outcome.status,
        };
        if let Err(e) = self.recorder.finish(finish).await {
            tracing::warn!(error = %e, run = id, "could not record the run's end yet: it is tried again until it lands");
        }
        if let (Some(host), Some(done)) = (&events, done) {
            let _ = host.send(done);
        }
        Ok(outcome)
    }

    /// The same request again, as a new run linked to the first.
    pub async fn rerun(
        &self,
        id: &str,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let run = self.get_run(id)?;
        self.run_with_parent(
            run.request,
            Some((id.to_string(), ParentKind::Rerun)),
            events,
            cancel,
        )
        .await
    }

    /// Resolves a stored run again from its stored answers, without calling the
    /// panel again; stored as a new run linked to the first.
    pub async fn resolve(
        &self,
        id: &str,
        how: Reresolve,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let stored = self.get_run(id)?;
        let mut request = stored.request;
        request.resolution = Some(how.resolution);
        if how.summary_model.is_some() {
            request.summary_model = how.summary_model;
        }
        if how.choices.is_some() {
            request.choices = how.choices;
        }
        let engine = self.engine_for(&request);
        let prepared = engine.prepare(request)?;
        // Only what the panel answered is carried over; resolution marks are redone.
        let results: Vec<_> = stored
            .response
            .model_results
            .into_iter()
            .map(|mut r| {
                r.vote = None;
                r.schema_valid = None;
                r.schema_error = None;
                r
            })
            .collect();
        let begin = Self::begin(&prepared, Some((id.to_string(), ParentKind::Resolve)));
        let carried = results.iter().map(|r| RunWrite::Result {
            run_id: prepared.id.clone(),
            result: r.clone(),
        });
        self.recorder
            .write(std::iter::once(begin).chain(carried).collect())
            .await?;
        let new_id = prepared.id.clone();
        self.record_while(&new_id, events, |tx| {
            engine.resolve(prepared, results, Instant::now(), Some(tx), cancel)
        })
        .await
    }

    // ---- history ----------------------------------------------------------

    pub fn list_runs(&self, query: &ListQuery) -> Result<Vec<RunSummary>, AppError> {
        Ok(self.store().list_runs(query)?)
    }

    pub fn search_runs(&self, text: &str, query: &ListQuery) -> Result<Vec<RunSummary>, AppError> {
        Ok(self.store().search(text, query)?)
    }

    pub fn get_run(&self, id: &str) -> Result<StoredRun, AppError> {
        self.store()
            .get_run(id)?
            .ok_or_else(|| AppError::not_found(id))
    }

    pub fn delete_run(&self, id: &str) -> Result<(), AppError> {
        if self.store().delete_run(id)? {
            Ok(())
        } else {
            Err(AppError::not_found(id))
        }
    }

    pub fn set_starred(&self, id: &str, starred: bool) -> Result<(), AppError> {
        if self.store().set_starred(id, starred)? {
            Ok(())
        } else {
            Err(AppError::not_found(id))
        }
    }

    pub fn add_tag(&self, id: &str, tag: &str) -> Result<(), AppError> {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(AppError::new("invalid_request", "tag: must not be empty"));
        }
        self.get_run(id)?;
        self.store().add_tag(id, tag)?;
        Ok(())
    }

    pub fn remove_tag(&self, id: &str, tag: &str) -> Result<(), AppError> {
        self.get_run(id)?;
        self.store().remove_tag(id, tag)?;
        Ok(())
    }

    /// A number that changes whenever any process wrote the history.
    pub fn history_version(&self) -> Result<i64, AppError> {
        Ok(self.store().change_counter()?)
    }

    /// Runs exported as one comparison document.
    pub fn export(&self, ids: &[String], format: ExportFormat) -> Result<String, AppError> {
        if ids.is_empty() {
            return Err(AppError::new(
                "invalid_request",
                "give at least one run id to export",
            ));
        }
        let runs = ids
            .iter()
            .map(|id| self.get_run(id))
            .collect::<Result<Vec<_>, _>>()?;
        use roundtable_store::export;
        Ok(match format {
            ExportFormat::Md => export::to_markdown(&runs),
            ExportFormat::Json => export::to_json(&runs),
            ExportFormat::Csv => export::to_csv(&runs),
            ExportFormat::Html => export::to_html(&runs),
        })
    }

    /// Loads runs from a JSON export; returns their ids.
    pub fn import(&self, json: &str) -> Result<Vec<String>, AppError> {
        let runs = roundtable_store::export::import_runs_json(json)
            .map_err(|e| AppError::new("invalid_request", e.to_string()))?;
        let ids = runs.iter().map(|r| r.response.id.clone()).collect();
        self.store().bulk_import(&runs)?;
        Ok(ids)
    }
}
