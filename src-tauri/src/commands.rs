//! The window's commands: each is one line over [`roundtable_app::App`]. Errors
//! cross IPC as `{code, message, field}`. Keys go in and never come back out:
//! `list_providers` says only whether a key is set and where it comes from.
//!
//! Tauri runs a synchronous command on the main (GTK) thread: every command
//! that touches the history, the keychain or a file is `async` and does that
//! work on tokio's blocking pool ([`off_main`]), so a locked keychain's prompt,
//! a busy database or a large export never freezes the window.

use crate::attach;
use crate::export::{self, ExportDone};
use crate::ipc::AppInfo;
use crate::local_api::LocalApiStatus;
use crate::state::Desktop;
use roundtable_app::BudgetStatus;
use roundtable_app::Code;
use roundtable_app::core::{Attachment, Estimate, RoundtableRequest, RunEvent, RunOutcome};
use roundtable_app::local_servers::LocalServer;
use roundtable_app::prefs::Prefs;
use roundtable_app::provider_limits;
use roundtable_app::store::{
    Ballot, Judgement, RunSummary, SpendQuery, SpendStats, StoredRun, Vote,
};
use roundtable_app::{
    App, AppError, CustomProvider, ExportFormat, HistoryQuery, Leaderboard, LeaderboardQuery,
    PriceImport, ProviderStatus, Reresolve, RunVerdicts,
};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

type Result<T> = std::result::Result<T, AppError>;

/// Runs `work` over the app on tokio's blocking pool, off the main thread.
async fn off_main<T, F>(state: &Desktop, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&App) -> Result<T> + Send + 'static,
{
    let app = state.app()?.clone();
    tauri::async_runtime::spawn_blocking(move || work(&app))
        .await
        .map_err(|e| AppError::new(Code::Internal, format!("the command broke off: {e}")))?
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub fn app_info(state: State<'_, Desktop>) -> AppInfo {
    AppInfo::of(&state)
}

/// The UI painted its first frame: milliseconds since the process started
/// (the first call may write `ROUNDTABLE_READY_FILE`).
#[tauri::command]
pub async fn ui_ready(state: State<'_, Desktop>) -> Result<u64> {
    Ok(state.report_ready())
}

/// Runs a roundtable; its events stream over `on_event`; `cancel_run(handle)` stops it.
#[tauri::command]
#[tracing::instrument(skip(state, request, on_event), fields(models = request.models.len()), err)]
pub async fn run_roundtable(
    state: State<'_, Desktop>,
    handle: String,
    request: RoundtableRequest,
    on_event: Channel<Vec<RunEvent>>,
) -> Result<RunOutcome> {
    state
        .track(handle, on_event, async |app, sink, cancel| {
            app.run(request, &sink, cancel).await
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
    on_event: Channel<Vec<RunEvent>>,
) -> Result<RunOutcome> {
    state
        .track(handle, on_event, async |app, sink, cancel| {
            app.rerun(&id, &sink, cancel).await
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
    how: Reresolve,
    on_event: Channel<Vec<RunEvent>>,
) -> Result<RunOutcome> {
    state
        .track(handle, on_event, async |app, sink, cancel| {
            app.reresolve(&id, how, &sink, cancel).await
        })
        .await
}

/// What `request` would cost (typical and worst case, per call), without calling anyone.
#[tauri::command]
#[tracing::instrument(skip_all, err)]
pub async fn estimate_run(
    state: State<'_, Desktop>,
    request: RoundtableRequest,
) -> Result<Estimate> {
    off_main(&state, move |app| app.estimate(&request)).await
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
pub async fn list_runs(state: State<'_, Desktop>, query: HistoryQuery) -> Result<Vec<RunSummary>> {
    off_main(&state, move |app| app.query_runs(&query)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn get_run(state: State<'_, Desktop>, id: String) -> Result<StoredRun> {
    off_main(&state, move |app| app.view_run(&id)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn delete_run(state: State<'_, Desktop>, id: String) -> Result<()> {
    off_main(&state, move |app| app.delete_run(&id)).await
}

/// Every run of the conversation `id` is a turn of, oldest first, every branch.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn thread(state: State<'_, Desktop>, id: String) -> Result<Vec<StoredRun>> {
    off_main(&state, move |app| app.thread(&id)).await
}

/// The ids of the branch through `id`: from the first turn to the latest that follows it.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn branch_of(state: State<'_, Desktop>, id: String) -> Result<Vec<String>> {
    off_main(&state, move |app| app.branch_of(&id)).await
}

/// Deletes the turn `id` and every turn that follows it; how many runs went.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn delete_turn_and_after(state: State<'_, Desktop>, id: String) -> Result<usize> {
    off_main(&state, move |app| app.delete_turn_and_after(&id)).await
}

/// Deletes the whole conversation `id` is a turn of; how many runs went.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn delete_thread(state: State<'_, Desktop>, id: String) -> Result<usize> {
    off_main(&state, move |app| app.delete_thread(&id)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn set_starred(state: State<'_, Desktop>, id: String, starred: bool) -> Result<()> {
    off_main(&state, move |app| app.set_starred(&id, starred)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn add_tag(state: State<'_, Desktop>, id: String, tag: String) -> Result<()> {
    off_main(&state, move |app| app.add_tag(&id, &tag)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn remove_tag(state: State<'_, Desktop>, id: String, tag: String) -> Result<()> {
    off_main(&state, move |app| app.remove_tag(&id, &tag)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn history_version(state: State<'_, Desktop>) -> Result<i64> {
    off_main(&state, move |app| app.history_version()).await
}

/// Casts or changes the vote on a run.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn cast_vote(state: State<'_, Desktop>, id: String, ballot: Ballot) -> Result<Vote> {
    off_main(&state, move |app| app.cast_vote(&id, &ballot)).await
}

/// Withdraws the vote on a run; `false` when there was none.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn withdraw_vote(state: State<'_, Desktop>, id: String) -> Result<bool> {
    off_main(&state, move |app| app.withdraw_vote(&id)).await
}

/// The vote and the judges' rankings of a run.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn run_verdicts(state: State<'_, Desktop>, id: String) -> Result<RunVerdicts> {
    off_main(&state, move |app| app.run_verdicts(&id)).await
}

/// Has a judge model rank a stored run's answers (anonymised, shuffled).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn judge_run(state: State<'_, Desktop>, id: String, model: String) -> Result<Judgement> {
    let app = state.app()?.clone();
    app.judge(&id, &model, tokio_util::sync::CancellationToken::new())
        .await
}

/// Every spend figure over `query`: the Usage view (days, weeks, months, by
/// provider and model, latency, the models with no known price).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn spend_stats(state: State<'_, Desktop>, query: SpendQuery) -> Result<SpendStats> {
    off_main(&state, move |app| app.spend_stats(&query)).await
}

/// Spent today and this month against `[budget]`, its state and its warning.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn budget_status(state: State<'_, Desktop>) -> Result<BudgetStatus> {
    off_main(&state, |app| app.budget_status()).await
}

/// The private leaderboard of the votes (or the judges' rankings) `query` selects.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn leaderboard(
    state: State<'_, Desktop>,
    query: LeaderboardQuery,
) -> Result<Leaderboard> {
    off_main(&state, move |app| app.leaderboard(&query)).await
}

/// Prices the next runs with a LiteLLM-format file the user picks in the open
/// dialog, which this shell opens; `None` when it was cancelled.
#[tauri::command]
#[tracing::instrument(skip(handle, state), err)]
pub async fn import_prices<R: Runtime>(
    handle: AppHandle<R>,
    state: State<'_, Desktop>,
) -> Result<Option<PriceImport>> {
    let filter = ("LiteLLM price table", &["json"][..]);
    let picked = export::choose_file_to_open(
        &handle,
        state.e2e_export_dir(),
        "Import a price table",
        "prices.json",
        filter,
    )
    .await?;
    let Some(path) = picked else { return Ok(None) };
    off_main(&state, move |app| app.import_prices(&path).map(Some)).await
}

/// Files to attach to the prompt, picked in the open dialog, which this shell
/// opens (the page never names a path), read by the app; empty when cancelled.
#[tauri::command]
#[tracing::instrument(skip(handle, state), err)]
pub async fn pick_attachments<R: Runtime>(
    handle: AppHandle<R>,
    state: State<'_, Desktop>,
) -> Result<Vec<Attachment>> {
    let paths = attach::choose_files(&handle).await?;
    off_main(&state, move |app| app.attach_files(&paths)).await
}

/// A stored run's attached file with its bytes, by its SHA-256 (the History's
/// thumbnails; a run opened from it sends its files again).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn attachment_data(state: State<'_, Desktop>, sha256: String) -> Result<Attachment> {
    off_main(&state, move |app| app.attachment(&sha256)).await
}

/// Writes the runs `ids` as one `format` document where the user chooses in the
/// save dialog, which this shell opens: the page never names a path. `None`
/// when the dialog was cancelled.
#[tauri::command]
#[tracing::instrument(skip(handle, state), err)]
pub async fn export_runs<R: Runtime>(
    handle: AppHandle<R>,
    state: State<'_, Desktop>,
    ids: Vec<String>,
    format: ExportFormat,
) -> Result<Option<ExportDone>> {
    let name = export::file_name(&ids, format);
    let dir = state.e2e_export_dir();
    let Some(path) = export::choose_path(&handle, dir, "Export runs", &name, format).await? else {
        return Ok(None);
    };
    off_main(&state, move |app| {
        export::write(app, &ids, format, &path).map(Some)
    })
    .await
}

/// Writes the conversation through `id` (its branch, turn by turn) as one
/// `format` document where the user chooses in the save dialog, which this
/// shell opens. `None` when the dialog was cancelled.
#[tauri::command]
#[tracing::instrument(skip(handle, state), err)]
pub async fn export_thread<R: Runtime>(
    handle: AppHandle<R>,
    state: State<'_, Desktop>,
    id: String,
    format: ExportFormat,
) -> Result<Option<ExportDone>> {
    let name = export::thread_file_name(&id, format);
    let dir = state.e2e_export_dir();
    let title = "Export the conversation";
    let Some(path) = export::choose_path(&handle, dir, title, &name, format).await? else {
        return Ok(None);
    };
    off_main(&state, move |app| {
        export::write_thread(app, &id, format, &path).map(Some)
    })
    .await
}

/// Writes the leaderboard `query` selects as CSV where the user chooses in the
/// save dialog, which this shell opens: the page never names a path. `None`
/// when the dialog was cancelled.
#[tauri::command]
#[tracing::instrument(skip(handle, state), err)]
pub async fn export_leaderboard<R: Runtime>(
    handle: AppHandle<R>,
    state: State<'_, Desktop>,
    query: LeaderboardQuery,
) -> Result<Option<ExportDone>> {
    let name = export::leaderboard_file_name(&query);
    let dir = state.e2e_export_dir();
    let title = "Export the leaderboard";
    let Some(path) = export::choose_path(&handle, dir, title, &name, ExportFormat::Csv).await?
    else {
        return Ok(None);
    };
    off_main(&state, move |app| {
        export::write_leaderboard(app, &query, &path).map(Some)
    })
    .await
}

/// Every provider and where its key comes from; never a key.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn list_providers(state: State<'_, Desktop>) -> Result<Vec<ProviderStatus>> {
    off_main(&state, |app| Ok(app.providers_without_hints())).await
}

/// Adds a provider of the user's own to config.toml (or changes it); usable at once.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn save_provider(state: State<'_, Desktop>, provider: CustomProvider) -> Result<()> {
    off_main(&state, move |app| app.save_provider(&provider)).await
}

/// Sets a provider's calls at once (`[providers.ID] max_concurrency`) as typed
/// in Settings, or clears it when `limit` is blank; applies to the next run.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn set_max_concurrency(
    state: State<'_, Desktop>,
    id: String,
    limit: String,
) -> Result<()> {
    off_main(&state, move |app| {
        let limit = provider_limits::parse_max_concurrency(&id, &limit)?;
        app.set_max_concurrency(&id, limit)
    })
    .await
}

/// Removes a provider of the user's own from config.toml.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn remove_provider(state: State<'_, Desktop>, id: String) -> Result<()> {
    off_main(&state, move |app| app.remove_provider(&id)).await
}

/// Stores a provider's key in the OS keychain. Nothing of the key comes back.
#[tauri::command]
#[tracing::instrument(skip(state, key), err)]
pub async fn set_key(state: State<'_, Desktop>, provider: String, key: String) -> Result<()> {
    off_main(&state, move |app| app.set_key(&provider, &key)).await
}

/// Deletes a provider's key from the OS keychain; whether there was one.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn delete_key(state: State<'_, Desktop>, provider: String) -> Result<bool> {
    off_main(&state, move |app| app.delete_key(&provider)).await
}

/// Local OpenAI-compatible servers (Ollama on 11434, LM Studio on 1234, local
/// providers of config.toml), the models they list, and what each is and
/// takes at once.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn detect_local_servers(state: State<'_, Desktop>) -> Result<Vec<LocalServer>> {
    let app = state.app()?.clone();
    Ok(app.local_servers().await)
}

/// The preferences in config.toml (default panel and summary model, theme, local API).
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn get_prefs(state: State<'_, Desktop>) -> Result<Prefs> {
    off_main(&state, move |app| app.prefs()).await
}

/// Writes the preferences into config.toml, keeping its comments; returns them as saved.
#[tauri::command]
#[tracing::instrument(skip(state), err)]
pub async fn save_prefs(state: State<'_, Desktop>, prefs: Prefs) -> Result<Prefs> {
    off_main(&state, move |app| app.save_prefs(&prefs)).await
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
