//! Reading the history: a page of runs ([`Store::list_runs`]) with its filters,
//! a whole run ([`Store::get_run`]), deleting one, and mapping rows to types.

use super::{ParentKind, Store};
use crate::time::rfc3339_utc;
use crate::{Error, Result};
use roundtable_core::{
    Meta, ModelResult, Resolution, RoundtableRequest, RoundtableResponse, RunStatus, Usage,
};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, Row, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Characters of the resolved answer kept in [`RunSummary::data_preview`].
const PREVIEW_CHARS: usize = 200;

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
    /// One line per conversation: only the latest run of each thread (with
    /// the thread's number of turns in [`RunSummary::turns`]).
    pub threads: bool,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: usize = 50;

    pub(crate) fn limit(&self) -> i64 {
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
            threads: false,
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
    /// The run this one follows up, in a conversation.
    pub previous_id: Option<String>,
    /// The conversation it is a turn of: the id of its first run (its own id
    /// for a run that follows none).
    pub thread_id: String,
    /// How many runs the conversation has (its turns, every branch counted).
    pub turns: u32,
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

impl Store {
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

    pub(crate) fn summaries(&self, sql: &str, args: Vec<Sql>) -> Result<Vec<RunSummary>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let raws = stmt
            .query_map(rusqlite::params_from_iter(args), RawSummary::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(RawSummary::into_summary).collect()
    }

    /// A whole run, or `None` when there is no such id.
    pub fn get_run(&self, id: &str) -> Result<Option<StoredRun>> {
        Ok(self.load_runs("r.id = ?1", id)?.pop())
    }

    /// The whole runs matching `filter` (over `runs r`, with `?1` = `arg`),
    /// oldest first: one query for the runs and one for their results, from
    /// the same snapshot.
    pub(crate) fn load_runs(&self, filter: &str, arg: &str) -> Result<Vec<StoredRun>> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)?;
        let rows = tx
            .prepare_cached(&format!(
                "SELECT {SUMMARY_COLS}, r.request, r.data, r.meta FROM runs r WHERE {filter} \
                 ORDER BY r.created_at, r.seq"
            ))?
            .query_map([arg], |row| {
                Ok((
                    RawSummary::from_row(row)?,
                    row.get::<_, String>(SUMMARY_COL_COUNT)?,
                    row.get::<_, Option<String>>(SUMMARY_COL_COUNT + 1)?,
                    row.get::<_, Option<String>>(SUMMARY_COL_COUNT + 2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut results: HashMap<String, Vec<RawResult>> = HashMap::new();
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT m.idx, m.model, m.data, m.thinking, m.error, m.usage, m.cost, \
                        m.duration_ms, m.schema_valid, m.schema_error, m.vote, m.attempts, \
                        m.queued_ms, m.schema_fallback, m.vote_read, m.outcome, \
                        m.context_resolved, m.run_id \
                 FROM model_results m WHERE m.run_id IN (SELECT r.id FROM runs r WHERE {filter}) \
                 ORDER BY m.run_id, m.idx"
            ))?;
            let mut rows = stmt.query([arg])?;
            while let Some(row) = rows.next()? {
                let run_id: String = row.get(RESULT_COL_COUNT)?;
                results
                    .entry(run_id)
                    .or_default()
                    .push(RawResult::from_row(row)?);
            }
        }
        tx.commit()?;
        rows.into_iter()
            .map(|(raw, request, data, meta)| {
                let id = raw.id.clone();
                stored_run(
                    raw,
                    &request,
                    data,
                    meta,
                    results.remove(&id).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Delete a run with its results and tags (runs derived from it keep their
    /// place, without a parent), and the attached files no other run names.
    /// `false` when there was no such run.
    pub fn delete_run(&self, id: &str) -> Result<bool> {
        Ok(self.delete_runs(&[id.to_string()])? > 0)
    }

    /// Delete runs as [`Store::delete_run`] does, in one transaction; how
    /// many there were.
    pub fn delete_runs(&self, ids: &[String]) -> Result<usize> {
        let mut doomed = Vec::new();
        let deleted = self.write(|tx| {
            let mut n = 0;
            for id in ids {
                let seq: Option<i64> = tx
                    .query_row("SELECT seq FROM runs WHERE id = ?1", [id], |r| r.get(0))
                    .optional()?;
                let Some(seq) = seq else { continue };
                let files = super::attachments::files_of(tx, id)?;
                tx.execute("DELETE FROM runs_fts WHERE rowid = ?1", [seq])?;
                tx.execute("DELETE FROM runs WHERE seq = ?1", [seq])?;
                self.sweep(tx, &files, &mut doomed)?;
                n += 1;
            }
            Ok(n)
        });
        self.finish_sweep(doomed, deleted.is_ok());
        deleted
    }
}

/// A run rebuilt from its row and its results' rows.
fn stored_run(
    raw: RawSummary,
    request: &str,
    data: Option<String>,
    meta: Option<String>,
    results: Vec<RawResult>,
) -> Result<StoredRun> {
    let summary = raw.into_summary()?;
    let id = summary.id.as_str();
    let request: RoundtableRequest =
        serde_json::from_str(request).map_err(|source| Error::Corrupt {
            id: id.to_string(),
            what: "request",
            source,
        })?;
    let mut model_results = results
        .into_iter()
        .map(|r| r.into_result(id))
        .collect::<Result<Vec<_>>>()?;
    // A result's sample number is its spec's in the stored (expanded)
    // request, not a column of its own.
    for r in &mut model_results {
        r.sample = request
            .models
            .get(r.index)
            .filter(|s| s.name == r.model)
            .and_then(|s| s.sample);
    }
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
    Ok(StoredRun {
        response: RoundtableResponse {
            id: summary.id.clone(),
            data,
            meta,
            model_results,
        },
        request,
        summary,
    })
}

/// `WHERE` clause of `q`'s filters over `runs r`, pushing its arguments.
pub(crate) fn filter_sql(q: &ListQuery, args: &mut Vec<Sql>) -> String {
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
    if q.threads {
        clauses.push("r.seq = (SELECT max(t.seq) FROM runs t WHERE t.thread_id = r.thread_id)");
    }
    if let Some(tag) = &q.tag {
        clauses.push("EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = ?)");
        args.push(Sql::Text(tag.trim().to_string()));
    }
    clauses.join(" AND ")
}

pub(crate) const SUMMARY_COLS: &str = "r.id, r.created_at, r.status, r.input, r.resolution, r.models, \
     r.total_cost, r.duration_ms, r.starred, \
     (SELECT json_group_array(t.tag) FROM tags t WHERE t.run_id = r.id), \
     r.parent_id, r.parent_kind, r.previous_id, r.thread_id, \
     (SELECT count(*) FROM runs t WHERE t.thread_id = r.thread_id), \
     coalesce(substr(r.data, 1, 201), \
              (SELECT substr(m.data, 1, 201) FROM model_results m \
                WHERE m.run_id = r.id AND m.error IS NULL AND m.data <> '' \
                ORDER BY m.idx LIMIT 1))";
const SUMMARY_COL_COUNT: usize = 16;
/// The columns [`RawResult::from_row`] reads.
const RESULT_COL_COUNT: usize = 17;

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
    previous_id: Option<String>,
    thread_id: Option<String>,
    turns: i64,
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
            previous_id: row.get(12)?,
            thread_id: row.get(13)?,
            turns: row.get(14)?,
            preview: row.get(15)?,
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
            thread_id: self.thread_id.unwrap_or_else(|| self.id.clone()),
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
            previous_id: self.previous_id,
            turns: self.turns.max(1) as u32,
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
    outcome: Option<String>,
    context_resolved: Option<String>,
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
            outcome: row.get(15)?,
            context_resolved: row.get(16)?,
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
            sample: None,
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
            vote_read: self.vote_read.and_then(from_name),
            outcome: self.outcome.and_then(from_name),
            schema_fallback: self.schema_fallback,
            // Written by this build as a JSON array; anything else reads as not said.
            context_resolved: self
                .context_resolved
                .and_then(|c| serde_json::from_str(&c).ok()),
        })
    }
}

/// A unit enum from its column's name; a name this build does not know reads
/// as not said.
fn from_name<T: serde::de::DeserializeOwned>(name: String) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name)).ok()
}
