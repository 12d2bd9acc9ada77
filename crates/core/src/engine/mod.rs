//! The ensemble engine: one task per model, all at once, each with its own
//! timeout covering its retries; then the resolution. Emits [`RunEvent`]s as it
//! goes and can be cancelled, keeping what had arrived.
//!
//! **Default summary model**: the request's `summary_model`; else the engine's
//! configured default ([`Engine::with_default_summary_model`]); else the first
//! model of the panel, in request order, that answered.
//!
//! **Retries**: connect errors, timeouts, a stream that broke off, HTTP 408, 409,
//! 429 and 5xx (unless the provider says `x-should-retry: false`, or the 429 is
//! `insufficient_quota`), up to `max_retries` times, with jittered exponential
//! backoff (0.5 s doubling, at most 8 s) or the provider's `Retry-After` /
//! `retry-after-ms` when it gives one (at most 60 s), all inside `timeout_ms`.
//!
//! Layout: this file holds the engine and the fan-out ([`Engine::execute`]);
//! `call.rs` one model's call (its slot, attempts, fallback, usage and cost),
//! `endings.rs` how an attempt ended (a refused schema, a cut stream, usage
//! estimated, the words of a failure),
//! `model_call.rs` what a call is given and gives back;
//! `resolution.rs` the step after the panel (the vote, the consolidation and its
//! fallback, the panic guard). A new resolution is a variant of `Resolution`, an
//! arm in `resolution.rs`, and its logic in `crate::resolution`.

use crate::attachments::{self, Part};
use crate::contract::{ModelResult, Resolution, RoundtableRequest, RoundtableResponse, RunStatus};
use crate::events::RunEvent;
use crate::prices::PriceTable;
use crate::providers::client::Limits;
use crate::resolution::vote;
use crate::slots::Slots;
use crate::thread::{self, PriorTurn};
use crate::validate::{ValidationError, validate_request};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

mod call;
mod endings;
mod estimate;
mod meter;
mod model_call;
mod resolution;

use crate::provider::{Provider, ProviderKey};
pub use estimate::{CallEstimate, Estimate, IMAGE_TOKENS, PDF_TOKENS_PER_50_KB, count_tokens};
use model_call::ModelCall;
pub use resolution::check_schema;

/// The longest wait a provider's `Retry-After` is honoured for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

// What a host gets back from a run; the desktop returns it as is (its
// TypeScript name is `RunResult`).
/// A run's end: the whole response and how it ended.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "RunResult"))]
pub struct RunOutcome {
    pub response: RoundtableResponse,
    pub status: RunStatus,
}

/// A validated request with its id, ready to execute.
#[derive(Debug, Clone)]
pub struct PreparedRun {
    pub id: String,
    pub trace_uuid: String,
    pub request: RoundtableRequest,
    /// The request's attachments, checked and ready to send.
    pub attachments: Arc<Vec<Part>>,
    /// The conversation before this run, when it follows one up (`previous_id`,
    /// read by the host: [`PreparedRun::with_thread`]).
    pub thread: Arc<Vec<PriorTurn>>,
}

impl PreparedRun {
    /// The run as a follow-up of `turns` (oldest first).
    pub fn with_thread(mut self, turns: Vec<PriorTurn>) -> Self {
        self.thread = Arc::new(turns);
        self
    }
}

#[derive(Clone)]
pub struct Engine {
    http: reqwest::Client,
    providers: Arc<HashMap<String, Provider>>,
    /// The keys of the providers a run uses (see [`Engine::with_keys`]); a
    /// provider without one here is called without a key.
    keys: Arc<HashMap<String, ProviderKey>>,
    prices: Arc<PriceTable>,
    default_summary_model: Option<String>,
    limits: Limits,
    slots: Arc<Slots>,
    /// Providers found to refuse JSON Schema output, for the life of the process.
    json_mode: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

type Events = Option<UnboundedSender<RunEvent>>;

fn emit(events: &Events, event: RunEvent) {
    if let Some(tx) = events {
        let _ = tx.send(event);
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

impl Engine {
    pub fn new(providers: Vec<Provider>, prices: PriceTable) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(256)
            .user_agent(concat!("roundtable/", env!("CARGO_PKG_VERSION")))
            // A provider is an API: a redirect is its error, never followed, so a
            // key goes nowhere but the provider's base URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with rustls builds");
        let providers: HashMap<_, _> = providers.into_iter().map(|p| (p.id.clone(), p)).collect();
        Engine {
            http,
            slots: Arc::new(Slots::new(providers.values())),
            providers: Arc::new(providers),
            keys: Arc::default(),
            prices: Arc::new(prices),
            default_summary_model: None,
            limits: Limits::default(),
            json_mode: Arc::default(),
        }
    }

    /// The same engine (HTTP client, prices) over another set of providers, with
    /// no keys yet.
    pub fn with_providers(&self, providers: Vec<Provider>) -> Engine {
        let providers: HashMap<_, _> = providers.into_iter().map(|p| (p.id.clone(), p)).collect();
        Engine {
            slots: Arc::new(Slots::new(providers.values())),
            providers: Arc::new(providers),
            keys: Arc::default(),
            ..self.clone()
        }
    }

    /// How `provider_id`'s calls at once stand ([`crate::slots`]), settled
    /// first (its server asked) when no call has done it yet; `None` for a
    /// provider it does not have.
    pub async fn concurrency(&self, provider_id: &str) -> Option<crate::slots::Concurrency> {
        let provider = self.providers.get(provider_id)?;
        self.slots.concurrency(&self.http, provider).await
    }

    fn json_mode_learned(&self, provider_id: &str) -> bool {
        let learned = self.json_mode.lock().unwrap_or_else(|e| e.into_inner());
        learned.contains(provider_id)
    }

    fn learn_json_mode(&self, provider_id: &str) {
        let mut learned = self.json_mode.lock().unwrap_or_else(|e| e.into_inner());
        learned.insert(provider_id.to_string());
    }

    /// How much of each provider's answer is read (`max_answer_bytes`).
    /// The same engine with another price table (a price file imported).
    pub fn with_prices(&self, prices: PriceTable) -> Engine {
        Engine {
            prices: Arc::new(prices),
            ..self.clone()
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_default_summary_model(mut self, model: Option<String>) -> Self {
        self.default_summary_model = model;
        self
    }

    /// The same engine with some providers' keys replaced (keys are looked up per
    /// run by the host, for the providers the run uses).
    pub fn with_keys(&self, keys: impl IntoIterator<Item = (String, ProviderKey)>) -> Engine {
        let mut all = (*self.keys).clone();
        all.extend(keys);
        Engine {
            keys: Arc::new(all),
            ..self.clone()
        }
    }

    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.get(id)
    }

    pub fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.providers.values()
    }

    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    /// Checks `req` against the contract and its attachments against the
    /// engine's limits.
    pub fn validate(&self, req: &RoundtableRequest) -> Result<(), ValidationError> {
        self.checked_attachments(req).map(drop)
    }

    fn checked_attachments(&self, req: &RoundtableRequest) -> Result<Vec<Part>, ValidationError> {
        validate_request(req, &|p| self.providers.contains_key(p))?;
        attachments::prepare(&req.attachments, &self.limits.attachments)
    }

    /// Validates `request` and gives it an id and a trace id.
    ///
    /// An entry asking for N `samples` is expanded here into N entries, each
    /// with its `sample` number ([`crate::contract::expand_samples`]), and the
    /// prepared (so the stored) request is the expanded one. Every result's
    /// `index` is thus a position in the stored request's `models`, as
    /// everything that reads it assumes (the labels' `#n` among equal names in
    /// the exports, the CLI and the window, its cards and votes, the history's
    /// model list); a re-run of the stored request makes the same calls with the
    /// same sample numbers (expanding again changes nothing), and a
    /// re-resolution finds its results where they were.
    pub fn prepare(&self, request: RoundtableRequest) -> Result<PreparedRun, ValidationError> {
        let attachments = Arc::new(self.checked_attachments(&request)?);
        let request = RoundtableRequest {
            models: crate::contract::expand_samples(&request.models),
            ..request
        };
        Ok(PreparedRun {
            id: crate::new_run_id(),
            trace_uuid: uuid::Uuid::new_v4().to_string(),
            request,
            attachments,
            thread: Arc::default(),
        })
    }

    /// Validates and runs `request` in one go.
    pub async fn run(
        &self,
        request: RoundtableRequest,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, ValidationError> {
        let prepared = self.prepare(request)?;
        Ok(self.execute(prepared, events, cancel).await)
    }

    /// Runs a prepared request: the panel, then the resolution.
    pub async fn execute(
        &self,
        run: PreparedRun,
        events: Option<UnboundedSender<RunEvent>>,
        cancel: CancellationToken,
    ) -> RunOutcome {
        let started = Instant::now();
        let req = &run.request;
        emit(
            &events,
            RunEvent::RunStarted {
                id: run.id.clone(),
                trace_uuid: run.trace_uuid.clone(),
                models: req.models.iter().map(|m| m.name.clone()).collect(),
            },
        );
        let instructions = match (req.resolution(), &req.choices) {
            (Resolution::MultipleChoice, Some(choices)) => {
                let c = vote::choice_instructions(choices);
                Some(match &req.instructions {
                    Some(i) if !i.trim().is_empty() => format!("{i}\n\n{c}"),
                    _ => c,
                })
            }
            _ => req.instructions.clone(),
        };
        let (schema, native_only) = match (req.resolution(), &req.choices) {
            // One of the choices, by construction, where the provider takes
            // structured output; a compatible server (a small local model) is
            // asked in prose, which reads better than JSON mode's guesses.
            (Resolution::MultipleChoice, Some(choices)) => {
                (Some(vote::choice_schema(choices)), true)
            }
            (Resolution::MultipleChoice, None) => (None, false),
            _ => (req.output_schema.clone(), false),
        };
        let meter = req.max_cost.map(meter::CostMeter::new);
        let tasks: Vec<_> = req
            .models
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let engine = self.clone();
                let (history, context_resolved) = thread::messages_for(
                    &spec.name,
                    spec.sample,
                    &run.thread,
                    req.context.unwrap_or_default(),
                );
                let call = ModelCall {
                    index,
                    spec: spec.clone(),
                    instructions: instructions.clone(),
                    input: req.input.clone(),
                    schema: schema.clone(),
                    schema_native_only: native_only,
                    max_retries: req.max_retries(),
                    timeout: Duration::from_millis(req.timeout_ms()),
                    meter: meter.clone(),
                    attachments: run.attachments.clone(),
                    history,
                    context_resolved,
                };
                let events = events.clone();
                let cancel = cancel.clone();
                tokio::spawn(async move { engine.call_model(call, &events, &cancel).await })
            })
            .collect();
        let mut results = Vec::with_capacity(tasks.len());
        for (index, task) in tasks.into_iter().enumerate() {
            results.push(task.await.unwrap_or_else(|e| ModelResult {
                index,
                model: req.models[index].name.clone(),
                sample: req.models[index].sample,
                error: Some(format!("internal error: {e}")),
                outcome: Some(crate::contract::ModelOutcome::Failed),
                ..Default::default()
            }));
        }
        self.resolve(run, results, started, events, cancel).await
    }
}
