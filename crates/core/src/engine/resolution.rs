//! The resolution step: the vote or the consolidation once the panel has
//! answered (or again from stored answers), the summary model's fallback to the
//! next that answered, and the guard that turns a panic into a failed run.

use super::meter::CostMeter;
use super::model_call::{Attempted, ModelCall};
use super::{Engine, Events, PreparedRun, RunOutcome, emit, ms};
use crate::attachments;
use crate::contract::{
    Meta, ModelOutcome, ModelResult, ModelSpec, Resolution, RoundtableRequest, RoundtableResponse,
    RunStatus,
};
use crate::events::RunEvent;
use crate::providers::Delta;
use crate::resolution::claims::{self, ClaimMatrix};
use crate::resolution::{self, consolidation, vote};
use crate::thread::PriorTurn;
use crate::validate::split_model_name;
use futures_util::FutureExt;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

impl Engine {
    /// Resolves a run from answers already in hand: after the panel, or again
    /// from stored answers (`roundtable resolve`), without calling the panel.
    ///
    /// Always comes back with an outcome: a panic inside the resolution ends the
    /// run as failed, with the answers kept and the reason in `summary_error`, so
    /// no host is left without an answer and no stored run stays `running`.
    pub async fn resolve(
        &self,
        run: PreparedRun,
        results: Vec<ModelResult>,
        started: Instant,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> RunOutcome {
        let (id, trace_uuid, kept) = (run.id.clone(), run.trace_uuid.clone(), results.clone());
        let resolution = run.request.resolution();
        let guarded =
            AssertUnwindSafe(self.resolve_unguarded(run, results, started, events.clone(), cancel));
        match guarded.catch_unwind().await {
            Ok(outcome) => outcome,
            Err(panic) => {
                let response = RoundtableResponse {
                    id,
                    data: None,
                    meta: Meta {
                        resolution,
                        trace_uuid,
                        summary_error: Some(format!(
                            "internal error while resolving the run: {}",
                            panic_message(&*panic)
                        )),
                        total_cost: kept.iter().map(|r| r.cost).sum(),
                        total_duration_ms: ms(started.elapsed()),
                        ..Default::default()
                    },
                    model_results: kept,
                };
                emit(
                    &events,
                    RunEvent::Done {
                        response: response.clone(),
                    },
                );
                RunOutcome {
                    response,
                    status: RunStatus::Failed,
                }
            }
        }
    }

    async fn resolve_unguarded(
        &self,
        run: PreparedRun,
        mut results: Vec<ModelResult>,
        started: Instant,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> RunOutcome {
        let req = &run.request;
        let question = question(req);
        let earlier = run.thread.as_slice();
        let resolution = req.resolution();
        if let Some(schema) = req
            .output_schema
            .as_ref()
            .filter(|_| resolution != Resolution::MultipleChoice)
        {
            for r in results.iter_mut().filter(|r| r.succeeded()) {
                let (valid, error) = check_schema(schema, &r.data);
                r.schema_valid = Some(valid);
                r.schema_error = error;
            }
        }
        let mut meta = Meta {
            resolution,
            models_used: results
                .iter()
                .filter(|r| r.succeeded())
                .map(|r| r.model.clone())
                .collect(),
            trace_uuid: run.trace_uuid.clone(),
            ..Default::default()
        };
        let answered = !meta.models_used.is_empty();
        let cancelled = cancel.is_cancelled();
        // `max_cost` covers the whole run: what the panel cost, then the
        // summary and claims calls, metered as they stream.
        let meter = req.max_cost.map(|cap| {
            let meter = CostMeter::new(cap);
            meter.add(results.iter().map(|r| r.cost).sum());
            meter
        });
        let capped = meter.as_ref().is_some_and(|m| m.over().is_cancelled())
            || results
                .iter()
                .any(|r| r.outcome == Some(ModelOutcome::BudgetExceeded));
        let mut data = None;
        match resolution {
            Resolution::Fast => {}
            Resolution::MultipleChoice => {
                let choices = req.choices.clone().unwrap_or_default();
                let tally = vote::tally(&results, &choices);
                for (r, ballot) in results.iter_mut().zip(tally.ballots) {
                    (r.vote, r.vote_read) = ballot.unzip();
                }
                meta.votes = Some(tally.votes);
                data = Some(tally.winner.unwrap_or_default());
            }
            Resolution::Summary if capped => {
                data = Some(String::new());
                meta.summary_error = Some(
                    "not written: the run's cost reached its max_cost before the summary".into(),
                );
            }
            Resolution::Summary if answered && !cancelled => {
                let summarising = self.summarise(
                    req,
                    earlier,
                    &question,
                    &meta.models_used,
                    &results,
                    &events,
                    meter.as_ref(),
                    &cancel,
                );
                let (summary, claims) = if req.consensus == Some(true) {
                    let model = self.summary_candidates(req, &meta.models_used)[0].clone();
                    tokio::join!(
                        summarising,
                        self.claims(
                            req,
                            earlier,
                            &question,
                            &model,
                            &results,
                            meter.as_ref(),
                            &cancel
                        )
                    )
                } else {
                    (summarising.await, None)
                };
                if let Some((claims, cost)) = claims {
                    meta.total_cost += cost;
                    match claims {
                        Ok(m) => meta.claims = Some(Box::new(m)),
                        Err(e) => meta.claims_error = Some(e),
                    }
                }
                let outcome = summary.outcome;
                meta.summary_model = Some(summary.model);
                meta.summary_usage = Some(outcome.usage.clone());
                meta.total_cost += summary.cost;
                if !outcome.thinking.is_empty() {
                    meta.summary_thinking = Some(outcome.thinking);
                }
                if let Some(schema) = &req.output_schema
                    && outcome.error.is_none()
                {
                    meta.schema_valid = Some(check_schema(schema, &outcome.text).0);
                }
                meta.summary_error = summary.error;
                data = Some(outcome.text);
            }
            Resolution::Summary => data = Some(String::new()),
        }
        meta.total_cost += results.iter().map(|r| r.cost).sum::<f64>();
        meta.total_duration_ms = ms(started.elapsed());
        let status = if cancel.is_cancelled() {
            RunStatus::Interrupted
        } else if answered {
            RunStatus::Completed
        } else {
            RunStatus::Failed
        };
        let mut response = RoundtableResponse {
            id: run.id,
            data,
            meta,
            model_results: results,
        };
        response.meta.agreement = crate::agreement::compute(req, &response).map(Box::new);
        emit(
            &events,
            RunEvent::Done {
                response: response.clone(),
            },
        );
        RunOutcome { response, status }
    }

    /// The consolidation, by the summary model; when it fails, by the next model
    /// that answered, in panel order, until one writes it. `model` is the one
    /// that wrote it (the first tried when none did), `error` what happened to
    /// those that failed.
    #[allow(clippy::too_many_arguments)]
    async fn summarise(
        &self,
        req: &RoundtableRequest,
        earlier: &[PriorTurn],
        question: &str,
        answered: &[String],
        results: &[ModelResult],
        events: &Events,
        meter: Option<&Arc<CostMeter>>,
        cancel: &CancellationToken,
    ) -> Summary {
        let candidates = self.summary_candidates(req, answered);
        let mut failures: Vec<String> = Vec::new();
        let mut cost = 0.0;
        let mut written = None;
        for model in &candidates {
            let outcome = AssertUnwindSafe(self.consolidate(
                req, earlier, question, model, results, events, meter, cancel,
            ))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Attempted::failed(
                    ModelOutcome::Failed,
                    format!("internal error: {}", panic_message(&*panic)),
                    0,
                )
            });
            cost += outcome.cost;
            // Stopped at the run's max_cost: no other model is asked.
            let capped = outcome.ended == ModelOutcome::BudgetExceeded;
            match &outcome.error {
                Some(e) if !cancel.is_cancelled() => {
                    failures.push(format!("{model}: {e}"));
                    if written.is_none() {
                        written = Some((model.clone(), outcome));
                    }
                    if capped {
                        break;
                    }
                }
                _ => {
                    written = Some((model.clone(), outcome));
                    break;
                }
            }
        }
        // When every model failed, `written` is the first one's attempt.
        let (model, mut outcome) = written.expect("at least one model answered");
        let error = match (failures.is_empty(), outcome.error.is_none()) {
            (true, _) => None,
            (false, true) => Some(format!(
                "the summary by {} failed, so {model} wrote it: {}",
                candidates[0],
                failures.join("; ")
            )),
            (false, false) => Some(format!(
                "no model could write the summary: {}",
                failures.join("; ")
            )),
        };
        if outcome.error.is_some() {
            outcome.error = error.clone();
        }
        Summary {
            model,
            outcome,
            cost,
            error,
        }
    }

    /// Who writes the summary, in order: the request's summary model (else the
    /// default), then every model that answered, in panel order.
    pub(super) fn summary_candidates(
        &self,
        req: &RoundtableRequest,
        answered: &[String],
    ) -> Vec<String> {
        let first = req
            .summary_model
            .clone()
            .or_else(|| self.default_summary_model.clone())
            .filter(|m| split_model_name(m).is_some_and(|(p, _)| self.providers.contains_key(p)));
        let mut candidates: Vec<String> = first.into_iter().collect();
        for m in answered {
            if !candidates.contains(m) {
                candidates.push(m.clone());
            }
        }
        candidates
    }

    /// The claims matrix (`consensus`), asked of `model` through structured
    /// output beside the consolidation, and what the call cost. Its failure is
    /// the matrix's alone: the summary is untouched.
    #[allow(clippy::too_many_arguments)]
    async fn claims(
        &self,
        req: &RoundtableRequest,
        earlier: &[PriorTurn],
        question: &str,
        model: &str,
        results: &[ModelResult],
        meter: Option<&Arc<CostMeter>>,
        cancel: &CancellationToken,
    ) -> Option<(Result<ClaimMatrix, String>, f64)> {
        let answered = claims::answered(results);
        let texts: Vec<&str> = answered.iter().map(|r| r.data.as_str()).collect();
        let indices: Vec<usize> = answered.iter().map(|r| r.index).collect();
        let call = ModelCall {
            index: usize::MAX,
            spec: ModelSpec::named(model),
            instructions: None,
            input: claims::prompt(earlier, question, req.instructions.as_deref(), &texts),
            schema: Some(claims::schema(texts.len())),
            schema_native_only: false,
            max_retries: req.max_retries(),
            timeout: Duration::from_millis(req.timeout_ms()),
            meter: meter.cloned(),
            attachments: Arc::default(),
            history: Vec::new(),
            context_resolved: Vec::new(),
        };
        let mut slot = self.slot(model, cancel, || {}).await?;
        let outcome = self
            .attempt_call(&call, &mut slot, cancel, &mut |_| {}, &mut |_, _, _| {})
            .await;
        let matrix = match &outcome.error {
            Some(e) => Err(format!("the claims call to {model} failed: {e}")),
            None => claims::read(&outcome.text, &indices),
        };
        Some((matrix, outcome.cost))
    }

    #[allow(clippy::too_many_arguments)]
    async fn consolidate(
        &self,
        req: &RoundtableRequest,
        earlier: &[PriorTurn],
        question: &str,
        model: &str,
        results: &[ModelResult],
        events: &Events,
        meter: Option<&Arc<CostMeter>>,
        cancel: &CancellationToken,
    ) -> Attempted {
        emit(
            events,
            RunEvent::ConsolidationStarted {
                model: model.to_string(),
            },
        );
        let prompt = consolidation::prompt(earlier, question, req.instructions.as_deref(), results);
        let spec = ModelSpec::named(model);
        let call = ModelCall {
            index: usize::MAX,
            spec,
            instructions: None,
            input: prompt,
            schema: req.output_schema.clone(),
            schema_native_only: false,
            max_retries: req.max_retries(),
            timeout: Duration::from_millis(req.timeout_ms()),
            meter: meter.cloned(),
            attachments: Arc::default(),
            history: Vec::new(),
            context_resolved: Vec::new(),
        };
        let name = model.to_string();
        let events = events.clone();
        let Some(mut slot) = self.slot(model, cancel, || {}).await else {
            return Attempted::failed(ModelOutcome::Cancelled, "cancelled".into(), 0);
        };
        self.attempt_call(
            &call,
            &mut slot,
            cancel,
            &mut |d| {
                if let Delta::Text(delta) = d {
                    emit(
                        &events,
                        RunEvent::ConsolidationDelta {
                            model: name.clone(),
                            delta,
                        },
                    );
                }
            },
            &mut |_, _, _| {},
        )
        .await
    }
}

/// Whether `text` is JSON valid against `schema`, and why not.
pub fn check_schema(schema: &Value, text: &str) -> (bool, Option<String>) {
    let value: Value = match serde_json::from_str(resolution::strip_code_fence(text)) {
        Ok(v) => v,
        Err(e) => return (false, Some(format!("not JSON: {e}"))),
    };
    match jsonschema::validator_for(schema) {
        Ok(v) => match v.iter_errors(&value).next() {
            None => (true, None),
            Some(e) => (false, Some(format!("{} (at '{}')", e, e.instance_path()))),
        },
        Err(e) => (false, Some(format!("invalid schema: {e}"))),
    }
}

/// What the summary step produced, and by which model.
struct Summary {
    model: String,
    outcome: Attempted,
    /// Every attempt's cost, the failed models' included.
    cost: f64,
    error: Option<String>,
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// The question as the summary and claims models get it: the prompt and the
/// names of its attachments (they get no bytes: they read the answers). The
/// conversation before it goes in a section of its own, its answers fenced
/// ([`resolution::conversation`]).
fn question(req: &RoundtableRequest) -> String {
    let mut out = req.input.clone();
    if let Some(listing) = attachments::listing(&req.attachments) {
        out.push_str(&format!("\n\n({listing})"));
    }
    out
}
