//! Re-resolving: a stored run resolved again (another resolution, summary
//! model or choices) from its stored answers, without calling the panel again;
//! recorded as a new run linked to the first, the answers carried over. Its
//! attached files are not read: the summary model gets their names only, and
//! the new run names the same stored files.

use super::RunSink;
use crate::{App, AppError};
use roundtable_core::{Resolution, RunOutcome};
use roundtable_store::{ParentKind, RunWrite};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

// What `App::reresolve` changes about a stored run; the desktop's
// `resolve_run` takes it as is (its TypeScript name is `ResolveArgs`).
/// How to resolve a stored run again.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename = "ResolveArgs", optional_fields)
)]
pub struct Reresolve {
    pub resolution: Resolution,
    pub summary_model: Option<String>,
    pub choices: Option<Vec<String>>,
    /// Summary: also the claims matrix (request `consensus`).
    #[serde(default)]
    pub consensus: Option<bool>,
}

impl App {
    /// Resolves a stored run again from its stored answers, without calling the
    /// panel again; stored as a new run linked to the first. Refused past a
    /// hard budget, as a run is.
    pub async fn reresolve(
        &self,
        id: &str,
        how: Reresolve,
        sink: &dyn RunSink,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let stored = self.get_run(id)?;
        let mut request = stored.request;
        request.resolution = Some(how.resolution);
        if how.summary_model.is_some() {
            request.summary_model = how.summary_model;
        }
        if how.choices.is_some() {
            request.choices = how.choices;
        }
        if how.consensus.is_some() {
            request.consensus = how.consensus;
        }
        // The stored attachments have no bytes, which a run's checks would
        // refuse; no model gets them here, so they are checked by none and
        // put back as stored.
        let attachments = std::mem::take(&mut request.attachments);
        let engine = self.engine_for(&request);
        // A turn of a conversation: the summary model reads what came before.
        let mut prepared = self.with_thread_files(engine.prepare(request)?, false)?;
        // Held until it ends: the budgets are checked as for a run.
        let _reserved = self.reserve_budget(Some(&prepared.id), || {
            self.worst_resolution(&engine, &prepared)
        })?;
        prepared.request.attachments = attachments;
        // Only what the panel answered is carried over; resolution marks are redone.
        let results: Vec<_> = stored
            .response
            .model_results
            .into_iter()
            .map(|mut r| {
                r.vote = None;
                r.schema_valid = None;
                r.schema_error = None;
                r
            })
            .collect();
        let begin = Self::begin(&prepared, Some((id.to_string(), ParentKind::Resolve)));
        let carried = results.iter().map(|r| RunWrite::Result {
            run_id: prepared.id.clone(),
            result: r.clone(),
        });
        self.recorder
            .write(std::iter::once(begin).chain(carried).collect())
            .await?;
        let new_id = prepared.id.clone();
        self.record_while(&new_id, sink, |tx| {
            engine.resolve(prepared, results, Instant::now(), Some(tx), cancel)
        })
        .await
    }
}
