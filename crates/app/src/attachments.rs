//! Attachments from disk and from the history: files read for a prompt (the
//! CLI's `-a`, the desktop's file picker) as the request's `attachments`
//! ([`App::attach_files`]), and a stored file with its bytes
//! ([`App::attachment`], the desktop's thumbnails of a stored run).
//!
//! A file's media type comes from its extension (`mime_guess`); a type no
//! model takes, or an extension nobody knows, is sent as `text/plain` when
//! the bytes are UTF-8 without NUL (source code, logs, `.ts`, which the
//! registry calls video) and refused, naming the file, when they are not.
//! Whether the bytes are what their type says (an image's first bytes) is the
//! engine's check, when the run is prepared.

use crate::{App, AppError, Code};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_core::Attachment;
use roundtable_core::attachments::{Kind, MAX_FILES, human_size};
use std::io::Read as _;
use std::path::{Path, PathBuf};

impl App {
    /// Reads each file as an attachment: named by its file name, typed by its
    /// extension, its bytes base64. The limits are checked before any file is
    /// read: the number of files first (at most [`MAX_FILES`]), then each
    /// file's size on disk against `[limits] max_attachment_bytes` and their
    /// sum against `max_run_attachment_bytes`; what is read is bounded by
    /// them too (a file that grew since is refused). Every error names the
    /// file, or the limit (`invalid_request`, field `attachments`).
    pub fn attach_files(&self, paths: &[PathBuf]) -> Result<Vec<Attachment>, AppError> {
        let max = self.config.limits.max_attachment_bytes;
        let max_run = self.config.limits.max_run_attachment_bytes;
        if paths.len() > MAX_FILES {
            return Err(invalid(format!(
                "{} files: at most {MAX_FILES} may be attached to a run",
                paths.len()
            )));
        }
        let mut total: u64 = 0;
        for path in paths {
            total = total.saturating_add(size_on_disk(path, max)?);
        }
        let over_run = |total: u64| {
            invalid(format!(
                "the files hold {} in all, over the limit of {} for a run \
                 ([limits] max_run_attachment_bytes)",
                human_size(total),
                human_size(max_run)
            ))
        };
        if total > max_run {
            return Err(over_run(total));
        }
        let mut read: u64 = 0;
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            let a = attach_file(path, max)?;
            read += a.size.unwrap_or(0);
            if read > max_run {
                return Err(over_run(read));
            }
            out.push(a);
        }
        Ok(out)
    }

    /// A file stored with a run of the history, with its bytes, by its SHA-256
    /// (as a stored request names it).
    pub fn attachment(&self, sha256: &str) -> Result<Attachment, AppError> {
        self.store().attachment(sha256)?.ok_or_else(|| {
            AppError::new(
                Code::NotFound,
                format!("no attached file {sha256} in the history"),
            )
        })
    }
}

fn invalid(message: String) -> AppError {
    AppError {
        field: Some("attachments".into()),
        ..AppError::new(Code::InvalidRequest, message)
    }
}

fn refused(path: &Path, why: impl std::fmt::Display) -> AppError {
    AppError {
        field: Some("attachments".into()),
        ..AppError::new(
            Code::InvalidRequest,
            format!("cannot attach {}: {why}", path.display()),
        )
    }
}

/// `path`'s size from the file system, refused past `max_bytes`, without
/// reading it.
fn size_on_disk(path: &Path, max_bytes: u64) -> Result<u64, AppError> {
    if path.file_name().is_none() {
        return Err(refused(path, "not a file"));
    }
    let meta = std::fs::metadata(path).map_err(|e| refused(path, e))?;
    if !meta.is_file() {
        return Err(refused(path, "not a file"));
    }
    if meta.len() > max_bytes {
        return Err(over_file(path, meta.len(), max_bytes));
    }
    Ok(meta.len())
}

fn over_file(path: &Path, size: u64, max_bytes: u64) -> AppError {
    refused(
        path,
        format!(
            "it holds {}, over the limit of {} per file ([limits] max_attachment_bytes)",
            human_size(size),
            human_size(max_bytes)
        ),
    )
}

fn attach_file(path: &Path, max_bytes: u64) -> Result<Attachment, AppError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| refused(path, "not a file"))?;
    let size = size_on_disk(path, max_bytes)?;
    let over = |size: u64| over_file(path, size, max_bytes);
    // Read at most one byte past the limit: a file that grew since is refused too.
    let mut bytes = Vec::with_capacity(size as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max_bytes + 1).read_to_end(&mut bytes))
        .map_err(|e| refused(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(over(bytes.len() as u64));
    }
    if bytes.is_empty() {
        return Err(refused(path, "the file is empty"));
    }
    let media_type = media_type(path, &bytes).ok_or_else(|| {
        refused(
            path,
            "not an image (PNG, JPEG, WebP, GIF), a PDF or a text file (its type is \
             unknown and its bytes are not UTF-8 text)",
        )
    })?;
    Ok(Attachment {
        name,
        media_type,
        size: Some(bytes.len() as u64),
        data: STANDARD.encode(&bytes),
        sha256: None,
    })
}

/// The extension's media type when a model takes it; else `text/plain` for
/// text; else `None`.
fn media_type(path: &Path, bytes: &[u8]) -> Option<String> {
    let guessed = mime_guess::from_path(path)
        .iter()
        .map(|m| m.essence_str().to_ascii_lowercase())
        .find(|m| Kind::of(m).is_some());
    if guessed.is_some() {
        return guessed;
    }
    let text = !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok();
    text.then(|| "text/plain".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{app_with_config, user_app};

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    #[test]
    fn files_are_named_typed_and_encoded() {
        let (home, app) = user_app();
        let dir = home.path();
        let files = [
            ("chart.png", PNG.to_vec()),
            ("notes.md", b"# Notes\n".to_vec()),
            ("main.ts", b"export const x = 1;\n".to_vec()),
            ("README", b"plain text\n".to_vec()),
            ("data.json", b"{\"a\": 1}".to_vec()),
        ];
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(name, bytes)| {
                let p = dir.join(name);
                std::fs::write(&p, bytes).unwrap();
                p
            })
            .collect();
        let got = app.attach_files(&paths).unwrap();
        let types: Vec<&str> = got.iter().map(|a| a.media_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "image/png",
                "text/markdown",
                "text/plain",
                "text/plain",
                "application/json"
            ]
        );
        assert_eq!(got[0].name, "chart.png");
        assert_eq!(got[0].data, STANDARD.encode(PNG));
        assert_eq!(got[0].size, Some(PNG.len() as u64));
        // Ready for the engine as they are.
        roundtable_core::attachments::prepare(&got, &Default::default()).unwrap();
    }

    #[test]
    fn what_cannot_be_attached_is_refused_naming_the_file() {
        let (home, app) = user_app();
        let dir = home.path();
        let err = app.attach_files(&[dir.join("nowhere.png")]).unwrap_err();
        assert_eq!(err.code, Code::InvalidRequest);
        assert!(err.message.contains("nowhere.png"), "{err}");

        let binary = dir.join("blob.bin");
        std::fs::write(&binary, [0u8, 159, 146, 150]).unwrap();
        let err = app.attach_files(&[binary]).unwrap_err();
        assert!(err.message.contains("blob.bin"), "{err}");
        assert!(err.message.contains("not UTF-8"), "{err}");

        let empty = dir.join("empty.txt");
        std::fs::write(&empty, b"").unwrap();
        let err = app.attach_files(&[empty]).unwrap_err();
        assert!(err.message.contains("empty"), "{err}");

        let err = app.attach_files(&[dir.to_path_buf()]).unwrap_err();
        assert!(err.message.contains("not a file"), "{err}");
    }

    #[test]
    fn the_count_and_the_sizes_are_checked_before_any_file_is_read() {
        let (home, app) =
            app_with_config("[limits]\nmax_attachment_bytes = 10\nmax_run_attachment_bytes = 15\n");
        let dir = home.path();
        // The count first: none of these files is even looked for.
        let many: Vec<PathBuf> = (0..=MAX_FILES)
            .map(|i| dir.join(format!("missing-{i}.txt")))
            .collect();
        let err = app.attach_files(&many).unwrap_err();
        assert_eq!(err.code, Code::InvalidRequest);
        assert!(err.message.contains("at most 100"), "{err}");
        // Then the sizes, from the file system: the run's total is over its
        // limit before the binary file (refused only once read) is read.
        for name in ["a.txt", "b.txt"] {
            std::fs::write(dir.join(name), [b'a'; 10]).unwrap();
        }
        std::fs::write(dir.join("blob.bin"), [0u8, 159, 146, 150]).unwrap();
        let paths = ["a.txt", "b.txt", "blob.bin"].map(|n| dir.join(n));
        let err = app.attach_files(&paths).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("attachments"));
        assert!(err.message.contains("max_run_attachment_bytes"), "{err}");
        assert_eq!(app.attach_files(&paths[..1]).unwrap().len(), 1);
    }

    #[test]
    fn the_limits_hold_at_their_edges() {
        // As many files as a run takes, each as large as a file may be, and
        // together as large as a run's may be: all taken, whole.
        let (home, app) = app_with_config(
            "[limits]\nmax_attachment_bytes = 10\nmax_run_attachment_bytes = 1000\n",
        );
        let paths: Vec<PathBuf> = (0..MAX_FILES)
            .map(|i| {
                let p = home.path().join(format!("f{i}.txt"));
                std::fs::write(&p, [b'a'; 10]).unwrap();
                p
            })
            .collect();
        let got = app.attach_files(&paths).unwrap();
        assert_eq!(got.len(), MAX_FILES);
        assert!(
            got.iter()
                .all(|a| a.size == Some(10) && a.data == STANDARD.encode([b'a'; 10]))
        );
        let (home, app) =
            app_with_config("[limits]\nmax_attachment_bytes = 10\nmax_run_attachment_bytes = 20\n");
        let two = ["a.txt", "b.txt"].map(|n| {
            let p = home.path().join(n);
            std::fs::write(&p, [b'b'; 10]).unwrap();
            p
        });
        assert_eq!(app.attach_files(&two).unwrap().len(), 2);
        // A file the app cannot read names the field it stands for.
        let err = app
            .attach_files(&[home.path().join("nowhere.txt")])
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("attachments"));
    }

    #[test]
    fn text_is_utf8_without_a_nul() {
        let (home, app) = user_app();
        for (name, bytes) in [
            ("latin1.data", &b"caf\xe9 au lait"[..]),
            ("nul.data", &b"text\0with a nul"[..]),
        ] {
            let path = home.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let err = app.attach_files(&[path]).unwrap_err();
            assert!(err.message.contains("not UTF-8"), "{name}: {err}");
        }
        let path = home.path().join("plain.data");
        std::fs::write(&path, "café au lait").unwrap();
        assert_eq!(
            app.attach_files(&[path]).unwrap()[0].media_type,
            "text/plain"
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let (home, app) = app_with_config("[limits]\nmax_attachment_bytes = 10\n");
        let big = home.path().join("big.txt");
        std::fs::write(&big, [b'a'; 11]).unwrap();
        let err = app.attach_files(&[big]).unwrap_err();
        assert_eq!(err.code, Code::InvalidRequest);
        assert!(err.message.contains("big.txt"), "{err}");
        assert!(err.message.contains("max_attachment_bytes"), "{err}");
        let small = home.path().join("small.txt");
        std::fs::write(&small, [b'a'; 10]).unwrap();
        assert_eq!(app.attach_files(&[small]).unwrap().len(), 1);
    }
}
