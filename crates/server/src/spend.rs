//! Spend over the local API, as the CLI's `stats` and `budget`:
//! `GET /v3/roundtable/stats?since_ms=&until_ms=&utc_offset_minutes=` (every
//! figure of the Usage view) and `GET /v3/roundtable/budget` (spent today and
//! this month against `[budget]`, with its state and warning). A run refused by
//! the budget is a 402 `budget_exceeded` (see `error.rs`).

use crate::Shared;
use crate::error::ApiError;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use roundtable_app::store::SpendQuery;
use std::sync::Arc;

/// `GET /v3/roundtable/stats`.
pub(crate) async fn stats(
    State(shared): State<Arc<Shared>>,
    params: Result<Query<SpendQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match params {
        Ok(Query(q)) => crate::blocking::json(&shared, move |app| app.spend_stats(&q)).await,
        Err(e) => ApiError::invalid(None, e.body_text()).into_response(),
    }
}

/// `GET /v3/roundtable/budget`.
pub(crate) async fn budget(State(shared): State<Arc<Shared>>) -> Response {
    crate::blocking::json(&shared, |app| app.budget_status()).await
}
