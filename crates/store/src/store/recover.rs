//! Recovery: the `running` runs of an owner whose process is gone become
//! `interrupted`, and the lock files such owners left are swept away.

use super::Store;
use super::open::is_owner_id;
use crate::Result;
use crate::search::reindex;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::PathBuf;

impl Store {
    /// Mark as `interrupted` the `running` runs whose owner process is gone (its
    /// lock file is missing or can be locked), and delete stale lock files. Runs of
    /// live owners, this Store's included, are left alone. Returns the ids marked.
    pub fn recover_interrupted(&self) -> Result<Vec<String>> {
        let owners: Vec<Option<String>> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT owner FROM runs WHERE status = 'running'")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        // Locks of dead owners, held until their runs are marked.
        let mut held: Vec<(PathBuf, File)> = Vec::new();
        let mut dead: Vec<Option<String>> = Vec::new();
        for owner in owners {
            match owner {
                None => dead.push(None),
                Some(o) if o == self.owner => {}
                Some(o) => match self.owner_state(&o) {
                    OwnerState::Alive => {}
                    OwnerState::Gone => dead.push(Some(o)),
                    OwnerState::Dead(path, file) => {
                        held.push((path, file));
                        dead.push(Some(o));
                    }
                },
            }
        }
        let mut ids = Vec::new();
        if !dead.is_empty() {
            ids = self.write(|tx| {
                let mut ids = Vec::new();
                for owner in &dead {
                    let mut stmt = tx.prepare(
                        "UPDATE runs SET status = 'interrupted' \
                         WHERE status = 'running' AND owner IS ?1 RETURNING id",
                    )?;
                    let marked = stmt
                        .query_map([owner], |r| r.get::<_, String>(0))?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    ids.extend(marked);
                }
                for id in &ids {
                    reindex(tx, id)?;
                }
                Ok(ids)
            })?;
        }
        for (path, _file) in held {
            let _ = fs::remove_file(path);
        }
        self.sweep_owner_files();
        ids.sort();
        Ok(ids)
    }

    /// Whether the process of `owner` (another Store) still runs; when it
    /// cannot be told, it does.
    pub(super) fn owner_alive(&self, owner: &str) -> bool {
        matches!(self.owner_state(owner), OwnerState::Alive)
    }

    fn owner_state(&self, owner: &str) -> OwnerState {
        let Some(dir) = &self.owners_dir else {
            // In memory, every run is ours or imported.
            return OwnerState::Gone;
        };
        if !is_owner_id(owner) {
            return OwnerState::Gone;
        }
        let path = dir.join(format!("{owner}.lock"));
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return OwnerState::Gone,
            // Cannot tell: leave its runs alone.
            Err(_) => return OwnerState::Alive,
        };
        match file.try_lock() {
            Ok(()) => OwnerState::Dead(path, file),
            Err(TryLockError::WouldBlock) => OwnerState::Alive,
            Err(TryLockError::Error(_)) => OwnerState::Alive,
        }
    }

    /// Delete the lock files of owners that died with no running run.
    fn sweep_owner_files(&self) {
        let Some(dir) = &self.owners_dir else { return };
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".lock")) else {
                continue;
            };
            if stem == self.owner || !is_owner_id(stem) {
                continue;
            }
            if let OwnerState::Dead(path, _file) = self.owner_state(stem) {
                let _ = fs::remove_file(path);
            }
        }
    }
}

enum OwnerState {
    Alive,
    /// No lock file (or not one of ours).
    Gone,
    /// Its lock file, now locked by us.
    Dead(PathBuf, File),
}
