//! Errors at the app boundary: [`AppError`], what every use case returns and
//! every host shows or maps (the CLI's message and exit code, the local API's
//! `{"error": {code, message, details}}`, the desktop's IPC error), and how
//! the errors of config, store, keychain and validation become one.

use crate::config;
use crate::keys::KeychainError;
use roundtable_core::ValidationError;
use serde::Serialize;

/// An error at the app boundary: a stable `code` hosts may branch on, and a
/// message for people.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{message}")]
pub struct AppError {
    /// `invalid_request`, `not_found`, `config`, `storage`, `keychain`, `unknown_provider`.
    pub code: &'static str,
    pub message: String,
    /// For `invalid_request`: the offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub(crate) fn not_found(id: &str) -> Self {
        AppError::new(
            "not_found",
            format!("no run {id} in the history (see `roundtable history list`)"),
        )
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError {
            code: "invalid_request",
            message: e.to_string(),
            field: Some(e.field),
        }
    }
}

impl From<config::ConfigError> for AppError {
    fn from(e: config::ConfigError) -> Self {
        AppError::new("config", e.to_string())
    }
}

impl From<roundtable_store::Error> for AppError {
    fn from(e: roundtable_store::Error) -> Self {
        match e {
            roundtable_store::Error::NotFound(id) => AppError::not_found(&id),
            other => AppError::new("storage", other.to_string()),
        }
    }
}

impl From<KeychainError> for AppError {
    fn from(e: KeychainError) -> Self {
        AppError::new("keychain", e.to_string())
    }
}
