//! Exports: the path comes from the save dialog this shell opens, never from
//! the page, so a compromised page cannot write files. The page asks to export
//! runs in a format; the user chooses where.
//!
//! Test runs only: WebDriver cannot drive a native dialog, so when
//! [`E2E_EXPORT_DIR`] is set at start the "dialog" answers with that folder and
//! the name the shell proposes (the page still names no path). Never set it
//! outside the end-to-end suite.

use roundtable_app::Code;
use roundtable_app::store::VerdictSource;
use roundtable_app::{App, AppError, ExportFormat, LeaderboardQuery};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::DialogExt;

/// Test-only (tests/e2e): a folder the save dialog is replaced by, read once at start.
pub const E2E_EXPORT_DIR: &str = "ROUNDTABLE_E2E_EXPORT_DIR";

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ExportDone {
    pub path: String,
    pub bytes: u64,
}

fn extension(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Md => "md",
        ExportFormat::Json => "json",
        ExportFormat::Csv => "csv",
        ExportFormat::Html => "html",
    }
}

fn filter_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Md => "Markdown",
        ExportFormat::Json => "JSON",
        ExportFormat::Csv => "CSV",
        ExportFormat::Html => "HTML",
    }
}

/// The name the dialog proposes: `roundtable-<id>.<ext>` for one run whose id is
/// plain (letters, digits, `_`, `-`), else `roundtable-<n>-runs.<ext>`.
pub fn file_name(ids: &[String], format: ExportFormat) -> String {
    let plain = |id: &str| {
        !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let stem = match ids {
        [id] if plain(id) => id.clone(),
        _ => format!("{}-runs", ids.len()),
    };
    format!("roundtable-{stem}.{}", extension(format))
}

/// The name the dialog proposes for a conversation: `roundtable-thread-<id>.<ext>`
/// for a plain id (as [`file_name`]), else `roundtable-thread.<ext>`.
pub fn thread_file_name(id: &str, format: ExportFormat) -> String {
    let one = file_name(&[id.to_string()], format);
    match one.strip_prefix("roundtable-1-runs") {
        Some(_) => format!("roundtable-thread.{}", extension(format)),
        None => one.replacen("roundtable-", "roundtable-thread-", 1),
    }
}

/// The name the dialog proposes for the leaderboard as CSV: which verdicts it
/// was made from shows in the name, so a file of votes and one of judges differ.
pub fn leaderboard_file_name(query: &LeaderboardQuery) -> String {
    match query.source {
        VerdictSource::Votes => "roundtable-leaderboard.csv".into(),
        VerdictSource::Judges => "roundtable-leaderboard-judges.csv".into(),
    }
}

/// Where to write: the user's choice in the save dialog titled `title`
/// (`None`: cancelled), or `e2e_dir`/`name` in a test run.
pub async fn choose_path<R: Runtime>(
    handle: &AppHandle<R>,
    e2e_dir: Option<&Path>,
    title: &str,
    name: &str,
    format: ExportFormat,
) -> Result<Option<PathBuf>, AppError> {
    let filter = (filter_name(format), &[extension(format)][..]);
    ask(handle, e2e_dir, Dialog::Save, title, name, filter).await
}

/// The file the user picks in the open dialog (`None`: cancelled); in a test
/// run, `e2e_dir`/`name` (the page still names no path).
pub async fn choose_file_to_open<R: Runtime>(
    handle: &AppHandle<R>,
    e2e_dir: Option<&Path>,
    title: &str,
    name: &str,
    filter: (&str, &[&str]),
) -> Result<Option<PathBuf>, AppError> {
    ask(handle, e2e_dir, Dialog::Open, title, name, filter).await
}

enum Dialog {
    Save,
    Open,
}

/// The native dialog's answer (`None`: cancelled), or `e2e_dir`/`name` in a
/// test run.
async fn ask<R: Runtime>(
    handle: &AppHandle<R>,
    e2e_dir: Option<&Path>,
    kind: Dialog,
    title: &str,
    name: &str,
    filter: (&str, &[&str]),
) -> Result<Option<PathBuf>, AppError> {
    if let Some(dir) = e2e_dir {
        return Ok(Some(dir.join(name)));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = handle
        .dialog()
        .file()
        .set_title(title)
        .add_filter(filter.0, filter.1);
    if let Some(window) = handle.get_webview_window("main") {
        dialog = dialog.set_parent(&window);
    }
    let done = move |path| {
        let _ = tx.send(path);
    };
    let what = match kind {
        Dialog::Save => {
            dialog.set_file_name(name).save_file(done);
            "save"
        }
        Dialog::Open => {
            dialog.pick_file(done);
            "open"
        }
    };
    match rx.await {
        Ok(Some(path)) => path.into_path().map(Some).map_err(|e| {
            AppError::new(
                Code::Io,
                format!("the {what} dialog gave no usable path: {e}"),
            )
        }),
        _ => Ok(None),
    }
}

/// Where the user chose, with the format's extension when the name has none.
fn target(path: &Path, format: ExportFormat) -> PathBuf {
    match path.extension() {
        Some(_) => path.to_path_buf(),
        None => path.with_extension(extension(format)),
    }
}

/// Writes the export to `path` (see [`target`]).
pub fn write(
    app: &App,
    ids: &[String],
    format: ExportFormat,
    path: &Path,
) -> Result<ExportDone, AppError> {
    let text = app.export(ids, format)?;
    save(&target(path, format), &text)
}

/// Writes the conversation through `id` to `path` (see [`target`]), turn by turn.
pub fn write_thread(
    app: &App,
    id: &str,
    format: ExportFormat,
    path: &Path,
) -> Result<ExportDone, AppError> {
    let text = app.export_thread(id, format)?;
    save(&target(path, format), &text)
}

/// Writes the leaderboard `query` selects to `path` as CSV (see [`target`]).
pub fn write_leaderboard(
    app: &App,
    query: &LeaderboardQuery,
    path: &Path,
) -> Result<ExportDone, AppError> {
    let text = app.leaderboard(query)?.to_csv();
    save(&target(path, ExportFormat::Csv), &text)
}

fn save(path: &Path, text: &str) -> Result<ExportDone, AppError> {
    std::fs::write(path, text)
        .map_err(|e| AppError::new(Code::Io, format!("cannot write {}: {e}", path.display())))?;
    Ok(ExportDone {
        path: path.display().to_string(),
        bytes: text.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use roundtable_app::AppOptions;
    use roundtable_app::core::ApiKey;
    use roundtable_app::keys::{KeychainError, SecretStore};
    use std::sync::Arc;

    struct NoKeys;
    impl SecretStore for NoKeys {
        fn get(&self, _: &str) -> Result<Option<ApiKey>, KeychainError> {
            Ok(None)
        }
        fn set(&self, _: &str, _: &str) -> Result<(), KeychainError> {
            Ok(())
        }
        fn delete(&self, _: &str) -> Result<bool, KeychainError> {
            Ok(false)
        }
    }

    #[test]
    fn the_proposed_name_never_carries_a_path() {
        let one = |id: &str| file_name(&[id.to_string()], ExportFormat::Md);
        assert_eq!(one("rt_0192abc-d"), "roundtable-rt_0192abc-d.md");
        for hostile in [
            "../../.bashrc",
            "/etc/passwd",
            "a/b",
            "..",
            "",
            "x\\y",
            "a b",
        ] {
            assert_eq!(one(hostile), "roundtable-1-runs.md", "{hostile:?}");
        }
        let two = ["a".to_string(), "b".to_string()];
        assert_eq!(file_name(&two, ExportFormat::Csv), "roundtable-2-runs.csv");
    }

    #[test]
    fn writes_where_chosen_adding_the_extension_when_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(
            target(&d.join("out"), ExportFormat::Json),
            d.join("out.json")
        );
        assert_eq!(
            target(&d.join("out.txt"), ExportFormat::Md),
            d.join("out.txt")
        );
        let app = App::open(AppOptions {
            home: Some(d.join("home")),
            keychain: Some(Arc::new(NoKeys)),
        })
        .unwrap();
        let err = write(&app, &["rt_nope".into()], ExportFormat::Md, &d.join("x.md"));
        assert_eq!(err.unwrap_err().code, Code::NotFound);
        assert!(!d.join("x.md").exists());

        // The leaderboard of an empty history: its header, as a .csv.
        let done = write_leaderboard(&app, &LeaderboardQuery::default(), &d.join("board")).unwrap();
        assert_eq!(done.path, d.join("board.csv").display().to_string());
        let text = std::fs::read_to_string(d.join("board.csv")).unwrap();
        assert_eq!(
            text,
            app.leaderboard(&LeaderboardQuery::default())
                .unwrap()
                .to_csv()
        );
        assert!(text.starts_with("rank,model,"), "{text}");
        assert_eq!(done.bytes, text.len() as u64);
    }

    #[test]
    fn a_thread_file_is_named_after_its_turn_and_never_carries_a_path() {
        assert_eq!(
            thread_file_name("rt_01ab", ExportFormat::Md),
            "roundtable-thread-rt_01ab.md"
        );
        assert_eq!(
            thread_file_name("../../x", ExportFormat::Html),
            "roundtable-thread.html"
        );
    }

    #[test]
    fn the_leaderboard_file_says_whose_verdicts_it_holds() {
        let mut q = LeaderboardQuery::default();
        assert_eq!(leaderboard_file_name(&q), "roundtable-leaderboard.csv");
        q.source = VerdictSource::Judges;
        q.judge_model = Some("../../x".into());
        assert_eq!(
            leaderboard_file_name(&q),
            "roundtable-leaderboard-judges.csv"
        );
    }
}
