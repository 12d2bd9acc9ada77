//! The stream of Messages events (`message_start` … `message_stop`).

use super::OUTPUT_TOOL;
use super::response::{
    Block, StopDetails, WireError, WireMessage, WireUsage, refusal_text, stream_error,
};
use crate::providers::shared::open_chunk;
use crate::providers::{Completion, Delta, ProviderError, StreamParser};
use serde::Deserialize;
use std::collections::HashMap;

/// What a streamed content block is, by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
    /// The forced [`OUTPUT_TOOL`] call: its input JSON is the answer.
    Output,
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    ThinkingDelta {
        #[serde(default)]
        thinking: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    /// Signatures, citations, compaction, …
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize, Default)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_details: Option<StopDetails>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u64,
        delta: BlockDelta,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {
        error: WireError,
    },
    /// `ping`, `content_block_stop`, and event types added later.
    #[serde(other)]
    Other,
}

/// The stream of Messages events, ended by `message_stop`.
#[derive(Debug, Default)]
pub struct StreamState {
    text: String,
    thinking: String,
    /// The [`OUTPUT_TOOL`] input: `Some` once that block started.
    output_json: Option<String>,
    /// Kinds by block index. A map: the index is the server's to choose, and a
    /// vector grown to it would let one event allocate without bound.
    blocks: HashMap<u64, BlockKind>,
    usage: Option<WireUsage>,
    stop_reason: Option<String>,
    refusal: Option<String>,
    stopped: bool,
}

impl StreamState {
    fn kind(&self, index: u64) -> BlockKind {
        self.blocks.get(&index).copied().unwrap_or(BlockKind::Other)
    }

    fn set_kind(&mut self, index: u64, kind: BlockKind) {
        self.blocks.insert(index, kind);
    }

    fn merge_usage(&mut self, usage: WireUsage) {
        match &mut self.usage {
            Some(u) => u.merge(usage),
            None => self.usage = Some(usage),
        }
    }
}

impl StreamParser for StreamState {
    fn feed(&mut self, _event: &str, data: &str) -> Result<Vec<Delta>, ProviderError> {
        let Some(event) = open_chunk::<StreamEvent>(data, "event")? else {
            return Ok(Vec::new());
        };
        let mut deltas = Vec::new();
        match event {
            StreamEvent::MessageStart { message } => {
                if let Some(u) = message.usage {
                    self.merge_usage(u);
                }
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let kind = match content_block {
                    Block::Text { text } => {
                        if !text.is_empty() {
                            self.text.push_str(&text);
                            deltas.push(Delta::Text(text));
                        }
                        BlockKind::Text
                    }
                    Block::Thinking { thinking } => {
                        if !thinking.is_empty() {
                            self.thinking.push_str(&thinking);
                            deltas.push(Delta::Thinking(thinking));
                        }
                        BlockKind::Thinking
                    }
                    Block::ToolUse { name, .. } if name == OUTPUT_TOOL => {
                        self.output_json.get_or_insert_default();
                        BlockKind::Output
                    }
                    Block::ToolUse { .. } | Block::Other => BlockKind::Other,
                };
                self.set_kind(index, kind);
            }
            StreamEvent::ContentBlockDelta { index, delta } => match (self.kind(index), delta) {
                (BlockKind::Text, BlockDelta::TextDelta { text }) if !text.is_empty() => {
                    self.text.push_str(&text);
                    deltas.push(Delta::Text(text));
                }
                (BlockKind::Thinking, BlockDelta::ThinkingDelta { thinking })
                    if !thinking.is_empty() =>
                {
                    self.thinking.push_str(&thinking);
                    deltas.push(Delta::Thinking(thinking));
                }
                (BlockKind::Output, BlockDelta::InputJsonDelta { partial_json })
                    if !partial_json.is_empty() =>
                {
                    self.output_json
                        .get_or_insert_default()
                        .push_str(&partial_json);
                    deltas.push(Delta::Text(partial_json));
                }
                _ => {}
            },
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.as_deref() == Some("refusal") {
                    self.refusal = Some(refusal_text(delta.stop_details.as_ref()));
                }
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if let Some(u) = usage {
                    self.merge_usage(u);
                    if let Some(u) = &self.usage {
                        deltas.push(Delta::Usage(u.to_usage()));
                    }
                }
            }
            StreamEvent::MessageStop => self.stopped = true,
            StreamEvent::Error { error } => return Err(stream_error(&error)),
            StreamEvent::Other => {}
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.stopped || self.stop_reason.is_some()
    }

    fn completion(&self) -> Completion {
        let text = match &self.output_json {
            // A forced tool with no input streamed is an empty object.
            Some(json) if json.is_empty() => "{}".to_string(),
            Some(json) => json.clone(),
            None => self.text.clone(),
        };
        Completion {
            text,
            thinking: self.thinking.clone(),
            usage: self.usage.as_ref().map(WireUsage::to_usage),
            finish_reason: self.stop_reason.clone(),
            refusal: self.refusal.clone(),
        }
    }
}
