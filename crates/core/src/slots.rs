//! How many calls a provider takes at once. Local servers have few slots
//! (llama.cpp's `--parallel`, Ollama's `OLLAMA_NUM_PARALLEL`, LM Studio's
//! queue) and some abort the stream in flight when another request comes, so a
//! model over its provider's limit waits its turn, said with
//! [`RunEvent::ModelQueued`](crate::RunEvent::ModelQueued).
//!
//! The limit: the provider's `max_concurrency` when set; else, for a server on
//! this machine, what the server says of itself (llama.cpp's `GET /props`
//! `total_slots`), else [`DEFAULT_LOCAL_CONCURRENCY`]; a remote provider has
//! none. It is settled at a provider's first call and shared by every run of
//! the engine.

use crate::provider::Provider;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio_util::sync::CancellationToken;

/// A local server's calls at once, when neither the config nor the server says.
pub const DEFAULT_LOCAL_CONCURRENCY: usize = 1;
/// How long the server's own word on its slots is waited for.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Each provider's slots, settled at its first call.
#[derive(Default)]
pub(crate) struct Slots {
    by_provider: HashMap<String, OnceCell<Option<Arc<Semaphore>>>>,
}

/// A call's place: `permit` is held for as long as the call runs.
pub(crate) struct Slot {
    pub _permit: Option<OwnedSemaphorePermit>,
    /// Whether the call had to wait for it.
    pub waited: bool,
}

impl Slot {
    /// A call that needs no slot.
    pub fn free() -> Self {
        Slot {
            _permit: None,
            waited: false,
        }
    }
}

impl Slots {
    pub fn new<'a>(providers: impl Iterator<Item = &'a Provider>) -> Self {
        Slots {
            by_provider: providers.map(|p| (p.id.clone(), OnceCell::new())).collect(),
        }
    }

    /// A slot of `provider`, once one is free; `on_queued` is called first when
    /// the call has to wait. `None` when cancelled while waiting.
    pub async fn acquire(
        &self,
        http: &reqwest::Client,
        provider: &Provider,
        cancel: &CancellationToken,
        on_queued: impl FnOnce(),
    ) -> Option<Slot> {
        let Some(cell) = self.by_provider.get(&provider.id) else {
            return Some(Slot::free());
        };
        let semaphore = cell
            .get_or_init(|| async {
                limit(http, provider)
                    .await
                    .map(|n| Arc::new(Semaphore::new(n.max(1))))
            })
            .await;
        let Some(semaphore) = semaphore.clone() else {
            return Some(Slot::free());
        };
        match semaphore.clone().try_acquire_owned() {
            Ok(permit) => {
                return Some(Slot {
                    _permit: Some(permit),
                    waited: false,
                });
            }
            Err(TryAcquireError::Closed) => unreachable!("the semaphore is never closed"),
            Err(TryAcquireError::NoPermits) => on_queued(),
        }
        tokio::select! {
            biased;
            _ = cancel.cancelled() => None,
            permit = semaphore.acquire_owned() => Some(Slot {
                _permit: permit.ok(),
                waited: true,
            }),
        }
    }
}

/// The provider's limit, `None` for none.
async fn limit(http: &reqwest::Client, provider: &Provider) -> Option<usize> {
    if let Some(n) = provider.max_concurrency {
        return Some(n);
    }
    if !provider.local {
        return None;
    }
    Some(
        server_slots(http, &provider.base_url)
            .await
            .unwrap_or(DEFAULT_LOCAL_CONCURRENCY),
    )
}

/// llama.cpp's `llama-server` says how many requests it serves at once.
async fn server_slots(http: &reqwest::Client, base_url: &str) -> Option<usize> {
    let base = base_url.trim_end_matches('/');
    let root = base.strip_suffix("/v1").unwrap_or(base);
    let response = http
        .get(format!("{root}/props"))
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: serde_json::Value = response.json().await.ok()?;
    let n = body.get("total_slots")?.as_u64()?;
    usize::try_from(n).ok().filter(|n| (1..=256).contains(n))
}
