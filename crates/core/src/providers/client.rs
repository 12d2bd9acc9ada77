//! The thin client: sends a [`ChatCall`] in a format's shape and reads the answer
//! back, streamed or not. Everything format-specific lives in the format modules.

use super::{ChatCall, Completion, Delta, ProviderError, WireFormat, body_excerpt};
use crate::secret::ApiKey;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

/// Where a call goes.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub format: WireFormat,
    pub base_url: &'a str,
    pub key: Option<&'a ApiKey>,
    pub headers: &'a [(String, String)],
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
    if !response.status().is_success() {
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        return Err(format.parse_error(status, &headers, &body));
    }
    let is_sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !call.stream || !is_sse {
        // Some servers answer a streaming request with a plain JSON body.
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&e, target.base_url))?;
        let completion = format.parse_response(&body)?;
        if call.stream && !completion.text.is_empty() {
            on_delta(Delta::Text(completion.text.clone()));
        }
        return Ok(completion);
    }

    let mut parser = format.stream_parser();
    // A final blank line, for servers that end the last event without one (the
    // SSE decoder would otherwise drop it).
    let body = response
        .bytes_stream()
        .chain(futures_util::stream::iter([Ok(bytes::Bytes::from_static(
            b"\n\n",
        ))]));
    let mut events = body.eventsource();
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| {
            ProviderError::transient(format!("the stream broke off: {}", source_chain(&e)))
        })?;
        for delta in parser.feed(&event.event, &event.data)? {
            on_delta(delta);
        }
    }
    if !parser.is_complete() {
        return Err(ProviderError::transient(
            "the connection closed before the answer was complete",
        ));
    }
    Ok(parser.completion())
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
