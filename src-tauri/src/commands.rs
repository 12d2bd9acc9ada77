//! The window's commands: each is one line over [`roundtable_app::App`]. Errors
//! cross IPC as `{code, message, field}`. Keys go in and never come back out:
//! `list_providers` says only whether a key is set and where it comes from.

use crate::export::{self, ExportDone};
use crate::local::{self, LocalServer};
use crate::local_api::LocalApiStatus;
use crate::state::{AppInfo, Desktop, HistoryQuery, ResolveArgs, RunResult};
use roundtable_app::core::{RoundtableRequest, RunEvent};
use roundtable_app::prefs::{CustomProvider, Prefs};
use roundtable_app::store::{RunSummary, StoredRun};
use roundtable_app::{AppError, ExportFormat, ProviderStatus};
use tauri::State;
use tauri::ipc::Channel;

type Result<T> = std::result::Result<T, AppError>;

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn app_info(state: State<'_, Desktop>) -> AppInfo {
    AppInfo::of(&state)
}

/// The UI painted its first frame: milliseconds since the process started.
#[tauri::command]
pub fn ui_ready(state: State<'_, Desktop>) -> u64 {
    state.report_ready()
}

/// Runs a roundtable; its events stream over `on_event`; `cancel_run(handle)` stops it.
#[tauri::command]
#[tracing::instrument(skip(state, request, on_event), fields(models = request.models.len()), err)]
pub async fn run_roundtable(
    state: State<'_, Desktop>,
    handle: String,
    request: RoundtableRequest,
    on_event: Channel<RunEvent>,
) -> Result<RunResult> {
    let app = state.app()?.clone();
    state
        .track(handle, on_event, |tx, cancel| async move {
            app.run(request, Some(tx), cancel).await
        })
        .await
}

/// The same request as a stored run, again.
#[tauri::command]
#[tracing::instrument(skip(state, on_event), err)]
pub async fn rerun(
    state: State<'_, Desktop>,
    handle: String,
    id: String,
    on_event: Channel<RunEvent>,
) -> Result<RunResult> {
    let app = state.app()?.clone();
    state
        .track(handle, on_event, |tx, cancel| async move {
            app.rerun(&id, Some(tx), cancel).await
        })
        .await
}

/// A stored run's answers resolved again (another resolution or summary model).
#[tauri::command]
#[tracing::instrument(skip(state, on_event), err)]
pub async fn resolve_run(
    state: State<'_, Desktop>,
    handle: String,
    id: String,
    how: ResolveArgs,
    on_event: Channel<RunEvent>,
) -> Result<RunResult> {
    let app = state.app()?.clone();
    state
        .track(handle, on_event, |tx, cancel| async move {
            app.resolve(&id, how.into(), Some(tx), cancel).await
        })
        .await
}

/// Cancels the run in flight under `handle`; whether there was one.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub fn cancel_run(state: State<'_, Desktop>, handle: String) -> bool {
    state.cancel(&handle)
}

/// The history, newest first; full-text search when `query.text` is given.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn list_runs(state: State<'_, Desktop>, query: HistoryQuery) -> Result<Vec<RunSummary>> {
    match query.text() {
        Some(text) => state.app()?.search_runs(text, &query.list_query()),
        None => state.app()?.list_runs(&query.list_query()),
    }
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn get_run(state: State<'_, Desktop>, id: String) -> Result<StoredRun> {
    state.app()?.get_run(&id)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn delete_run(state: State<'_, Desktop>, id: String) -> Result<()> {
    state.app()?.delete_run(&id)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn set_starred(state: State<'_, Desktop>, id: String, starred: bool) -> Result<()> {
    state.app()?.set_starred(&id, starred)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn add_tag(state: State<'_, Desktop>, id: String, tag: String) -> Result<()> {
    state.app()?.add_tag(&id, &tag)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn remove_tag(state: State<'_, Desktop>, id: String, tag: String) -> Result<()> {
    state.app()?.remove_tag(&id, &tag)
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn history_version(state: State<'_, Desktop>) -> Result<i64> {
    state.app()?.history_version()
}

/// Writes the runs `ids` as one `format` document to `path` (chosen in the save dialog).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn export_runs(
    state: State<'_, Desktop>,
    ids: Vec<String>,
    format: ExportFormat,
    path: String,
) -> Result<ExportDone> {
    export::write(state.app()?, &ids, format, &path)
}

/// Every provider and where its key comes from; never a key.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn list_providers(state: State<'_, Desktop>) -> Result<Vec<ProviderStatus>> {
    // The window learns whether a key is set and where from, nothing of the key.
    let mut providers = state.app()?.providers();
    for p in &mut providers {
        p.key_hint = None;
    }
    Ok(providers)
}

/// Adds a provider of the user's own to config.toml (or changes it); usable at once.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn save_provider(state: State<'_, Desktop>, provider: CustomProvider) -> Result<()> {
    state.app()?.save_provider(&provider)
}

/// Removes a provider of the user's own from config.toml.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn remove_provider(state: State<'_, Desktop>, id: String) -> Result<()> {
    state.app()?.remove_provider(&id)
}

/// Stores a provider's key in the OS keychain. Nothing of the key comes back.
#[tauri::command]
#[tracing::instrument(skip(state, key), err)]
pub fn set_key(state: State<'_, Desktop>, provider: String, key: String) -> Result<()> {
    state.app()?.set_key(&provider, &key)
}

/// Deletes a provider's key from the OS keychain; whether there was one.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn delete_key(state: State<'_, Desktop>, provider: String) -> Result<bool> {
    state.app()?.delete_key(&provider)
}

/// Local OpenAI-compatible servers (Ollama on 11434, LM Studio on 1234, local
/// providers of config.toml) and the models they list.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn detect_local_servers(state: State<'_, Desktop>) -> Result<Vec<LocalServer>> {
    Ok(local::detect(&state.app()?.providers()).await)
}

/// The preferences in config.toml (default panel and summary model, theme, local API).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn get_prefs(state: State<'_, Desktop>) -> Result<Prefs> {
    state.app()?.prefs()
}

/// Writes the preferences into config.toml, keeping its comments; returns them as saved.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub fn save_prefs(state: State<'_, Desktop>, prefs: Prefs) -> Result<Prefs> {
    state.app()?.save_prefs(&prefs)
}

/// Whether the local API runs, where, and why not when it should.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn local_api_status(state: State<'_, Desktop>) -> Result<LocalApiStatus> {
    state.local_api().status(state.app()?).await
}

/// Starts the local API on 127.0.0.1:`port`, and keeps that choice in config.toml.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn start_local_api(state: State<'_, Desktop>, port: u16) -> Result<LocalApiStatus> {
    state.local_api().start(state.app()?, port).await
}

/// Stops the local API, and keeps that choice in config.toml.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn stop_local_api(state: State<'_, Desktop>) -> Result<LocalApiStatus> {
    state.local_api().stop(state.app()?).await
}

/// The local API's bearer token (not a provider key), for Settings to reveal or copy.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn local_api_token(state: State<'_, Desktop>) -> Result<String> {
    Ok(state.local_api().token(state.app()?).await)
}
