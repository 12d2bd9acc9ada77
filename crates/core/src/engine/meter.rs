//! A run's running cost against its `max_cost`: every panel call adds what it
//! has spent as it streams (its input once sent, then about a token per four
//! characters of output at the model's price, corrected to the real cost when
//! the call ends), and the first addition that reaches the cap stops every call
//! still running. A stopped call ends `budget_exceeded` and keeps what had
//! arrived. The overshoot is what was in flight: at most the chunk that crossed
//! the cap, from each model streaming at that moment.

use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

pub(super) struct CostMeter {
    cap: f64,
    spent: Mutex<f64>,
    over: CancellationToken,
}

impl CostMeter {
    pub(super) fn new(cap: f64) -> Arc<CostMeter> {
        Arc::new(CostMeter {
            cap,
            spent: Mutex::new(0.0),
            over: CancellationToken::new(),
        })
    }

    /// Adds `usd` (negative to correct an estimate); stops the run's calls once
    /// the total reaches the cap.
    pub(super) fn add(&self, usd: f64) {
        let mut spent = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        *spent += usd;
        if *spent >= self.cap {
            self.over.cancel();
        }
    }

    /// Cancelled once the cap is reached.
    pub(super) fn over(&self) -> &CancellationToken {
        &self.over
    }

    /// Why a call was stopped.
    pub(super) fn stopped(&self) -> String {
        format!(
            "stopped: the run's running cost reached its max_cost (${})",
            self.cap
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_reached_once_the_total_meets_it() {
        let m = CostMeter::new(0.01);
        m.add(0.006);
        assert!(!m.over().is_cancelled());
        m.add(-0.001);
        m.add(0.005);
        assert!(m.over().is_cancelled());
        assert!(m.stopped().contains("$0.01"));
    }
}
