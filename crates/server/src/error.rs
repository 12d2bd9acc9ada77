//! Error responses: `{"error": {"code", "message", "details"}}` with a status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roundtable_app::core::{ErrorBody, ErrorDetail, RoundtableResponse};
use roundtable_app::{AppError, Code};
use serde_json::{Value, json};

#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// 400 naming `field` (also in `details.field`).
    pub fn invalid(field: Option<String>, message: impl Into<String>) -> Self {
        ApiError {
            details: field.map(|f| json!({ "field": f })),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
        }
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// No model answered: 502, every model's failure in `details` (the whole response).
    pub fn no_model_answered(response: &RoundtableResponse) -> Self {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "no_model_answered",
            no_model_answered_message(response),
        )
        .details(serde_json::to_value(response).unwrap_or(Value::Null))
    }
}

/// `no model answered: fake/a: HTTP 500: … (2 attempts); fake/b: …`.
pub(crate) fn no_model_answered_message(response: &RoundtableResponse) -> String {
    let failures: Vec<String> = response
        .model_results
        .iter()
        .map(|r| {
            format!(
                "{} (models[{}]): {}",
                r.model,
                r.index,
                r.error.as_deref().unwrap_or("no answer")
            )
        })
        .collect();
    format!("no model answered: {}", failures.join("; "))
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e.code {
            Code::InvalidRequest => ApiError::invalid(e.field, e.message),
            Code::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.message),
            // A daily or monthly budget is spent: pay (raise it) to go on.
            Code::BudgetExceeded => {
                ApiError::new(StatusCode::PAYMENT_REQUIRED, "budget_exceeded", e.message)
            }
            code => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code.as_str(), e.message),
        }
    }
}

impl ApiError {
    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        }
    }

    /// The body as JSON text, for answers written outside axum.
    pub fn body_json(&self) -> String {
        serde_json::to_string(&self.body()).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.code == "busy" {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"roundtable\""),
            );
        }
        response
    }
}
