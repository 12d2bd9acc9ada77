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

use crate::contract::{
    Meta, ModelResult, ModelSpec, Resolution, RoundtableRequest, RoundtableResponse, RunStatus,
    Usage,
};
use crate::events::RunEvent;
use crate::prices::PriceTable;
use crate::providers::client::{self, Limits, Target};
use crate::providers::{ChatCall, Completion, Delta, Dialect, ProviderError, WireFormat};
use crate::resolve;
use crate::secret::ApiKey;
use crate::slots::{Slot, Slots};
use crate::validate::{ValidationError, split_model_name, validate_request};
use backon::BackoffBuilder;
use futures_util::FutureExt;
use serde_json::Value;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// The longest wait a provider's `Retry-After` is honoured for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How a provider's key stands.
#[derive(Debug, Clone)]
pub enum ProviderKey {
    Key(ApiKey),
    /// A local server that needs none.
    NotNeeded,
    /// No key; `hint` tells the user how to set one.
    Missing {
        hint: String,
    },
}

/// A provider as the engine sees it: where to send calls, in which format, with
/// which key.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub id: String,
    pub format: WireFormat,
    pub base_url: String,
    pub dialect: Dialect,
    pub key: ProviderKey,
    /// Extra headers sent with every call (e.g. OpenRouter's `HTTP-Referer`).
    pub headers: Vec<(String, String)>,
    /// Whether to stream answers (some servers cannot).
    pub stream: bool,
    /// A server on this machine: its models cost nothing.
    pub local: bool,
    /// How many calls it takes at once; `None`: see [`crate::slots`].
    pub max_concurrency: Option<usize>,
}

/// The run's outcome: the contract response, and where the run stands.
#[derive(Debug, Clone)]
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
}

#[derive(Clone)]
pub struct Engine {
    http: reqwest::Client,
    providers: Arc<HashMap<String, ProviderConfig>>,
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
    pub fn new(providers: Vec<ProviderConfig>, prices: PriceTable) -> Self {
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
            prices: Arc::new(prices),
            default_summary_model: None,
            limits: Limits::default(),
            json_mode: Arc::default(),
        }
    }

    /// The same engine (HTTP client, prices) over another set of providers.
    pub fn with_providers(&self, providers: Vec<ProviderConfig>) -> Engine {
        let providers: HashMap<_, _> = providers.into_iter().map(|p| (p.id.clone(), p)).collect();
        Engine {
            slots: Arc::new(Slots::new(providers.values())),
            providers: Arc::new(providers),
            ..self.clone()
        }
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
        let mut providers = (*self.providers).clone();
        for (id, key) in keys {
            if let Some(p) = providers.get_mut(&id) {
                p.key = key;
            }
        }
        Engine {
            providers: Arc::new(providers),
            ..self.clone()
        }
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.providers.get(id)
    }

    pub fn providers(&self) -> impl Iterator<Item = &ProviderConfig> {
        self.providers.values()
    }

    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    pub fn validate(&self, req: &RoundtableRequest) -> Result<(), ValidationError> {
        validate_request(req, &|p| self.providers.contains_key(p))
    }

    /// Validates `request` and gives it an id and a trace id.
    pub fn prepare(&self, request: RoundtableRequest) -> Result<PreparedRun, ValidationError> {
        self.validate(&request)?;
        Ok(PreparedRun {
            id: crate::new_run_id(),
            trace_uuid: uuid::Uuid::new_v4().to_string(),
            request,
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
                let c = resolve::choice_instructions(choices);
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
                (Some(resolve::choice_schema(choices)), true)
            }
            (Resolution::MultipleChoice, None) => (None, false),
            _ => (req.output_schema.clone(), false),
        };
        let tasks: Vec<_> = req
            .models
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let engine = self.clone();
                let call = ModelCall {
                    index,
                    spec: spec.clone(),
                    instructions: instructions.clone(),
                    input: req.input.clone(),
                    schema: schema.clone(),
                    schema_native_only: native_only,
                    max_retries: req.max_retries(),
                    timeout: Duration::from_millis(req.timeout_ms()),
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
                error: Some(format!("internal error: {e}")),
                ..Default::default()
            }));
        }
        self.resolve(run, results, started, events, cancel).await
    }

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
        let mut data = None;
        match resolution {
            Resolution::Fast => {}
            Resolution::MultipleChoice => {
                let choices = req.choices.clone().unwrap_or_default();
                let tally = resolve::tally(&results, &choices);
                for (r, ballot) in results.iter_mut().zip(tally.ballots) {
                    (r.vote, r.vote_read) = ballot.unzip();
                }
                meta.votes = Some(tally.votes);
                data = Some(tally.winner.unwrap_or_default());
            }
            Resolution::Summary if answered && !cancelled => {
                let summary = self
                    .summarise(req, &meta.models_used, &results, &events, &cancel)
                    .await;
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
        let response = RoundtableResponse {
            id: run.id,
            data,
            meta,
            model_results: results,
        };
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
    async fn summarise(
        &self,
        req: &RoundtableRequest,
        answered: &[String],
        results: &[ModelResult],
        events: &Events,
        cancel: &CancellationToken,
    ) -> Summary {
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
        let mut failures: Vec<String> = Vec::new();
        let mut cost = 0.0;
        let mut written = None;
        for model in &candidates {
            let outcome = AssertUnwindSafe(self.consolidate(req, model, results, events, cancel))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    Attempted::failed(format!("internal error: {}", panic_message(&*panic)), 0)
                });
            cost += outcome.cost;
            match &outcome.error {
                Some(e) if !cancel.is_cancelled() => {
                    failures.push(format!("{model}: {e}"));
                    if written.is_none() {
                        written = Some((model.clone(), outcome));
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

    async fn consolidate(
        &self,
        req: &RoundtableRequest,
        model: &str,
        results: &[ModelResult],
        events: &Events,
        cancel: &CancellationToken,
    ) -> Attempted {
        emit(
            events,
            RunEvent::ConsolidationStarted {
                model: model.to_string(),
            },
        );
        let prompt =
            resolve::consolidation_prompt(&req.input, req.instructions.as_deref(), results);
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
        };
        let name = model.to_string();
        let events = events.clone();
        let Some(_slot) = self.slot(model, cancel, || {}).await else {
            return Attempted::failed("cancelled".into(), 0);
        };
        self.attempt_call(
            &call,
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

    async fn call_model(
        &self,
        call: ModelCall,
        events: &Events,
        cancel: &CancellationToken,
    ) -> ModelResult {
        let index = call.index;
        let model = call.spec.name.clone();
        let queued_at = Instant::now();
        let slot = self
            .slot(&model, cancel, || {
                emit(
                    events,
                    RunEvent::ModelQueued {
                        index,
                        model: model.clone(),
                    },
                )
            })
            .await;
        let queued_ms = slot
            .as_ref()
            .is_none_or(|s| s.waited)
            .then(|| ms(queued_at.elapsed()));
        let started = Instant::now();
        let out = match slot {
            // Cancelled while it waited for a slot.
            None => Attempted::failed("cancelled".into(), 0),
            Some(_slot) => {
                emit(
                    events,
                    RunEvent::ModelStarted {
                        index,
                        model: model.clone(),
                    },
                );
                self.call_in_slot(&call, events, cancel).await
            }
        };
        let result = ModelResult {
            index,
            model,
            data: out.text,
            duration_ms: ms(started.elapsed()),
            queued_ms,
            cost: out.cost,
            error: out.error,
            usage: out.usage,
            thinking: (!out.thinking.is_empty()).then_some(out.thinking),
            attempts: Some(out.attempts),
            schema_fallback: out.schema_fallback.then_some(true),
            ..Default::default()
        };
        if result.succeeded() {
            emit(
                events,
                RunEvent::ModelFinished {
                    result: result.clone(),
                },
            );
        } else {
            emit(
                events,
                RunEvent::ModelFailed {
                    result: result.clone(),
                },
            );
        }
        result
    }

    /// A place among the calls `model`'s provider takes at once (see
    /// [`crate::slots`]); `None` when cancelled while waiting for it.
    async fn slot(
        &self,
        model: &str,
        cancel: &CancellationToken,
        on_queued: impl FnOnce(),
    ) -> Option<Slot> {
        match split_model_name(model).and_then(|(p, _)| self.providers.get(p)) {
            Some(provider) => {
                self.slots
                    .acquire(&self.http, provider, cancel, on_queued)
                    .await
            }
            None => Some(Slot::free()),
        }
    }

    /// One panel model's call, once it has its slot, forwarding its deltas and
    /// retries as events.
    async fn call_in_slot(
        &self,
        call: &ModelCall,
        events: &Events,
        cancel: &CancellationToken,
    ) -> Attempted {
        let index = call.index;
        let model = &call.spec.name;
        self.attempt_call(
            call,
            cancel,
            &mut |d| {
                let event = match d {
                    Delta::Text(delta) => RunEvent::TextDelta {
                        index,
                        model: model.clone(),
                        delta,
                    },
                    Delta::Thinking(delta) => RunEvent::ThinkingDelta {
                        index,
                        model: model.clone(),
                        delta,
                    },
                    Delta::Usage(usage) => RunEvent::ModelUsage {
                        index,
                        model: model.clone(),
                        usage,
                    },
                };
                emit(events, event);
            },
            &mut |attempt, delay, reason| {
                emit(
                    events,
                    RunEvent::ModelRetrying {
                        index,
                        model: model.clone(),
                        attempt,
                        delay_ms: ms(delay),
                        reason: reason.to_string(),
                    },
                )
            },
        )
        .await
    }

    /// One model's call with its retries, inside its timeout, until cancelled.
    async fn attempt_call(
        &self,
        call: &ModelCall,
        cancel: &CancellationToken,
        on_delta: &mut (dyn FnMut(Delta) + Send),
        on_retry: &mut (dyn FnMut(u32, Duration, &str) + Send),
    ) -> Attempted {
        let (provider_id, model_id) =
            split_model_name(&call.spec.name).expect("validated model name");
        let Some(provider) = self.providers.get(provider_id) else {
            return Attempted::failed(format!("unknown provider '{provider_id}'"), 0);
        };
        let key = match &provider.key {
            ProviderKey::Key(k) => Some(k),
            ProviderKey::NotNeeded => None,
            ProviderKey::Missing { hint } => {
                return Attempted::failed(
                    format!("no API key for provider '{provider_id}': {hint}"),
                    0,
                );
            }
        };
        let price = self.prices.lookup(provider_id, model_id);
        // A compatible server that refused JSON Schema output once gets JSON mode
        // from then on (see `refuses_json_schema`).
        let mut json_mode = self.json_mode_learned(provider_id);
        let mut chat = ChatCall {
            model: model_id,
            instructions: call.instructions.as_deref(),
            input: &call.input,
            max_tokens: call.spec.max_tokens,
            temperature: call.spec.temperature,
            top_p: call.spec.top_p,
            reasoning: call.spec.reasoning.as_deref(),
            output_schema: call
                .schema
                .as_ref()
                .filter(|_| !call.schema_native_only || provider.dialect == Dialect::Native),
            stream: provider.stream,
            dialect: if json_mode {
                Dialect::CompatibleJsonMode
            } else {
                provider.dialect
            },
        };
        let target = Target {
            format: provider.format,
            base_url: &provider.base_url,
            key,
            headers: &provider.headers,
            limits: self.limits,
        };

        let deadline = tokio::time::Instant::now() + call.timeout;
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(500))
            .with_max_delay(Duration::from_secs(8))
            .with_jitter()
            .with_max_times(call.max_retries as usize)
            .build();
        let mut attempts = 0u32;
        let mut partial = String::new();
        let outcome: Result<Completion, String> = loop {
            attempts += 1;
            partial.clear();
            let mut forward = |d: Delta| {
                if let Delta::Text(t) = &d {
                    partial.push_str(t);
                }
                on_delta(d)
            };
            let sent = client::send(&self.http, target, &chat, &mut forward);
            let result = tokio::select! {
                biased;
                _ = cancel.cancelled() => break Err("cancelled".into()),
                _ = tokio::time::sleep_until(deadline) => break Err(timeout_message(call.timeout, attempts)),
                r = sent => r,
            };
            let err = match result {
                Ok(c) => break Ok(c),
                Err(e) => e,
            };
            if !json_mode && refuses_json_schema(provider.format, &chat, &err) {
                json_mode = true;
                chat.dialect = Dialect::CompatibleJsonMode;
                on_retry(
                    attempts + 1,
                    Duration::ZERO,
                    &format!(
                        "{err}: the server refused JSON Schema output, so JSON mode with the \
                         schema in the prompt is tried"
                    ),
                );
                continue;
            }
            let retry = err.transient.then(|| delays.next()).flatten();
            let Some(backoff) = retry else {
                break Err(failure_message(&err, attempts));
            };
            let delay = err.retry_after.map_or(backoff, |d| d.min(MAX_RETRY_AFTER));
            if tokio::time::Instant::now() + delay >= deadline {
                break Err(format!(
                    "{} (not retried: the wait of {} ms would pass the {} ms timeout)",
                    failure_message(&err, attempts),
                    ms(delay),
                    ms(call.timeout)
                ));
            }
            on_retry(attempts + 1, delay, &err.to_string());
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break Err("cancelled".into()),
                _ = tokio::time::sleep(delay) => {}
            }
        };
        match outcome {
            Ok(c) => {
                let c = with_usage(c, &chat);
                let fallback = json_mode && provider.dialect != Dialect::CompatibleJsonMode;
                if fallback {
                    self.learn_json_mode(provider_id);
                }
                Attempted {
                    schema_fallback: fallback,
                    ..self.finish_completion(c, provider, provider_id, model_id, price, attempts)
                }
            }
            Err(error) => Attempted {
                // A failed call keeps what had arrived of its last attempt, as a
                // cancelled one does: a server that died mid-answer, or an answer
                // stopped at a limit, still shows what it said.
                text: partial,
                error: Some(error),
                attempts,
                ..Default::default()
            },
        }
    }

    fn finish_completion(
        &self,
        c: Completion,
        provider: &ProviderConfig,
        provider_id: &str,
        model_id: &str,
        price: Option<crate::prices::ModelPrice>,
        attempts: u32,
    ) -> Attempted {
        let mut usage = c.usage.unwrap_or_default();
        let cost = match price {
            Some(p) => p.cost(&usage),
            None if provider.local => 0.0,
            None => {
                usage.extra.insert(
                    "pricing".into(),
                    Value::String(format!(
                        "no known price for {provider_id}/{model_id}: cost counted as 0"
                    )),
                );
                0.0
            }
        };
        let error = if let Some(refusal) = &c.refusal {
            Some(format!("the model refused: {refusal}"))
        } else if c.text.trim().is_empty() {
            Some(format!(
                "the model returned an empty answer (finish reason: {})",
                c.finish_reason.as_deref().unwrap_or("none")
            ))
        } else {
            None
        };
        Attempted {
            text: if error.is_some() {
                String::new()
            } else {
                c.text
            },
            thinking: c.thinking,
            usage,
            cost,
            error,
            attempts,
            schema_fallback: false,
        }
    }
}

/// Whether `err` is a compatible server refusing JSON Schema output
/// (llama-cpp-python answers HTTP 500 with a traceback, others 400 or 422), so
/// JSON mode with the schema in the prompt is worth a try.
fn refuses_json_schema(format: WireFormat, call: &ChatCall, err: &ProviderError) -> bool {
    format == WireFormat::Openai
        && call.dialect == Dialect::Compatible
        && call.output_schema.is_some()
        && err
            .status
            .is_some_and(|s| matches!(s, 400 | 415 | 422 | 500 | 501))
}

/// The completion with usage: the provider's, or, when it reported none (or
/// no output for an answer it gave), an estimate marked as one. Never a false 0.
fn with_usage(mut c: Completion, call: &ChatCall) -> Completion {
    let reported = c
        .usage
        .as_ref()
        .is_some_and(|u| u.output_tokens > 0 || (c.text.is_empty() && c.thinking.is_empty()));
    if !reported {
        let input = [call.instructions.unwrap_or_default(), call.input];
        let estimate = Usage::estimated(&input, &[&c.text, &c.thinking]);
        c.usage = Some(match c.usage.take() {
            // Keep what the provider did say (its input count, cache reads).
            Some(mut u) => {
                u.output_tokens = estimate.output_tokens;
                if u.input_tokens == 0 {
                    u.input_tokens = estimate.input_tokens;
                }
                u.extra.extend(estimate.extra);
                u
            }
            None => estimate,
        });
    }
    c
}

fn timeout_message(timeout: Duration, attempts: u32) -> String {
    format!(
        "timed out after {} ms ({} attempt{})",
        ms(timeout),
        attempts,
        if attempts == 1 { "" } else { "s" }
    )
}

fn failure_message(err: &ProviderError, attempts: u32) -> String {
    format!(
        "{err} ({} attempt{})",
        attempts,
        if attempts == 1 { "" } else { "s" }
    )
}

/// Whether `text` is JSON valid against `schema`, and why not.
pub fn check_schema(schema: &Value, text: &str) -> (bool, Option<String>) {
    let value: Value = match serde_json::from_str(resolve::strip_code_fence(text)) {
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

struct ModelCall {
    index: usize,
    spec: ModelSpec,
    instructions: Option<String>,
    input: String,
    schema: Option<Value>,
    /// Send `schema` only to a provider that speaks its format natively.
    schema_native_only: bool,
    max_retries: u32,
    timeout: Duration,
}

#[derive(Debug, Default)]
struct Attempted {
    text: String,
    thinking: String,
    usage: Usage,
    cost: f64,
    error: Option<String>,
    attempts: u32,
    /// JSON mode with the schema in the prompt stood in for JSON Schema output.
    schema_fallback: bool,
}

impl Attempted {
    fn failed(error: String, attempts: u32) -> Self {
        Attempted {
            error: Some(error),
            attempts,
            ..Default::default()
        }
    }
}
