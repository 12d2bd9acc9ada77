//! A run's running cost against its `max_cost`: every panel call adds what it
//! has spent as it streams (its input once sent, then about a token per four
//! characters of output at the model's price, corrected to the real cost when
//! the call ends), and the first addition that reaches the cap stops every call
//! still running. A stopped call ends `budget_exceeded` and keeps what had
//! arrived. The overshoot is what was in flight: at most the chunk that crossed
//! the cap, from each model streaming at that moment.
//!
//! What a call's attempts that gave no answer were billed for is
//! [`Billed`]: a call retried, failed, timed out, cancelled or stopped by the
//! cap costs what its provider said (a usage event), else an estimate from
//! what it sent and what streamed, marked as one.

use crate::contract::{USAGE_ESTIMATED, Usage};
use crate::prices::ModelPrice;
use crate::providers::Delta;
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

/// One call's share of the run's meter: what it has added so far.
pub(super) struct CallMeter {
    run: Option<(Arc<CostMeter>, ModelPrice)>,
    added: f64,
    over: CancellationToken,
    stopped: String,
}

impl CallMeter {
    /// Adds the call's prompt (`prompt`, as estimated) once it is sent. Without
    /// a run meter or a price, nothing is counted and nothing stops it.
    pub(super) fn start(
        run: Option<&Arc<CostMeter>>,
        price: Option<ModelPrice>,
        prompt: &Usage,
    ) -> CallMeter {
        let over = run.map(|m| m.over().clone()).unwrap_or_default();
        let stopped = run.map(|m| m.stopped()).unwrap_or_default();
        let run = run.cloned().zip(price);
        let added = run.as_ref().map_or(0.0, |(m, p)| {
            let usd = p.cost(prompt);
            m.add(usd);
            usd
        });
        CallMeter {
            run,
            added,
            over,
            stopped,
        }
    }

    /// Cancelled once the run's cap is reached.
    pub(super) fn over(&self) -> CancellationToken {
        self.over.clone()
    }

    /// Why the call was stopped.
    pub(super) fn stopped(&self) -> String {
        self.stopped.clone()
    }

    /// Counts a piece of output: about a token per four characters.
    pub(super) fn delta(&mut self, d: &Delta) {
        if let (Some((m, p)), Delta::Text(t) | Delta::Thinking(t)) = (&self.run, d) {
            let usd = t.chars().count() as f64 / 4.0 * p.output;
            self.added += usd;
            m.add(usd);
        }
    }

    /// The call ended having cost `cost`: the estimate gives way to it.
    pub(super) fn finish(&self, cost: f64) {
        if let Some((m, _)) = &self.run {
            m.add(cost - self.added);
        }
    }
}

/// What the attempts of a call that ended without an answer were billed for,
/// as far as it can be told: each one's usage as the provider reported it,
/// else (when something streamed, or it was still going when the call was
/// stopped) its prompt and what streamed, estimated at four characters a
/// token and marked as an estimate. An attempt the provider refused outright
/// (an HTTP error, nothing streamed) is taken as not billed.
#[derive(Debug, Default)]
pub(super) struct Billed {
    pub(super) usage: Usage,
    pub(super) cost: f64,
}

impl Billed {
    /// One attempt that gave no answer: the usage it `reported`, the
    /// characters that `streamed` (text and thinking), whether it was `cut`
    /// short while going (cancelled, timed out, stopped by the cap).
    pub(super) fn attempt(
        &mut self,
        reported: Option<Usage>,
        prompt: &Usage,
        streamed: usize,
        cut: bool,
        price: Option<ModelPrice>,
    ) {
        let usage = match reported {
            Some(u) => u,
            None if streamed == 0 && !cut => return,
            None => Usage {
                output_tokens: streamed.div_ceil(4) as u64,
                ..prompt.clone()
            },
        };
        self.cost += price.map_or(0.0, |p| p.cost(&usage));
        self.usage.add(&usage);
        if usage.is_estimated() {
            self.usage
                .extra
                .insert(USAGE_ESTIMATED.into(), serde_json::Value::Bool(true));
        }
    }

    /// `usage` and `cost` of a call's last attempt with these added.
    pub(super) fn onto(self, usage: &mut Usage, cost: &mut f64) {
        usage.add(&self.usage);
        *cost += self.cost;
        if self.usage.is_estimated() {
            usage
                .extra
                .insert(USAGE_ESTIMATED.into(), serde_json::Value::Bool(true));
        }
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
