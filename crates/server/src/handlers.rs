//! The handlers: the roundtable call (plain and streamed), the health check, and
//! JSON answers for unknown paths and methods.

use crate::Shared;
use crate::error::ApiError;
use crate::spawn::spawn_run;
use crate::stream;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use roundtable_app::core::{RoundtableRequest, RunStatus};
use serde_json::{Value, json};
use std::sync::Arc;

/// Bodies over the limit are still read (and thrown away) up to this size, so
/// the client gets its 413 instead of a connection reset.
const DRAIN_LIMIT: usize = 32 * 1024 * 1024;

pub(crate) async fn healthz() -> Response {
    axum::Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response()
}

pub(crate) async fn not_found(request: Request) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no route {} {}: the API is POST /v3/roundtable (also /v3/beta/roundtable) and GET /healthz",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

pub(crate) async fn method_not_allowed(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

/// `POST /v3/roundtable`.
pub(crate) async fn roundtable(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    match accept(&shared, request).await {
        Ok(req) if req.dry_run == Some(true) => estimate(&shared, req).await,
        Ok(req) if req.stream == Some(true) => stream::run(shared, req).await,
        Ok(req) => run(shared, req).await.unwrap_or_else(|e| e.into_response()),
        Err(e) => e.into_response(),
    }
}

/// `"dry_run": true`: the run's cost estimate (typical and worst case), and no
/// call; off the runtime, as it reads the history (each model's median).
async fn estimate(shared: &Shared, req: RoundtableRequest) -> Response {
    match crate::blocking::off_runtime(shared, move |app| app.estimate(&req)).await {
        Ok(e) => axum::Json(e).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Everything before the run (the token was checked before: `guard::bearer`):
/// content type, size, JSON, limits.
///
/// The body may hold the attachments' base64 beyond `server.max_body_bytes`
/// (up to [`crate::run_body_limit`]); the rest of it may not.
async fn accept(shared: &Shared, request: Request) -> Result<RoundtableRequest, ApiError> {
    check_content_type(request.headers())?;
    let limit = shared.max_run_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the body is larger than {limit} bytes: server.max_body_bytes ({}) and room \
                 for the attachments of one run ([limits] max_run_attachment_bytes) as base64",
                shared.max_body_bytes
            ),
        )
        .details(json!({ "limit": limit }))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT.max(limit) as u64) {
        return Err(too_large());
    }
    let mut body = request.into_body().into_data_stream();
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(limit as u64) as usize);
    let mut seen = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("could not read the body: {e}"),
            )
        })?;
        seen += chunk.len();
        if seen > DRAIN_LIMIT.max(limit) {
            return Err(too_large());
        }
        if seen <= limit {
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    let request = parse(&bytes)?;
    let attached: usize = request.attachments.iter().map(|a| a.data.len()).sum();
    let rest = bytes.len().saturating_sub(attached);
    if rest > shared.max_body_bytes {
        let limit = shared.max_body_bytes;
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the body is larger than {limit} bytes (server.max_body_bytes), \
                 attachments apart"
            ),
        )
        .details(json!({ "limit": limit })));
    }
    // Every sample of a model is a call: the limit counts them all.
    let size = request.panel_size();
    if size > shared.max_models {
        return Err(ApiError::invalid(
            Some("models".into()),
            format!(
                "models: {size} models (samples counted), but this server accepts at most {} per request (server.max_models)",
                shared.max_models
            ),
        ));
    }
    Ok(request)
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("?"));
    let essence = value
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        match value {
            Some(v) => format!("Content-Type '{v}' is not JSON: send application/json"),
            None => "no Content-Type: send the request as application/json".to_string(),
        },
    ))
}

/// The body as a request; errors say what is wrong and, when serde knows it,
/// which field (`models[0].temperature`, a missing `input`).
pub(crate) fn parse(bytes: &[u8]) -> Result<RoundtableRequest, ApiError> {
    use serde_json::error::Category;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the body is empty: send a roundtable request as JSON, e.g. {\"input\": \"…\", \"models\": [{\"name\": \"openai/gpt-4.1-mini\"}]}",
        ));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(match serde_json::from_slice::<Value>(bytes) {
            Err(e) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {e}"),
            ),
            Ok(_) => ApiError::invalid(
                None,
                "the body must be a roundtable request, a JSON object with `input` and `models`",
            ),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<RoundtableRequest, _> = serde_path_to_error::deserialize(&mut de);
    let e = match parsed {
        Ok(request) => {
            return match de.end() {
                Ok(()) => Ok(request),
                Err(e) => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("the body is not valid JSON: {e}"),
                )),
            };
        }
        Err(e) => e,
    };
    let inner = e.inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {inner}"),
        )),
        Category::Data => {
            let path = e.path().to_string();
            let path = (path != ".").then_some(path);
            let text = inner.to_string();
            let missing = text
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split_once('`'))
                .map(|(name, _)| name.to_string());
            let field = match (path, missing) {
                (Some(p), Some(m)) => Some(format!("{p}.{m}")),
                (None, Some(m)) => Some(m),
                (p, None) => p,
            };
            let message = match &field {
                Some(f) => format!("{f}: {text}"),
                None => format!(
                    "the body must be a roundtable request, a JSON object with `input` and `models`: {text}"
                ),
            };
            Err(ApiError::invalid(field, message))
        }
    }
}

/// A plain (not streamed) call: the whole response, or an error.
async fn run(shared: Arc<Shared>, request: RoundtableRequest) -> Result<Response, ApiError> {
    let (cancel, task) = spawn_run(&shared, request, ())?;
    // The client gone, hyper drops this future: the run is cancelled, and its task
    // still records it as interrupted.
    let guard = cancel.drop_guard();
    let result = task.await;
    guard.disarm();
    let outcome = result.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the run broke off: {e}"),
        )
    })??;
    match outcome.status {
        RunStatus::Completed => Ok(axum::Json(outcome.response).into_response()),
        RunStatus::Failed => Err(ApiError::no_model_answered(&outcome.response)),
        RunStatus::Interrupted | RunStatus::Running => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "interrupted",
            format!(
                "the server is shutting down: run {} was interrupted (what had arrived is kept in the history)",
                outcome.response.id
            ),
        )
        .details(serde_json::to_value(&outcome.response).unwrap_or(Value::Null))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(body: &str) -> (String, Option<String>, String) {
        let e = parse(body.as_bytes()).unwrap_err();
        let field = e
            .details
            .as_ref()
            .and_then(|d| d["field"].as_str())
            .map(str::to_string);
        (e.code.to_string(), field, e.message)
    }

    #[test]
    fn parse_errors_name_the_field() {
        let (code, f, m) = field(r#"{"models": []}"#);
        assert_eq!(
            (code.as_str(), f.as_deref()),
            ("invalid_request", Some("input"))
        );
        assert!(m.contains("missing field `input`"), "{m}");
        let (_, f, m) =
            field(r#"{"input": "x", "models": [{"name": "a/b", "temperature": "hot"}]}"#);
        assert_eq!(f.as_deref(), Some("models[0].temperature"), "{m}");
        let (_, f, _) = field(r#"{"input": "x", "models": [{}]}"#);
        assert_eq!(f.as_deref(), Some("models[0].name"));
        let (_, f, m) = field(r#"{"input": "x", "models": [], "resolution": "slow"}"#);
        assert_eq!(f.as_deref(), Some("resolution"));
        assert!(m.contains("fast"), "{m}");
        let (code, f, m) = field(r#"[1]"#);
        assert_eq!((code.as_str(), f), ("invalid_request", None));
        assert!(m.contains("JSON object"), "{m}");
        let (code, _, m) = field(r#"{"input": "x", "models": [}"#);
        assert_eq!(code, "invalid_json");
        assert!(m.contains("line 1 column"), "{m}");
        let (code, _, m) = field(r#"{"input": "x", "models": []} x"#);
        assert_eq!(code, "invalid_json", "{m}");
        let (code, _, m) = field("  ");
        assert_eq!(code, "invalid_json");
        assert!(m.contains("empty"), "{m}");
    }
}
