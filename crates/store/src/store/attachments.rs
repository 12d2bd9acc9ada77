//! Attachments: the files a run was sent with (the request's `attachments`).
//!
//! The bytes are kept out of SQLite: each file once, under the SHA-256 of its
//! bytes, in `<dir of the database>/attachments/<first 2 hex>/<sha256>`
//! ([`Store::attachments_dir`]). A run's beginning (or an import) is *staged*
//! first ([`stage`]): every attachment's base64 is decoded, hashed and written
//! (temp file, fsync, rename; the same bytes twice are one file) before the
//! transaction that records the run, which then stores the request with each
//! attachment's `data` emptied and its `sha256` and `size` set, and a row per
//! attachment in `run_attachments` ([`record_refs`]). A request read back is
//! filled again from the files with [`Store::hydrate`] when its bytes are
//! needed (a re-run, an export).
//!
//! Deleting runs removes the files no run names any more ([`sweep`]), inside
//! the deleting transaction: each is renamed aside first, removed once the
//! transaction commits, and renamed back if it does not. A run being recorded
//! by another process at the same moment checks again, in its own
//! transaction, that each of its files is there and writes it again if not, so
//! a file is never missing under a committed run.
//!
//! A recording or an import that fails removes the files it wrote that no run
//! names, and opening the history tidies what a process that died part-way
//! left (`leftovers.rs`); for that, the temporary and aside files a process
//! makes carry its owner id.
//!
//! An in-memory history has no folder: its requests keep their bytes inline
//! (with `sha256` and `size` set, and the same rows), read back from there.

use super::{Store, to_i64};
use crate::{Error, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_core::{Attachment, RoundtableRequest};
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A request ready to be recorded: as it is stored, and the files it names.
#[derive(Debug)]
pub(crate) struct Staged {
    /// The request as stored (`data` emptied when the bytes are in files).
    pub(crate) request: RoundtableRequest,
    files: Vec<StagedFile>,
    /// The owner whose temporary files these are.
    owner: String,
}

impl Staged {
    /// The files this staging wrote (that were not there before).
    pub(crate) fn created(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|f| f.created)
            .map(|f| f.sha256.as_str())
    }
}

#[derive(Debug)]
struct StagedFile {
    position: usize,
    sha256: String,
    name: String,
    media_type: String,
    size: u64,
    /// The bytes, to write the file again should it be swept meanwhile; `None`
    /// for an attachment that only names a stored file (a re-resolved run's).
    bytes: Option<Vec<u8>>,
    /// Written by this staging (it was not there before).
    created: bool,
}

/// A file renamed aside by a delete, until its transaction ends.
#[derive(Debug)]
pub(crate) struct Doomed {
    path: PathBuf,
    aside: PathBuf,
}

impl Store {
    /// Where this history keeps attached files: `<dir of the database>/attachments`;
    /// `None` in memory.
    pub fn attachments_dir(&self) -> Option<PathBuf> {
        let db = self.path()?;
        let dir = match db.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Some(dir.join("attachments"))
    }

    /// The bytes of the stored file `sha256`, checked against their hash. A file
    /// that is not there is [`Error::AttachmentMissing`].
    pub fn read_attachment(&self, sha256: &str) -> Result<Vec<u8>> {
        if !is_sha256(sha256) {
            return Err(Error::InvalidAttachment {
                field: "sha256".into(),
                message: format!("'{sha256}' is not a SHA-256 (64 lower-case hex digits)"),
            });
        }
        let bytes = match self.attachments_dir() {
            Some(dir) => {
                let path = file_path(&dir, sha256);
                match fs::read(&path) {
                    Ok(bytes) => bytes,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(Error::AttachmentMissing {
                            what: sha256.to_string(),
                            path,
                        });
                    }
                    Err(source) => return Err(Error::Io { path, source }),
                }
            }
            None => self.inline_bytes(sha256)?,
        };
        if hex_sha256(&bytes) != sha256 {
            return Err(Error::AttachmentCorrupt {
                sha256: sha256.to_string(),
            });
        }
        Ok(bytes)
    }

    /// A stored file with its bytes (base64), under the name and type a run
    /// last attached it with; `None` when no run names `sha256`.
    pub fn attachment(&self, sha256: &str) -> Result<Option<Attachment>> {
        let named = self
            .conn
            .prepare_cached(
                "SELECT name, media_type, size FROM run_attachments WHERE sha256 = ?1 \
                 ORDER BY rowid DESC LIMIT 1",
            )?
            .query_row([sha256], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .optional()?;
        let Some((name, media_type, size)) = named else {
            return Ok(None);
        };
        let bytes = self.read_attachment(sha256)?;
        Ok(Some(Attachment {
            name,
            media_type,
            data: STANDARD.encode(bytes),
            sha256: Some(sha256.to_string()),
            size: Some(u64::try_from(size).unwrap_or(0)),
        }))
    }

    /// Fills back the `data` of a stored request's attachments from their files,
    /// so it can be sent again. Fails on the first file missing or damaged,
    /// naming the attachment.
    pub fn hydrate(&self, request: &mut RoundtableRequest) -> Result<()> {
        for a in &mut request.attachments {
            if !a.data.is_empty() {
                continue;
            }
            let Some(sha) = a.sha256.as_deref() else {
                return Err(Error::AttachmentUnstored(a.name.clone()));
            };
            let bytes = self.read_attachment(sha).map_err(|e| match e {
                Error::AttachmentMissing { what, path } => Error::AttachmentMissing {
                    what: format!("'{}' ({what})", a.name),
                    path,
                },
                other => other,
            })?;
            a.data = STANDARD.encode(bytes);
        }
        Ok(())
    }

    /// As [`Store::hydrate`], leaving an attachment whose file cannot be read
    /// as it is (named, without its bytes) instead of failing: for an export,
    /// which still names it. Returns the names of those left without bytes.
    pub fn hydrate_available(&self, request: &mut RoundtableRequest) -> Vec<String> {
        let mut missing = Vec::new();
        for a in &mut request.attachments {
            if !a.data.is_empty() {
                continue;
            }
            match a.sha256.as_deref().map(|sha| self.read_attachment(sha)) {
                Some(Ok(bytes)) => a.data = STANDARD.encode(bytes),
                _ => missing.push(a.name.clone()),
            }
        }
        missing
    }

    /// In memory: the bytes inline in the request of a run that names `sha256`.
    fn inline_bytes(&self, sha256: &str) -> Result<Vec<u8>> {
        let found = self
            .conn
            .prepare_cached(
                "SELECT r.request, a.position FROM run_attachments a \
                 JOIN runs r ON r.id = a.run_id WHERE a.sha256 = ?1 LIMIT 1",
            )?
            .query_row([sha256], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()?;
        let missing = || Error::AttachmentMissing {
            what: sha256.to_string(),
            path: PathBuf::from(":memory:"),
        };
        let (request, position) = found.ok_or_else(missing)?;
        let request: RoundtableRequest = serde_json::from_str(&request)?;
        let a = usize::try_from(position)
            .ok()
            .and_then(|p| request.attachments.get(p))
            .ok_or_else(missing)?;
        STANDARD
            .decode(a.data.as_bytes())
            .map_err(|_| Error::AttachmentCorrupt {
                sha256: sha256.to_string(),
            })
    }

    /// Decodes, hashes and writes the files of `request` (outside any
    /// transaction); `None` when it attaches nothing. On an error, the files
    /// it wrote are removed again (unless a run names them).
    pub(crate) fn stage(&self, request: &RoundtableRequest) -> Result<Option<Staged>> {
        if request.attachments.is_empty() {
            return Ok(None);
        }
        let mut staged = Staged {
            request: request.clone(),
            files: Vec::new(),
            owner: self.owner().to_string(),
        };
        match self.stage_files(&mut staged) {
            Ok(()) => Ok(Some(staged)),
            Err(e) => {
                self.discard([&staged]);
                Err(e)
            }
        }
    }

    fn stage_files(&self, staged: &mut Staged) -> Result<()> {
        let dir = self.attachments_dir();
        let files = &mut staged.files;
        for (i, a) in staged.request.attachments.iter_mut().enumerate() {
            let file = if a.data.is_empty() {
                // Names a file stored before (a re-resolved run's request).
                let Some(sha) = a.sha256.clone() else {
                    continue;
                };
                if !is_sha256(&sha) {
                    return Err(Error::InvalidAttachment {
                        field: format!("attachments[{i}].sha256"),
                        message: format!("'{sha}' is not a SHA-256 (64 lower-case hex digits)"),
                    });
                }
                StagedFile {
                    position: i,
                    sha256: sha,
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size.unwrap_or(0),
                    bytes: None,
                    created: false,
                }
            } else {
                let bytes =
                    STANDARD
                        .decode(a.data.as_bytes())
                        .map_err(|e| Error::InvalidAttachment {
                            field: format!("attachments[{i}].data"),
                            message: format!("not valid base64: {e}"),
                        })?;
                let sha = hex_sha256(&bytes);
                let mut created = false;
                if let Some(dir) = &dir {
                    created = write_file(dir, &sha, &bytes, &staged.owner)?;
                    a.data.clear();
                }
                a.sha256 = Some(sha.clone());
                a.size = Some(bytes.len() as u64);
                StagedFile {
                    position: i,
                    sha256: sha,
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: bytes.len() as u64,
                    bytes: dir.is_some().then_some(bytes),
                    created,
                }
            };
            // Kept before the next one can fail, so that it is discarded then.
            files.push(file);
        }
        Ok(())
    }

    /// In a deleting transaction, after the runs are gone: the files among
    /// `candidates` that no run names any more lose their row and are renamed
    /// aside ([`Store::finish_sweep`] removes them or puts them back).
    pub(crate) fn sweep(
        &self,
        tx: &Transaction<'_>,
        candidates: &[String],
        doomed: &mut Vec<Doomed>,
    ) -> Result<()> {
        let dir = self.attachments_dir();
        for sha in candidates {
            let named = tx
                .prepare_cached("SELECT 1 FROM run_attachments WHERE sha256 = ?1 LIMIT 1")?
                .exists([sha])?;
            if named {
                continue;
            }
            tx.prepare_cached("DELETE FROM attachment_files WHERE sha256 = ?1")?
                .execute([sha])?;
            let Some(dir) = &dir else { continue };
            if !is_sha256(sha) {
                continue;
            }
            let path = file_path(dir, sha);
            let aside = path.with_extension(format!("{}.deleted", self.owner()));
            match fs::rename(&path, &aside) {
                Ok(()) => doomed.push(Doomed { path, aside }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
        Ok(())
    }

    /// After the deleting transaction: its files removed when it committed, put
    /// back when it did not.
    pub(crate) fn finish_sweep(&self, doomed: Vec<Doomed>, committed: bool) {
        for d in doomed {
            let _ = if committed {
                fs::remove_file(&d.aside)
            } else {
                fs::rename(&d.aside, &d.path)
            };
        }
    }
}

/// The files a run names, for [`Store::sweep`] once it is deleted.
pub(crate) fn files_of(tx: &Transaction<'_>, run_id: &str) -> Result<Vec<String>> {
    let mut stmt =
        tx.prepare_cached("SELECT DISTINCT sha256 FROM run_attachments WHERE run_id = ?1")?;
    let shas = stmt
        .query_map([run_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(shas)
}

/// In the recording transaction: the rows of a staged run's files, each file
/// written again if a delete swept it since it was staged.
pub(crate) fn record_refs(
    tx: &Transaction<'_>,
    dir: Option<&Path>,
    run_id: &str,
    staged: &Staged,
) -> Result<()> {
    for f in &staged.files {
        if let (Some(dir), Some(bytes)) = (dir, &f.bytes) {
            write_file(dir, &f.sha256, bytes, &staged.owner)?;
        }
        tx.prepare_cached(
            "INSERT INTO attachment_files (sha256, media_type, size) VALUES (?1, ?2, ?3) \
             ON CONFLICT (sha256) DO NOTHING",
        )?
        .execute(params![f.sha256, f.media_type, to_i64(f.size)])?;
        tx.prepare_cached(
            "INSERT INTO run_attachments (run_id, position, sha256, name, media_type, size) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            run_id,
            to_i64(f.position as u64),
            f.sha256,
            f.name,
            f.media_type,
            to_i64(f.size)
        ])?;
    }
    Ok(())
}

/// `<dir>/<first 2 hex>/<sha256>`.
pub(super) fn file_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(&sha256[..2]).join(sha256)
}

/// Writes `bytes` as the file `sha256` unless it is there: a temp file beside
/// it (`.<sha256>.<owner>.<uuid>.tmp`), synced, renamed into place, and the
/// folder synced. `true` when it wrote the file.
fn write_file(dir: &Path, sha256: &str, bytes: &[u8], owner: &str) -> Result<bool> {
    let path = file_path(dir, sha256);
    if path.exists() {
        return Ok(false);
    }
    let folder = path.parent().unwrap_or(dir);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    fs::create_dir_all(folder).map_err(io(folder))?;
    let tmp = folder.join(format!(
        ".{sha256}.{owner}.{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(&path)(e));
    }
    // The rename itself is durable once the folder is synced (not possible
    // everywhere: a folder cannot be opened as a file on Windows).
    if let Ok(d) = fs::File::open(folder) {
        let _ = d.sync_all();
    }
    Ok(true)
}

/// The SHA-256 of `bytes`, lower-case hex.
fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 64 lower-case hex digits (never a path of its own).
pub(super) fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_names() {
        assert_eq!(
            hex_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256(&hex_sha256(b"")));
        assert!(!is_sha256("../../etc/passwd"));
        assert!(!is_sha256(&hex_sha256(b"x").to_uppercase()));
        let dir = Path::new("/h/attachments");
        assert_eq!(
            file_path(dir, &hex_sha256(b"abc")),
            dir.join("ba").join(hex_sha256(b"abc"))
        );
    }
}
