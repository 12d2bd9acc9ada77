//! Google Gemini: `POST {base}/models/{model}:generateContent`, and
//! `…:streamGenerateContent?alt=sse` when streaming (the built-in base URL is
//! in [`crate::provider::builtins`]).
//!
//! # Requests
//!
//! `contents: [{role: "user", parts: [{text}]}]`, the instructions as
//! `systemInstruction`, and `generationConfig` with `maxOutputTokens`,
//! `temperature` and `topP`. An `output_schema` is sent as
//! `responseMimeType: "application/json"` with the schema as `responseJsonSchema`;
//! a server in [`Dialect::CompatibleJsonMode`] gets the MIME type and the schema in
//! the system instruction.
//!
//! # Reasoning
//!
//! `generationConfig.thinkingConfig`, with `includeThoughts: true` so the thinking
//! comes back (as `thought: true` parts, kept in [`Completion::thinking`]):
//!
//! | `reasoning` | Gemini 2.5: `thinkingBudget` | Gemini 3 and later: `thinkingLevel` |
//! |---|---|---|
//! | `low` | 1024 | `"low"` |
//! | `medium` | 8192 | `"medium"` on Flash models, `"high"` on the others |
//! | `high` | 24576 | `"high"` |
//! | `max` | 32768 on Pro, 24576 on Flash and Flash-Lite | `"high"` |
//!
//! Older models (2.0, 1.5) and ids without a version (`gemini-flash-latest`) are
//! sent nothing. Gemini counts thinking inside `maxOutputTokens`, so when the spec
//! gives `max_tokens` and thinking is configured, `maxOutputTokens` is `max_tokens`
//! plus the level's budget (the 2.5 column, for levels too), at most 65536.
//!
//! # Answers
//!
//! The stream has no `[DONE]`: it is complete once a candidate has a
//! `finishReason` or the prompt was blocked. A body that ends before that is an
//! interrupted answer (and is retried), even though its chunks carried usage:
//! every chunk does. A blocked prompt (`promptFeedback`) and a candidate stopped by
//! a filter (`SAFETY`, `RECITATION`, `PROHIBITED_CONTENT`, …) set
//! [`Completion::refusal`] ("blocked by Gemini safety filters (SAFETY)"), whatever
//! text came before. A candidate that ends with no text and a `finishMessage` is an
//! error carrying that message (transient for `OTHER`). Parts other than text
//! (function calls, code, images) are not part of the answer.
//!
//! # Usage and errors
//!
//! `promptTokenCount` includes `cachedContentTokenCount` (the cache reads); the
//! tool-use prompt (`toolUsePromptTokenCount`, billed as input) is added to
//! `input_tokens`. Output is `candidatesTokenCount + thoughtsTokenCount`, the
//! latter being the reasoning tokens. Errors are
//! `{"error": {"code", "message", "status", "details"}}`; the wait before a retry
//! is `Retry-After` when the response has one, else a `google.rpc.RetryInfo`
//! detail's `retryDelay`.
//!
//! [`Dialect::CompatibleJsonMode`]: super::Dialect::CompatibleJsonMode
//! [`Completion::thinking`]: super::Completion::thinking
//! [`Completion::refusal`]: super::Completion::refusal

mod profile;
mod request;
mod response;
mod stream;
#[cfg(test)]
mod tests;

pub use profile::{gemini_version, thinking_budget, thinking_level};
pub use request::{build_body, endpoint};
pub use response::{parse_error, parse_response};
pub use stream::StreamState;
