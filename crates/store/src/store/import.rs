//! Finished runs brought in from elsewhere (`roundtable import`, benches).

use super::Store;
use super::attachments::{Staged, record_refs};
use super::record::{RunRow, insert_run, upsert_result};
use crate::Result;
use crate::search::reindex;
use crate::time::now_ms;
use roundtable_core::{ModelResult, ModelSpec, RoundtableRequest, RoundtableResponse, RunStatus};
use rusqlite::Transaction;
use std::path::Path;

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
        let staged = request.map(|r| self.stage(r)).transpose()?.flatten();
        let dir = self.attachments_dir();
        self.write(|tx| {
            let one = ImportOne {
                request,
                staged: staged.as_ref(),
                response,
                status,
                created_at_ms,
            };
            one.write(tx, dir.as_deref())
        })
    }

    /// Record many finished runs in one transaction: all or none (an id already in
    /// the history fails the whole batch, naming it). Returns how many.
    /// The attachments of each request that carry their bytes (a JSON export's
    /// do) are stored as a run's are when it begins.
    pub fn bulk_import(&self, runs: &[ImportedRun]) -> Result<usize> {
        let staged = runs
            .iter()
            .map(|r| {
                let staged = r.request.as_ref().map(|q| self.stage(q)).transpose()?;
                Ok(staged.flatten())
            })
            .collect::<Result<Vec<_>>>()?;
        let dir = self.attachments_dir();
        self.write(|tx| {
            for (r, staged) in runs.iter().zip(&staged) {
                let one = ImportOne {
                    request: r.request.as_ref(),
                    staged: staged.as_ref(),
                    response: &r.response,
                    status: r.status,
                    created_at_ms: r.created_at_ms,
                };
                one.write(tx, dir.as_deref())?;
            }
            Ok(runs.len())
        })
    }
}

/// One finished run to import, its files already written.
struct ImportOne<'a> {
    request: Option<&'a RoundtableRequest>,
    staged: Option<&'a Staged>,
    response: &'a RoundtableResponse,
    status: RunStatus,
    created_at_ms: Option<i64>,
}

impl ImportOne<'_> {
    fn write(&self, tx: &Transaction<'_>, dir: Option<&Path>) -> Result<()> {
        let rebuilt;
        let request = match (self.staged, self.request) {
            (Some(staged), _) => &staged.request,
            (None, Some(r)) => r,
            (None, None) => {
                rebuilt = request_from_response(self.response);
                &rebuilt
            }
        };
        import_one(tx, request, self.response, self.status, self.created_at_ms)?;
        if let Some(staged) = self.staged {
            record_refs(tx, dir, &self.response.id, staged)?;
        }
        reindex(tx, &self.response.id)
    }
}

fn import_one(
    tx: &Transaction<'_>,
    request: &RoundtableRequest,
    response: &RoundtableResponse,
    status: RunStatus,
    created_at_ms: Option<i64>,
) -> Result<()> {
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
    Ok(())
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
