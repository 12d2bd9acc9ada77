//! Reading the history: a page of runs ([`Store::list_runs`]) with its filters,
//! a whole run ([`Store::get_run`]), deleting one, and mapping rows to types.
//!
//! The list pages by keyset ([`ListQuery::after`]): a page starts at the
//! position of the last line of the page before, found in the index that
//! serves the list's order (`runs_by_created`: `created_at`, then the rowid
//! `seq`), so a page deep in the history costs what the first one does; an
//! `offset` reads and drops every line before the page (and, in the list of
//! conversations, checks each one is its conversation's latest turn).

use super::rows::{
    RESULT_COL_COUNT, RawResult, RawSummary, SUMMARY_COL_COUNT, SUMMARY_COLS, stored_run,
};
use super::{ParentKind, Store, to_i64};
use crate::{Error, Result};
use roundtable_core::{Resolution, RoundtableRequest, RoundtableResponse, RunStatus};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Filters and page of [`Store::list_runs`] and [`Store::search`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size; `0` means the default, 50.
    pub limit: usize,
    /// Lines skipped before the page (after [`ListQuery::after`]'s run, when
    /// given). Costs time in proportion: page the list with `after`.
    pub offset: usize,
    /// The id of the last line of the page before: the page is the lines
    /// after that run in the list's order (`created_at`, then `seq`, newest
    /// first). The run need not match the filters (a conversation's line that
    /// has a newer turn since still marks the place); one not in the history
    /// is [`Error::NotFound`]. [`Store::list_runs`] only: a search is ranked,
    /// and pages with `offset`.
    pub after: Option<String>,
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
            after: None,
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
    /// The runs matching `q`, newest first (`created_at`, then `seq`): the
    /// page after `q.after`'s run, else from the top.
    pub fn list_runs(&self, q: &ListQuery) -> Result<Vec<RunSummary>> {
        let mut args: Vec<Sql> = Vec::new();
        let sql = self.list_sql(q, &mut args)?;
        self.summaries(&sql, args)
    }

    /// The statement of [`Store::list_runs`], pushing its arguments.
    fn list_sql(&self, q: &ListQuery, args: &mut Vec<Sql>) -> Result<String> {
        let mut filter = filter_sql(q, args);
        if let Some(id) = &q.after {
            // Where the run is in the list's order; a row-value comparison
            // with it is a range of `runs_by_created` (created_at, rowid).
            let (created_at, seq): (i64, i64) = self
                .conn
                .prepare_cached("SELECT created_at, seq FROM runs WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| Error::NotFound(id.clone()))?;
            filter.push_str(" AND (r.created_at, r.seq) < (?, ?)");
            args.push(Sql::Integer(created_at));
            args.push(Sql::Integer(seq));
        }
        args.push(Sql::Integer(q.limit()));
        args.push(Sql::Integer(to_i64(q.offset as u64)));
        Ok(format!(
            "SELECT {SUMMARY_COLS} FROM runs r WHERE {filter} \
             ORDER BY r.created_at DESC, r.seq DESC LIMIT ? OFFSET ?"
        ))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of `q`'s page, one line per step.
    fn plan(store: &Store, q: &ListQuery) -> String {
        let mut args = Vec::new();
        let sql = store.list_sql(q, &mut args).unwrap();
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let steps = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        steps.join("\n")
    }

    #[test]
    fn a_page_after_a_run_is_a_range_of_the_index_in_the_lists_order() {
        let store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute(
                "INSERT INTO runs (id, created_at, request, input, status, resolution, thread_id) \
                 VALUES ('rt_a', 1000, '{}', 'Q', 'completed', 'summary', 'rt_a')",
                [],
            )
            .unwrap();
        for threads in [false, true] {
            let q = ListQuery {
                after: Some("rt_a".into()),
                threads,
                ..ListQuery::default()
            };
            let plan = plan(&store, &q);
            // Seeks in runs_by_created (created_at, then the rowid: the
            // list's order, so no sort) instead of reading the lines before.
            assert!(
                plan.contains("SEARCH r USING INDEX runs_by_created (created_at<?)"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
