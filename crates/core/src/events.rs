//! Typed events of a run, emitted as they happen, for any host to consume (CLI
//! progress bars, SSE chunks, Tauri channels, the live history recorder).

use crate::contract::{ModelResult, RoundtableResponse, Usage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEvent {
    /// The run was accepted; `models` lists the panel in request order.
    RunStarted {
        id: String,
        trace_uuid: String,
        models: Vec<String>,
    },
    /// A model waits for a free slot of its provider (see `max_concurrency`);
    /// `ModelStarted` follows when its call starts.
    ModelQueued { index: usize, model: String },
    /// A model's call started (attempt 1).
    ModelStarted { index: usize, model: String },
    /// A chunk of a model's answer.
    TextDelta {
        index: usize,
        model: String,
        delta: String,
    },
    /// A chunk of a model's reasoning/thinking text.
    ThinkingDelta {
        index: usize,
        model: String,
        delta: String,
    },
    /// A transient failure; the model is retried after `delay_ms`. Text received
    /// so far for this model is discarded: the next attempt starts afresh.
    ModelRetrying {
        index: usize,
        model: String,
        attempt: u32,
        delay_ms: u64,
        reason: String,
    },
    /// A model's usage, as soon as the provider reported it.
    ModelUsage {
        index: usize,
        model: String,
        usage: Usage,
    },
    /// A model answered.
    ModelFinished { result: ModelResult },
    /// A model failed (after its retries); `result.error` says why.
    ModelFailed { result: ModelResult },
    /// The consolidation call started.
    ConsolidationStarted { model: String },
    /// A chunk of the consolidated answer.
    ConsolidationDelta { model: String, delta: String },
    /// The run is over: the whole response.
    Done { response: RoundtableResponse },
}
