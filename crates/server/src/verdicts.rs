//! Our extensions beside the contract: a judge model's ranking of a stored run
//! (`POST /v3/roundtable/{id}/judge`) and the private leaderboard
//! (`GET /v3/roundtable/leaderboard`), as the CLI's `judge` and `leaderboard`.

use crate::Shared;
use crate::error::ApiError;
use crate::spawn::spawn_tracked;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roundtable_app::store::VerdictSource;
use roundtable_app::{AppError, Code, LeaderboardQuery};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JudgeBody {
    model: String,
}

/// `POST /v3/roundtable/{id}/judge` with `{"model": "provider/model"}`.
pub(crate) async fn judge(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let work = async {
        let JudgeBody { model } = serde_json::from_slice(&body).map_err(|e| {
            ApiError::invalid(
                Some("model".into()),
                format!("the body must be {{\"model\": \"provider/model\"}}: {e}"),
            )
        })?;
        // A slot like a run's, waited for when the server stops; the client
        // gone, the judge's call is cancelled.
        let (cancel, task) = spawn_tracked(&shared, move |app, token| async move {
            app.judge(&id, &model, token).await
        })?;
        let guard = cancel.drop_guard();
        let result = task.await;
        guard.disarm();
        let judged = result
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("the judge's call broke off: {e}"),
                )
            })?
            .map_err(judge_error)?;
        Ok::<_, ApiError>(Json(judged).into_response())
    };
    work.await.unwrap_or_else(IntoResponse::into_response)
}

/// A judge that failed is the provider's failure: 502, as when no model answered.
fn judge_error(e: AppError) -> ApiError {
    match e.code {
        Code::JudgeFailed => ApiError::new(StatusCode::BAD_GATEWAY, "judge_failed", e.message),
        _ => e.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoardParams {
    source: Option<VerdictSource>,
    since_ms: Option<i64>,
    tag: Option<String>,
    /// Comma-separated model names.
    panel: Option<String>,
    judge_model: Option<String>,
}

/// `GET /v3/roundtable/leaderboard?source=votes|judges&since_ms=&tag=&panel=a,b&judge_model=`.
pub(crate) async fn leaderboard(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<BoardParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let work = async {
        let Query(p) = params.map_err(|e| ApiError::invalid(None, e.body_text()))?;
        let query = LeaderboardQuery {
            source: p.source.unwrap_or_default(),
            since_ms: p.since_ms,
            tag: p.tag,
            panel: p.panel.map(|s| {
                s.split(',')
                    .map(|m| m.trim().to_string())
                    .filter(|m| !m.is_empty())
                    .collect()
            }),
            judge_model: p.judge_model,
        };
        let board =
            crate::blocking::off_runtime(&shared, move |app| app.leaderboard(&query)).await?;
        Ok::<_, ApiError>(Json(board).into_response())
    };
    work.await.unwrap_or_else(IntoResponse::into_response)
}
