//! Work over the app that reads the history (a lock, SQLite), run off the
//! async runtime so a busy history never holds up a worker: the extensions'
//! GETs (spend, budget, leaderboard) and the dry run's estimate.

use crate::Shared;
use crate::error::ApiError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roundtable_app::{App, AppError};
use serde::Serialize;
use std::sync::Arc;

/// `f(app)` on tokio's blocking pool.
pub(crate) async fn off_runtime<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, ApiError> {
    let app = Arc::clone(&shared.app);
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the request broke off: {e}"),
            )
        })?
        .map_err(ApiError::from)
}

/// A request answered with `f(app)` as JSON.
pub(crate) async fn json<T: Serialize + Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Response {
    match off_runtime(shared, f).await {
        Ok(out) => Json(out).into_response(),
        Err(e) => e.into_response(),
    }
}
