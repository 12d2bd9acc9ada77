//! The [`Store`]: one SQLite connection over the history file, and what every
//! part of it shares (the write transaction, a few row helpers). Its methods are
//! written one concern a module, each an `impl Store` block (see the crate's
//! "Layout"); full-text search is in `crate::search`, beside [`crate::fts_query`].

mod attachments;
mod import;
mod import_checks;
mod ledger;
mod leftovers;
mod medians;
mod open;
mod query;
mod record;
mod recover;
mod rows;
mod spend;
mod stars_tags;
mod threads;
mod votes;

pub use import::{ImportedRun, RunMarks};
pub use import_checks::{MAX_IMPORTED_COUNT, MAX_IMPORTED_TIME_MS};
pub use ledger::SpendNow;
pub use query::{ListQuery, RunSummary, StoredRun};
pub use record::{NewRun, ParentKind, RunWrite};
pub use spend::{
    ModelSpend, ProviderSpend, SpendBucket, SpendQuery, SpendStats, SpendTotals, UNPRICED_KEY,
    UnpricedModel, provider_of,
};
pub use threads::path_to;
pub use votes::{
    Ballot, Judgement, RunVerdicts, Verdict, VerdictQuery, VerdictResult, VerdictSource, Vote,
    VoteKind,
};

pub(crate) use query::filter_sql;
pub(crate) use rows::SUMMARY_COLS;

use crate::{Result, migrations};
use open::OwnerLock;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};

/// The history: one SQLite connection. `Send`, not `Sync`: share it behind a
/// `Mutex`, or open one per thread (each is then its own owner).
pub struct Store {
    // Field order is drop order: close the connection before releasing the lock.
    pub(crate) conn: Connection,
    path: Option<PathBuf>,
    owners_dir: Option<PathBuf>,
    owner: String,
    _lock: Option<OwnerLock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The database file; `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// This Store's owner id, stamped on the runs it begins.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        migrations::user_version(&self.conn)
    }

    /// `PRAGMA integrity_check`: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(lines.join("\n"))
    }

    /// One write: a short `BEGIN IMMEDIATE` transaction that also bumps the change
    /// counter. Rolled back when `f` fails.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.prepare_cached("UPDATE store_state SET value = value + 1 WHERE key = 'changes'")?
            .execute([])?;
        tx.commit()?;
        Ok(out)
    }

    /// A number that changes whenever any process wrote the history: poll it to
    /// know when to refresh a view.
    pub fn change_counter(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM store_state WHERE key = 'changes'")?
            .query_row([], |r| r.get(0))?)
    }
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn run_exists(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?
        .exists([id])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send() {
        fn send<T: Send>() {}
        send::<Store>();
    }
}
