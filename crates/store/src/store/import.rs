//! Finished runs brought in from elsewhere (`roundtable import`, benches).
//!
//! A JSON export is a backup: each run comes back with what a person and the
//! judges added to it and its links to other runs ([`RunMarks`]). Every run of
//! a batch is checked first (`import_checks.rs`: each number that later sizes
//! something, each index, each mark), then written in dependency order, a run
//! after the runs of the batch it follows or derives from, whatever the
//! document's order: a conversation exported newest first comes back one
//! conversation.

use super::attachments::{Staged, record_refs};
use super::import_checks::check_run;
use super::record::{ParentKind, RunRow, insert_run, upsert_result};
use super::votes::{RunVerdicts, write_judgement, write_vote};
use super::{Store, stars_tags};
use crate::search::reindex;
use crate::time::now_ms;
use crate::{Error, Result};
use roundtable_core::{ModelResult, ModelSpec, RoundtableRequest, RoundtableResponse, RunStatus};
use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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
    /// Its star, tags, vote, judgements and the run it derives from.
    pub marks: RunMarks,
}

/// What a run carries beside its request and response in a JSON export, so
/// that an import brings the run back whole: its star and tags, the person's
/// vote and the judges' rankings, and the run it was re-run or re-resolved
/// from. (The turn it follows is the request's `previous_id`.)
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunMarks {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub starred: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub verdicts: RunVerdicts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_kind: Option<ParentKind>,
}

impl Store {
    /// Record a finished run from elsewhere (`roundtable import`). An id already in
    /// the history is an error naming it; so is a number out of range.
    pub fn import_response(
        &self,
        request: Option<&RoundtableRequest>,
        response: &RoundtableResponse,
        status: RunStatus,
        created_at_ms: Option<i64>,
    ) -> Result<()> {
        let marks = RunMarks::default();
        check_run(request, response, created_at_ms, &marks)?;
        let staged = request.map(|r| self.stage(r)).transpose()?.flatten();
        let dir = self.attachments_dir();
        let written = self.write(|tx| {
            let one = ImportOne {
                request,
                staged: staged.as_ref(),
                response,
                status,
                created_at_ms,
                marks: &marks,
            };
            one.write(tx, dir.as_deref())
        });
        if written.is_err() {
            self.discard(&staged);
        }
        written
    }

    /// Record many finished runs in one transaction: all or none (an id already in
    /// the history fails the whole batch, naming it; so does a number out of
    /// range, naming the run and the field). Returns how many.
    /// The attachments of each request that carry their bytes (a JSON export's
    /// do) are stored as a run's are when it begins. Runs are written in
    /// dependency order (see the module).
    pub fn bulk_import(&self, runs: &[ImportedRun]) -> Result<usize> {
        for r in runs {
            check_run(r.request.as_ref(), &r.response, r.created_at_ms, &r.marks)?;
        }
        let order = dependency_order(runs)?;
        let mut staged = Vec::with_capacity(order.len());
        for &i in &order {
            match runs[i].request.as_ref().map(|q| self.stage(q)).transpose() {
                Ok(s) => staged.push(s.flatten()),
                Err(e) => {
                    // The files of the runs staged before, unless a run names them.
                    self.discard(staged.iter().flatten());
                    return Err(e);
                }
            }
        }
        let dir = self.attachments_dir();
        let written = self.write(|tx| {
            for (&i, staged) in order.iter().zip(&staged) {
                let r = &runs[i];
                let one = ImportOne {
                    request: r.request.as_ref(),
                    staged: staged.as_ref(),
                    response: &r.response,
                    status: r.status,
                    created_at_ms: r.created_at_ms,
                    marks: &r.marks,
                };
                one.write(tx, dir.as_deref())?;
            }
            Ok(runs.len())
        });
        if written.is_err() {
            self.discard(staged.iter().flatten());
        }
        written
    }
}

/// The order to write `runs` in: each after the runs of the batch it follows
/// (`previous_id`) or derives from (`parent_id`), else as given. Links that go
/// round in a loop are refused, naming a run of the loop.
fn dependency_order(runs: &[ImportedRun]) -> Result<Vec<usize>> {
    let at: HashMap<&str, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.response.id.as_str(), i))
        .collect();
    let links = |i: usize| -> [Option<usize>; 2] {
        let r = &runs[i];
        let previous = r.request.as_ref().and_then(|q| q.previous_id.as_deref());
        [previous, r.marks.parent_id.as_deref()].map(|id| id.and_then(|id| at.get(id).copied()))
    };
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; runs.len()];
    let mut order = Vec::with_capacity(runs.len());
    for start in 0..runs.len() {
        if state[start] != State::New {
            continue;
        }
        state[start] = State::Open;
        // Depth first, without recursion: (run, how many of its links seen).
        let mut stack = vec![(start, 0usize)];
        while let Some((run, seen)) = stack.last_mut() {
            let run = *run;
            match links(run).get(*seen) {
                Some(link) => {
                    *seen += 1;
                    let Some(next) = *link else { continue };
                    match state[next] {
                        State::New => {
                            state[next] = State::Open;
                            stack.push((next, 0));
                        }
                        State::Open => {
                            return Err(Error::Import(format!(
                                "run {}: its previous_id and parent_id links go round in a loop",
                                runs[next].response.id
                            )));
                        }
                        State::Done => {}
                    }
                }
                None => {
                    state[run] = State::Done;
                    order.push(run);
                    stack.pop();
                }
            }
        }
    }
    Ok(order)
}

/// One finished run to import, its files already written.
struct ImportOne<'a> {
    request: Option<&'a RoundtableRequest>,
    staged: Option<&'a Staged>,
    response: &'a RoundtableResponse,
    status: RunStatus,
    created_at_ms: Option<i64>,
    marks: &'a RunMarks,
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
        let id = self.response.id.as_str();
        insert_run(
            tx,
            &RunRow {
                id,
                created_at_ms: self.created_at_ms.unwrap_or_else(now_ms),
                request,
                status: self.status,
                resolution: self.response.meta.resolution,
                data: self.response.data.as_deref(),
                meta: Some(&self.response.meta),
                total_cost: self.response.meta.total_cost,
                duration_ms: Some(self.response.meta.total_duration_ms),
                parent_id: self.marks.parent_id.as_deref(),
                parent_kind: self.marks.parent_kind,
                owner: None,
            },
        )?;
        for r in &self.response.model_results {
            upsert_result(tx, id, r)?;
        }
        if let Some(staged) = self.staged {
            record_refs(tx, dir, id, staged)?;
        }
        write_marks(tx, id, self.marks)?;
        reindex(tx, id)
    }
}

/// A checked run's star, tags, vote and judgements.
fn write_marks(tx: &Transaction<'_>, id: &str, marks: &RunMarks) -> Result<()> {
    if marks.starred {
        tx.prepare_cached("UPDATE runs SET starred = 1 WHERE id = ?1")?
            .execute([id])?;
    }
    for tag in &marks.tags {
        tx.prepare_cached("INSERT INTO tags (run_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?
            .execute(params![id, stars_tags::check_tag(tag)?])?;
    }
    if let Some(vote) = &marks.verdicts.vote {
        write_vote(tx, id, vote)?;
    }
    for judgement in &marks.verdicts.judgements {
        write_judgement(tx, id, judgement)?;
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
