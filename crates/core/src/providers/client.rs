//! The thin client: sends a [`ChatCall`] in a format's shape and reads the answer
//! back, streamed or not. Everything format-specific lives in the format modules.
//!
//! A provider is untrusted: no more than [`Limits`] of it is read (an answer, one
//! SSE line, an error body), redirects are not followed (the HTTP client is built
//! without them, and a 3xx is the model's error), and an error body has the key
//! masked before anything is cut from it.

use super::shared::body_excerpt;
use super::{ChatCall, Completion, Delta, ProviderError, WireFormat};
use crate::attachments::AttachmentLimits;
use crate::secret::ApiKey;
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use std::collections::BTreeMap;

/// The most of one answer read from a provider, streamed or not, by default.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// The most of an error body read: enough for any real error message.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// The longest one line of a server-sent event stream may be.
pub const MAX_SSE_LINE_BYTES: usize = 1024 * 1024;

/// How much of a provider's answer is read, and how much a run may attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The body of one answer (the whole stream, or the whole JSON body).
    pub max_answer_bytes: usize,
    pub attachments: AttachmentLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            attachments: AttachmentLimits::default(),
        }
    }
}

/// Where a call goes.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub format: WireFormat,
    pub base_url: &'a str,
    pub key: Option<&'a ApiKey>,
    pub headers: &'a BTreeMap<String, String>,
    pub limits: Limits,
}

/// Sends one call; `on_delta` sees each piece of a streamed answer as it arrives.
/// Every error message has the key masked, in case a server echoes it back.
pub async fn send(
    http: &reqwest::Client,
    target: Target<'_>,
    call: &ChatCall<'_>,
    on_delta: &mut (dyn FnMut(Delta) + Send),
) -> Result<Completion, ProviderError> {
    let result = send_unmasked(http, target, call, on_delta).await;
    result.map_err(|mut e| {
        if let Some(key) = target.key {
            e.message = key.mask_in(&e.message);
        }
        e
    })
}

async fn send_unmasked(
    http: &reqwest::Client,
    target: Target<'_>,
    call: &ChatCall<'_>,
    on_delta: &mut (dyn FnMut(Delta) + Send),
) -> Result<Completion, ProviderError> {
    let format = target.format;
    let url = format.endpoint(target.base_url, call);
    let mut headers = HeaderMap::new();
    for (name, value) in format.fixed_headers() {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    for (name, value) in target.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if let Some(key) = target.key {
        headers.extend(format.auth_headers(key));
    }
    let response = http
        .post(&url)
        .headers(headers)
        .json(&format.build_body(call))
        .send()
        .await
        .map_err(|e| transport_error(&e, target.base_url))?;

    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(redirect_error(status, response.headers()));
    }
    if !response.status().is_success() {
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_ERROR_BODY_BYTES)
            .await
            .map(|(body, _)| body)
            .unwrap_or_default();
        // Masked before the format's parser may cut it, so no part of an echoed
        // key survives at the cut.
        let body = match target.key {
            Some(key) => key.mask_in(&String::from_utf8_lossy(&body)).into_bytes(),
            None => body,
        };
        return Err(format.parse_error(status, &headers, &body));
    }
    let is_sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !call.stream || !is_sse {
        // Some servers answer a streaming request with a plain JSON body.
        let max = target.limits.max_answer_bytes;
        let (body, cut) = read_capped(response, max)
            .await
            .map_err(|e| transport_error(&e, target.base_url))?;
        if cut {
            return Err(answer_too_long(max));
        }
        let completion = format.parse_response(&body)?;
        if call.stream && !completion.text.is_empty() {
            on_delta(Delta::Text(completion.text.clone()));
        }
        return Ok(completion);
    }

    let mut parser = format.stream_parser();
    // A final blank line, for servers that end the last event without one (the
    // SSE decoder would otherwise drop it).
    let body = guarded(response.bytes_stream(), target.limits.max_answer_bytes).chain(
        futures_util::stream::iter([Ok(bytes::Bytes::from_static(b"\n\n"))]),
    );
    let mut events = body.eventsource();
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| match e {
            EventStreamError::Transport(BodyError::Limit(e)) => e,
            EventStreamError::Transport(BodyError::Transport(e)) => {
                ProviderError::broke_off(format!("the stream broke off: {}", source_chain(&e)))
            }
            e => ProviderError::transient(format!("the stream broke off: {e}")),
        })?;
        for delta in parser.feed(&event.event, &event.data)? {
            on_delta(delta);
        }
    }
    if !parser.is_complete() {
        return Err(ProviderError::broke_off(
            "the connection closed before the answer was complete",
        ));
    }
    Ok(parser.completion())
}

/// A provider is an API: a redirect is not followed (the key would go with it),
/// it is the model's error.
fn redirect_error(status: u16, headers: &HeaderMap) -> ProviderError {
    let to = headers
        .get(LOCATION)
        .map(|v| body_excerpt(v.as_bytes()))
        .unwrap_or_else(|| "nowhere".into());
    ProviderError {
        status: Some(status),
        ..ProviderError::permanent(format!(
            "the provider answered with a redirect to {to}, which is not followed \
             (a key must not go anywhere but its provider): check the provider's base URL"
        ))
    }
}

fn answer_too_long(max: usize) -> ProviderError {
    ProviderError::permanent(format!(
        "the answer passed the limit of {max} bytes (max_answer_bytes); what arrived \
         before is kept"
    ))
}

/// Reads a body up to `max` bytes; `true` when there was more.
async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = max - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// Why a guarded body stopped.
#[derive(Debug)]
enum BodyError {
    Transport(reqwest::Error),
    Limit(ProviderError),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Transport(e) => e.fmt(f),
            BodyError::Limit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for BodyError {}

/// A streamed body that ends with a [`BodyError::Limit`] once it passes
/// `max_answer_bytes` in all, or [`MAX_SSE_LINE_BYTES`] without a line break
/// (the SSE decoder would buffer such a line whole).
fn guarded(
    body: impl Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send + 'static,
    max_answer_bytes: usize,
) -> impl Stream<Item = Result<bytes::Bytes, BodyError>> + Send + 'static {
    let mut total = 0usize;
    let mut line = 0usize;
    body.scan(false, move |failed, chunk| {
        if *failed {
            return std::future::ready(None);
        }
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return std::future::ready(Some(Err(BodyError::Transport(e)))),
        };
        total = total.saturating_add(chunk.len());
        let is_break = |b: &u8| *b == b'\n' || *b == b'\r';
        let longest = match chunk.iter().position(is_break) {
            Some(first) => {
                let longest = line.saturating_add(first);
                line = chunk.len() - chunk.iter().rposition(is_break).unwrap_or(first) - 1;
                longest.max(line)
            }
            None => {
                line = line.saturating_add(chunk.len());
                line
            }
        };
        let error = if total > max_answer_bytes {
            Some(answer_too_long(max_answer_bytes))
        } else if longest > MAX_SSE_LINE_BYTES {
            Some(ProviderError::permanent(format!(
                "the stream sent a line longer than {MAX_SSE_LINE_BYTES} bytes without \
                 an end (the limit of one event line)"
            )))
        } else {
            None
        };
        std::future::ready(Some(match error {
            Some(e) => {
                *failed = true;
                Err(BodyError::Limit(e))
            }
            None => Ok(chunk),
        }))
    })
}

fn transport_error(e: &reqwest::Error, base_url: &str) -> ProviderError {
    let what = if e.is_connect() {
        format!("could not connect to {base_url}")
    } else if e.is_timeout() {
        "the request timed out".to_string()
    } else if e.is_body() || e.is_decode() {
        "the connection broke off while reading the answer".to_string()
    } else {
        "the request failed".to_string()
    };
    let detail = source_chain(e);
    if detail.is_empty() {
        ProviderError::transient(what)
    } else {
        ProviderError::transient(format!("{what}: {detail}"))
    }
}

/// The innermost causes of an error, which say what really happened
/// ("Connection refused"), without the URL reqwest puts in its own message.
fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        parts.push(s.to_string());
        cur = s.source();
    }
    let out = parts.last().cloned().unwrap_or_default();
    if out.is_empty() {
        body_excerpt(e.to_string().as_bytes())
    } else {
        out
    }
}
