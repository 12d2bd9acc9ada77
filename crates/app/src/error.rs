//! Errors at the app boundary: [`AppError`], what every use case returns and
//! every host shows or maps (the CLI's message and exit code, the local API's
//! `{"error": {code, message, details}}`, the desktop's IPC error), and how
//! the errors of config, store, keychain and validation become one.

use crate::config;
use crate::keys::KeychainError;
use roundtable_core::ValidationError;
use serde::Serialize;

/// What kind of error an [`AppError`] is: the one list hosts branch on (the
/// CLI's exit status, the local API's status, the window's hints). Add a code
/// only where a host branches on it; the message says the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// A request or a value the user gave is not valid; `field` names it.
    InvalidRequest,
    /// No such run in the history.
    NotFound,
    /// `config.toml` or a price file could not be read, checked or written.
    Config,
    /// The history database failed.
    Storage,
    /// The OS keychain failed or is not available.
    Keychain,
    /// A model names a provider that is not configured.
    UnknownProvider,
    /// A bug or a broken-off task.
    Internal,
    /// A file could not be read or written.
    Io,
    /// The local API could not start or stop.
    LocalApi,
    /// The local API's port is taken by another program.
    PortInUse,
    /// The system refused the local API's port.
    PortDenied,
    /// A judge model's call failed or its ranking could not be read.
    JudgeFailed,
    /// A daily or monthly budget (`[budget]`) is spent and not soft: the run
    /// was refused; the message names the budget and the figures.
    BudgetExceeded,
}

impl Code {
    /// Its name on the wire (`invalid_request`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "invalid_request",
            Code::NotFound => "not_found",
            Code::Config => "config",
            Code::Storage => "storage",
            Code::Keychain => "keychain",
            Code::UnknownProvider => "unknown_provider",
            Code::Internal => "internal",
            Code::Io => "io",
            Code::LocalApi => "local_api",
            Code::PortInUse => "port_in_use",
            Code::PortDenied => "port_denied",
            Code::JudgeFailed => "judge_failed",
            Code::BudgetExceeded => "budget_exceeded",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error at the app boundary: a stable `code` hosts may branch on, and a
/// message for people.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{message}")]
pub struct AppError {
    pub code: Code,
    pub message: String,
    /// For `invalid_request`: the offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            field: None,
        }
    }

    pub(crate) fn not_found(id: &str) -> Self {
        AppError::new(
            Code::NotFound,
            format!("no run {id} in the history (see `roundtable history list`)"),
        )
    }
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError {
            code: Code::InvalidRequest,
            message: e.to_string(),
            field: Some(e.field),
        }
    }
}

impl From<config::ConfigError> for AppError {
    fn from(e: config::ConfigError) -> Self {
        AppError::new(Code::Config, e.to_string())
    }
}

impl From<roundtable_store::Error> for AppError {
    fn from(e: roundtable_store::Error) -> Self {
        match e {
            roundtable_store::Error::NotFound(id) => AppError::not_found(&id),
            e @ roundtable_store::Error::Import(_) => {
                AppError::new(Code::InvalidRequest, e.to_string())
            }
            e @ roundtable_store::Error::InvalidVote(_) => AppError {
                field: Some("ranking".into()),
                ..AppError::new(Code::InvalidRequest, e.to_string())
            },
            roundtable_store::Error::InvalidAttachment { field, message } => AppError {
                message: format!("{field}: {message}"),
                field: Some(field),
                ..AppError::new(Code::InvalidRequest, "")
            },
            e @ (roundtable_store::Error::AttachmentMissing { .. }
            | roundtable_store::Error::AttachmentUnstored(_)) => {
                AppError::new(Code::NotFound, e.to_string())
            }
            other => AppError::new(Code::Storage, other.to_string()),
        }
    }
}

impl From<KeychainError> for AppError {
    fn from(e: KeychainError) -> Self {
        AppError::new(Code::Keychain, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_codes_wire_name_is_its_serde_name() {
        for code in [
            Code::InvalidRequest,
            Code::NotFound,
            Code::Config,
            Code::Storage,
            Code::Keychain,
            Code::UnknownProvider,
            Code::JudgeFailed,
            Code::Internal,
            Code::Io,
            Code::LocalApi,
            Code::PortInUse,
            Code::PortDenied,
            Code::BudgetExceeded,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        let e = serde_json::to_value(AppError::new(Code::PortInUse, "taken")).unwrap();
        assert_eq!(e["code"], "port_in_use");
    }
}
