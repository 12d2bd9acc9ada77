//! Writing an export where the user chose (the save dialog's path).

use roundtable_app::{App, AppError, ExportFormat};
use serde::Serialize;
use std::path::Path;

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ExportDone {
    pub path: String,
    pub bytes: u64,
}

fn extensions(format: ExportFormat) -> &'static [&'static str] {
    match format {
        ExportFormat::Md => &["md", "markdown"],
        ExportFormat::Json => &["json"],
        ExportFormat::Csv => &["csv"],
        ExportFormat::Html => &["html", "htm"],
    }
}

/// Checks `path` (absolute, into an existing folder, named for its format: the
/// window can only ever write export documents) and writes the export there.
pub fn write(
    app: &App,
    ids: &[String],
    format: ExportFormat,
    path: &str,
) -> Result<ExportDone, AppError> {
    let path = Path::new(path);
    if !path.is_absolute() {
        return Err(AppError::new(
            "invalid_request",
            format!("path: {} is not an absolute path", path.display()),
        ));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let allowed = extensions(format);
    if !allowed.contains(&ext.as_str()) {
        return Err(AppError::new(
            "invalid_request",
            format!(
                "path: a {format:?} export is a .{} file, not {}",
                allowed[0],
                path.display()
            ),
        ));
    }
    match path.parent() {
        Some(dir) if dir.is_dir() => {}
        _ => {
            return Err(AppError::new(
                "invalid_request",
                format!("path: the folder of {} does not exist", path.display()),
            ));
        }
    }
    let text = app.export(ids, format)?;
    std::fs::write(path, &text)
        .map_err(|e| AppError::new("io", format!("cannot write {}: {e}", path.display())))?;
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
    fn writes_only_export_documents_into_existing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(AppOptions {
            home: Some(dir.path().join("home")),
            keychain: Some(Arc::new(NoKeys)),
        })
        .unwrap();
        let ids = vec!["rt_nope".to_string()];
        let path = |name: &str| dir.path().join(name).display().to_string();
        let err = |p: &str, f| write(&app, &ids, f, p).unwrap_err();

        assert!(err("out.md", ExportFormat::Md).message.contains("absolute"));
        let e = err(&path("out.sh"), ExportFormat::Md);
        assert_eq!(
            (e.code, e.message.contains(".md")),
            ("invalid_request", true)
        );
        assert!(
            err(&path("out.md"), ExportFormat::Json)
                .message
                .contains(".json")
        );
        assert!(
            err(&path("missing/out.md"), ExportFormat::Md)
                .message
                .contains("does not exist")
        );
        // A valid path gets as far as the history, which has no such run.
        assert_eq!(err(&path("out.MD"), ExportFormat::Md).code, "not_found");
        assert!(!dir.path().join("out.MD").exists());
    }
}
