//! A provider's gate: a semaphore whose size can be lowered while calls hold
//! its permits, and the count of requests sent through it, which tells a
//! stream cut by contention (another request came while it streamed) from one
//! that broke for its own reasons.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio_util::sync::CancellationToken;

/// The size of a gate with no limit: more than any panel (the request
/// validator's limit on models times samples) sends at once.
pub(super) const UNLIMITED: usize = 4096;

pub(super) struct Gate {
    semaphore: Arc<Semaphore>,
    /// The calls it lets through at once now.
    limit: AtomicUsize,
    /// Permits still to forget as they come back, after a lowering found them
    /// in use.
    debt: AtomicUsize,
    /// Calls holding a permit.
    in_flight: AtomicUsize,
    /// Requests sent so far (each attempt of each call).
    sent: AtomicU64,
}

/// A place in a gate, given back when dropped.
pub(super) struct Permit {
    gate: Arc<Gate>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else {
            return;
        };
        self.gate.in_flight.fetch_sub(1, Ordering::SeqCst);
        let owed = self
            .gate
            .debt
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1))
            .is_ok();
        if owed {
            permit.forget();
        }
    }
}

impl Gate {
    pub fn new(limit: usize) -> Arc<Self> {
        let limit = limit.clamp(1, UNLIMITED);
        Arc::new(Gate {
            semaphore: Arc::new(Semaphore::new(limit)),
            limit: AtomicUsize::new(limit),
            debt: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            sent: AtomicU64::new(0),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::SeqCst)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// A permit, once one is free; `on_queued` is called first when the call
    /// has to wait. `None` when cancelled while waiting.
    pub async fn acquire(
        self: &Arc<Self>,
        cancel: &CancellationToken,
        on_queued: impl FnOnce(),
    ) -> Option<(Permit, bool)> {
        let permit = match self.semaphore.clone().try_acquire_owned() {
            Ok(permit) => return Some((self.holding(permit), false)),
            Err(TryAcquireError::Closed) => unreachable!("the semaphore is never closed"),
            Err(TryAcquireError::NoPermits) => {
                on_queued();
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return None,
                    permit = self.semaphore.clone().acquire_owned() => permit.ok()?,
                }
            }
        };
        Some((self.holding(permit), true))
    }

    fn holding(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Permit {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Permit {
            gate: self.clone(),
            permit: Some(permit),
        }
    }

    /// Counts a request about to be sent; the number to give
    /// [`Gate::sent_since`] when it ends.
    pub fn sending(&self) -> u64 {
        self.sent.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Whether another request was sent after the one `sending` numbered.
    pub fn sent_since(&self, mine: u64) -> bool {
        self.sent.load(Ordering::SeqCst) > mine
    }

    /// Lowers the limit to `to` (at least 1); the permits in use above it are
    /// forgotten as they come back. `true` when it was higher.
    pub fn lower_to(&self, to: usize) -> bool {
        let to = to.max(1);
        let Ok(was) = self
            .limit
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| {
                (to < l).then_some(to)
            })
        else {
            return false;
        };
        let cut = was - to;
        let forgotten = self.semaphore.forget_permits(cut);
        self.debt.fetch_add(cut - forgotten, Ordering::SeqCst);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lowering_takes_effect_as_permits_in_use_come_back() {
        let gate = Gate::new(3);
        let none = CancellationToken::new();
        let (a, _) = gate.acquire(&none, || {}).await.unwrap();
        let (b, _) = gate.acquire(&none, || {}).await.unwrap();
        assert_eq!(gate.in_flight(), 2);
        // One free permit is forgotten at once, one in use when it returns.
        assert!(gate.lower_to(1));
        assert!(!gate.lower_to(2), "a limit is only ever lowered");
        assert_eq!(gate.limit(), 1);
        drop(a);
        let queued = std::sync::atomic::AtomicBool::new(false);
        let next = gate.acquire(&none, || queued.store(true, Ordering::SeqCst));
        tokio::pin!(next);
        assert!(
            futures_util::poll!(next.as_mut()).is_pending(),
            "b still holds the one place left"
        );
        drop(b);
        let (c, waited) = next.await.unwrap();
        assert!(queued.load(Ordering::SeqCst) && waited);
        assert_eq!(gate.in_flight(), 1);
        let cancelled = CancellationToken::new();
        cancelled.cancel();
        assert!(gate.acquire(&cancelled, || {}).await.is_none());
        drop(c);
        assert_eq!(gate.semaphore.available_permits(), 1);
    }

    #[test]
    fn requests_sent_after_one_are_seen() {
        let gate = Gate::new(UNLIMITED);
        let mine = gate.sending();
        assert!(!gate.sent_since(mine));
        gate.sending();
        assert!(gate.sent_since(mine));
    }
}
