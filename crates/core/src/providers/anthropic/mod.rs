//! Anthropic Messages: `POST {base}/v1/messages` (the built-in base URL is in
//! [`crate::provider::builtins`]),
//! streamed (`message_start` … `message_stop`) and not.
//!
//! What a call sends depends on the model's generation, read from its id by
//! [`claude_version`] (`claude-sonnet-4-5-20250929` is 4.5,
//! `claude-3-7-sonnet-latest` 3.7, `claude-opus-4-20250514` 4.0).
//!
//! # `max_tokens`
//!
//! Anthropic requires it. Without one in the spec the answer gets 8192 tokens, or
//! 4096 on the Claude 3 models (3 Haiku, Sonnet, Opus) whose output limit that is.
//! With thinking on, `max_tokens` is the thinking budget plus that answer
//! allowance. Either way it is capped at the model's output limit: 4096 for Claude
//! 3, 8192 for 3.5, 32000 for Opus 4 and 4.1, 64000 for the others from 3.7 on.
//!
//! # Sampling
//!
//! When both `temperature` and `top_p` are given only `temperature` is sent
//! (Claude 4.1 and later refuse the pair), at most 1 (Anthropic's range is 0–1).
//! Neither is sent with thinking on, nor to Claude 4.7 and later, which reject them.
//!
//! # Reasoning
//!
//! | `reasoning` | Claude 3.7, 4, 4.1, 4.5: `thinking: {type: "enabled", budget_tokens}` | Claude 4.6 and later: `thinking: {type: "adaptive"}` + `output_config.effort` |
//! |---|---|---|
//! | `low` | `budget_tokens: 2048` | `effort: "low"` |
//! | `medium` | `budget_tokens: 8192` | `effort: "medium"` |
//! | `high` | `budget_tokens: 16384` | `effort: "high"` |
//! | `max` | `budget_tokens: 32000` | `effort: "max"` (`"high"` on Haiku) |
//!
//! Claude 3.5 and older do not reason and are sent nothing; neither is a Claude id
//! without a version number. An Anthropic-compatible server
//! ([`Dialect::Compatible`]) gets the `enabled` form whatever the model. Thinking
//! comes back in `thinking` blocks, kept in [`Completion::thinking`].
//!
//! # Structured output
//!
//! Claude 4.5 and later get native structured output,
//! `output_config: {format: {type: "json_schema", schema}}`, when the schema fits
//! its constrained decoding ([`schema_fits_native`]: every object closed with
//! `additionalProperties: false`, no numeric, length or size bounds). Otherwise the
//! schema is forced through a tool ([`OUTPUT_TOOL`], named by `tool_choice`) whose
//! input JSON becomes the answer text. Where a tool cannot be forced (with thinking
//! on, or for a schema whose root is not an object) the schema goes into the system
//! prompt, and the answer is validated afterwards like any other.
//!
//! # Answers, usage and errors
//!
//! A `refusal` stop sets [`Completion::refusal`]. Anthropic's `input_tokens` leaves
//! out cache reads and writes, so the contract's `input_tokens` is the sum of the
//! three; writes split into 5-minute and 1-hour ones by `cache_creation`;
//! `server_tool_use.web_search_requests` is counted. Errors are
//! `{"type": "error", "error": {"type", "message"}}`, in a 4xx/5xx body or as a
//! stream's `error` event; `overloaded_error` (529) and the other 5xx are transient.
//!
//! [`Dialect::Compatible`]: super::Dialect::Compatible
//! [`Completion::thinking`]: super::Completion::thinking
//! [`Completion::refusal`]: super::Completion::refusal

mod profile;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub use profile::{claude_version, thinking_budget};
pub use request::{build_body, endpoint, schema_fits_native};
pub use response::{parse_error, parse_response};
pub use stream::StreamState;

/// The tool an `output_schema` is forced through on models without native
/// structured output. Its input is the answer.
pub const OUTPUT_TOOL: &str = "output";

/// The `anthropic-version` header every call carries.
pub(crate) const API_VERSION: &str = "2023-06-01";
