//! `roundtable-server`: the local HTTP API. It speaks the hosted roundtable
//! contract (`shared/roundtable-api.md`, `shared/contract/opper-roundtable.openapi.yaml`)
//! over [`roundtable_app::App`], so a script written for the hosted endpoint runs
//! unchanged against this machine, with this machine's keys, and every call lands
//! in the same history as the CLI's. Only this crate knows axum.
//!
//! Extending it: a route is a handler in `handlers.rs` added to the router in
//! [`serve`]; a handler that starts a run goes through `spawn.rs` (its slot,
//! its cancel token, the task the server waits for), as the plain call and the
//! stream (`stream.rs`, with what waits for its client in `outbox.rs`) both
//! do.
//!
//! # Endpoints
//!
//! | method and path | auth | what |
//! |---|---|---|
//! | `POST /v3/roundtable` | Bearer | one roundtable call: `RoundtableRequest` in, `RoundtableResponse` out, or a stream with `"stream": true` |
//! | `POST /v3/beta/roundtable` | Bearer | the same |
//! | `POST /v3/roundtable/{id}/judge` | Bearer | extension: `{"model": "…"}` ranks stored run `id`'s answers (a `Judgement`); 502 `judge_failed` when the judge fails; it takes a run's slot and is waited for at shutdown |
//! | `GET /v3/roundtable/leaderboard` | Bearer | extension: the private leaderboard (`?source=votes\|judges&since_ms=&tag=&panel=a,b&judge_model=`) |
//! | `GET /healthz` | none | `{"status": "ok", "version": "…"}` |
//!
//! Errors are `{"error": {"code", "message", "details"}}`:
//!
//! | status | `code` | when |
//! |---|---|---|
//! | 400 | `invalid_json` | the body is not JSON (the message says where) |
//! | 400 | `invalid_request` | a field is missing, of the wrong type or invalid; `details.field` names it (`models[0].temperature`, `attachments[0].data`: not base64, a type no model takes, a file over `[limits]`); also more models than `server.max_models`, every sample counted (`models`) |
//! | 401 | `unauthorized` | no `Authorization: Bearer <token>`, or the wrong token |
//! | 403 | `forbidden` | a `Host` that is not a loopback name or address (DNS rebinding), or a browser `Origin` that is not loopback |
//! | 404 / 405 | `not_found` / `method_not_allowed` | another path or method |
//! | 413 | `payload_too_large` | a body over `server.max_body_bytes` (default 2 MiB) apart from its attachments' base64, or a run's body over that plus room for `[limits] max_run_attachment_bytes` of attachments (see [`run_body_limit`]) |
//! | 415 | `unsupported_media_type` | a `Content-Type` other than `application/json` |
//! | 500 | `storage`, `config`, `internal`, … | the app failed (the message says how) |
//! | 502 | `no_model_answered` | no model answered; `details` is the whole response, each model's `error` in `model_results` |
//! | 400 | `invalid_request` | no `Host` header, or more than one |
//! | 503 | `interrupted` / `shutting_down` | the server is stopping (the run is kept in the history as interrupted) |
//! | 503 | `busy` | [`MAX_CONNECTIONS`] connections are open, or [`MAX_CONCURRENT_RUNS`] runs in flight; `details.limit` says how many, `Retry-After: 1` |
//!
//! # Streaming
//!
//! With `"stream": true` the response is `text/event-stream`: one line
//! `data: {chunk}` per event (a `StreamChunk`, validated by the contract's
//! `RoundtableStreamChunk`), a blank line after each, and `data: [DONE]` last.
//! Every chunk carries the run's `id` (extension). A request that is invalid is
//! still answered with a 400 JSON error, before any stream starts.
//!
//! | `type` | fields | when |
//! |---|---|---|
//! | `model_delta` | `model`, `model_index`, `delta` | a piece of a model's answer, as it arrives |
//! | `model_thinking_delta` | `model`, `model_index`, `delta` | a piece of a model's reasoning / thinking text |
//! | `model_retry` | `model`, `model_index`, `error` | a transient failure; the model is called again (`error` says why, the wait and the attempt). Text received so far for that model is void: the next attempt starts afresh |
//! | `model_result` | `model`, `model_index`, `data`, `error` (when it failed), `cost`, `usage` | a model is done, answered or failed |
//! | `consolidation_delta` | `model` (the summary model), `delta` | a piece of the consolidated answer (`summary` mode) |
//! | `error` | `error` | the run failed: no model answered, it was interrupted (server stopping), or it broke off without a response; a `done` chunk follows when there is a response |
//! | `done` | `data`, `meta`, `response` (extension: the whole `RoundtableResponse`) | last chunk before `[DONE]`, once the run is in the history |
//!
//! Order: each model's deltas (models interleaved, as they arrive), each model's
//! `model_result` after its own deltas, then the consolidation's deltas, then
//! `error` if the run failed, then `done`, then `data: [DONE]`. Clients route on
//! `model_index` and ignore types they do not know.
//!
//! A client that disconnects cancels its run: the provider calls are dropped
//! and the run is recorded as `interrupted`, with what had arrived.
//!
//! A client that reads slowly holds the stream back: at most [`SSE_BUFFER`]
//! chunks wait for it, and the deltas that arrive meanwhile are merged (per
//! model and kind, in order, never across a `model_retry` or `model_result`),
//! so the server keeps the text not yet sent, not one chunk per event.
//!
//! # Security
//!
//! Binds loopback unless told otherwise ([`ServeOptions::allow_remote`]). `/v3/*`
//! needs `Authorization: Bearer <token>` (compared in constant time); the token is
//! `ROUNDTABLE_API_TOKEN`, else one kept in the keychain
//! ([`roundtable_app::api_token`]). Requests whose `Host` is not loopback
//! (`localhost`, `127.x.x.x`, `[::1]`, any port) are refused with 403 against DNS
//! rebinding, and so are browser requests from an `Origin` that is not loopback;
//! CORS headers are only ever sent to loopback origins. With `allow_remote`, any
//! `Host` is accepted and an `Origin` must be loopback or the `Host` itself. A
//! request without a `Host` (or with two) is refused in either case.
//!
//! Limits: [`MAX_CONNECTIONS`] open connections and [`MAX_CONCURRENT_RUNS`]
//! runs in flight (past either, `503 busy`); a new connection that sends
//! nothing for [`FIRST_REQUEST_TIMEOUT`] is closed; a streamed run keeps at most
//! [`SSE_BUFFER`] chunks ahead of its reader. A connection between requests
//! (an idle keep-alive one, or a new one that has sent nothing yet) keeps its
//! slot only until a new connection needs one: the one idle the longest is
//! closed for it; `503 busy` comes only when every open connection has a
//! request in flight.

mod blocking;
mod conns;
mod error;
mod guard;
mod handlers;
mod limits;
mod outbox;
mod spawn;
mod spend;
mod stream;
mod verdicts;

use axum::Router;
use axum::routing::{get, post};
use roundtable_app::App;
use roundtable_app::api_token::{ApiToken, TokenSource};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use limits::{FIRST_REQUEST_TIMEOUT, MAX_CONCURRENT_RUNS, MAX_CONNECTIONS, run_body_limit};
pub use outbox::SSE_BUFFER;
pub use roundtable_app;

/// How to serve. Its `Debug` never shows the token.
#[derive(Clone)]
pub struct ServeOptions {
    /// Where to listen; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Allow an address that is not loopback (and then any `Host` header).
    pub allow_remote: bool,
    /// The bearer token; `None`: [`App::local_api_token`] (`ROUNDTABLE_API_TOKEN`,
    /// else the keychain's).
    pub token: Option<String>,
    /// Largest body accepted; `None`: `server.max_body_bytes` from `config.toml`.
    pub max_body_bytes: Option<usize>,
    /// Most models per request; `None`: `server.max_models` from `config.toml`.
    pub max_models: Option<usize>,
}

impl Default for ServeOptions {
    /// `127.0.0.1`, a free port, the token and limits from the app.
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            allow_remote: false,
            token: None,
            max_body_bytes: None,
            max_models: None,
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("addr", &self.addr)
            .field("allow_remote", &self.allow_remote)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_models", &self.max_models)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{0} is not a loopback address: allow it explicitly (`--allow-remote`) to serve other machines"
    )]
    NotLoopback(std::net::IpAddr),
    #[error("the API token is empty")]
    EmptyToken,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// What every request handler shares.
pub(crate) struct Shared {
    pub app: Arc<App>,
    pub token: ApiToken,
    pub allow_remote: bool,
    /// Largest body apart from its attachments' base64.
    pub max_body_bytes: usize,
    /// Largest body of a run, attachments included ([`run_body_limit`]).
    pub max_run_body_bytes: usize,
    pub max_models: usize,
    /// Cancelled when the server stops; every run's token is a child of it.
    pub shutdown: CancellationToken,
    /// The runs (and judges' calls) in flight, so stopping waits until each
    /// is recorded.
    pub runs: TaskTracker,
    /// One permit per run (or judge's call) in flight, [`MAX_CONCURRENT_RUNS`] in all.
    pub run_slots: Arc<tokio::sync::Semaphore>,
}

/// A running server. Dropping it stops the server without waiting; call
/// [`ServerHandle::shutdown`] to stop it cleanly.
pub struct ServerHandle {
    addr: SocketAddr,
    token: ApiToken,
    shutdown: CancellationToken,
    runs: TaskTracker,
    server: Option<JoinHandle<()>>,
}

/// How long stopping waits for open connections before closing them anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl ServerHandle {
    /// The address it listens on (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token requests must carry.
    pub fn token(&self) -> &ApiToken {
        &self.token
    }

    /// How many runs (and judges' calls) are in flight.
    pub fn runs_in_flight(&self) -> usize {
        self.runs.len()
    }

    /// Stops cleanly: stops accepting, cancels the runs in flight (each is
    /// recorded as interrupted, with what had arrived, and its stream ends with its
    /// `done` chunk), waits for open connections (at most 10 s), then for every
    /// run to be in the history.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(mut server) = self.server.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
                .await
                .is_err()
        {
            tracing::warn!("connections still open after the grace period: closing them");
            server.abort();
        }
        self.runs.close();
        self.runs.wait().await;
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts serving `app`; returns once it listens.
pub async fn serve(app: Arc<App>, options: ServeOptions) -> Result<ServerHandle, ServeError> {
    if !options.addr.ip().is_loopback() && !options.allow_remote {
        return Err(ServeError::NotLoopback(options.addr.ip()));
    }
    let token = match options.token {
        Some(t) => ApiToken::new(t, TokenSource::Given),
        None => app.local_api_token(),
    };
    if token.expose().is_empty() {
        return Err(ServeError::EmptyToken);
    }
    let config = app.config().server.clone();
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: options.addr,
        source,
    })?;
    let shutdown = CancellationToken::new();
    let runs = TaskTracker::new();
    let max_body_bytes = options.max_body_bytes.unwrap_or(config.max_body_bytes);
    let max_run_body_bytes =
        run_body_limit(max_body_bytes, app.config().limits.max_run_attachment_bytes);
    let shared = Arc::new(Shared {
        app,
        token: token.clone(),
        allow_remote: options.allow_remote,
        max_body_bytes,
        max_run_body_bytes,
        max_models: options.max_models.unwrap_or(config.max_models),
        shutdown: shutdown.clone(),
        runs: runs.clone(),
        run_slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_RUNS)),
    });
    let router = router(shared);
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        let listener = limits::LimitedListener::new(listener);
        let service = router.into_make_service_with_connect_info::<conns::ConnOf>();
        if let Err(e) = axum::serve(listener, service)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "the server stopped");
        }
    });
    Ok(ServerHandle {
        addr,
        token,
        shutdown,
        runs,
        server: Some(server),
    })
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v3/roundtable",
            post(handlers::roundtable).options(guard::preflight),
        )
        .route(
            "/v3/beta/roundtable",
            post(handlers::roundtable).options(guard::preflight),
        )
        .route("/v3/roundtable/{id}/judge", post(verdicts::judge))
        .route("/v3/roundtable/leaderboard", get(verdicts::leaderboard))
        .route("/v3/roundtable/stats", get(spend::stats))
        .route("/v3/roundtable/budget", get(spend::budget))
        // Every route above: the token first, before its handler reads anything.
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            guard::bearer,
        ))
        .route("/healthz", get(handlers::healthz))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            guard::host_and_origin,
        ))
        // Outermost: every request keeps its connection busy until answered.
        .layer(axum::middleware::from_fn(conns::in_flight))
        .with_state(shared)
}
