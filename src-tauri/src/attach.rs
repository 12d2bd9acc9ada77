//! Attaching files to a prompt through the open dialog: the shell opens it and
//! the app reads what was picked (`App::attach_files`), so the page never names
//! a path. Files dropped on the window or pasted are read by the page itself
//! (the window's `dragDropEnabled` is off, so the webview gets the drops).
//!
//! Test runs only: WebDriver cannot drive a native dialog, so when
//! [`E2E_PICK`] is set the "dialog" answers with the paths it lists (separated
//! as in `PATH`); everything after the dialog is the real path. Never set it
//! outside the end-to-end suite.

use roundtable_app::{AppError, Code};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::DialogExt;

/// Test-only (tests/e2e): the files the open dialog is replaced by.
pub const E2E_PICK: &str = "ROUNDTABLE_E2E_PICK";

/// What the dialog offers first: the kinds a model takes (the engine's).
const EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "webp", "gif", "pdf", "txt", "md", "markdown", "csv", "tsv", "json",
    "jsonl", "ndjson", "xml", "yaml", "yml", "toml", "html", "htm", "css", "js", "mjs", "ts", "py",
    "rs", "go", "java", "c", "h", "cpp", "rb", "sh", "sql", "log",
];

/// The paths [`E2E_PICK`] lists, or `None` when it is not set.
fn e2e_pick() -> Option<Vec<PathBuf>> {
    let list = std::env::var_os(E2E_PICK)?;
    Some(
        std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
    )
}

/// The files the user picks in the open dialog (empty: cancelled), or
/// [`E2E_PICK`]'s in a test run.
pub async fn choose_files<R: Runtime>(handle: &AppHandle<R>) -> Result<Vec<PathBuf>, AppError> {
    if let Some(paths) = e2e_pick() {
        return Ok(paths);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = handle
        .dialog()
        .file()
        .set_title("Attach files")
        .add_filter("Images, PDFs and text files", EXTENSIONS)
        .add_filter("All files", &["*"]);
    if let Some(window) = handle.get_webview_window("main") {
        dialog = dialog.set_parent(&window);
    }
    dialog.pick_files(move |paths| {
        let _ = tx.send(paths);
    });
    let Ok(Some(paths)) = rx.await else {
        return Ok(Vec::new());
    };
    paths
        .into_iter()
        .map(|p| {
            p.into_path().map_err(|e| {
                AppError::new(
                    Code::Io,
                    format!("the open dialog gave no usable path: {e}"),
                )
            })
        })
        .collect()
}
