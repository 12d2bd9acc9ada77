//! The stream of `chat.completion.chunk`s, ended by `data: [DONE]`.

use super::response::{WireResponse, embedded_error, usage_from_wire};
use crate::providers::shared::open_chunk;
use crate::providers::{Completion, Delta, ProviderError, StreamParser};
use serde_json::Value;

/// The stream of `chat.completion.chunk`s, ended by `data: [DONE]`.
#[derive(Debug, Default)]
pub struct StreamState {
    completion: Completion,
    refusal: String,
    done: bool,
}

impl StreamParser for StreamState {
    fn feed(&mut self, _event: &str, data: &str) -> Result<Vec<Delta>, ProviderError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        let Some(value) = open_chunk::<Value>(data, "chunk")? else {
            return Ok(Vec::new());
        };
        if let Some(err) = embedded_error(&value) {
            return Err(err);
        }
        let chunk: WireResponse = serde_json::from_value(value)
            .map_err(|e| ProviderError::transient(format!("unexpected stream chunk shape: {e}")))?;
        let mut deltas = Vec::new();
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(d) = choice.delta {
                if let Some(t) = d.content.filter(|t| !t.is_empty()) {
                    self.completion.text.push_str(&t);
                    deltas.push(Delta::Text(t));
                }
                if let Some(t) = d
                    .reasoning_content
                    .or(d.reasoning)
                    .filter(|t| !t.is_empty())
                {
                    self.completion.thinking.push_str(&t);
                    deltas.push(Delta::Thinking(t));
                }
                if let Some(r) = d.refusal {
                    self.refusal.push_str(&r);
                }
            }
            if choice.finish_reason.is_some() {
                self.completion.finish_reason = choice.finish_reason;
            }
        }
        if let Some(u) = chunk.usage {
            let usage = usage_from_wire(u);
            self.completion.usage = Some(usage.clone());
            deltas.push(Delta::Usage(usage));
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.done || self.completion.finish_reason.is_some()
    }

    fn completion(&self) -> Completion {
        let mut c = self.completion.clone();
        if !self.refusal.is_empty() {
            c.refusal = Some(self.refusal.clone());
        }
        c
    }
}
