//! How an attempt of a call ended, read: a server refusing JSON Schema output,
//! a stream that may have been cut for another request, usage estimated when
//! the provider gave none, and the words of a failure.

use super::ms;
use crate::contract::Usage;
use crate::provider::Provider;
use crate::providers::{ChatCall, Completion, Dialect, ProviderError, WireFormat};
use std::time::Duration;

/// Whether `err` is a compatible server refusing JSON Schema output
/// (llama-cpp-python answers HTTP 500 with a traceback, others 400 or 422), so
/// JSON mode with the schema in the prompt is worth a try.
pub(super) fn refuses_json_schema(
    format: WireFormat,
    call: &ChatCall,
    err: &ProviderError,
) -> bool {
    format == WireFormat::Openai
        && call.dialect == Dialect::Compatible
        && call.output_schema.is_some()
        && err
            .status
            .is_some_and(|s| matches!(s, 400 | 415 | 422 | 500 | 501))
}

/// The completion with usage: the provider's, or, when it reported none (or
/// no output for an answer it gave), an estimate marked as one. Never a false 0.
pub(super) fn with_usage(mut c: Completion, call: &ChatCall) -> Completion {
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

/// How many times a call is sent again after a server cut its stream for
/// another request, before a cut counts as any failure.
pub(super) const MAX_CUTS: u32 = 8;
/// The longest pause before a stream cut for another program is sent again.
pub(super) const MAX_CUT_PAUSE: Duration = Duration::from_secs(8);
pub(super) const SENT_AGAIN: &str = "the server cut the stream to serve another request, so it is sent \
                          again once a place is free (not counted as a retry)";

/// Why `result` may be a stream the server cut for another request: it broke
/// off, or (OpenAI's format) ended with no finish reason, as llama-cpp-python
/// ends one. Whether it was is for [`crate::slots`] to say.
pub(super) fn cut_of(
    result: &Result<Completion, ProviderError>,
    chat: &ChatCall,
    provider: &Provider,
) -> Option<String> {
    match result {
        Err(e) if e.broke_off => Some(e.to_string()),
        Ok(c)
            if chat.stream
                && provider.format == WireFormat::Openai
                && c.finish_reason.is_none() =>
        {
            Some("the stream ended with no finish reason".to_string())
        }
        _ => None,
    }
}

pub(super) fn timeout_message(timeout: Duration, attempts: u32) -> String {
    format!(
        "timed out after {} ms ({} attempt{})",
        ms(timeout),
        attempts,
        if attempts == 1 { "" } else { "s" }
    )
}

pub(super) fn failure_message(err: &ProviderError, attempts: u32) -> String {
    format!(
        "{err} ({} attempt{})",
        attempts,
        if attempts == 1 { "" } else { "s" }
    )
}
