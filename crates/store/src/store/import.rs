//! Finished runs brought in from elsewhere (`roundtable import`, benches).

use super::Store;
use super::record::{RunRow, insert_run, upsert_result};
use crate::Result;
use crate::search::reindex;
use crate::time::now_ms;
use roundtable_core::{ModelResult, ModelSpec, RoundtableRequest, RoundtableResponse, RunStatus};
use rusqlite::Transaction;

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

impl Store {
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
