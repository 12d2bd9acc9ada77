//! `roundtable-desktop`: the desktop app, a Tauri 2 shell over `roundtable-app`.
//!
//! The window shows the Svelte UI in `ui/` (embedded from `ui/dist` with the
//! `custom-protocol` feature). Every command in [`commands`] is one line over
//! [`roundtable_app::App`]; errors cross IPC as `{code, message, field}`. A run's
//! events stream to the UI in batches over its own channel (`window_sink.rs`); the
//! broadcast event `history-changed` tells the windows when any process wrote the
//! history. Keys go in (`set_key`) and never come back out. Files to attach
//! come from the open dialog the shell opens (`pick_attachments`, `attach.rs`),
//! or are read by the page from a drop or a paste.
//!
//! Extending it: a new use case is a method on `App` and a one-line command in
//! [`commands`], listed in [`run`]'s `generate_handler!`, and a method on the UI's
//! `Backend` (`ui/src/lib/ipc/backend.ts`). A type that crosses IPC derives
//! `ts_rs::TS` (behind the `ts` feature outside this crate) and is listed in
//! `ipc_types.rs`; `ROUNDTABLE_UPDATE_TYPES=1 cargo test -p roundtable-desktop ipc_types`
//! regenerates `ui/src/lib/ipc/types/`.

mod attach;
#[cfg(test)]
mod command_replies;
pub mod commands;
#[cfg(test)]
mod commands_tests;
mod export;
mod ipc;
#[cfg(test)]
mod ipc_test;
#[cfg(test)]
mod ipc_types;
#[cfg(test)]
mod key_tests;
pub mod local_api;
#[cfg(test)]
mod refusal_cases;
mod state;
mod window_sink;

pub use ipc::AppInfo;
pub use state::Desktop;

use std::sync::Arc;
use std::time::Duration;
use tauri::{Emitter, Manager};

/// The broadcast event sent when the history changed (payload: the new version).
pub const HISTORY_CHANGED: &str = "history-changed";

/// How often the history is checked for changes made by any process.
const HISTORY_POLL: Duration = Duration::from_secs(1);

/// Opens the app (config, history) and runs the window until it is closed.
pub fn run() {
    let started = std::time::Instant::now();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let desktop = Desktop::open(started);
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        // Links in answers open in the system browser, only when the UI asks
        // (Markdown.svelte; http and https only, by the capability's scope).
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .plugin(navigation_guard())
        .manage(desktop)
        .setup(|app| {
            let handle = app.handle().clone();
            if let Ok(core) = app.state::<Desktop>().app() {
                watch_history(handle.clone(), core.clone());
                // The local API, when config.toml says it runs with the app.
                let core = core.clone();
                tauri::async_runtime::spawn(async move {
                    handle
                        .state::<Desktop>()
                        .local_api()
                        .apply_saved(&core)
                        .await;
                });
            }
            Ok(())
        })
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!())
        .expect("the Roundtable window could not start");
}

/// Every command the window may call.
pub fn invoke_handler<R: tauri::Runtime>()
-> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::app_info,
        commands::cast_vote,
        commands::import_prices,
        commands::withdraw_vote,
        commands::run_verdicts,
        commands::judge_run,
        commands::leaderboard,
        commands::spend_stats,
        commands::budget_status,
        commands::ui_ready,
        commands::run_roundtable,
        commands::estimate_run,
        commands::rerun,
        commands::resolve_run,
        commands::cancel_run,
        commands::list_runs,
        commands::get_run,
        commands::delete_run,
        commands::set_starred,
        commands::add_tag,
        commands::remove_tag,
        commands::thread,
        commands::branch_of,
        commands::delete_turn_and_after,
        commands::delete_thread,
        commands::export_thread,
        commands::history_version,
        commands::export_runs,
        commands::pick_attachments,
        commands::attachment_data,
        commands::export_leaderboard,
        commands::list_providers,
        commands::save_provider,
        commands::remove_provider,
        commands::set_max_concurrency,
        commands::set_key,
        commands::delete_key,
        commands::detect_local_servers,
        commands::get_prefs,
        commands::save_prefs,
        commands::local_api_status,
        commands::start_local_api,
        commands::stop_local_api,
        commands::local_api_token,
    ]
}

/// Keeps the window on the app: a link in a model's answer never navigates it away.
fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            // The dev server only in a dev build (without `custom-protocol`).
            let dev = if tauri::is_dev() {
                webview.config().build.dev_url.clone()
            } else {
                None
            };
            let allowed = is_app_url(url, dev.as_ref());
            if !allowed {
                tracing::warn!(%url, "blocked a navigation away from the app");
            }
            allowed
        })
        .build()
}

/// The origin the embedded UI is served from: `tauri://localhost` on Linux and
/// macOS, `http://tauri.localhost` on Windows (and Android), as Tauri serves it.
const APP_ORIGIN: (&str, &str) = if cfg!(any(windows, target_os = "android")) {
    ("http", "tauri.localhost")
} else {
    ("tauri", "localhost")
};

/// Whether `url` is on the app's own origin ([`APP_ORIGIN`], exactly: no other
/// scheme, port or user), or on `dev_url`'s origin when given.
fn is_app_url(url: &tauri::Url, dev_url: Option<&tauri::Url>) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    let own =
        (url.scheme(), url.host_str(), url.port()) == (APP_ORIGIN.0, Some(APP_ORIGIN.1), None);
    own || dev_url.is_some_and(|dev| {
        url.scheme() == dev.scheme()
            && url.host_str() == dev.host_str()
            && url.port_or_known_default() == dev.port_or_known_default()
    })
}

/// Emits [`HISTORY_CHANGED`] whenever the history's change counter moves, whoever
/// wrote it (this window, another window, a CLI run in another process).
fn watch_history<R: tauri::Runtime>(handle: tauri::AppHandle<R>, app: Arc<roundtable_app::App>) {
    tauri::async_runtime::spawn(async move {
        let mut last = app.history_version().ok();
        let mut tick = tokio::time::interval(HISTORY_POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let now = app.history_version().ok();
            if now.is_some() && now != last {
                last = now;
                let _ = handle.emit(HISTORY_CHANGED, now);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{APP_ORIGIN, is_app_url};

    #[test]
    fn the_navigation_guard_allows_exactly_the_apps_origins() {
        let url = |u: &str| tauri::Url::parse(u).unwrap();
        let dev = url("http://localhost:5173");
        let (scheme, host) = APP_ORIGIN;
        let own = format!("{scheme}://{host}");
        for ok in [
            own.clone(),
            format!("{own}/index.html#/history"),
            format!("{own}/?x=1"),
        ] {
            assert!(is_app_url(&url(&ok), None), "{ok}");
        }
        // The other platform's origin is not this app's.
        let other = if scheme == "tauri" {
            "http://tauri.localhost/"
        } else {
            "tauri://localhost/"
        };
        assert!(!is_app_url(&url(other), None), "{other}");
        for bad in [
            "https://tauri.localhost/",
            "http://tauri.localhost:8080/",
            "ftp://tauri.localhost/",
            "ws://tauri.localhost/",
            "tauri://localhost:1234/",
            "tauri://evil.example/",
            "tauri://user@localhost/",
            "http://user:pw@tauri.localhost/",
            "http://tauri.localhost.evil.example/",
            "http://localhost:5173/",
            "http://localhost/",
            "https://example.com/",
            "file:///etc/passwd",
            "data:text/html,hi",
            "javascript:alert(1)",
            "about:blank",
        ] {
            assert!(!is_app_url(&url(bad), None), "{bad}");
        }
        // A dev build: its dev server's origin too, and no other port or scheme.
        assert!(is_app_url(
            &url("http://localhost:5173/src/main.ts"),
            Some(&dev)
        ));
        for bad in [
            "http://localhost:5174/",
            "https://localhost:5173/",
            "http://127.0.0.1:5173/",
        ] {
            assert!(!is_app_url(&url(bad), Some(&dev)), "{bad}");
        }
    }
}
