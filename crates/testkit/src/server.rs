//! The HTTP side: the [`FakeProvider`] handle, the accept loop, the routes, and the
//! format-independent handling of a call (recording, key check, faults, latency).

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::reply::{ErrorReply, Prompt, Reply, Step, body_from_steps, plan_stream};
use crate::script::{Behavior, Fault, Script};
use crate::slots::{self, InFlight};
use crate::{anthropic, gemini, hostile, openai};

const SSE: &str = "text/event-stream; charset=utf-8";
const JSON: &str = "application/json";
/// Request bodies up to this size are accepted (prompts in load tests can be large).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The wire format of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// OpenAI Chat Completions (and `GET /v1/models` from an OpenAI client).
    OpenAi,
    /// Anthropic Messages (and `GET /v1/models` from an Anthropic client).
    Anthropic,
    /// Google Gemini `generateContent` / `streamGenerateContent` / `GET /v1beta/models`.
    Gemini,
}

/// One request as the fake provider received it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    pub format: Format,
    /// The URL path, without the query.
    pub path: String,
    /// The raw query string, if any (Gemini clients may put the key here).
    pub query: Option<String>,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The JSON body; `Null` when there was none, a string when it was not JSON.
    pub body: Value,
    /// The model named by the request; empty for model listings.
    pub model: String,
    /// Whether the client asked for a streamed answer.
    pub stream: bool,
}

impl RecordedRequest {
    /// The value of header `name` (case-insensitive), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// State shared by the handle and every request. Locks are only held for a push or
/// a lookup, never across an await.
struct Shared {
    script: RwLock<Arc<Script>>,
    requests: Mutex<Vec<RecordedRequest>>,
    calls: Mutex<HashMap<String, usize>>,
    seq: AtomicU64,
    in_flight: Arc<InFlight>,
}

impl Shared {
    fn new(script: Script) -> Self {
        Self {
            script: RwLock::new(Arc::new(script)),
            requests: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            in_flight: Arc::default(),
        }
    }

    fn script(&self) -> Arc<Script> {
        Arc::clone(&self.script.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn record(&self, request: RecordedRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    /// Counts a call to `model` and returns its 0-based index.
    fn next_call(&self, model: &str) -> usize {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let count = calls.entry(model.to_owned()).or_default();
        *count += 1;
        *count - 1
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }
}

/// A running fake provider. It stops on [`FakeProvider::shutdown`] or when dropped;
/// either way every open connection is closed at once.
pub struct FakeProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeProvider")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeProvider {
    /// Starts on `127.0.0.1` on a free port.
    pub async fn start(script: Script) -> std::io::Result<FakeProvider> {
        Self::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), script).await
    }

    /// Starts on `addr` (port 0 picks a free port).
    pub async fn start_on(addr: SocketAddr, script: Script) -> std::io::Result<FakeProvider> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(script));
        let server = tokio::spawn(serve(listener, router(Arc::clone(&shared))));
        Ok(FakeProvider {
            addr,
            shared,
            server,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URL for OpenAI clients: `http://127.0.0.1:PORT/v1`.
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// Base URL for Anthropic clients (they append `/v1/messages`): `http://127.0.0.1:PORT`.
    pub fn anthropic_base_url(&self) -> String {
        self.url()
    }

    /// Base URL for Gemini clients: `http://127.0.0.1:PORT/v1beta`.
    pub fn gemini_base_url(&self) -> String {
        format!("{}/v1beta", self.url())
    }

    /// Every request received so far, in the order they arrived.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many generation requests named `model` (whatever their outcome).
    pub fn calls_for(&self, model: &str) -> usize {
        self.shared
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(model)
            .copied()
            .unwrap_or(0)
    }

    /// Replaces the script for the requests that arrive from now on. Call counts
    /// (and so positions in fault sequences) carry on.
    pub fn set_script(&self, script: Script) {
        *self
            .shared
            .script
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(script);
    }

    /// Forgets the recorded requests and the call counts.
    pub fn reset(&self) {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.shared
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Stops listening, closes every connection and waits until that is done.
    pub async fn shutdown(mut self) {
        self.server.abort();
        // The task can only end by being cancelled.
        let _ = (&mut self.server).await;
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Accepts connections until cancelled. Connections live in a `JoinSet` owned by
/// this task, so cancelling it closes them all, hanging requests included.
async fn serve(listener: TcpListener, app: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small SSE chunks must not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(app.clone());
                    connections.spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Out of file descriptors and the like: let some connections finish.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(openai_chat))
        .route("/v1/messages", post(anthropic_messages))
        .route("/v1/models", get(list_models))
        .route("/v1beta/models", get(gemini_list_models))
        .route("/v1beta/models/{*target}", post(gemini_generate))
        .route("/props", get(props))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

/// A generation request, read from its format.
struct Call {
    format: Format,
    model: String,
    stream: bool,
    key: Option<String>,
    prompt: Prompt,
    /// OpenAI: end the stream with a usage chunk.
    include_usage: bool,
    /// Gemini: server-sent events rather than a streamed JSON array.
    sse: bool,
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

fn recorded(format: Format, uri: &Uri, headers: &HeaderMap, body: Value) -> RecordedRequest {
    RecordedRequest {
        format,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: header_pairs(headers),
        body,
        model: String::new(),
        stream: false,
    }
}

/// Records a request whose body is not JSON and answers the format's 400.
fn bad_json(
    shared: &Shared,
    format: Format,
    uri: &Uri,
    headers: &HeaderMap,
    bytes: &Bytes,
    error: &serde_json::Error,
) -> Response {
    let raw = String::from_utf8_lossy(bytes).into_owned();
    shared.record(recorded(format, uri, headers, Value::String(raw)));
    let message = format!("The request body is not valid JSON: {error}");
    error_response(format, &ErrorReply::new(400, message))
}

async fn openai_chat(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let format = Format::OpenAi;
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(error) => return bad_json(&shared, format, &uri, &headers, &bytes, &error),
    };
    let call = Call {
        format,
        model: body["model"].as_str().unwrap_or_default().to_owned(),
        stream: body["stream"] == true,
        key: openai::api_key(&headers),
        prompt: openai::prompt(&body),
        include_usage: openai::include_usage(&body),
        sse: true,
    };
    generate(shared, call, &uri, &headers, body).await
}

async fn anthropic_messages(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let format = Format::Anthropic;
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(error) => return bad_json(&shared, format, &uri, &headers, &bytes, &error),
    };
    let call = Call {
        format,
        model: body["model"].as_str().unwrap_or_default().to_owned(),
        stream: body["stream"] == true,
        key: anthropic::api_key(&headers),
        prompt: anthropic::prompt(&body),
        include_usage: true,
        sse: true,
    };
    generate(shared, call, &uri, &headers, body).await
}

async fn gemini_generate(
    State(shared): State<Arc<Shared>>,
    Path(target): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let format = Format::Gemini;
    let body: Value = match serde_json::from_slice(&bytes) {
        Ok(body) => body,
        Err(error) => return bad_json(&shared, format, &uri, &headers, &bytes, &error),
    };
    let (model, stream) = match gemini::split_target(&target) {
        Some((model, "generateContent")) => (model, false),
        Some((model, "streamGenerateContent")) => (model, true),
        _ => {
            shared.record(recorded(format, &uri, &headers, body));
            let message = format!("Method not found: {target}");
            return error_response(format, &ErrorReply::new(404, message));
        }
    };
    let call = Call {
        format,
        model: model.to_owned(),
        stream,
        key: gemini::api_key(&headers, query.get("key").map(String::as_str)),
        prompt: gemini::prompt(&body),
        include_usage: true,
        sse: query.get("alt").is_some_and(|alt| alt == "sse"),
    };
    generate(shared, call, &uri, &headers, body).await
}

/// llama.cpp's `GET /props`: how many slots the server has, when scripted.
async fn props(State(shared): State<Arc<Shared>>) -> Response {
    match shared.script().slots {
        Some(n) => axum::Json(serde_json::json!({"total_slots": n})).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A generation request, in one of the server's slots when it has few.
async fn generate(
    shared: Arc<Shared>,
    call: Call,
    uri: &Uri,
    headers: &HeaderMap,
    body: Value,
) -> Response {
    let slots = shared.script().slots;
    let in_flight = Arc::clone(&shared.in_flight);
    let seq = slots.map(|_| shared.next_seq());
    let response = generate_now(shared, call, uri, headers, body).await;
    match (slots, seq) {
        (Some(n), Some(seq)) => slots::in_slot(in_flight, seq, n, response),
        _ => response,
    }
}

/// The common path of every generation request: record, count, check the key,
/// wait, then answer or fail as scripted.
async fn generate_now(
    shared: Arc<Shared>,
    call: Call,
    uri: &Uri,
    headers: &HeaderMap,
    body: Value,
) -> Response {
    let asks_json_schema = body["response_format"]["type"] == "json_schema";
    shared.record(RecordedRequest {
        model: call.model.clone(),
        stream: call.stream,
        ..recorded(call.format, uri, headers, body)
    });
    if call.model.is_empty() {
        let error = ErrorReply::new(400, "The request names no model.");
        return error_response(call.format, &error);
    }
    let index = shared.next_call(&call.model);
    let script = shared.script();
    if let Some(response) = check_key(&script, call.format, call.key.as_deref()) {
        return response;
    }
    let behavior = script.behavior_for(&call.model);
    if behavior.refuse_json_schema && call.format == Format::OpenAi && asks_json_schema {
        return hostile::json_schema_traceback();
    }
    let fault = behavior.faults.get(index).cloned().unwrap_or_default();
    if behavior.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(behavior.latency_ms)).await;
    }
    match fault {
        Fault::Hang => std::future::pending().await,
        Fault::Status {
            status,
            message,
            retry_after,
            retry_after_ms,
            code,
            should_retry,
        } => {
            let error = ErrorReply {
                status,
                message,
                code,
                retry_after,
                retry_after_ms,
                should_retry,
            };
            error_response(call.format, &error)
        }
        Fault::EchoKey => {
            let message = auth_message(call.format, call.key.as_deref(), true);
            error_response(call.format, &ErrorReply::new(401, message))
        }
        Fault::EchoKeyAt { offset } => {
            hostile::echo_key_at(offset, call.key.as_deref().unwrap_or(""))
        }
        Fault::Redirect { status, location } => hostile::redirect(status, &location),
        Fault::HugeErrorBody { bytes } => hostile::huge_error(bytes),
        Fault::EndlessLine => hostile::endless_line(SSE),
        Fault::Flood { bytes } if !call.stream => hostile::flood_body(JSON, bytes),
        Fault::None
        | Fault::DisconnectMidStream
        | Fault::MalformedChunk
        | Fault::InvalidUtf8
        | Fault::GiantBlockIndex
        | Fault::Flood { .. } => success(&call, behavior, &fault, shared.next_seq()),
    }
}

fn success(call: &Call, behavior: &Behavior, fault: &Fault, seq: u64) -> Response {
    let reply = Reply::new(&call.model, behavior, &call.prompt, seq);
    if call.stream {
        let (frames, malformed, content_type) = match call.format {
            Format::OpenAi => (
                openai::stream(&reply, call.include_usage && !behavior.no_stream_usage),
                openai::MALFORMED,
                SSE,
            ),
            Format::Anthropic if fault == &Fault::GiantBlockIndex => (
                anthropic::stream_from(&reply, 100_000_000_000),
                anthropic::MALFORMED,
                SSE,
            ),
            Format::Anthropic => (anthropic::stream(&reply), anthropic::MALFORMED, SSE),
            Format::Gemini if call.sse => {
                (gemini::stream(&reply, true), gemini::MALFORMED_SSE, SSE)
            }
            Format::Gemini => (gemini::stream(&reply, false), gemini::MALFORMED_ARRAY, JSON),
        };
        if let Fault::Flood { bytes } = fault {
            return hostile::flood_stream(frames, content_type, *bytes);
        }
        let delay = Duration::from_millis(behavior.chunk_delay_ms);
        let steps = plan_stream(frames, malformed, delay, fault);
        return (
            [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
            body_from_steps(steps),
        )
            .into_response();
    }

    let json = match call.format {
        Format::OpenAi => openai::completion(&reply),
        Format::Anthropic => anthropic::message(&reply),
        Format::Gemini => gemini::generate(&reply),
    };
    let bytes = Bytes::from(json.to_string());
    let half = bytes.slice(..bytes.len() / 2);
    let (length, body) = match fault {
        Fault::DisconnectMidStream => (
            bytes.len(),
            body_from_steps(vec![Step::Send(half), Step::Abort]),
        ),
        Fault::MalformedChunk => (half.len(), Body::from(half)),
        _ => (bytes.len(), Body::from(bytes)),
    };
    (
        [
            (CONTENT_TYPE, JSON.to_owned()),
            (CONTENT_LENGTH, length.to_string()),
        ],
        body,
    )
        .into_response()
}

fn auth_message(format: Format, key: Option<&str>, echo: bool) -> String {
    match format {
        Format::OpenAi => openai::auth_message(key, echo),
        Format::Anthropic => anthropic::auth_message(key, echo),
        Format::Gemini => gemini::auth_message(key, echo),
    }
}

/// The format's 401 when the script requires a key and `presented` is not it.
fn check_key(script: &Script, format: Format, presented: Option<&str>) -> Option<Response> {
    let required = script.require_key.as_deref()?;
    if presented == Some(required) {
        return None;
    }
    let message = auth_message(format, presented, false);
    Some(error_response(format, &ErrorReply::new(401, message)))
}

fn error_response(format: Format, error: &ErrorReply) -> Response {
    let body = match format {
        Format::OpenAi => openai::error_body(error),
        Format::Anthropic => anthropic::error_body(error),
        Format::Gemini => gemini::error_body(error),
    };
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    let extra = [
        ("retry-after", error.retry_after.clone()),
        (
            "retry-after-ms",
            error.retry_after_ms.map(|ms| ms.to_string()),
        ),
        (
            "x-should-retry",
            error.should_retry.map(|retry| retry.to_string()),
        ),
    ];
    for (name, value) in extra {
        if let Some(value) = value.and_then(|value| HeaderValue::from_str(&value).ok()) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}

fn model_names(script: &Script) -> Vec<&String> {
    script.models.keys().collect()
}

async fn list_models(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let (format, key) = if anthropic::is_anthropic_client(&headers) {
        (Format::Anthropic, anthropic::api_key(&headers))
    } else {
        (Format::OpenAi, openai::api_key(&headers))
    };
    shared.record(recorded(format, &uri, &headers, Value::Null));
    let script = shared.script();
    if let Some(response) = check_key(&script, format, key.as_deref()) {
        return response;
    }
    let names = model_names(&script);
    let body = match format {
        Format::Anthropic => anthropic::model_list(&names),
        _ => openai::model_list(names.into_iter()),
    };
    axum::Json(body).into_response()
}

async fn gemini_list_models(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let format = Format::Gemini;
    shared.record(recorded(format, &uri, &headers, Value::Null));
    let script = shared.script();
    let key = gemini::api_key(&headers, query.get("key").map(String::as_str));
    if let Some(response) = check_key(&script, format, key.as_deref()) {
        return response;
    }
    axum::Json(gemini::model_list(script.models.keys())).into_response()
}

async fn not_found(uri: Uri) -> Response {
    let message = format!("Unknown path {}", uri.path());
    error_response(Format::OpenAi, &ErrorReply::new(404, message))
}
