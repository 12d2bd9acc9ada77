//! A provider: where its calls go, in which wire format and dialect, whether it
//! runs on this machine, and how many calls it takes at once. [`Provider`] is
//! the one type for it: the built-in table ([`builtins`]) is made of them, a
//! host's configuration resolves into them (`roundtable-app`'s `config.toml`),
//! people see them (`roundtable providers`, Settings), and the engine and its
//! slots read them. Keys are not part of it: the host looks them up per run and
//! hands them to the engine apart ([`ProviderKey`], `Engine::with_keys`).
//!
//! Extending it: a new built-in is a row of the table in `builtin.rs`; a new
//! setting is a field here (serialised for hosts unless it is a secret), its
//! default in [`Provider::new`], and its `config.toml` spelling in the app's
//! `ProviderEntry`.

mod builtin;

pub use builtin::{builtin, builtins};

use crate::providers::{Dialect, WireFormat};
use crate::secret::ApiKey;
use serde::Serialize;
use std::collections::BTreeMap;

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

/// A provider: where to send calls, in which format, and how.
// Only the two fields with `///` comments carry them: ts-rs copies them into
// the desktop's TypeScript declarations (`ProviderStatus.ts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Provider {
    // The id models are named with (`openai` in `openai/gpt-4.1-mini`).
    pub id: String,
    // Its name for people (`Google Gemini`).
    pub name: String,
    pub format: WireFormat,
    pub base_url: String,
    pub dialect: Dialect,
    /// Extra request headers. Their values may be credentials (a gateway's
    /// `Authorization`), so only their names are ever serialised.
    #[serde(rename = "header_names", serialize_with = "header_names")]
    #[cfg_attr(feature = "ts", ts(rename = "header_names", as = "Vec<String>"))]
    pub headers: BTreeMap<String, String>,
    // Whether to stream answers (some servers cannot).
    pub stream: bool,
    // A server on this machine: no key needed, its models cost nothing.
    pub local: bool,
    /// Calls at once, as configured; `None`: the engine's default (see
    /// `roundtable_core::slots`).
    pub max_concurrency: Option<usize>,
    // One of the built-in table's (perhaps with the user's overrides).
    pub builtin: bool,
}

impl Provider {
    /// A provider of the user's own speaking `format` at `base_url`: named by
    /// its id, a compatible server (see [`Dialect`]), streaming, no extra headers,
    /// local when `base_url` is a loopback address, the engine's default
    /// concurrency.
    pub fn new(id: impl Into<String>, format: WireFormat, base_url: impl Into<String>) -> Self {
        let id = id.into();
        let base_url = base_url.into();
        Provider {
            name: id.clone(),
            local: is_loopback_url(&base_url),
            id,
            format,
            base_url,
            dialect: Dialect::Compatible,
            headers: BTreeMap::new(),
            stream: true,
            max_concurrency: None,
            builtin: false,
        }
    }
}

fn header_names<S: serde::Serializer>(
    headers: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(headers.keys())
}

/// Whether a base URL points at this machine.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
