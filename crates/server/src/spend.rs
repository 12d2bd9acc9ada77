//! Spend over the local API, as the CLI's `stats` and `budget`:
//! `GET /v3/roundtable/stats?since_ms=&until_ms=&utc_offset_minutes=` (every
//! figure of the Usage view) and `GET /v3/roundtable/budget` (spent today and
//! this month against `[budget]`, with its state and warning). A run refused by
//! the budget is a 402 `budget_exceeded` (see `error.rs`).

use crate::Shared;
use crate::error::ApiError;
use crate::guard::authorize;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use roundtable_app::store::SpendQuery;
use roundtable_app::{App, AppError};
use serde::Serialize;
use std::sync::Arc;

/// `f(app)` off the async runtime (it reads the history), as JSON.
async fn blocking<T: Serialize + Send + 'static>(
    shared: &Shared,
    headers: &HeaderMap,
    f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Response {
    let work = async {
        authorize(headers, shared.token.expose())?;
        let app = Arc::clone(&shared.app);
        let out = tokio::task::spawn_blocking(move || f(&app))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("the spend figures broke off: {e}"),
                )
            })??;
        Ok::<_, ApiError>(Json(out).into_response())
    };
    work.await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /v3/roundtable/stats`.
pub(crate) async fn stats(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    params: Result<Query<SpendQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match params {
        Ok(Query(q)) => blocking(&shared, &headers, move |app| app.spend_stats(&q)).await,
        Err(e) => ApiError::invalid(None, e.body_text()).into_response(),
    }
}

/// `GET /v3/roundtable/budget`.
pub(crate) async fn budget(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    blocking(&shared, &headers, |app| app.budget_status()).await
}
