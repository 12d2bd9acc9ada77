//! The HTTP side: the [`FakeProvider`] handle, the accept loop, the routes, and
//! reading each format's request into a `Call` (answered in `generate.rs`).

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::generate::{Call, check_key, error_response, generate};
use crate::reply::ErrorReply;
use crate::script::{Identity, Script};
use crate::slots::InFlight;
use crate::{anthropic, gemini, identity, openai};

pub(crate) const SSE: &str = "text/event-stream; charset=utf-8";
pub(crate) const JSON: &str = "application/json";
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
pub(crate) struct Shared {
    script: RwLock<Arc<Script>>,
    requests: Mutex<Vec<RecordedRequest>>,
    calls: Mutex<HashMap<String, usize>>,
    seq: AtomicU64,
    pub(crate) in_flight: Arc<InFlight>,
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

    pub(crate) fn script(&self) -> Arc<Script> {
        Arc::clone(&self.script.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    /// Counts a call to `model` and returns its 0-based index.
    pub(crate) fn next_call(&self, model: &str) -> usize {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let count = calls.entry(model.to_owned()).or_default();
        *count += 1;
        *count - 1
    }

    pub(crate) fn next_seq(&self) -> u64 {
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
        .route("/props", get(identity::props))
        .route("/info", get(identity::answer))
        .route("/api/version", get(identity::answer))
        .route("/api/v0/models", get(identity::answer))
        .route("/version", get(identity::answer))
        .route("/openapi.json", get(identity::answer))
        .route(RECORDED_PATH, get(recorded_requests))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

/// Where a test of the built programs reads what the fake received (the
/// binary's [`FakeProvider::requests`]): `GET` answers every recorded request
/// so far as a JSON array of `{format, path, model, stream, body}`. Not a path
/// of any real provider; it is not itself recorded.
pub const RECORDED_PATH: &str = "/_fake/requests";

async fn recorded_requests(State(shared): State<Arc<Shared>>) -> Response {
    let requests = shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let list: Vec<Value> = requests
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "format": r.format,
                "path": r.path,
                "model": r.model,
                "stream": r.stream,
                "body": r.body,
            })
        })
        .collect();
    axum::Json(Value::Array(list)).into_response()
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

pub(crate) fn recorded(
    format: Format,
    uri: &Uri,
    headers: &HeaderMap,
    body: Value,
) -> RecordedRequest {
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

pub(crate) fn model_names(script: &Script) -> Vec<&String> {
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
    let owner = match script.identity {
        Some(Identity::LlamaCppPython) => "me",
        _ => "roundtable-testkit",
    };
    let body = match format {
        Format::Anthropic => anthropic::model_list(&names),
        _ => openai::model_list(names.into_iter(), owner),
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

pub(crate) async fn not_found(uri: Uri) -> Response {
    let message = format!("Unknown path {}", uri.path());
    error_response(Format::OpenAi, &ErrorReply::new(404, message))
}
