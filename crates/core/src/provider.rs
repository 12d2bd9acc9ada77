//! A provider as the engine sees it: where its calls go, in which wire format,
//! with which key, and how many at once. Hosts build these from their own
//! configuration (`roundtable-app`'s `config.toml`); the engine and its slots
//! read them.

use crate::providers::{Dialect, WireFormat};
use crate::secret::ApiKey;

/// How a provider's key stands.
#[derive(Debug, Clone)]
pub enum ProviderKey {
    Key(ApiKey),
    /// A local server that needs none.
    NotNeeded,
    /// No key; `hint` tells the user how to set one.
    Missing {
        hint: String,
    },
}

/// A provider as the engine sees it: where to send calls, in which format, with
/// which key.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub id: String,
    pub format: WireFormat,
    pub base_url: String,
    pub dialect: Dialect,
    pub key: ProviderKey,
    /// Extra headers sent with every call (e.g. OpenRouter's `HTTP-Referer`).
    pub headers: Vec<(String, String)>,
    /// Whether to stream answers (some servers cannot).
    pub stream: bool,
    /// A server on this machine: its models cost nothing.
    pub local: bool,
    /// How many calls it takes at once; `None`: see [`crate::slots`].
    pub max_concurrency: Option<usize>,
}
