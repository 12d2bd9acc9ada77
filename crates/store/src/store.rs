//! The [`Store`]: one SQLite connection over the history file.

use crate::time::{now_ms, rfc3339_utc};
use crate::{Error, Result, migrations};
use roundtable_core::{
    Meta, ModelResult, ModelSpec, Resolution, RoundtableRequest, RoundtableResponse, RunStatus,
    Usage, VoteRead,
};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a write waits for another process's write before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The owner of every run of an in-memory store.
const MEMORY_OWNER: &str = "memory";
/// How many of the newest matching runs [`Store::search`] ranks first.
pub const SEARCH_TIER: usize = 1000;
/// Characters of the resolved answer kept in [`RunSummary::data_preview`].
const PREVIEW_CHARS: usize = 200;

/// How a run derives from an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ParentKind {
    /// The same request sent again.
    Rerun,
    /// The earlier run's answers resolved again (another resolution or summary model).
    Resolve,
}

impl ParentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParentKind::Rerun => "rerun",
            ParentKind::Resolve => "resolve",
        }
    }
}

impl std::fmt::Display for ParentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ParentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rerun" => Ok(ParentKind::Rerun),
            "resolve" => Ok(ParentKind::Resolve),
            other => Err(format!(
                "unknown parent kind '{other}': expected rerun or resolve"
            )),
        }
    }
}

/// A run about to start (see [`Store::begin_run`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub id: String,
    pub created_at_ms: i64,
    pub request: RoundtableRequest,
    /// The run this one was re-run or re-resolved from. Recorded as `None` if that
    /// run is no longer in the history.
    pub parent_id: Option<String>,
    pub parent_kind: Option<ParentKind>,
}

impl NewRun {
    /// A run created now, without a parent.
    pub fn new(id: impl Into<String>, request: RoundtableRequest) -> Self {
        NewRun {
            id: id.into(),
            created_at_ms: now_ms(),
            request,
            parent_id: None,
            parent_kind: None,
        }
    }
}

/// One recording step of a run, for [`Store::record_batch`].
#[derive(Debug, Clone)]
pub enum RunWrite {
    /// As [`Store::begin_run`].
    Begin(NewRun),
    /// As [`Store::record_model_result`].
    Result { run_id: String, result: ModelResult },
    /// As [`Store::finish_run`].
    Finish {
        response: RoundtableResponse,
        status: RunStatus,
    },
}

/// Filters and page of [`Store::list_runs`] and [`Store::search`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size; `0` means the default, 50.
    pub limit: usize,
    pub offset: usize,
    pub status: Option<RunStatus>,
    pub starred: Option<bool>,
    /// Runs whose panel has a model whose name contains this (case-insensitive).
    pub model: Option<String>,
    /// Created at or after (unix ms).
    pub since_ms: Option<i64>,
    /// Created before (unix ms, exclusive).
    pub until_ms: Option<i64>,
    pub tag: Option<String>,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: usize = 50;

    fn limit(&self) -> i64 {
        if self.limit == 0 {
            Self::DEFAULT_LIMIT as i64
        } else {
            self.limit.min(i64::MAX as usize) as i64
        }
    }
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
            status: None,
            starred: None,
            model: None,
            since_ms: None,
            until_ms: None,
            tag: None,
        }
    }
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunSummary {
    pub id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_at_ms: i64,
    pub status: RunStatus,
    pub input: String,
    pub resolution: Resolution,
    /// The panel, in request order.
    pub models: Vec<String>,
    pub total_cost: f64,
    pub duration_ms: Option<u64>,
    pub starred: bool,
    /// Sorted.
    pub tags: Vec<String>,
    pub parent_id: Option<String>,
    pub parent_kind: Option<ParentKind>,
    /// The first ~200 characters of the resolved answer (of the first answer when
    /// there is no resolved one, as in `fast` mode), `…` when cut.
    pub data_preview: Option<String>,
}

/// A whole run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredRun {
    pub summary: RunSummary,
    pub request: RoundtableRequest,
    /// Rebuilt from the rows. For a run that is still running (or was interrupted),
    /// the results that arrived, and a `meta` made from them when none was recorded.
    pub response: RoundtableResponse,
}

/// A finished run brought in from elsewhere (`roundtable import`, benches).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    /// `None` when unknown: a request is then rebuilt from the response (empty input).
    pub request: Option<RoundtableRequest>,
    pub response: RoundtableResponse,
    pub status: RunStatus,
    /// `None`: now.
    pub created_at_ms: Option<i64>,
}

/// The owner lock file: held (exclusively locked) for the Store's lifetime.
struct OwnerLock {
    path: PathBuf,
    _file: File,
}

impl Drop for OwnerLock {
    fn drop(&mut self) {
        // Removed while still locked; the lock goes with the file handle after this.
        let _ = fs::remove_file(&self.path);
    }
}

/// The history: one SQLite connection. `Send`, not `Sync`: share it behind a
/// `Mutex`, or open one per thread (each is then its own owner).
pub struct Store {
    // Field order is drop order: close the connection before releasing the lock.
    conn: Connection,
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

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Owner ids are ours (uuid hex); anything else found in a database is never used
/// as a file name.
fn is_owner_id(s: &str) -> bool {
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
        Ok(Store {
            conn,
            path: Some(path.to_path_buf()),
            owners_dir: Some(owners_dir),
            owner,
            _lock: lock,
        })
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

    // ---- live recording -------------------------------------------------------

    /// Record a run as `running`, before any provider is called.
    pub fn begin_run(&self, new: &NewRun) -> Result<()> {
        self.write(|tx| self.begin_in(tx, new))
    }

    /// Record one model's result as it arrives (an upsert by `(run_id, index)`).
    pub fn record_model_result(&self, run_id: &str, result: &ModelResult) -> Result<()> {
        self.write(|tx| result_in(tx, run_id, result))
    }

    /// Record the end of a run: resolved answer, meta, cost, duration, every model
    /// result (upserted) and the final status.
    pub fn finish_run(&self, response: &RoundtableResponse, status: RunStatus) -> Result<()> {
        self.write(|tx| finish_in(tx, response, status))
    }

    /// Many recording steps, of any runs, in one transaction (a group commit): the
    /// cost of a commit is shared by every step in it. Each group of steps is
    /// applied in its own savepoint, so one that fails (its run deleted meanwhile,
    /// say) is rolled back alone and the others are kept; the result of each group
    /// is returned in order. An `Err` outside the vector means nothing was written.
    pub fn record_batch(&self, groups: &[Vec<RunWrite>]) -> Result<Vec<Result<()>>> {
        self.write(|tx| {
            let mut out = Vec::with_capacity(groups.len());
            for group in groups {
                tx.prepare_cached("SAVEPOINT step")?.execute([])?;
                let applied = group.iter().try_for_each(|w| match w {
                    RunWrite::Begin(new) => self.begin_in(tx, new),
                    RunWrite::Result { run_id, result } => result_in(tx, run_id, result),
                    RunWrite::Finish { response, status } => finish_in(tx, response, *status),
                });
                if applied.is_err() {
                    tx.prepare_cached("ROLLBACK TO step")?.execute([])?;
                }
                tx.prepare_cached("RELEASE step")?.execute([])?;
                out.push(applied);
            }
            Ok(out)
        })
    }

    fn begin_in(&self, tx: &Transaction<'_>, new: &NewRun) -> Result<()> {
        insert_run(
            tx,
            &RunRow {
                id: &new.id,
                created_at_ms: new.created_at_ms,
                request: &new.request,
                status: RunStatus::Running,
                resolution: new.request.resolution(),
                data: None,
                meta: None,
                total_cost: 0.0,
                duration_ms: None,
                parent_id: new.parent_id.as_deref(),
                parent_kind: new.parent_kind,
                owner: Some(&self.owner),
            },
        )?;
        reindex(tx, &new.id)
    }

    /// Set a run's status (e.g. `interrupted` when it is cancelled).
    pub fn set_status(&self, run_id: &str, status: RunStatus) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE runs SET status = ?2 WHERE id = ?1",
                params![run_id, status.as_str()],
            )?;
            if n == 0 {
                return Err(Error::NotFound(run_id.to_string()));
            }
            Ok(())
        })
    }

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

    /// Record a finished run from elsewhere (`roundtable import`). An id already in
    /// the history is an error naming it.
    pub fn import_response(
        &self,
        request: Option<&RoundtableRequest>,
        response: &RoundtableResponse,
        status: RunStatus,
        created_at_ms: Option<i64>,
    ) -> Result<()> {
        self.write(|tx| import_one(tx, request, response, status, created_at_ms))
    }

    /// Record many finished runs in one transaction: all or none (an id already in
    /// the history fails the whole batch, naming it). Returns how many.
    pub fn bulk_import(&self, runs: &[ImportedRun]) -> Result<usize> {
        self.write(|tx| {
            for r in runs {
                import_one(
                    tx,
                    r.request.as_ref(),
                    &r.response,
                    r.status,
                    r.created_at_ms,
                )?;
            }
            Ok(runs.len())
        })
    }

    // ---- queries --------------------------------------------------------------

    /// The runs matching `q`, newest first.
    pub fn list_runs(&self, q: &ListQuery) -> Result<Vec<RunSummary>> {
        let mut args: Vec<Sql> = Vec::new();
        let filter = filter_sql(q, &mut args);
        args.push(Sql::Integer(q.limit()));
        args.push(Sql::Integer(q.offset as i64));
        let sql = format!(
            "SELECT {SUMMARY_COLS} FROM runs r WHERE {filter} \
             ORDER BY r.created_at DESC, r.seq DESC LIMIT ? OFFSET ?"
        );
        self.summaries(&sql, args)
    }

    /// Full-text search over prompts, instructions, answers and resolved answers,
    /// with `q`'s filters and page. See [`crate::fts_query`] for the accepted
    /// syntax; text with no searchable term finds nothing.
    ///
    /// Ranking: bm25 (a hit in the prompt weighs most, then the resolved answer),
    /// over the newest [`SEARCH_TIER`] matching runs first, then over the next
    /// 2×, 4×, … older ones: a search that matches up to 1,000 runs is ranked
    /// purely by bm25, and one that matches most of a large history stays fast and
    /// favours recent runs. Text made only of stop words lists its runs newest
    /// first.
    pub fn search(&self, query: &str, q: &ListQuery) -> Result<Vec<RunSummary>> {
        let Some(parsed) = crate::search::parse(query) else {
            return Ok(Vec::new());
        };
        let limit = q.limit() as usize;
        let need = q.offset.saturating_add(limit);
        let mut filter_args: Vec<Sql> = Vec::new();
        let filter = filter_sql(q, &mut filter_args);

        if !parsed.ranked {
            let mut args = vec![Sql::Text(parsed.expr)];
            args.extend(filter_args);
            args.push(Sql::Integer(q.limit()));
            args.push(Sql::Integer(to_i64(q.offset as u64)));
            let sql = format!(
                "SELECT {SUMMARY_COLS} FROM runs_fts f JOIN runs r ON r.seq = f.rowid \
                 WHERE runs_fts MATCH ? AND {filter} ORDER BY f.rowid DESC LIMIT ? OFFSET ?"
            );
            return self.summaries(&sql, args);
        }

        // Tiers of the match stream, newest first: [lower, upper) in rowids.
        let mut out: Vec<RunSummary> = Vec::new();
        let mut seen = 0usize;
        let mut upper: Option<i64> = None;
        let mut tier = SEARCH_TIER;
        loop {
            let lower: Option<i64> = {
                let sql = format!(
                    "SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?1 {} \
                     ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
                    if upper.is_some() {
                        "AND rowid < ?3"
                    } else {
                        ""
                    }
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                let mut args = vec![
                    Sql::Text(parsed.expr.clone()),
                    Sql::Integer(to_i64(tier as u64 - 1)),
                ];
                args.extend(upper.map(Sql::Integer));
                stmt.query_row(rusqlite::params_from_iter(args), |r| r.get(0))
                    .optional()?
            };
            let mut bounds = String::new();
            let mut args = vec![Sql::Text(parsed.expr.clone())];
            if let Some(l) = lower {
                bounds.push_str(" AND rowid >= ?");
                args.push(Sql::Integer(l));
            }
            if let Some(u) = upper {
                bounds.push_str(" AND rowid < ?");
                args.push(Sql::Integer(u));
            }
            let wanted = need - seen;
            let inner_limit = if filter_args.is_empty() {
                args.push(Sql::Integer(to_i64(wanted as u64)));
                " LIMIT ?"
            } else {
                ""
            };
            args.extend(filter_args.iter().cloned());
            args.push(Sql::Integer(to_i64(wanted as u64)));
            let sql = format!(
                "SELECT {SUMMARY_COLS} FROM \
                   (SELECT rowid AS seq, rank FROM runs_fts \
                     WHERE runs_fts MATCH ?{bounds} ORDER BY rank{inner_limit}) h \
                 JOIN runs r ON r.seq = h.seq WHERE {filter} \
                 ORDER BY h.rank, r.seq LIMIT ?"
            );
            for s in self.summaries(&sql, args)? {
                if seen >= q.offset {
                    out.push(s);
                }
                seen += 1;
            }
            if seen >= need {
                break;
            }
            match lower {
                Some(l) => upper = Some(l),
                None => break,
            }
            tier = tier.saturating_mul(2);
        }
        Ok(out)
    }

    fn summaries(&self, sql: &str, args: Vec<Sql>) -> Result<Vec<RunSummary>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let raws = stmt
            .query_map(rusqlite::params_from_iter(args), RawSummary::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(RawSummary::into_summary).collect()
    }

    /// A whole run, or `None` when there is no such id.
    pub fn get_run(&self, id: &str) -> Result<Option<StoredRun>> {
        // One read transaction: the run and its results from the same snapshot.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)?;
        let row = tx
            .prepare_cached(&format!(
                "SELECT {SUMMARY_COLS}, r.request, r.data, r.meta FROM runs r WHERE r.id = ?1"
            ))?
            .query_row([id], |row| {
                Ok((
                    RawSummary::from_row(row)?,
                    row.get::<_, String>(SUMMARY_COL_COUNT)?,
                    row.get::<_, Option<String>>(SUMMARY_COL_COUNT + 1)?,
                    row.get::<_, Option<String>>(SUMMARY_COL_COUNT + 2)?,
                ))
            })
            .optional()?;
        let Some((raw, request, data, meta)) = row else {
            return Ok(None);
        };
        let model_results = {
            let mut stmt = tx.prepare_cached(
                "SELECT idx, model, data, thinking, error, usage, cost, duration_ms, \
                        schema_valid, schema_error, vote, attempts, queued_ms, \
                        schema_fallback, vote_read \
                 FROM model_results WHERE run_id = ?1 ORDER BY idx",
            )?;
            stmt.query_map([id], RawResult::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        tx.commit()?;

        let summary = raw.into_summary()?;
        let request: RoundtableRequest =
            serde_json::from_str(&request).map_err(|source| Error::Corrupt {
                id: id.to_string(),
                what: "request",
                source,
            })?;
        let model_results = model_results
            .into_iter()
            .map(|r| r.into_result(id))
            .collect::<Result<Vec<_>>>()?;
        let meta = match meta {
            Some(m) => serde_json::from_str(&m).map_err(|source| Error::Corrupt {
                id: id.to_string(),
                what: "meta",
                source,
            })?,
            None => Meta {
                resolution: summary.resolution,
                models_used: model_results
                    .iter()
                    .filter(|r| r.succeeded())
                    .map(|r| r.model.clone())
                    .collect(),
                total_cost: summary.total_cost,
                total_duration_ms: summary.duration_ms.unwrap_or(0),
                ..Meta::default()
            },
        };
        Ok(Some(StoredRun {
            response: RoundtableResponse {
                id: summary.id.clone(),
                data,
                meta,
                model_results,
            },
            request,
            summary,
        }))
    }

    /// Delete a run with its results and tags (runs derived from it keep their
    /// place, without a parent). `false` when there was no such run.
    pub fn delete_run(&self, id: &str) -> Result<bool> {
        self.write(|tx| {
            let seq: Option<i64> = tx
                .query_row("SELECT seq FROM runs WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            let Some(seq) = seq else { return Ok(false) };
            tx.execute("DELETE FROM runs_fts WHERE rowid = ?1", [seq])?;
            tx.execute("DELETE FROM runs WHERE seq = ?1", [seq])?;
            Ok(true)
        })
    }

    /// Star or unstar a run. `false` when there is no such run.
    pub fn set_starred(&self, id: &str, starred: bool) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE runs SET starred = ?2 WHERE id = ?1",
                params![id, starred],
            )?;
            Ok(n > 0)
        })
    }

    /// Tag a run (the tag is trimmed; tagging twice is a no-op). `false` when there
    /// is no such run.
    pub fn add_tag(&self, id: &str, tag: &str) -> Result<bool> {
        let tag = check_tag(tag)?;
        self.write(|tx| {
            if !run_exists(tx, id)? {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO tags (run_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, tag],
            )?;
            Ok(true)
        })
    }

    /// Remove a tag. `false` when the run did not have it (or does not exist).
    pub fn remove_tag(&self, id: &str, tag: &str) -> Result<bool> {
        let tag = tag.trim();
        self.write(|tx| {
            let n = tx.execute(
                "DELETE FROM tags WHERE run_id = ?1 AND tag = ?2",
                params![id, tag],
            )?;
            Ok(n > 0)
        })
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

enum OwnerState {
    Alive,
    /// No lock file (or not one of ours).
    Gone,
    /// Its lock file, now locked by us.
    Dead(PathBuf, File),
}

fn check_tag(tag: &str) -> Result<&str> {
    let t = tag.trim();
    if t.is_empty() || t.chars().count() > 64 {
        return Err(Error::InvalidTag(tag.to_string()));
    }
    Ok(t)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn run_exists(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?
        .exists([id])?)
}

struct RunRow<'a> {
    id: &'a str,
    created_at_ms: i64,
    request: &'a RoundtableRequest,
    status: RunStatus,
    resolution: Resolution,
    data: Option<&'a str>,
    meta: Option<&'a Meta>,
    total_cost: f64,
    duration_ms: Option<u64>,
    parent_id: Option<&'a str>,
    parent_kind: Option<ParentKind>,
    owner: Option<&'a str>,
}

/// Insert a run row; an existing id is [`Error::AlreadyExists`]. A parent that is
/// not in the history is recorded as none.
fn insert_run(tx: &Transaction<'_>, r: &RunRow<'_>) -> Result<()> {
    let request = serde_json::to_string(r.request)?;
    let models: Vec<&str> = r.request.models.iter().map(|m| m.name.as_str()).collect();
    let models = serde_json::to_string(&models)?;
    let meta = r.meta.map(serde_json::to_string).transpose()?;
    let n = tx
        .prepare_cached(
            "INSERT INTO runs (id, created_at, request, input, instructions, models, status, \
                               resolution, data, meta, total_cost, duration_ms, \
                               parent_id, parent_kind, owner) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                     (SELECT id FROM runs WHERE id = ?13), \
                     CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ?13) THEN ?14 END, ?15) \
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![
            r.id,
            r.created_at_ms,
            request,
            r.request.input,
            r.request.instructions,
            models,
            r.status.as_str(),
            r.resolution.as_str(),
            r.data,
            meta,
            r.total_cost,
            r.duration_ms.map(to_i64),
            r.parent_id,
            r.parent_kind.map(ParentKind::as_str),
            r.owner,
        ])?;
    if n == 0 {
        return Err(Error::AlreadyExists(r.id.to_string()));
    }
    Ok(())
}

fn import_one(
    tx: &Transaction<'_>,
    request: Option<&RoundtableRequest>,
    response: &RoundtableResponse,
    status: RunStatus,
    created_at_ms: Option<i64>,
) -> Result<()> {
    let rebuilt;
    let request = match request {
        Some(r) => r,
        None => {
            rebuilt = request_from_response(response);
            &rebuilt
        }
    };
    insert_run(
        tx,
        &RunRow {
            id: &response.id,
            created_at_ms: created_at_ms.unwrap_or_else(now_ms),
            request,
            status,
            resolution: response.meta.resolution,
            data: response.data.as_deref(),
            meta: Some(&response.meta),
            total_cost: response.meta.total_cost,
            duration_ms: Some(response.meta.total_duration_ms),
            parent_id: None,
            parent_kind: None,
            owner: None,
        },
    )?;
    for r in &response.model_results {
        upsert_result(tx, &response.id, r)?;
    }
    reindex(tx, &response.id)
}

/// The request of a response imported without one: its panel and resolution.
fn request_from_response(response: &RoundtableResponse) -> RoundtableRequest {
    let mut results: Vec<&ModelResult> = response.model_results.iter().collect();
    results.sort_by_key(|r| r.index);
    RoundtableRequest {
        input: String::new(),
        models: results
            .iter()
            .map(|r| ModelSpec::named(r.model.clone()))
            .collect(),
        resolution: Some(response.meta.resolution),
        summary_model: response.meta.summary_model.clone(),
        ..RoundtableRequest::default()
    }
}

fn result_in(tx: &Transaction<'_>, run_id: &str, result: &ModelResult) -> Result<()> {
    if !run_exists(tx, run_id)? {
        return Err(Error::NotFound(run_id.to_string()));
    }
    upsert_result(tx, run_id, result)?;
    tx.prepare_cached(
        "UPDATE runs SET total_cost = \
           (SELECT coalesce(sum(cost), 0) FROM model_results WHERE run_id = ?1) \
         WHERE id = ?1 AND status = 'running'",
    )?
    .execute([run_id])?;
    // The answer is indexed for search when the run ends (`finish_run`, or
    // `recover_interrupted`): re-indexing the whole run on each answer cost more
    // than the write itself.
    Ok(())
}

fn finish_in(tx: &Transaction<'_>, response: &RoundtableResponse, status: RunStatus) -> Result<()> {
    let meta = serde_json::to_string(&response.meta)?;
    let n = tx
        .prepare_cached(
            "UPDATE runs SET status = ?2, data = ?3, meta = ?4, total_cost = ?5, \
             duration_ms = ?6, resolution = ?7 WHERE id = ?1",
        )?
        .execute(params![
            response.id,
            status.as_str(),
            response.data,
            meta,
            response.meta.total_cost,
            to_i64(response.meta.total_duration_ms),
            response.meta.resolution.as_str(),
        ])?;
    if n == 0 {
        return Err(Error::NotFound(response.id.clone()));
    }
    for r in &response.model_results {
        upsert_result(tx, &response.id, r)?;
    }
    reindex(tx, &response.id)
}

fn upsert_result(tx: &Transaction<'_>, run_id: &str, r: &ModelResult) -> Result<()> {
    let usage = serde_json::to_string(&r.usage)?;
    tx.prepare_cached(
        "INSERT INTO model_results (run_id, idx, model, data, thinking, error, usage, cost, \
                                    duration_ms, schema_valid, schema_error, vote, attempts, \
                                    queued_ms, schema_fallback, vote_read) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
         ON CONFLICT (run_id, idx) DO UPDATE SET \
           model = excluded.model, data = excluded.data, thinking = excluded.thinking, \
           error = excluded.error, usage = excluded.usage, cost = excluded.cost, \
           duration_ms = excluded.duration_ms, schema_valid = excluded.schema_valid, \
           schema_error = excluded.schema_error, vote = excluded.vote, \
           attempts = excluded.attempts, queued_ms = excluded.queued_ms, \
           schema_fallback = excluded.schema_fallback, vote_read = excluded.vote_read",
    )?
    .execute(params![
        run_id,
        to_i64(r.index as u64),
        r.model,
        r.data,
        r.thinking,
        r.error,
        usage,
        r.cost,
        to_i64(r.duration_ms),
        r.schema_valid,
        r.schema_error,
        r.vote,
        r.attempts,
        r.queued_ms.map(to_i64),
        r.schema_fallback,
        r.vote_read.map(vote_read_name),
    ])?;
    Ok(())
}

/// Rewrite a run's full-text row from its current text (same transaction).
fn reindex(tx: &Transaction<'_>, run_id: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO runs_fts (rowid, input, instructions, answers, resolved) \
         SELECT r.seq, r.input, r.instructions, \
                (SELECT group_concat(m.data, char(10)) FROM model_results m \
                  WHERE m.run_id = r.id), \
                r.data \
         FROM runs r WHERE r.id = ?1",
    )?
    .execute([run_id])?;
    Ok(())
}

/// `WHERE` clause of `q`'s filters over `runs r`, pushing its arguments.
fn filter_sql(q: &ListQuery, args: &mut Vec<Sql>) -> String {
    let mut clauses: Vec<&str> = vec!["1"];
    if let Some(s) = q.status {
        clauses.push("r.status = ?");
        args.push(Sql::Text(s.as_str().to_string()));
    }
    match q.starred {
        // Literals, so the partial index on starred runs applies.
        Some(true) => clauses.push("r.starred = 1"),
        Some(false) => clauses.push("r.starred = 0"),
        None => {}
    }
    if let Some(m) = &q.model {
        let escaped = m
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let exact = "EXISTS (SELECT 1 FROM json_each(r.models) j WHERE j.value LIKE ? ESCAPE '\\')";
        // A LIKE on the JSON text is a cheap first cut (exact unless the name has
        // characters that JSON escapes); json_each then checks each name.
        if m.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
            clauses.push(exact);
        } else {
            clauses.push("r.models LIKE ? ESCAPE '\\'");
            args.push(Sql::Text(pattern.clone()));
            clauses.push(exact);
        }
        args.push(Sql::Text(pattern));
    }
    if let Some(t) = q.since_ms {
        clauses.push("r.created_at >= ?");
        args.push(Sql::Integer(t));
    }
    if let Some(t) = q.until_ms {
        clauses.push("r.created_at < ?");
        args.push(Sql::Integer(t));
    }
    if let Some(tag) = &q.tag {
        clauses.push("EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = ?)");
        args.push(Sql::Text(tag.trim().to_string()));
    }
    clauses.join(" AND ")
}

const SUMMARY_COLS: &str = "r.id, r.created_at, r.status, r.input, r.resolution, r.models, \
     r.total_cost, r.duration_ms, r.starred, \
     (SELECT json_group_array(t.tag) FROM tags t WHERE t.run_id = r.id), \
     r.parent_id, r.parent_kind, \
     coalesce(substr(r.data, 1, 201), \
              (SELECT substr(m.data, 1, 201) FROM model_results m \
                WHERE m.run_id = r.id AND m.error IS NULL AND m.data <> '' \
                ORDER BY m.idx LIMIT 1))";
const SUMMARY_COL_COUNT: usize = 13;

struct RawSummary {
    id: String,
    created_at_ms: i64,
    status: String,
    input: String,
    resolution: String,
    models: String,
    total_cost: f64,
    duration_ms: Option<i64>,
    starred: bool,
    tags: Option<String>,
    parent_id: Option<String>,
    parent_kind: Option<String>,
    preview: Option<String>,
}

impl RawSummary {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawSummary {
            id: row.get(0)?,
            created_at_ms: row.get(1)?,
            status: row.get(2)?,
            input: row.get(3)?,
            resolution: row.get(4)?,
            models: row.get(5)?,
            total_cost: row.get(6)?,
            duration_ms: row.get(7)?,
            starred: row.get(8)?,
            tags: row.get(9)?,
            parent_id: row.get(10)?,
            parent_kind: row.get(11)?,
            preview: row.get(12)?,
        })
    }

    fn into_summary(self) -> Result<RunSummary> {
        // The CHECK constraints keep these valid; a hand-edited value reads as the
        // most cautious one rather than hiding the whole history.
        let status = self.status.parse().unwrap_or(RunStatus::Interrupted);
        let resolution = self.resolution.parse().unwrap_or_default();
        let models: Vec<String> = serde_json::from_str(&self.models).unwrap_or_default();
        let mut tags: Vec<String> = self
            .tags
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        tags.sort();
        let data_preview = self.preview.map(|p| {
            if p.chars().count() > PREVIEW_CHARS {
                let mut cut: String = p.chars().take(PREVIEW_CHARS).collect();
                cut.push('…');
                cut
            } else {
                p
            }
        });
        Ok(RunSummary {
            created_at: rfc3339_utc(self.created_at_ms),
            id: self.id,
            created_at_ms: self.created_at_ms,
            status,
            input: self.input,
            resolution,
            models,
            total_cost: self.total_cost,
            duration_ms: self.duration_ms.map(|d| d.max(0) as u64),
            starred: self.starred,
            tags,
            parent_id: self.parent_id,
            parent_kind: self.parent_kind.and_then(|k| k.parse().ok()),
            data_preview,
        })
    }
}

struct RawResult {
    idx: i64,
    model: String,
    data: String,
    thinking: Option<String>,
    error: Option<String>,
    usage: String,
    cost: f64,
    duration_ms: i64,
    schema_valid: Option<bool>,
    schema_error: Option<String>,
    vote: Option<String>,
    attempts: Option<u32>,
    queued_ms: Option<i64>,
    schema_fallback: Option<bool>,
    vote_read: Option<String>,
}

/// How a vote was read, as the `vote_read` column spells it (its serde name).
fn vote_read_name(read: VoteRead) -> String {
    serde_json::to_value(read)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl RawResult {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawResult {
            idx: row.get(0)?,
            model: row.get(1)?,
            data: row.get(2)?,
            thinking: row.get(3)?,
            error: row.get(4)?,
            usage: row.get(5)?,
            cost: row.get(6)?,
            duration_ms: row.get(7)?,
            schema_valid: row.get(8)?,
            schema_error: row.get(9)?,
            vote: row.get(10)?,
            attempts: row.get(11)?,
            queued_ms: row.get(12)?,
            schema_fallback: row.get(13)?,
            vote_read: row.get(14)?,
        })
    }

    fn into_result(self, run_id: &str) -> Result<ModelResult> {
        let usage: Usage = serde_json::from_str(&self.usage).map_err(|source| Error::Corrupt {
            id: run_id.to_string(),
            what: "usage",
            source,
        })?;
        Ok(ModelResult {
            index: self.idx.max(0) as usize,
            model: self.model,
            data: self.data,
            duration_ms: self.duration_ms.max(0) as u64,
            queued_ms: self.queued_ms.map(|q| q.max(0) as u64),
            cost: self.cost,
            error: self.error,
            usage,
            schema_valid: self.schema_valid,
            schema_error: self.schema_error,
            thinking: self.thinking,
            attempts: self.attempts,
            vote: self.vote,
            // A name this build does not know reads as not said.
            vote_read: self
                .vote_read
                .and_then(|v| serde_json::from_value(serde_json::Value::String(v)).ok()),
            schema_fallback: self.schema_fallback,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send() {
        fn send<T: Send>() {}
        send::<Store>();
    }

    #[test]
    fn owner_ids_are_checked() {
        assert!(is_owner_id("0123abcdef"));
        assert!(!is_owner_id("../../etc/passwd"));
        assert!(!is_owner_id(""));
        assert!(!is_owner_id("a/b"));
    }

    #[test]
    fn tags_are_trimmed_and_bounded() {
        assert_eq!(check_tag("  work ").unwrap(), "work");
        assert!(check_tag("   ").is_err());
        assert!(check_tag(&"x".repeat(65)).is_err());
    }
}
