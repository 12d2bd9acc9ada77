//! What a server on this machine is, and what it says it takes at once, asked
//! where each kind says it (all at once, each within [`PROBE_TIMEOUT`]):
//!
//! | kind | asked | calls at once |
//! |---|---|---|
//! | llama.cpp's `llama-server` | `GET /props` | its `total_slots` |
//! | Text Generation Inference | `GET /info` | its `max_concurrent_requests` |
//! | Ollama | `GET /api/version` | no limit: it queues what it cannot run |
//! | LM Studio | `GET /api/v0/models` | no limit: it queues |
//! | vLLM (and SGLang, which answers alike) | `GET /version` | no limit: it batches |
//! | llama-cpp-python | `GET /openapi.json`, titled `llama.cpp Python API` | 1: it serves one, and a new request cuts the stream in flight |
//! | LiteLLM (a gateway) | `GET /openapi.json`, titled `LiteLLM API` | no limit |
//! | anything else | | no limit, until a cut stream teaches one (`slots/mod.rs`) |
//!
//! Extending it: a new kind is a variant of [`ServerKind`], a probe in
//! [`probe`], and a row above and in the README.

use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How long a server's word on itself is waited for.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The most of a probe's answer read.
const MAX_PROBE_BYTES: usize = 256 * 1024;

/// What a provider's server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    LlamaCpp,
    LlamaCppPython,
    Tgi,
    Ollama,
    LmStudio,
    Vllm,
    Litellm,
    /// A server on this machine that said nothing we know.
    Unknown,
    /// Not on this machine: a hosted API.
    Remote,
}

impl ServerKind {
    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            ServerKind::LlamaCpp => "llama.cpp server",
            ServerKind::LlamaCppPython => "llama-cpp-python",
            ServerKind::Tgi => "Text Generation Inference",
            ServerKind::Ollama => "Ollama",
            ServerKind::LmStudio => "LM Studio",
            ServerKind::Vllm => "vLLM",
            ServerKind::Litellm => "LiteLLM gateway",
            ServerKind::Unknown => "unknown server",
            ServerKind::Remote => "hosted API",
        }
    }
}

/// What a probe found: the kind, and the calls at once it said (`None`: no
/// limit of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub kind: ServerKind,
    pub limit: Option<usize>,
    /// Whether the server said the number itself (else it is known of its kind).
    pub said: bool,
}

/// Asks the server at `base_url` what it is.
pub(super) async fn probe(http: &reqwest::Client, base_url: &str) -> Found {
    let base = base_url.trim_end_matches('/');
    let root = base.strip_suffix("/v1").unwrap_or(base);
    let get = |url: String| ask(http, url);
    // Paths a server describes itself on, never the ones a run uses.
    let (props, info, ollama, lmstudio, version, openapi) = tokio::join!(
        get(format!("{root}/props")),
        get(format!("{root}/info")),
        get(format!("{root}/api/version")),
        get(format!("{root}/api/v0/models")),
        get(format!("{root}/version")),
        get(format!("{root}/openapi.json")),
    );
    let number = |v: &Option<Value>, field: &str| {
        let n = v.as_ref()?.get(field)?.as_u64()?;
        usize::try_from(n)
            .ok()
            .filter(|n| (1..=super::gate::UNLIMITED).contains(n))
    };
    let has_string = |v: &Option<Value>, field: &str| {
        v.as_ref()
            .is_some_and(|v| v.get(field).is_some_and(Value::is_string))
    };
    let title = openapi
        .as_ref()
        .and_then(|v| v["info"]["title"].as_str())
        .unwrap_or_default();
    let lm_studio = lmstudio.as_ref().is_some_and(|v| {
        v["data"]
            .as_array()
            .is_some_and(|d| d.iter().any(|m| m.get("state").is_some()))
    });
    let (kind, limit, said) = if let Some(n) = number(&props, "total_slots") {
        (ServerKind::LlamaCpp, Some(n), true)
    } else if let Some(n) = number(&info, "max_concurrent_requests") {
        (ServerKind::Tgi, Some(n), true)
    } else if has_string(&ollama, "version") {
        (ServerKind::Ollama, None, false)
    } else if lm_studio {
        (ServerKind::LmStudio, None, false)
    } else if title.contains("llama.cpp Python") {
        (ServerKind::LlamaCppPython, Some(1), false)
    } else if title.contains("LiteLLM") {
        (ServerKind::Litellm, None, false)
    } else if has_string(&version, "version") {
        (ServerKind::Vllm, None, false)
    } else {
        (ServerKind::Unknown, None, false)
    };
    Found { kind, limit, said }
}

/// The JSON `url` answers with, if it gave one in time.
async fn ask(http: &reqwest::Client, url: String) -> Option<Value> {
    let mut response = http.get(url).timeout(PROBE_TIMEOUT).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let mut body = Vec::new();
    let read = async {
        while let Some(chunk) = response.chunk().await.ok()? {
            if body.len() + chunk.len() > MAX_PROBE_BYTES {
                return None;
            }
            body.extend_from_slice(&chunk);
        }
        Some(())
    };
    tokio::time::timeout(PROBE_TIMEOUT, read).await.ok()??;
    serde_json::from_slice(&body).ok()
}
