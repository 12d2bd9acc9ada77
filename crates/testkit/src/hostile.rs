//! What a hostile or broken server sends: redirects, bodies without end, lines
//! without end, huge error bodies. The scripted [`Fault`](crate::Fault)s that
//! change a response as a whole are answered here; the ones inside an otherwise
//! normal stream are in `reply::plan_stream`.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

use crate::reply::{Frame, FrameKind};

/// The size of each piece of an endless or huge body.
const PIECE: usize = 16 * 1024;

/// `status` (a 3xx) pointing at `location`.
pub(crate) fn redirect(status: u16, location: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
    let mut response = (status, "moved").into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

/// A 401 whose plain-text body holds `key` after `offset` characters.
pub(crate) fn echo_key_at(offset: usize, key: &str) -> Response {
    let body = format!("{}{key} is not a valid key", "k".repeat(offset));
    (
        StatusCode::UNAUTHORIZED,
        [(CONTENT_TYPE, "text/plain")],
        body,
    )
        .into_response()
}

/// llama-cpp-python's answer to `response_format` of type `json_schema`.
pub(crate) fn json_schema_traceback() -> Response {
    let body = "Traceback (most recent call last):\n  File \"llama_cpp/server/app.py\", \
                line 491, in create_chat_completion\nValueError: response_format type \
                'json_schema' is not supported\n";
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(CONTENT_TYPE, "text/plain")],
        body,
    )
        .into_response()
}

/// An HTTP 500 whose body is `bytes` of text, or never ends.
pub(crate) fn huge_error(bytes: Option<u64>) -> Response {
    let body = repeat_body(Vec::new(), Bytes::from(vec![b'e'; PIECE]), bytes);
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(CONTENT_TYPE, "text/plain")],
        body,
    )
        .into_response()
}

/// A stream that starts as `frames` do, then repeats the first answer frame
/// until `limit` bytes were sent in all (then the body ends unfinished), or forever.
pub(crate) fn flood_stream(frames: Vec<Frame>, content_type: &str, limit: Option<u64>) -> Response {
    let mut prefix = Vec::new();
    let mut unit = Bytes::from_static(b"\n");
    for frame in frames {
        let answer = frame.kind == FrameKind::Answer;
        prefix.push(frame.bytes.clone());
        if answer {
            unit = frame.bytes;
            break;
        }
    }
    with_type(content_type, repeat_body(prefix, unit, limit))
}

/// A non-streamed answer that never ends (or ends, cut, after `limit` bytes).
pub(crate) fn flood_body(content_type: &str, limit: Option<u64>) -> Response {
    let prefix = vec![Bytes::from_static(
        br#"{"choices":[{"message":{"content":""#,
    )];
    with_type(
        content_type,
        repeat_body(prefix, Bytes::from(vec![b'x'; PIECE]), limit),
    )
}

/// An event stream whose first line never ends.
pub(crate) fn endless_line(content_type: &str) -> Response {
    let prefix = vec![Bytes::from_static(b"data: ")];
    with_type(
        content_type,
        repeat_body(prefix, Bytes::from(vec![b'x'; PIECE]), None),
    )
}

fn with_type(content_type: &str, body: Body) -> Response {
    let mut response = body.into_response();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, v);
    }
    response
}

/// `prefix`, then `unit` again and again: until `limit` bytes in all, or, without
/// a limit, for as long as the client
/// reads (a short pause now and then, so the server does not spin).
fn repeat_body(prefix: Vec<Bytes>, unit: Bytes, limit: Option<u64>) -> Body {
    let state = (prefix.into_iter(), unit, 0u64, 0u64);
    let body = stream::unfold(state, move |(mut prefix, unit, sent, n)| async move {
        if limit.is_some_and(|l| sent >= l) {
            return None;
        }
        let piece = match prefix.next() {
            Some(p) => p,
            None => unit.clone(),
        };
        let piece = match limit {
            Some(l) if sent + piece.len() as u64 > l => piece.slice(..(l - sent) as usize),
            _ => piece,
        };
        if n % 64 == 63 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let sent = sent + piece.len() as u64;
        Some((Ok::<_, std::io::Error>(piece), (prefix, unit, sent, n + 1)))
    });
    Body::from_stream(body)
}
