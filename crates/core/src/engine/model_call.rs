//! What one model's call is given ([`ModelCall`]) and what it gives back
//! ([`Attempted`]), between the fan-out, the call and the resolution step.

use super::estimate::file_tokens;
use super::meter::CostMeter;
use crate::attachments::Part;
use crate::contract::{ModelOutcome, ModelSpec, Usage};
use crate::thread::Message;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub(super) struct ModelCall {
    pub(super) index: usize,
    pub(super) spec: ModelSpec,
    pub(super) instructions: Option<String>,
    pub(super) input: String,
    pub(super) schema: Option<Value>,
    /// Send `schema` only to a provider that speaks its format natively.
    pub(super) schema_native_only: bool,
    pub(super) max_retries: u32,
    pub(super) timeout: Duration,
    /// The run's running cost, when it has a `max_cost`.
    pub(super) meter: Option<Arc<CostMeter>>,
    /// The run's attachments (none for the summary and claims calls, which
    /// get their names in the prompt).
    pub(super) attachments: Arc<Vec<Part>>,
    /// The earlier messages of this model's thread, in a follow-up.
    pub(super) history: Vec<Message>,
    /// The earlier turns where the resolved answer stood in for its own.
    pub(super) context_resolved: Vec<u32>,
}

impl ModelCall {
    /// What the call sends, as estimated input (about four characters a
    /// token, files as the estimate counts them): its instructions, its
    /// thread (every earlier message and file), its prompt and its files.
    pub(super) fn prompt(&self) -> Usage {
        let instructions = self.instructions.as_deref().unwrap_or("");
        let mut usage = Usage::estimated(&[instructions, &self.input], &[]);
        let thread: usize = self.history.iter().map(|m| m.text.chars().count()).sum();
        let files: u64 = std::iter::once(&self.attachments)
            .chain(self.history.iter().map(|m| &m.attachments))
            .map(|parts| file_tokens(parts))
            .sum();
        usage.input_tokens += thread.div_ceil(4) as u64 + files;
        usage
    }
}

#[derive(Debug)]
pub(super) struct Attempted {
    pub(super) text: String,
    pub(super) thinking: String,
    pub(super) usage: Usage,
    pub(super) cost: f64,
    pub(super) error: Option<String>,
    /// How it ended; `error` says why in words.
    pub(super) ended: ModelOutcome,
    pub(super) attempts: u32,
    /// JSON mode with the schema in the prompt stood in for JSON Schema output.
    pub(super) schema_fallback: bool,
}

impl Default for Attempted {
    fn default() -> Self {
        Attempted {
            text: String::new(),
            thinking: String::new(),
            usage: Usage::default(),
            cost: 0.0,
            error: None,
            ended: ModelOutcome::Answered,
            attempts: 0,
            schema_fallback: false,
        }
    }
}

impl Attempted {
    pub(super) fn failed(ended: ModelOutcome, error: String, attempts: u32) -> Self {
        Attempted {
            error: Some(error),
            ended,
            attempts,
            ..Default::default()
        }
    }
}
