//! The stream of `GenerateContentResponse` chunks (`alt=sse`), which has no end
//! marker: it is complete once a candidate finishes or the prompt was blocked.

use super::response::{
    BLOCKING_FINISH_REASONS, UsageMetadata, WireResponse, block_description, decode,
};
use crate::providers::shared::open_chunk;
use crate::providers::{Completion, Delta, ProviderError, StreamParser};
use serde_json::Value;

/// Accumulates `GenerateContentResponse`s: the chunks of a stream, or the one body
/// of a unary call.
#[derive(Debug, Default)]
pub struct StreamState {
    pub(super) completion: Completion,
    usage: Option<UsageMetadata>,
    pub(super) done: bool,
}

impl StreamState {
    pub(super) fn absorb(&mut self, chunk: WireResponse) -> Result<Vec<Delta>, ProviderError> {
        let mut deltas = Vec::new();
        if let Some(u) = chunk.usage_metadata {
            self.usage = Some(u);
        }
        if chunk.candidates.is_empty()
            && let Some(feedback) = chunk.prompt_feedback
            && (feedback.block_reason.is_some() || feedback.block_reason_message.is_some())
        {
            let mut refusal = match &feedback.block_reason {
                Some(reason) => format!("the prompt was {}", block_description(reason)),
                None => "the prompt was blocked by Gemini".to_string(),
            };
            if let Some(message) = feedback.block_reason_message {
                refusal = format!("{refusal}: {message}");
            }
            self.completion.refusal = Some(refusal);
            self.completion.finish_reason = feedback.block_reason.or(Some("BLOCKED".into()));
            self.finish(&mut deltas);
            return Ok(deltas);
        }
        for candidate in chunk.candidates.into_iter().filter(|c| c.index == 0) {
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                let Some(text) = part.text.filter(|t| !t.is_empty()) else {
                    continue;
                };
                if part.thought {
                    self.completion.thinking.push_str(&text);
                    deltas.push(Delta::Thinking(text));
                } else {
                    self.completion.text.push_str(&text);
                    deltas.push(Delta::Text(text));
                }
            }
            let Some(reason) = candidate.finish_reason else {
                continue;
            };
            if BLOCKING_FINISH_REASONS.contains(&reason.as_str()) {
                let mut refusal = block_description(&reason);
                if let Some(message) = &candidate.finish_message {
                    refusal = format!("{refusal}: {message}");
                }
                self.completion.refusal = Some(refusal);
            } else if self.completion.text.is_empty()
                && let Some(message) = &candidate.finish_message
            {
                // An answer that failed ("Model failed to generate content due to
                // internal error."): OTHER may well succeed on another try.
                let mut e = ProviderError::permanent(format!(
                    "Gemini returned no answer (finish reason {reason}): {message}"
                ));
                e.transient = reason == "OTHER";
                return Err(e);
            }
            self.completion.finish_reason = Some(reason);
            self.finish(&mut deltas);
        }
        Ok(deltas)
    }

    /// The answer is complete: its usage goes out once.
    fn finish(&mut self, deltas: &mut Vec<Delta>) {
        if !self.done
            && let Some(u) = &self.usage
        {
            deltas.push(Delta::Usage(u.to_usage()));
        }
        self.done = true;
    }
}

impl StreamParser for StreamState {
    fn feed(&mut self, _event: &str, data: &str) -> Result<Vec<Delta>, ProviderError> {
        let Some(value) = open_chunk::<Value>(data, "chunk")? else {
            return Ok(Vec::new());
        };
        self.absorb(decode(value, true)?)
    }

    fn is_complete(&self) -> bool {
        self.done
    }

    fn completion(&self) -> Completion {
        Completion {
            usage: self.usage.as_ref().map(UsageMetadata::to_usage),
            ..self.completion.clone()
        }
    }
}
