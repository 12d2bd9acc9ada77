//! What goes wrong with one call of the fake provider: a [`Fault`] of a
//! [`Behavior`](crate::Behavior), taken in turn by its calls.

use serde::{Deserialize, Serialize};

/// What goes wrong with one call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The call succeeds.
    #[default]
    None,
    /// An HTTP error in the format's own error body shape.
    Status {
        status: u16,
        message: String,
        /// `Retry-After` header value (e.g. `"1"`); Gemini also gets a `RetryInfo`
        /// detail with `retryDelay` (`"1s"`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
        /// `retry-after-ms` header value (any float, `1e300` included, as a
        /// hostile server may send).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<f64>,
        /// Error code, e.g. `"insufficient_quota"` (OpenAI `code`, Anthropic error
        /// `type`, Gemini `status`). `None`: the format's usual code for the status.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// `x-should-retry` header value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        should_retry: Option<bool>,
    },
    /// Accept the request and never answer; the connection stays open until the
    /// client gives up or the provider shuts down.
    Hang,
    /// Streaming: send about half of the answer's content chunks, then drop the
    /// connection without finishing. Not streaming: send half of the body (with the
    /// full `Content-Length`), then drop the connection.
    DisconnectMidStream,
    /// Streaming: after about half of the answer's content chunks, send one event
    /// whose data is `{not json`, then carry on normally. Not streaming: a 200 whose
    /// body is the first half of the JSON (so it does not parse).
    MalformedChunk,
    /// Answer 401 with an error message that contains the API key the client sent.
    EchoKey,
    /// Answer 401 with a plain-text (not JSON) body: `offset` characters of text,
    /// then the API key the client sent.
    EchoKeyAt { offset: usize },
    /// Anthropic streams: content blocks numbered from 100,000,000,000 (other
    /// formats answer normally).
    GiantBlockIndex,
    /// Answer `status` (a 3xx) with `Location: location`, as a provider sending
    /// its clients (and their keys) elsewhere would.
    Redirect { status: u16, location: String },
    /// An error (HTTP 500) whose body is `bytes` long; `None`: it never ends.
    HugeErrorBody {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
    },
    /// A successful answer that goes on: the first answer chunk (streaming) or
    /// answer text (not streaming) repeated until `bytes` were sent, then the
    /// body ends unfinished; `None`: it never ends.
    Flood {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
    },
    /// A stream whose first event line never ends: `data: ` followed by bytes
    /// without a line break, for as long as the client reads.
    EndlessLine,
    /// Streaming: after about half of the answer, an event whose data holds
    /// bytes that are not UTF-8, then the rest as usual.
    InvalidUtf8,
}

impl Fault {
    /// An HTTP error with `status` and `message`; refine it with
    /// [`retry_after`](Fault::retry_after), [`retry_after_ms`](Fault::retry_after_ms),
    /// [`code`](Fault::code) and [`should_retry`](Fault::should_retry).
    pub fn status(status: u16, message: impl Into<String>) -> Self {
        Fault::Status {
            status,
            message: message.into(),
            retry_after: None,
            retry_after_ms: None,
            code: None,
            should_retry: None,
        }
    }

    /// Sets the `Retry-After` header of a [`Fault::Status`] (no effect on others).
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let Fault::Status { retry_after, .. } = &mut self {
            *retry_after = Some(value.into());
        }
        self
    }

    /// Sets the `retry-after-ms` header of a [`Fault::Status`] (no effect on others).
    pub fn retry_after_ms(mut self, ms: impl Into<f64>) -> Self {
        if let Fault::Status { retry_after_ms, .. } = &mut self {
            *retry_after_ms = Some(ms.into());
        }
        self
    }

    /// Sets the error code of a [`Fault::Status`] (no effect on others).
    pub fn code(mut self, value: impl Into<String>) -> Self {
        if let Fault::Status { code, .. } = &mut self {
            *code = Some(value.into());
        }
        self
    }

    /// Sets the `x-should-retry` header of a [`Fault::Status`] (no effect on others).
    pub fn should_retry(mut self, value: bool) -> Self {
        if let Fault::Status { should_retry, .. } = &mut self {
            *should_retry = Some(value);
        }
        self
    }
}
