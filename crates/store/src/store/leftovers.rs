//! Attached files that no run names: what a failed recording or import wrote,
//! and what a process that died part-way left in the attachments folder.
//!
//! - A recording or an import that fails after its files were written removes
//!   the files it wrote that no run names ([`Store::discard`]).
//! - Opening the history tidies what owners whose process is gone left
//!   ([`Store::tidy_attachments`]): a file a delete renamed aside
//!   (`<sha256>.<owner>.deleted`) is put back when a run still names it (the
//!   delete's transaction never committed, and without it the run could not
//!   be re-run or continued) and removed when none does; a temporary file
//!   (`.<sha256>.<owner>.<uuid>.tmp`) is removed; a stored file that no run
//!   names (a process killed between writing a run's files and recording the
//!   run) is removed. The files of owners still running are left alone.
//!
//! Whether a run names a file is decided, and the file removed or put back,
//! inside a write transaction: a run being recorded by another process at
//! the same moment writes its files again in its own transaction if they are
//! missing (`record_refs`), so a file is never missing under a committed run.

use super::Store;
use super::attachments::{Staged, file_path, is_sha256};
use super::open::is_owner_id;
use crate::Result;
use rusqlite::Transaction;
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// A file in the attachments folder that may be left over.
enum Leftover {
    /// `<sha256>`: a stored file.
    Stored(String),
    /// `<sha256>.<owner>.deleted`: renamed aside by a delete.
    Aside {
        sha256: String,
        owner: String,
        path: PathBuf,
    },
    /// `.<sha256>.<owner>….tmp`: being written, or never finished.
    Temporary { owner: String, path: PathBuf },
}

impl Store {
    /// Removes the files `staged` wrote that no run names (after the
    /// transaction that would have recorded them failed). Best effort: what
    /// it cannot remove, the next open does.
    pub(crate) fn discard<'a>(&self, staged: impl IntoIterator<Item = &'a Staged>) {
        let Some(dir) = self.attachments_dir() else {
            return;
        };
        let shas: Vec<&str> = staged.into_iter().flat_map(Staged::created).collect();
        if shas.is_empty() {
            return;
        }
        let _ = self.write(|tx| {
            for sha in shas {
                remove_if_unnamed(tx, &dir, sha)?;
            }
            Ok(())
        });
    }

    /// On open: puts back, or removes, what owners whose process is gone
    /// left in the attachments folder (see the module). Returns how many
    /// files it put back or removed.
    pub fn tidy_attachments(&self) -> Result<usize> {
        let Some(dir) = self.attachments_dir() else {
            return Ok(0);
        };
        let mut done = 0;
        let mut doubtful = Vec::new();
        let mut stored = Vec::new();
        for leftover in scan(&dir) {
            match leftover {
                Leftover::Stored(sha) => stored.push(sha),
                Leftover::Temporary { owner, path } if !self.owner_alive(&owner) => {
                    done += usize::from(fs::remove_file(path).is_ok());
                }
                aside @ Leftover::Aside { .. } => doubtful.push(aside),
                Leftover::Temporary { .. } => {}
            }
        }
        doubtful.retain(|l| match l {
            Leftover::Aside { owner, .. } => !self.owner_alive(owner),
            _ => true,
        });
        if !stored.is_empty() {
            let named = self.named_files()?;
            doubtful.extend(
                stored
                    .into_iter()
                    .filter(|sha| !named.contains(sha))
                    .map(Leftover::Stored),
            );
        }
        if doubtful.is_empty() {
            return Ok(done);
        }
        self.write(|tx| {
            for leftover in &doubtful {
                done += match leftover {
                    Leftover::Stored(sha) => remove_if_unnamed(tx, &dir, sha)?,
                    Leftover::Aside { sha256, path, .. } => put_back(tx, &dir, sha256, path)?,
                    Leftover::Temporary { .. } => 0,
                };
            }
            Ok(done)
        })
    }

    /// Every file a run names.
    fn named_files(&self) -> Result<HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT sha256 FROM run_attachments")?;
        let named = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(named)
    }
}

fn is_named(tx: &Transaction<'_>, sha: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM run_attachments WHERE sha256 = ?1 LIMIT 1")?
        .exists([sha])?)
}

/// Removes the file `sha` and its row when no run names it; how many files
/// it removed.
fn remove_if_unnamed(tx: &Transaction<'_>, dir: &Path, sha: &str) -> Result<usize> {
    if is_named(tx, sha)? {
        return Ok(0);
    }
    tx.prepare_cached("DELETE FROM attachment_files WHERE sha256 = ?1")?
        .execute([sha])?;
    Ok(usize::from(fs::remove_file(file_path(dir, sha)).is_ok()))
}

/// A file renamed aside: back in place when a run names it (or removed when
/// the file is there again), else removed.
fn put_back(tx: &Transaction<'_>, dir: &Path, sha: &str, aside: &Path) -> Result<usize> {
    let path = file_path(dir, sha);
    let done = if is_named(tx, sha)? && !path.exists() {
        fs::rename(aside, &path)
    } else {
        if !is_named(tx, sha)? {
            tx.prepare_cached("DELETE FROM attachment_files WHERE sha256 = ?1")?
                .execute([sha])?;
        }
        fs::remove_file(aside)
    };
    Ok(usize::from(done.is_ok()))
}

/// The files of the attachments folder that may be left over; anything not
/// named as this history names its files is not looked at.
fn scan(dir: &Path) -> Vec<Leftover> {
    let mut out = Vec::new();
    let Ok(folders) = fs::read_dir(dir) else {
        return out;
    };
    for folder in folders.flatten() {
        let prefix = folder.file_name();
        let Some(prefix) = prefix.to_str().filter(|p| is_prefix(p)) else {
            continue;
        };
        let Ok(files) = fs::read_dir(folder.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name();
            if let Some(leftover) = name
                .to_str()
                .and_then(|n| classify(n, file.path()))
                .filter(|l| leftover_sha(l).is_none_or(|sha| sha.starts_with(prefix)))
            {
                out.push(leftover);
            }
        }
    }
    out
}

/// Two lower-case hex digits: a folder of the attachments.
fn is_prefix(name: &str) -> bool {
    name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn leftover_sha(l: &Leftover) -> Option<&str> {
    match l {
        Leftover::Stored(sha) | Leftover::Aside { sha256: sha, .. } => Some(sha),
        Leftover::Temporary { .. } => None,
    }
}

/// What the file `name` is, by its name.
fn classify(name: &str, path: PathBuf) -> Option<Leftover> {
    if is_sha256(name) {
        return Some(Leftover::Stored(name.to_string()));
    }
    if let Some(rest) = name.strip_suffix(".deleted") {
        let (sha, owner) = rest.split_once('.')?;
        return (is_sha256(sha) && is_owner_id(owner)).then(|| Leftover::Aside {
            sha256: sha.to_string(),
            owner: owner.to_string(),
            path,
        });
    }
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.split('.');
    let (sha, owner) = (parts.next()?, parts.next()?);
    (is_sha256(sha) && is_owner_id(owner)).then(|| Leftover::Temporary {
        owner: owner.to_string(),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_known_by_their_names() {
        let sha = "ab".repeat(32);
        let owner = "0123456789abcdef0123456789abcdef";
        let p = PathBuf::from("x");
        assert!(matches!(classify(&sha, p.clone()), Some(Leftover::Stored(s)) if s == sha));
        assert!(matches!(
            classify(&format!("{sha}.{owner}.deleted"), p.clone()),
            Some(Leftover::Aside { owner: o, .. }) if o == owner
        ));
        assert!(matches!(
            classify(&format!(".{sha}.{owner}.{owner}.tmp"), p.clone()),
            Some(Leftover::Temporary { owner: o, .. }) if o == owner
        ));
        // Written before the owner was in the name: its uuid stands for an
        // owner that never had a lock, so it is taken for a dead one's.
        assert!(matches!(
            classify(&format!(".{sha}.{owner}.tmp"), p.clone()),
            Some(Leftover::Temporary { .. })
        ));
        for other in ["notes.txt", "ab", &format!("{sha}.../x.deleted"), ".tmp"] {
            assert!(classify(other, p.clone()).is_none(), "{other}");
        }
    }
}
