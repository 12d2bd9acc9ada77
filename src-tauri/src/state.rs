//! The window's Tauri state, what its commands share: the app (or why it could
//! not open), the runs in flight, the local API. The types that cross IPC
//! besides the app's own are in `ipc.rs`.

use crate::ipc::AppInfo;
use crate::local_api::LocalApi;
use crate::window_sink::ToWindow;
use roundtable_app::core::{RunEvent, RunOutcome};
use roundtable_app::{App, AppError, AppOptions, Code};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tauri::ipc::Channel;
use tokio_util::sync::CancellationToken;

/// Tauri state: the app (or why it could not open), and a cancellation token per
/// run in flight, keyed by the handle the UI chose for it.
pub struct Desktop {
    app: Result<Arc<App>, AppError>,
    runs: Mutex<HashMap<String, CancellationToken>>,
    started: Instant,
    ready: AtomicBool,
    local_api: LocalApi,
    /// Test runs only: see [`crate::export::E2E_EXPORT_DIR`].
    e2e_export_dir: Option<PathBuf>,
}

impl Desktop {
    /// Opens the app at `ROUNDTABLE_HOME` (or the platform's data directory). A
    /// failure (a bad `config.toml`) is kept and shown by the UI.
    pub fn open(started: Instant) -> Desktop {
        let app = App::open(AppOptions::default()).map(Arc::new);
        if let Err(e) = &app {
            tracing::error!(error = %e, "could not open the app");
        }
        let mut desktop = Desktop::with_app(app, started);
        desktop.e2e_export_dir = std::env::var_os(crate::export::E2E_EXPORT_DIR)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &desktop.e2e_export_dir {
            tracing::warn!(dir = %dir.display(), "test run: exports go to this folder without the save dialog");
        }
        desktop
    }

    pub fn with_app(app: Result<Arc<App>, AppError>, started: Instant) -> Desktop {
        Desktop {
            app,
            runs: Mutex::new(HashMap::new()),
            started,
            ready: AtomicBool::new(false),
            local_api: LocalApi::default(),
            e2e_export_dir: None,
        }
    }

    /// Exports go to `dir` without the save dialog (what the e2e variable does).
    pub fn with_e2e_export_dir(mut self, dir: PathBuf) -> Desktop {
        self.e2e_export_dir = Some(dir);
        self
    }

    pub fn e2e_export_dir(&self) -> Option<&std::path::Path> {
        self.e2e_export_dir.as_deref()
    }

    pub fn app(&self) -> Result<&Arc<App>, AppError> {
        self.app.as_ref().map_err(Clone::clone)
    }

    /// The local API started from the window.
    pub fn local_api(&self) -> &LocalApi {
        &self.local_api
    }

    pub fn open_error(&self) -> Option<AppError> {
        self.app.as_ref().err().cloned()
    }

    /// Milliseconds since the process started; the first call also reports it
    /// (stdout, and `ROUNDTABLE_READY_FILE` when set) for the start-up benchmark.
    pub fn report_ready(&self) -> u64 {
        let ms = self.started.elapsed().as_millis() as u64;
        if !self.ready.swap(true, Ordering::SeqCst) {
            println!("roundtable-desktop: ui ready after {ms} ms");
            if let Some(path) = std::env::var_os("ROUNDTABLE_READY_FILE") {
                let _ = std::fs::write(path, ms.to_string());
            }
        }
        ms
    }

    /// Runs `run` over the app with a cancellation token registered under
    /// `handle` (see [`Desktop::cancel`]), its events written to `channel` in
    /// batches as they happen ([`ToWindow`]); returns once the run is over
    /// and every event was sent.
    pub async fn track<F, Fut>(
        &self,
        handle: String,
        channel: Channel<Vec<RunEvent>>,
        run: F,
    ) -> Result<RunOutcome, AppError>
    where
        F: FnOnce(Arc<App>, ToWindow, CancellationToken) -> Fut,
        Fut: Future<Output = Result<RunOutcome, AppError>>,
    {
        let app = self.app()?.clone();
        let cancel = CancellationToken::new();
        {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            if runs.contains_key(&handle) {
                return Err(AppError::new(
                    Code::InvalidRequest,
                    format!("a run with handle {handle} is already in flight"),
                ));
            }
            runs.insert(handle.clone(), cancel.clone());
        }
        let (sink, sent) = ToWindow::new(channel);
        let outcome = run(app, sink, cancel).await;
        // The run's future, and the sink with it, is gone: the last batch is
        // on its way; the window has every event before the command returns.
        let _ = sent.await;
        self.runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&handle);
        outcome
    }

    /// Cancels the run in flight under `handle`; whether there was one.
    pub fn cancel(&self, handle: &str) -> bool {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        match runs.get(handle) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

/// What the UI learns at start, from this state (see [`AppInfo`]).
impl AppInfo {
    pub fn of(desktop: &Desktop) -> AppInfo {
        let app = desktop.app().ok();
        let config = app.map(|a| a.config());
        let limits = config.map(|c| c.limits.clone()).unwrap_or_default();
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            home: app
                .map(|a| a.home().display().to_string())
                .unwrap_or_else(|| roundtable_app::config::default_home().display().to_string()),
            open_error: desktop.open_error(),
            server_port: config.map(|c| c.server.port).unwrap_or(8787),
            default_models: config.map(|c| c.default_models.clone()).unwrap_or_default(),
            default_summary_model: app.and_then(|a| a.default_summary_model()),
            max_attachment_bytes: limits.max_attachment_bytes,
            max_run_attachment_bytes: limits.max_run_attachment_bytes,
        }
    }
}
