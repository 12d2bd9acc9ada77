//! Which local server the fake passes for ([`Identity`]), on the paths each
//! kind answers about itself: what Roundtable's detection of a local server's
//! kind and slots (`roundtable_core::slots`) asks.

use crate::server::{Shared, model_names, not_found};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// A local server the fake can pass for, by what each answers about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// llama.cpp's `llama-server`: `GET /props` with `total_slots` (its `slots`, else 1).
    LlamaServer,
    /// llama-cpp-python: `GET /openapi.json` titled `🦙 llama.cpp Python API`
    /// (FastAPI's), and its models `owned_by: "me"`.
    LlamaCppPython,
    /// Ollama: `GET /api/version`.
    Ollama,
    /// LM Studio: `GET /api/v0/models` with each model's `state`.
    LmStudio,
    /// vLLM: `GET /version`.
    Vllm,
    /// Text Generation Inference: `GET /info` with `max_concurrent_requests` (its `slots`, else 128).
    Tgi,
    /// A LiteLLM gateway: `GET /openapi.json` titled `LiteLLM API`.
    Litellm,
    /// None of these: a server that says nothing of itself.
    Unknown,
}

/// llama.cpp's `GET /props`: how many slots the server has, when it passes
/// for llama.cpp's server (or has slots and no other identity).
pub(crate) async fn props(State(shared): State<Arc<Shared>>) -> Response {
    let script = shared.script();
    match (script.identity, script.slots) {
        (Some(Identity::LlamaServer), n) | (None, n @ Some(_)) => {
            axum::Json(serde_json::json!({"total_slots": n.unwrap_or(1)})).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// What the other kinds of server say of themselves, each on its own path.
pub(crate) async fn answer(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let script = shared.script();
    let body = match (script.identity, uri.path()) {
        (Some(Identity::Tgi), "/info") => serde_json::json!({
            "model_id": "fake",
            "max_concurrent_requests": script.slots.unwrap_or(128),
        }),
        (Some(Identity::Ollama), "/api/version") => serde_json::json!({"version": "0.12.0"}),
        (Some(Identity::LmStudio), "/api/v0/models") => {
            let data: Vec<Value> = model_names(&script)
                .into_iter()
                .map(|id| serde_json::json!({"id": id, "type": "llm", "state": "loaded"}))
                .collect();
            serde_json::json!({"object": "list", "data": data})
        }
        (Some(Identity::Vllm), "/version") => serde_json::json!({"version": "0.11.0"}),
        (Some(Identity::LlamaCppPython), "/openapi.json") => {
            serde_json::json!({"openapi": "3.1.0", "info": {"title": "🦙 llama.cpp Python API", "version": "0.3.16"}})
        }
        (Some(Identity::Litellm), "/openapi.json") => {
            serde_json::json!({"openapi": "3.1.0", "info": {"title": "LiteLLM API", "version": "1.77.0"}})
        }
        _ => return not_found(uri).await,
    };
    axum::Json(body).into_response()
}
