//! One model's call: its place among its provider's slots, its attempts with
//! retries inside its timeout, the JSON-mode fallback, and its usage and cost.

use super::endings::{
    MAX_CUT_PAUSE, MAX_CUTS, SENT_AGAIN, cut_of, failure_message, refuses_json_schema,
    timeout_message, with_usage,
};
use super::meter::{Billed, CallMeter};
use super::model_call::{Attempted, ModelCall};
use super::{Engine, Events, MAX_RETRY_AFTER, emit, ms};
use crate::attachments;
use crate::contract::{ModelOutcome, ModelResult};
use crate::events::RunEvent;
use crate::provider::{Provider, ProviderKey};
use crate::providers::client::{self, Target};
use crate::providers::{ChatCall, Completion, Delta, Dialect, support};
use crate::slots::{Requeue, Slot};
use crate::validate::split_model_name;
use backon::BackoffBuilder;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

impl Engine {
    pub(super) async fn call_model(
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
            None => Attempted::failed(ModelOutcome::Cancelled, "cancelled".into(), 0),
            Some(mut slot) => {
                emit(
                    events,
                    RunEvent::ModelStarted {
                        index,
                        model: model.clone(),
                    },
                );
                self.call_in_slot(&call, &mut slot, events, cancel).await
            }
        };
        let result = ModelResult {
            index,
            model,
            sample: call.spec.sample,
            data: out.text,
            duration_ms: ms(started.elapsed()),
            queued_ms,
            cost: out.cost,
            error: out.error,
            usage: out.usage,
            thinking: (!out.thinking.is_empty()).then_some(out.thinking),
            attempts: Some(out.attempts),
            schema_fallback: out.schema_fallback.then_some(true),
            outcome: Some(out.ended),
            context_resolved: (!call.context_resolved.is_empty())
                .then(|| call.context_resolved.clone()),
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
    pub(super) async fn slot(
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
        slot: &mut Slot,
        events: &Events,
        cancel: &CancellationToken,
    ) -> Attempted {
        let index = call.index;
        let model = &call.spec.name;
        self.attempt_call(
            call,
            slot,
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

    /// One model's call with its retries, inside its timeout, until cancelled,
    /// in `slot` (a stream the server cut for another request is sent again
    /// when `slot` has a place anew, not counted as a retry: [`crate::slots`]).
    pub(super) async fn attempt_call(
        &self,
        call: &ModelCall,
        slot: &mut Slot,
        cancel: &CancellationToken,
        on_delta: &mut (dyn FnMut(Delta) + Send),
        on_retry: &mut (dyn FnMut(u32, Duration, &str) + Send),
    ) -> Attempted {
        let (provider_id, model_id) =
            split_model_name(&call.spec.name).expect("validated model name");
        let Some(provider) = self.providers.get(provider_id) else {
            return Attempted::failed(
                ModelOutcome::Failed,
                format!("unknown provider '{provider_id}'"),
                0,
            );
        };
        let key = match self
            .keys
            .get(provider_id)
            .unwrap_or(&ProviderKey::NotNeeded)
        {
            ProviderKey::Key(k) => Some(k),
            ProviderKey::NotNeeded => None,
            ProviderKey::Missing { hint } => {
                return Attempted::failed(
                    ModelOutcome::MissingKey,
                    format!("no API key for provider '{provider_id}': {hint}"),
                    0,
                );
            }
        };
        let price = self.prices.lookup(provider_id, model_id);
        if let Some(why) = support::refusal(
            provider.format,
            provider.dialect,
            &call.spec.name,
            price.as_ref(),
            &call.attachments,
        ) {
            return Attempted::failed(ModelOutcome::Unsupported, why, 0);
        }
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
            attachments: &call.attachments,
            history: &call.history,
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
        // Between sends of a stream another program's request cut.
        let mut cut_pauses = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(MAX_CUT_PAUSE)
            .with_jitter()
            .with_max_times(MAX_CUTS as usize)
            .build();
        let mut attempts = 0u32;
        let mut partial = String::new();
        // What a cut stream had said, kept should nothing come after it.
        let mut before_cut = String::new();
        let mut cuts = 0u32;
        // The whole of what is sent: a follow-up's earlier turns and files too.
        let prompt = call.prompt();
        if let Some(m) = call.meter.as_ref().filter(|m| m.over().is_cancelled()) {
            // The cap was reached while this call waited for its slot: it is
            // not sent, and costs nothing.
            return Attempted::failed(ModelOutcome::BudgetExceeded, m.stopped(), 0);
        }
        let mut metered = CallMeter::start(call.meter.as_ref(), price, &prompt);
        let over = metered.over();
        if over.is_cancelled() {
            // Its prompt alone (a long thread, large files) takes the run to
            // its cap: it is not sent, and costs nothing.
            metered.finish(0.0);
            return Attempted::failed(ModelOutcome::BudgetExceeded, metered.stopped(), 0);
        }
        // What the attempts that gave no answer were billed for, and what the
        // one going has streamed and reported.
        let mut billed = Billed::default();
        let (mut streamed, mut reported) = (0, None);
        let mut in_flight;
        let outcome: Result<Completion, (ModelOutcome, String)> = loop {
            attempts += 1;
            partial.clear();
            in_flight = true;
            let mut forward = |d: Delta| {
                metered.delta(&d);
                match &d {
                    Delta::Text(t) => {
                        streamed += t.chars().count();
                        partial.push_str(t);
                    }
                    Delta::Thinking(t) => streamed += t.chars().count(),
                    Delta::Usage(u) => reported = Some(u.clone()),
                }
                on_delta(d)
            };
            let number = slot.sending();
            let sent = client::send(&self.http, target, &chat, &mut forward);
            let result = tokio::select! {
                biased;
                _ = cancel.cancelled() => break Err((ModelOutcome::Cancelled, "cancelled".into())),
                _ = over.cancelled() => break Err((ModelOutcome::BudgetExceeded, metered.stopped())),
                _ = tokio::time::sleep_until(deadline) => {
                    break Err((ModelOutcome::TimedOut, timeout_message(call.timeout, attempts)))
                }
                r = sent => r,
            };
            if result.is_err() {
                let streamed = std::mem::take(&mut streamed);
                billed.attempt(reported.take(), &prompt, streamed, false, price);
                in_flight = false;
            }
            if let Some(why) = cut_of(&result, &chat, provider).filter(|_| cuts < MAX_CUTS) {
                let pause = cut_pauses.next().unwrap_or(MAX_CUT_PAUSE);
                let requeued = self
                    .slots
                    .requeue_if_cut(provider, slot, number, pause, deadline, cancel);
                match requeued.await {
                    Requeue::NotCut => {}
                    Requeue::SendAgain => {
                        cuts += 1;
                        attempts -= 1;
                        if !partial.is_empty() {
                            before_cut = std::mem::take(&mut partial);
                        }
                        on_retry(
                            attempts + 1,
                            Duration::ZERO,
                            &format!("{why}: {SENT_AGAIN}"),
                        );
                        continue;
                    }
                    Requeue::Cancelled => break Err((ModelOutcome::Cancelled, "cancelled".into())),
                    Requeue::TimedOut => {
                        break Err((
                            ModelOutcome::TimedOut,
                            timeout_message(call.timeout, attempts),
                        ));
                    }
                }
            }
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
                let mut message = failure_message(&err, attempts);
                if let Some(sent) = attachments::listing_of(&call.attachments)
                    .filter(|_| err.status.is_some_and(|s| (400..500).contains(&s)))
                {
                    // The provider's refusal may be of a file: say which were sent.
                    message = format!("{message}; sent with {sent}");
                }
                break Err((ModelOutcome::Failed, message));
            };
            let delay = err.retry_after.map_or(backoff, |d| d.min(MAX_RETRY_AFTER));
            if tokio::time::Instant::now() + delay >= deadline {
                break Err((
                    ModelOutcome::Failed,
                    format!(
                        "{} (not retried: the wait of {} ms would pass the {} ms timeout)",
                        failure_message(&err, attempts),
                        ms(delay),
                        ms(call.timeout)
                    ),
                ));
            }
            on_retry(attempts + 1, delay, &err.to_string());
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break Err((ModelOutcome::Cancelled, "cancelled".into())),
                _ = over.cancelled() => break Err((ModelOutcome::BudgetExceeded, metered.stopped())),
                _ = tokio::time::sleep(delay) => {}
            }
        };
        if partial.is_empty() {
            partial = before_cut;
        }
        if in_flight && outcome.is_err() {
            // Stopped while it streamed: cancelled, timed out, or the cap.
            billed.attempt(reported, &prompt, streamed, true, price);
        }
        let outcome = match outcome {
            Ok(c) => {
                let c = with_usage(c, &chat);
                let fallback = json_mode && provider.dialect != Dialect::CompatibleJsonMode;
                if fallback {
                    self.learn_json_mode(provider_id);
                }
                let mut done =
                    self.finish_completion(c, provider, provider_id, model_id, price, attempts);
                // The attempts before it were paid for too.
                billed.onto(&mut done.usage, &mut done.cost);
                Attempted {
                    schema_fallback: fallback,
                    ..done
                }
            }
            Err((ended, error)) => Attempted {
                // A failed call keeps what had arrived of its last attempt, as a
                // cancelled one does: a server that died mid-answer, or an answer
                // stopped at a limit, still shows what it said; and costs what
                // its attempts were billed for.
                text: partial,
                error: Some(error),
                ended,
                attempts,
                usage: billed.usage,
                cost: billed.cost,
                ..Default::default()
            },
        };
        metered.finish(outcome.cost);
        outcome
    }

    fn finish_completion(
        &self,
        c: Completion,
        provider: &Provider,
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
        let (ended, error) = if let Some(refusal) = &c.refusal {
            (
                ModelOutcome::Refused,
                Some(format!("the model refused: {refusal}")),
            )
        } else if c.text.trim().is_empty() {
            (
                ModelOutcome::Failed,
                Some(format!(
                    "the model returned an empty answer (finish reason: {})",
                    c.finish_reason.as_deref().unwrap_or("none")
                )),
            )
        } else {
            (ModelOutcome::Answered, None)
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
            ended,
            attempts,
            schema_fallback: false,
        }
    }
}
