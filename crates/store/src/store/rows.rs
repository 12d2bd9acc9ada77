//! Rows of the history as types: the columns a summary and a model result
//! are read from, and a whole run rebuilt from its row and its results' rows.

use super::query::{RunSummary, StoredRun};
use crate::time::rfc3339_utc;
use crate::{Error, Result};
use roundtable_core::{Meta, ModelResult, RoundtableRequest, RoundtableResponse, RunStatus, Usage};
use rusqlite::Row;

/// Characters of the resolved answer kept in [`RunSummary::data_preview`].
const PREVIEW_CHARS: usize = 200;

/// A run rebuilt from its row and its results' rows.
pub(super) fn stored_run(
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

pub(crate) const SUMMARY_COLS: &str = "r.id, r.created_at, r.status, r.input, r.resolution, r.models, \
     r.total_cost, r.duration_ms, r.starred, \
     (SELECT json_group_array(t.tag) FROM tags t WHERE t.run_id = r.id), \
     r.parent_id, r.parent_kind, r.previous_id, r.thread_id, \
     (SELECT count(*) FROM runs t WHERE t.thread_id = r.thread_id), \
     coalesce(substr(r.data, 1, 201), \
              (SELECT substr(m.data, 1, 201) FROM model_results m \
                WHERE m.run_id = r.id AND m.error IS NULL AND m.data <> '' \
                ORDER BY m.idx LIMIT 1))";
pub(super) const SUMMARY_COL_COUNT: usize = 16;
/// The columns [`RawResult::from_row`] reads.
pub(super) const RESULT_COL_COUNT: usize = 17;

pub(super) struct RawSummary {
    pub(super) id: String,
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
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
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

    pub(super) fn into_summary(self) -> Result<RunSummary> {
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

pub(super) struct RawResult {
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
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
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
