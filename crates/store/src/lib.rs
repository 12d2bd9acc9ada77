//! `roundtable-store`: Roundtable's local history, one SQLite file.
//!
//! Every run (a prompt sent to a panel of models) is recorded here as it happens:
//! [`Store::begin_run`] before any provider is called, [`Store::record_model_result`]
//! as each model's answer arrives, [`Store::finish_run`] with the resolved response.
//! A run whose process died half-way is kept with what had arrived and marked
//! `interrupted` by [`Store::recover_interrupted`]. The history is then listed,
//! filtered, searched (SQLite FTS5, ranked with bm25), starred, tagged, deleted,
//! and exported ([`export`]: Markdown, JSON, CSV and one self-contained HTML page).
//!
//! This is the only crate that touches SQLite; it uses nothing of `roundtable-core`
//! but the contract types ([`RoundtableRequest`], [`RoundtableResponse`], ...) and
//! the agreement of a run's answers, which the exports show.
//!
//! # Durability and concurrency
//!
//! The database runs in WAL mode with `synchronous=NORMAL`, `foreign_keys=ON` and a
//! 5 s busy timeout, and every write is one short `BEGIN IMMEDIATE` transaction, so
//! the CLI and the desktop app can record at the same time and a process killed at
//! any moment leaves a consistent file holding every model result recorded so far.
//! Each open [`Store`] holds an exclusive lock on `<db dir>/owners/<uuid>.lock` for
//! its lifetime and stamps its runs with that owner; recovery only marks the runs of
//! owners whose lock can be taken (their process is gone).
//!
//! # Search
//!
//! A contentless FTS5 index (`runs_fts`, porter stemming) holds each run's prompt
//! (with its attachments' names), instructions, answers and resolved answer,
//! rewritten in the same transaction as every write that changes them. User
//! text is turned into a safe query by [`fts_query`] (every term quoted;
//! phrases, `prefix*` and `OR` supported; stop words dropped). Results are ranked with bm25 in tiers of the newest matches
//! ([`SEARCH_TIER`], then twice as many older ones, …), which keeps a page at a few
//! milliseconds on a history of 100,000 runs while a specific search (fewer
//! matches than a tier) is ranked purely by bm25.
//!
//! # Layout
//!
//! [`Store`] is one type whose methods are written in one `impl Store` block per
//! concern, each in a module of its own under `src/store/`:
//!
//! - `mod.rs`: the struct, the one write transaction (`write`: `BEGIN IMMEDIATE`
//!   and the change counter), the small accessors;
//! - `open.rs`: opening a file or memory, pragmas, migrations, the owner lock;
//! - `record.rs`: live recording (begin, each result, finish, a batch, status);
//! - `recover.rs`: marking the runs of dead owners `interrupted`;
//! - `query.rs`: list, get and delete, the filters;
//! - `rows.rs`: mapping rows to types (a summary, a model result, a whole run);
//! - `stars_tags.rs`: starring and tagging;
//! - `votes.rs`: a person's vote on a run, judge models' rankings, and the
//!   verdicts the leaderboard is fitted on;
//! - `attachments.rs`: the files a run was sent with, kept once each under the
//!   SHA-256 of their bytes in `<db dir>/attachments/` (written before the run
//!   is committed, the stored request naming them without their bytes), read
//!   back and checked ([`Store::read_attachment`], [`Store::hydrate`]), removed
//!   with the last run that names them;
//! - `leftovers.rs`: attached files no run names: what a failed recording or
//!   import wrote is removed, and on open what a dead process left (a delete's
//!   files renamed aside are put back while their runs exist);
//! - `import.rs`: finished runs from elsewhere (their attachments stored too,
//!   their marks and verdicts, in dependency order), each checked first by
//!   `import_checks.rs` (every number, index and mark in range);
//! - `threads.rs`: conversations: a thread's runs in one indexed query
//!   ([`Store::thread`]), the path from its first turn to one of them
//!   ([`path_to`]: what a follow-up is sent), deleting a turn with what follows
//!   it or a whole thread;
//! - `medians.rs`: what a model usually writes, for a run's estimate;
//! - `spend.rs`: where the money and time went ([`Store::spend_stats`]) and the
//!   sum a budget is checked against.
//!
//! Beside them: `search.rs` (the FTS5 index: [`fts_query`], `reindex`,
//! [`Store::search`]), `migrations.rs`, `time.rs` and [`export`] (pure functions
//! of stored runs, no SQL).
//!
//! # Extending the schema
//!
//! Migrations are append-only SQL files in `crates/store/migrations/`, numbered
//! `NNNN_what.sql`, embedded with `include_str!` in the ordered list
//! [`migrations::MIGRATIONS`]. To change the schema (a new table, say `notes`):
//!
//! 1. add the next file (e.g. `0005_notes.sql`) — never edit a released one;
//! 2. append it to `MIGRATIONS` (the schema version is its position, stored in
//!    `PRAGMA user_version`; each file is applied in its own transaction);
//! 3. write what reads and writes it as one `impl Store` block in a module of its
//!    own (`src/store/notes.rs`, its public types beside it, re-exported here);
//!    every write goes through `write`, so it is one short transaction that bumps
//!    the change counter;
//! 4. if it adds searchable text, rebuild `runs_fts` rows in the same SQL file
//!    and extend `reindex` (`search.rs`);
//! 5. test it against a database made by the previous schema: extend the "every
//!    earlier schema" test in `tests/migrations.rs` with data written the way the
//!    new schema stores it, and check that an older database opens, migrates and
//!    keeps its data.
//!
//! A database with a newer schema than this build knows is refused
//! ([`Error::SchemaTooNew`]) rather than misread.

pub mod export;
pub mod migrations;
mod search;
mod store;
mod time;

pub use roundtable_core::{
    Attachment, Meta, ModelOutcome, ModelResult, ModelSpec, Resolution, RoundtableRequest,
    RoundtableResponse, RunStatus, Usage,
};
pub use search::{SEARCH_TIER, fts_query};
pub use store::{
    Ballot, ImportedRun, Judgement, ListQuery, MAX_IMPORTED_COUNT, MAX_IMPORTED_TIME_MS, NewRun,
    ParentKind, RunMarks, RunSummary, RunVerdicts, RunWrite, Store, StoredRun, Verdict,
    VerdictQuery, VerdictResult, VerdictSource, Vote, VoteKind,
};
pub use store::{
    ModelSpend, ProviderSpend, SpendBucket, SpendNow, SpendQuery, SpendStats, SpendTotals,
    UNPRICED_KEY, UnpricedModel, path_to, provider_of,
};
pub use time::{now_ms, rfc3339_utc};

/// The schema version this build writes (the number of migrations).
pub const SCHEMA_VERSION: u32 = migrations::MIGRATIONS.len() as u32;

/// What can go wrong with the history.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("history database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("history file {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("history migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("run {0} already exists in the history")]
    AlreadyExists(String),
    #[error("no run {0} in the history")]
    NotFound(String),
    #[error(
        "the history database has schema version {found}, newer than this build supports ({supported}); update roundtable"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("run {id}: stored {what} is not valid JSON: {source}")]
    Corrupt {
        id: String,
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid tag '{0}': a tag is 1 to 64 characters, not all spaces")]
    InvalidTag(String),
    #[error("invalid vote: {0}")]
    InvalidVote(String),
    #[error("cannot import: {0}")]
    Import(String),
    #[error(
        "the attached file {what} is not in the history's attachments folder ({}): it was \
         removed, or the history was copied without that folder", path.display()
    )]
    AttachmentMissing {
        /// The SHA-256, or the attachment's name and SHA-256.
        what: String,
        path: std::path::PathBuf,
    },
    #[error(
        "the attached file {sha256} does not hold the bytes it was stored with (its SHA-256 differs)"
    )]
    AttachmentCorrupt { sha256: String },
    #[error("{field}: {message}")]
    InvalidAttachment { field: String, message: String },
    #[error("the attachment '{0}' was never stored (it has neither data nor sha256)")]
    AttachmentUnstored(String),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
