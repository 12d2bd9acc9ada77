//! What every wire format's adapter does the same way: the schema instruction for
//! servers that take no schema, the prompt with its text attachments, opening a response body or a stream chunk, and
//! turning an error (in an HTTP response, a 200 body or a stream) into a
//! [`ProviderError`].

use super::{ChatCall, ProviderError, is_transient_status, retry_after_from_headers};
use crate::attachments::{Kind, Part, fenced};
use crate::thread::Role;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// The prompt line that carries a schema for servers without schema support.
pub fn schema_instruction(schema: &Value) -> String {
    format!(
        "Respond with a single JSON value, and nothing else, that is valid against this JSON Schema:\n{schema}"
    )
}

/// The system prompt with the [`schema_instruction`] after it, or the instruction
/// alone when there is no system prompt.
pub(crate) fn with_schema_instruction(system: Option<String>, schema: &Value) -> String {
    let line = schema_instruction(schema);
    match system {
        Some(s) => format!("{s}\n\n{line}"),
        None => line,
    }
}

/// The user's text: each attached text file fenced under its name, then the
/// prompt. Without text files, the prompt as it is.
pub(crate) fn prompt_with_files(input: &str, attachments: &[Part]) -> String {
    let mut out = String::new();
    for part in attachments.iter().filter(|p| p.kind == Kind::Text) {
        out.push_str(&fenced(
            &part.name,
            part.text.as_deref().unwrap_or_default(),
        ));
        out.push_str("\n\n");
    }
    out.push_str(input);
    out
}

/// The attachments a format sends as parts of their own (images and PDFs), in
/// the order given.
pub(crate) fn binary_parts(attachments: &[Part]) -> impl Iterator<Item = &Part> {
    attachments.iter().filter(|p| p.kind != Kind::Text)
}

/// The conversation as (is the user speaking, text, attachments): the earlier
/// messages of the model's thread, then the prompt with the run's attachments.
pub(crate) fn turns<'a>(call: &ChatCall<'a>) -> impl Iterator<Item = (bool, &'a str, &'a [Part])> {
    call.history
        .iter()
        .map(|m| {
            (
                m.role == Role::User,
                m.text.as_str(),
                m.attachments.as_slice(),
            )
        })
        .chain(std::iter::once((true, call.input, call.attachments)))
}

/// A whole (not streamed) response body as JSON; one that is not JSON is a
/// permanent error.
pub(crate) fn read_body(body: &[u8]) -> Result<Value, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        ProviderError::permanent(format!("unreadable response ({e}): {}", body_excerpt(body)))
    })
}

/// A response's JSON as the format's wire type; a shape it does not expect is a
/// permanent error.
pub(crate) fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ProviderError> {
    serde_json::from_value(value)
        .map_err(|e| ProviderError::permanent(format!("unexpected response shape: {e}")))
}

/// One stream chunk's `data`, parsed: `None` when it is blank, a transient error
/// ("malformed stream {what}") when it does not parse.
pub(crate) fn open_chunk<T: DeserializeOwned>(
    data: &str,
    what: &str,
) -> Result<Option<T>, ProviderError> {
    let data = data.trim();
    if data.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(data).map(Some).map_err(|e| {
        ProviderError::transient(format!(
            "malformed stream {what} ({e}): {}",
            body_excerpt(data.as_bytes())
        ))
    })
}

/// An error that came inside a 200 body or a stream, with the HTTP status its
/// code stands for when it has one: transient unless that status says otherwise
/// (an unknown error mid-answer is most likely the server's trouble).
pub(crate) fn error_in_body(status: Option<u16>, message: String) -> ProviderError {
    ProviderError {
        status,
        message,
        transient: status.is_none_or(is_transient_status),
        retry_after: None,
        broke_off: false,
    }
}

/// The common part of every format's error parsing: status, headers
/// (`Retry-After`, `x-should-retry`), and the message the format's body carries.
pub(crate) fn http_error(status: u16, headers: &HeaderMap, message: String) -> ProviderError {
    let mut transient = is_transient_status(status);
    if let Some(v) = headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        match v.trim() {
            "true" => transient = true,
            "false" => transient = false,
            _ => {}
        }
    }
    ProviderError {
        status: Some(status),
        message,
        transient,
        retry_after: retry_after_from_headers(headers),
        broke_off: false,
    }
}

/// A delay in seconds as a provider wrote it, which may be anything a float
/// parses to: negative or NaN is no delay asked for; infinite or past what a
/// `Duration` holds is the longest one (the engine caps it at its own limit).
pub(crate) fn delay_from_secs(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// The body as text, cut to a readable length, for when a body is not the
/// expected JSON.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    let mut out: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}
