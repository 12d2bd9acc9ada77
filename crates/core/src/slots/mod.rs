//! How many calls a provider takes at once. A model over its provider's limit
//! waits its turn, said with [`RunEvent::ModelQueued`](crate::RunEvent::ModelQueued).
//!
//! The limit, settled at a provider's first call (or when a host asks,
//! [`Slots::concurrency`]) and shared by every run of the engine:
//! - the provider's `max_concurrency` when set ([`LimitSource::Set`]);
//! - none for a hosted API;
//! - for a server on this machine, what it is and what it says of itself
//!   ([`detect`]): llama.cpp's slots, TGI's limit ([`LimitSource::Server`]),
//!   none for the servers that queue or batch themselves (Ollama, LM Studio,
//!   vLLM, a gateway), one for llama-cpp-python ([`LimitSource::Kind`]), and
//!   none for a server we do not know ([`LimitSource::Default`]): a panel is
//!   sent in parallel unless something says otherwise.
//!
//! Then it is learned ([`LimitSource::Learned`]): a local server's stream that
//! breaks off, or ends with no finish reason, while another request to it was
//! sent is taken for a server that cut it to serve the newer one
//! (llama-cpp-python ends a cut stream with `[DONE]` and no finish reason); the
//! provider's limit drops below the calls it had in flight for the life of the
//! process, and the cut call waits for a place and is sent again, not counted
//! as a retry (see `engine/call.rs`).
//!
//! Extending it: a new kind of server is a probe in `detect.rs`.

mod detect;
mod gate;

pub use detect::ServerKind;

use crate::provider::Provider;
use gate::{Gate, Permit, UNLIMITED};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

/// Where a provider's limit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// `max_concurrency` in the configuration.
    Set,
    /// The server said how many it serves.
    Server,
    /// Known of servers of its kind.
    Kind,
    /// Learned from a stream the server cut when another request came.
    Learned,
    /// Nothing said: the panel goes in parallel.
    Default,
}

/// A provider's calls at once, as settled now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Concurrency {
    pub kind: ServerKind,
    /// `None`: no limit, every model of a panel at once.
    pub limit: Option<usize>,
    pub source: LimitSource,
}

impl Concurrency {
    /// For people: `llama.cpp server: 4 at once (said by the server)`.
    pub fn describe(&self) -> String {
        let at_once = match self.limit {
            Some(n) => format!("{n} at once"),
            None => "in parallel".to_string(),
        };
        let why = match self.source {
            LimitSource::Set => "set in config.toml",
            LimitSource::Server => "said by the server",
            LimitSource::Kind => "known of its kind",
            LimitSource::Learned => "learned: it cut a stream when another request came",
            LimitSource::Default => "nothing says otherwise",
        };
        format!("{}: {at_once} ({why})", self.kind.label())
    }
}

/// A provider's settled state: how it stands, and its gate (`None`: no limit
/// and nothing to learn, a hosted API).
struct Settled {
    concurrency: Mutex<Concurrency>,
    gate: Option<Arc<Gate>>,
}

/// What became of a call whose stream ended before its answer did.
pub(crate) enum Requeue {
    /// Not cut for another request: a failure as any other.
    NotCut,
    /// Cut, and its slot has a place again: send it again.
    SendAgain,
    Cancelled,
    /// The call's time ran out while it waited for a place.
    TimedOut,
}

/// Each provider's slots, settled at its first call.
#[derive(Default)]
pub(crate) struct Slots {
    by_provider: HashMap<String, OnceCell<Settled>>,
}

/// A call's place: held for as long as the call runs.
pub(crate) struct Slot {
    settled: Option<(Arc<Gate>, Permit)>,
    /// Whether the call had to wait for it.
    pub waited: bool,
}

impl Slot {
    /// A call that needs no slot.
    pub fn free() -> Self {
        Slot {
            settled: None,
            waited: false,
        }
    }

    /// Counts a request about to go out through this slot's provider; `None`
    /// when the provider has no gate.
    pub fn sending(&self) -> Option<u64> {
        self.settled.as_ref().map(|(gate, _)| gate.sending())
    }
}

impl Slots {
    pub fn new<'a>(providers: impl Iterator<Item = &'a Provider>) -> Self {
        Slots {
            by_provider: providers.map(|p| (p.id.clone(), OnceCell::new())).collect(),
        }
    }

    async fn settled(&self, http: &reqwest::Client, provider: &Provider) -> Option<&Settled> {
        let cell = self.by_provider.get(&provider.id)?;
        Some(cell.get_or_init(|| settle(http, provider)).await)
    }

    /// How `provider`'s calls at once stand, settled first if need be.
    pub async fn concurrency(
        &self,
        http: &reqwest::Client,
        provider: &Provider,
    ) -> Option<Concurrency> {
        let settled = self.settled(http, provider).await?;
        Some(lock(&settled.concurrency).clone())
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
        let Some(gate) = self
            .settled(http, provider)
            .await
            .and_then(|s| s.gate.clone())
        else {
            return Some(Slot::free());
        };
        let (permit, waited) = gate.acquire(cancel, on_queued).await?;
        Some(Slot {
            settled: Some((gate, permit)),
            waited,
        })
    }

    /// A stream of `provider`'s, sent as request `sent` through `slot` (see
    /// [`Slot::sending`]), broke off or ended unfinished. When it is a local
    /// server's with no limit set and another request of ours went to it
    /// since, the server is taken to have cut it for that one, and the limit
    /// drops below the calls in flight; a server known to cut streams
    /// (llama-cpp-python) is taken to have cut it for whoever asked, and the
    /// call waits `pause` first. Either way `slot` gives its place back and
    /// waits for another (until `deadline`), for the call to be sent again.
    pub async fn requeue_if_cut(
        &self,
        provider: &Provider,
        slot: &mut Slot,
        sent: Option<u64>,
        pause: std::time::Duration,
        deadline: tokio::time::Instant,
        cancel: &CancellationToken,
    ) -> Requeue {
        let (Some((gate, _)), Some(sent)) = (slot.settled.as_ref(), sent) else {
            return Requeue::NotCut;
        };
        let settled = self.by_provider.get(&provider.id).and_then(|c| c.get());
        // llama-cpp-python cuts a stream for any newer request, ours or
        // another program's: its cut streams are sent again whatever the limit.
        let cutter =
            settled.is_some_and(|s| lock(&s.concurrency).kind == ServerKind::LlamaCppPython);
        let ours = provider.max_concurrency.is_none() && gate.sent_since(sent);
        if !provider.local || !(ours || cutter) {
            return Requeue::NotCut;
        }
        let gate = gate.clone();
        let lower = gate.in_flight().saturating_sub(1).max(1);
        if provider.max_concurrency.is_none()
            && gate.lower_to(lower)
            && let Some(settled) = settled
        {
            let mut c = lock(&settled.concurrency);
            c.limit = Some(gate.limit());
            c.source = LimitSource::Learned;
            tracing::info!(
                provider = %provider.id,
                limit = gate.limit(),
                "a local server cut a stream when another request came: fewer calls at once"
            );
        }
        // Give the place back before waiting for the next one; after a cut
        // for another program, `pause` first, so the two do not cut each
        // other's streams in turn.
        slot.settled = None;
        let again = async {
            if !ours {
                tokio::select! {
                    _ = cancel.cancelled() => return None,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
            gate.acquire(cancel, || {}).await
        };
        match tokio::time::timeout_at(deadline, again).await {
            Ok(Some((permit, _))) => {
                slot.settled = Some((gate, permit));
                Requeue::SendAgain
            }
            Ok(None) => Requeue::Cancelled,
            Err(_) => Requeue::TimedOut,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn settle(http: &reqwest::Client, provider: &Provider) -> Settled {
    if !provider.local {
        // A hosted API: no limit unless one is set, and nothing to learn.
        let c = Concurrency {
            kind: ServerKind::Remote,
            limit: provider.max_concurrency,
            source: match provider.max_concurrency {
                Some(_) => LimitSource::Set,
                None => LimitSource::Default,
            },
        };
        let gate = c.limit.map(Gate::new);
        return Settled {
            concurrency: Mutex::new(c),
            gate,
        };
    }
    let found = detect::probe(http, &provider.base_url).await;
    let (limit, source) = match (provider.max_concurrency, found) {
        (Some(n), _) => (Some(n), LimitSource::Set),
        (None, f) if f.said => (f.limit, LimitSource::Server),
        (None, f) if f.limit.is_none() && f.kind == ServerKind::Unknown => {
            (None, LimitSource::Default)
        }
        (None, f) => (f.limit, LimitSource::Kind),
    };
    Settled {
        gate: Some(Gate::new(limit.unwrap_or(UNLIMITED))),
        concurrency: Mutex::new(Concurrency {
            kind: found.kind,
            limit,
            source,
        }),
    }
}
