//! Where the money and the time went: the history's spend figures
//! ([`roundtable_store::Store::spend_stats`]) for the desktop's Usage view, the
//! CLI's `roundtable stats` and whoever asks.

use crate::{App, AppError};
use roundtable_store::{SpendQuery, SpendStats};

impl App {
    /// Every spend figure over `query` (days, weeks and months cut at its UTC
    /// offset; by provider and model; latency; the models with no known price).
    pub fn spend_stats(&self, query: &SpendQuery) -> Result<SpendStats, AppError> {
        Ok(self.store().spend_stats(query)?)
    }
}
