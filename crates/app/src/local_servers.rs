//! Local OpenAI-compatible servers: which answer on this machine, their
//! models, and what each is and takes at once (`roundtable_core::slots`). The
//! desktop lists them (Settings, suggestions, the first-start offer) and
//! `roundtable providers` says whether each is running.

use crate::App;
use roundtable_core::slots::Concurrency;
use roundtable_core::{Provider, WireFormat};
use serde::Serialize;
use std::time::Duration;

/// A local server probed with `GET {base_url}/models`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LocalServer {
    /// The provider id models are named with (`ollama/llama3.2`).
    pub provider: String,
    pub name: String,
    pub base_url: String,
    pub reachable: bool,
    pub models: Vec<String>,
    /// Why it did not answer, or answered something else than a model list.
    pub error: Option<String>,
    /// What the server is and how many calls it takes at once, and why: set,
    /// said by the server, known of its kind, or learned (a running server's).
    pub concurrency: Option<Concurrency>,
    /// The same for people: `llama.cpp server: 4 at once (said by the server)`.
    pub concurrency_note: Option<String>,
}

impl App {
    /// The local servers of the configured providers ([`detect`]), each
    /// running one with its kind and calls at once as the engine settles them
    /// (asked now if no run has yet; what a run learned since shows).
    pub async fn local_servers(&self) -> Vec<LocalServer> {
        let providers = self.providers_now();
        let engine = providers.engine.clone();
        let mut servers = detect(&providers.list).await;
        let mut set = tokio::task::JoinSet::new();
        for (i, s) in servers.iter().enumerate().filter(|(_, s)| s.reachable) {
            let (engine, id) = (engine.clone(), s.provider.clone());
            set.spawn(async move { (i, engine.concurrency(&id).await) });
        }
        for (i, concurrency) in set.join_all().await {
            servers[i].concurrency_note = concurrency.as_ref().map(Concurrency::describe);
            servers[i].concurrency = concurrency;
        }
        servers
    }
}

const TIMEOUT: Duration = Duration::from_millis(1500);

/// Probes, in parallel, every local provider speaking the OpenAI format: Ollama
/// (127.0.0.1:11434) and LM Studio (127.0.0.1:1234) by default, and any local
/// provider of config.toml.
pub async fn detect(providers: &[Provider]) -> Vec<LocalServer> {
    let client = match reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_millis(500))
        .timeout(TIMEOUT)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "no HTTP client for local servers");
            return Vec::new();
        }
    };
    let mut seen = std::collections::HashSet::new();
    let candidates: Vec<&Provider> = providers
        .iter()
        .filter(|p| p.local && p.format == WireFormat::Openai)
        .filter(|p| seen.insert(p.base_url.trim_end_matches('/').to_string()))
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for (i, p) in candidates.into_iter().enumerate() {
        let (client, p) = (client.clone(), p.clone());
        set.spawn(async move { (i, probe(&client, &p).await) });
    }
    let mut found: Vec<(usize, LocalServer)> = set.join_all().await;
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().map(|(_, s)| s).collect()
}

async fn probe(client: &reqwest::Client, p: &Provider) -> LocalServer {
    let base = p.base_url.trim_end_matches('/').to_string();
    let mut server = LocalServer {
        provider: p.id.clone(),
        name: p.name.clone(),
        base_url: base.clone(),
        reachable: false,
        models: Vec::new(),
        error: None,
        concurrency: None,
        concurrency_note: None,
    };
    let response = match client.get(format!("{base}/models")).send().await {
        Ok(r) => r,
        Err(e) => {
            server.error = Some(if e.is_connect() {
                "not running (nothing listens there)".to_string()
            } else if e.is_timeout() {
                "no answer in time".to_string()
            } else {
                e.to_string()
            });
            return server;
        }
    };
    server.reachable = true;
    if !response.status().is_success() {
        server.error = Some(format!("answered HTTP {}", response.status()));
        return server;
    }
    match response.json::<serde_json::Value>().await {
        Ok(body) => {
            server.models = body["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect();
        }
        Err(e) => server.error = Some(format!("not a model list: {e}")),
    }
    server
}

#[cfg(test)]
mod tests {
    use super::*;
    use roundtable_testkit::{Behavior, FakeProvider, Script};

    fn local(id: &str, base_url: &str) -> Provider {
        Provider {
            local: true,
            ..Provider::new(id, WireFormat::Openai, base_url)
        }
    }

    #[tokio::test]
    async fn lists_the_models_of_running_servers_and_says_which_are_not() {
        let fake = FakeProvider::start(
            Script::new()
                .model("llama3.2", Behavior::answer("hi"))
                .model("qwen3", Behavior::answer("hi")),
        )
        .await
        .unwrap();
        // A port nothing listens on: bind one, then free it.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_url = format!("http://{}/v1", closed.local_addr().unwrap());
        drop(closed);
        let mut remote = local("openai", "https://api.openai.com/v1");
        remote.local = false;
        let found = detect(&[
            local("fake", &fake.openai_base_url()),
            local("dup", &format!("{}/", fake.openai_base_url())),
            local("gone", &closed_url),
            remote,
        ])
        .await;
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].provider, "fake");
        assert!(found[0].reachable && found[0].error.is_none());
        let mut models = found[0].models.clone();
        models.sort();
        assert_eq!(models, ["llama3.2", "qwen3"]);
        assert_eq!(found[1].provider, "gone");
        assert!(!found[1].reachable);
        assert!(found[1].error.as_deref().unwrap().contains("not running"));
        fake.shutdown().await;
    }
}
