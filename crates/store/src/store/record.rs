//! Live recording: a run begins, its model results arrive one by one, it
//! finishes; or many such steps in one transaction ([`Store::record_batch`]).

use super::attachments::{Staged, record_refs};
use super::{Store, run_exists, to_i64};
use crate::search::reindex;
use crate::time::now_ms;
use crate::{Error, Result};
use roundtable_core::{
    Meta, ModelResult, Resolution, RoundtableRequest, RoundtableResponse, RunStatus,
};
use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};

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

impl Store {
    /// Record a run as `running`, before any provider is called.
    /// Its attached files are written first (see `attachments.rs`), and the
    /// request is stored without their bytes.
    pub fn begin_run(&self, new: &NewRun) -> Result<()> {
        let staged = self.stage(&new.request)?;
        let begun = self.write(|tx| self.begin_in(tx, new, staged.as_ref()));
        if begun.is_err() {
            self.discard(&staged);
        }
        begun
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
        // The files of the runs begun, written before the transaction.
        let staged: Vec<Result<Vec<Option<Staged>>>> = groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .filter_map(|w| match w {
                        RunWrite::Begin(new) => Some(self.stage(&new.request)),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let (staged, mut failed): (Vec<_>, Vec<_>) = staged
            .into_iter()
            .map(|s| match s {
                Ok(staged) => (staged, None),
                Err(e) => (Vec::new(), Some(e)),
            })
            .unzip();
        let written = self.write(|tx| {
            let mut out = Vec::with_capacity(groups.len());
            for ((group, staged), failed) in groups.iter().zip(&staged).zip(&mut failed) {
                if let Some(e) = failed.take() {
                    out.push(Err(e));
                    continue;
                }
                let mut staged = staged.iter();
                tx.prepare_cached("SAVEPOINT step")?.execute([])?;
                let applied = group.iter().try_for_each(|w| match w {
                    RunWrite::Begin(new) => {
                        self.begin_in(tx, new, staged.next().and_then(Option::as_ref))
                    }
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
        });
        // The files of the runs that were not begun, unless a run names them.
        let kept = |i: usize| written.as_ref().is_ok_and(|out| out[i].is_ok());
        let dropped = (0..staged.len()).filter(|&i| !kept(i));
        self.discard(dropped.flat_map(|i| staged[i].iter().flatten()));
        written
    }

    fn begin_in(&self, tx: &Transaction<'_>, new: &NewRun, staged: Option<&Staged>) -> Result<()> {
        insert_run(
            tx,
            &RunRow {
                id: &new.id,
                created_at_ms: new.created_at_ms,
                request: staged.map_or(&new.request, |s| &s.request),
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
        if let Some(staged) = staged {
            record_refs(tx, self.attachments_dir().as_deref(), &new.id, staged)?;
        }
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
}

pub(super) struct RunRow<'a> {
    pub(super) id: &'a str,
    pub(super) created_at_ms: i64,
    pub(super) request: &'a RoundtableRequest,
    pub(super) status: RunStatus,
    pub(super) resolution: Resolution,
    pub(super) data: Option<&'a str>,
    pub(super) meta: Option<&'a Meta>,
    pub(super) total_cost: f64,
    pub(super) duration_ms: Option<u64>,
    pub(super) parent_id: Option<&'a str>,
    pub(super) parent_kind: Option<ParentKind>,
    pub(super) owner: Option<&'a str>,
}

/// Insert a run row; an existing id is [`Error::AlreadyExists`]. A parent that is
/// not in the history is recorded as none.
pub(super) fn insert_run(tx: &Transaction<'_>, r: &RunRow<'_>) -> Result<()> {
    let request = serde_json::to_string(r.request)?;
    let models: Vec<&str> = r.request.models.iter().map(|m| m.name.as_str()).collect();
    let models = serde_json::to_string(&models)?;
    let meta = r.meta.map(serde_json::to_string).transpose()?;
    let n = tx
        .prepare_cached(
            "INSERT INTO runs (id, created_at, request, input, instructions, models, status, \
                               resolution, data, meta, total_cost, duration_ms, \
                               parent_id, parent_kind, owner, previous_id, thread_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                     (SELECT id FROM runs WHERE id = ?13), \
                     CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = ?13) THEN ?14 END, ?15, \
                     (SELECT id FROM runs WHERE id = ?16), \
                     coalesce((SELECT thread_id FROM runs WHERE id = ?16), ?1)) \
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
            r.request.previous_id,
        ])?;
    if n == 0 {
        return Err(Error::AlreadyExists(r.id.to_string()));
    }
    Ok(())
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

pub(super) fn upsert_result(tx: &Transaction<'_>, run_id: &str, r: &ModelResult) -> Result<()> {
    let usage = serde_json::to_string(&r.usage)?;
    tx.prepare_cached(
        "INSERT INTO model_results (run_id, idx, model, data, thinking, error, usage, cost, \
                                    duration_ms, schema_valid, schema_error, vote, attempts, \
                                    queued_ms, schema_fallback, vote_read, outcome, \
                                    created_at, input_tokens, output_tokens, unpriced, ended, \
                                    context_resolved) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
                 (SELECT created_at FROM runs WHERE id = ?1), ?18, ?19, ?20, ?21, ?22) \
         ON CONFLICT (run_id, idx) DO UPDATE SET \
           model = excluded.model, data = excluded.data, thinking = excluded.thinking, \
           error = excluded.error, usage = excluded.usage, cost = excluded.cost, \
           duration_ms = excluded.duration_ms, schema_valid = excluded.schema_valid, \
           schema_error = excluded.schema_error, vote = excluded.vote, \
           attempts = excluded.attempts, queued_ms = excluded.queued_ms, \
           schema_fallback = excluded.schema_fallback, vote_read = excluded.vote_read, \
           outcome = excluded.outcome, input_tokens = excluded.input_tokens, \
           output_tokens = excluded.output_tokens, unpriced = excluded.unpriced, \
           ended = excluded.ended, context_resolved = excluded.context_resolved",
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
        r.vote_read.map(serde_name),
        r.outcome.map(serde_name),
        to_i64(r.usage.input_tokens),
        to_i64(r.usage.output_tokens),
        r.usage
            .extra
            .contains_key(crate::store::spend::UNPRICED_KEY),
        serde_name(r.ended()),
        r.context_resolved
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?,
    ])?;
    Ok(())
}

/// A unit enum as its column spells it: its serde name (`vote_read`,
/// `outcome`).
fn serde_name(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
