//! Opening the history (a file or memory): pragmas, migrations, and the owner
//! lock each open [`Store`] holds for its lifetime.

use super::Store;
use crate::{Error, Result, migrations};
use rusqlite::Connection;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a write waits for another process's write before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The owner of every run of an in-memory store.
const MEMORY_OWNER: &str = "memory";

/// The owner lock file: held (exclusively locked) for the Store's lifetime.
pub(super) struct OwnerLock {
    path: PathBuf,
    _file: File,
}

impl Drop for OwnerLock {
    fn drop(&mut self) {
        // Removed while still locked; the lock goes with the file handle after this.
        let _ = fs::remove_file(&self.path);
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Owner ids are ours (uuid hex); anything else found in a database is never used
/// as a file name.
pub(super) fn is_owner_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

impl Store {
    /// Open (or create) the history at `path`: creates the parent directory,
    /// applies the pragmas and any pending migrations, and takes this Store's owner
    /// lock in `<dir>/owners/`.
    pub fn open(path: &Path) -> Result<Store> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let conn = Connection::open(path)?;
        Self::prepare_file(&conn)?;

        let owners_dir = dir.join("owners");
        fs::create_dir_all(&owners_dir).map_err(io_err(&owners_dir))?;
        let owner = uuid::Uuid::new_v4().simple().to_string();
        let lock = Self::take_owner_lock(&owners_dir, &owner)?;
        let store = Store {
            conn,
            path: Some(path.to_path_buf()),
            owners_dir: Some(owners_dir),
            owner,
            _lock: lock,
        };
        // What a process that died part-way left among the attached files.
        // Best effort: what cannot be tidied now is, by the next open.
        let _ = store.tidy_attachments();
        Ok(store)
    }

    /// A history in memory (tests, `--no-history` runs). Its owner is fixed.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        Self::configure(&conn)?;
        migrations::migrate(&conn)?;
        Ok(Store {
            conn,
            path: None,
            owners_dir: None,
            owner: MEMORY_OWNER.to_string(),
            _lock: None,
        })
    }

    /// WAL, pragmas and migrations. When several processes create the history at
    /// the same moment, switching a new file to WAL can fail with `SQLITE_BUSY`
    /// without the busy handler being asked; that is retried for a while.
    fn prepare_file(conn: &Connection) -> Result<()> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            let attempt = (|| -> Result<()> {
                conn.busy_timeout(BUSY_TIMEOUT)?;
                let _mode: String =
                    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
                Self::configure(conn)?;
                migrations::migrate(conn)?;
                Ok(())
            })();
            match attempt {
                Err(Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    fn configure(conn: &Connection) -> Result<()> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "cache_size", -16_000)?;
        Ok(())
    }

    /// Create `<owner>.tmp`, lock it, then rename it to `<owner>.lock`: a sweeper
    /// only ever sees lock files that are already locked.
    fn take_owner_lock(owners_dir: &Path, owner: &str) -> Result<Option<OwnerLock>> {
        let tmp = owners_dir.join(format!("{owner}.tmp"));
        let path = owners_dir.join(format!("{owner}.lock"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        match file.try_lock() {
            Ok(()) => {}
            // A file system without locks: record without one. Other processes will
            // then take our running runs for interrupted ones; finish_run still
            // records their final status.
            Err(_) => {
                let _ = fs::remove_file(&tmp);
                return Ok(None);
            }
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(Some(OwnerLock { path, _file: file }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_ids_are_checked() {
        assert!(is_owner_id("0123abcdef"));
        assert!(!is_owner_id("../../etc/passwd"));
        assert!(!is_owner_id(""));
        assert!(!is_owner_id("a/b"));
    }
}
