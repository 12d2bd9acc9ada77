//! Append-only schema migrations, tracked with `PRAGMA user_version`.
//!
//! The schema version of a database is the number of migrations applied to it.
//! Each pending migration runs in its own `BEGIN IMMEDIATE` transaction that
//! re-reads the version first, so two processes opening an old file at once apply
//! each migration exactly once.

use crate::{Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior};

/// One migration: its file name and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Append only: a released file never changes.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "0001_init.sql",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        name: "0002_star_tags.sql",
        sql: include_str!("../migrations/0002_star_tags.sql"),
    },
    Migration {
        name: "0003_search.sql",
        sql: include_str!("../migrations/0003_search.sql"),
    },
    Migration {
        name: "0004_result_facts.sql",
        sql: include_str!("../migrations/0004_result_facts.sql"),
    },
    Migration {
        name: "0005_votes.sql",
        sql: include_str!("../migrations/0005_votes.sql"),
    },
    Migration {
        name: "0006_spend.sql",
        sql: include_str!("../migrations/0006_spend.sql"),
    },
    Migration {
        name: "0007_attachments.sql",
        sql: include_str!("../migrations/0007_attachments.sql"),
    },
    Migration {
        name: "0008_threads.sql",
        sql: include_str!("../migrations/0008_threads.sql"),
    },
    Migration {
        name: "0009_spend_ledger.sql",
        sql: include_str!("../migrations/0009_spend_ledger.sql"),
    },
];

pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))?)
}

/// Bring `conn` up to the latest schema. Returns the version it was at.
pub(crate) fn migrate(conn: &Connection) -> Result<u32> {
    let supported = MIGRATIONS.len() as u32;
    let found = user_version(conn)?;
    if found > supported {
        return Err(Error::SchemaTooNew { found, supported });
    }
    for (i, m) in MIGRATIONS.iter().enumerate() {
        let version = i as u32 + 1;
        if version <= found {
            continue;
        }
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now = user_version(&tx)?;
        if now > supported {
            return Err(Error::SchemaTooNew {
                found: now,
                supported,
            });
        }
        if now >= version {
            tx.commit()?;
            continue;
        }
        tx.execute_batch(m.sql).map_err(|source| Error::Migration {
            name: m.name,
            source,
        })?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(found)
}
