//! The private leaderboard: which model is best for *this* person's questions,
//! from their own votes (or, separately, judge models' rankings) on runs in the
//! history. A rating per model with a 95 % interval (Bradley–Terry, see
//! [`bradley_terry`]), its votes, wins, losses, ties and win rate, and its median
//! cost and latency over the same runs. Filtered by date, tag and panel.
//!
//! `table.rs` turns the store's verdicts into pairwise outcomes and rows (pure);
//! this file is the use case and the types hosts show.

mod bradley_terry;
mod table;

use crate::{App, AppError};
use roundtable_store::{VerdictQuery, VerdictSource};
use serde::{Deserialize, Serialize};

/// Below this many votes a model is listed, but not ranked.
pub const MIN_VOTES: u32 = 5;

/// Virtual games each model plays against the reference (see [`bradley_terry`]).
const PRIOR_GAMES: f64 = 1.0;

/// Which verdicts and runs a leaderboard is made from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
pub struct LeaderboardQuery {
    /// The person's votes (the default) or judge models' rankings; never both.
    #[serde(default)]
    pub source: VerdictSource,
    /// Runs created at or after this time (unix ms).
    pub since_ms: Option<i64>,
    /// Runs with this tag.
    pub tag: Option<String>,
    /// Runs whose panel is exactly these models (in any order).
    pub panel: Option<Vec<String>>,
    /// With judges: only this judge's rankings.
    pub judge_model: Option<String>,
}

/// The leaderboard: ranked models first (best first), then the ones with too
/// few votes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Leaderboard {
    pub source: VerdictSource,
    /// The verdicts (votes or judgements) it was fitted on.
    pub verdicts: u32,
    /// Fewer votes than this and a model is not ranked.
    pub min_votes: u32,
    pub rows: Vec<LeaderboardRow>,
}

/// One model on the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LeaderboardRow {
    pub model: String,
    /// 1 for the best; `None` when it has fewer than `min_votes` votes.
    pub rank: Option<u32>,
    /// On an Elo-like scale: 1000 is the models' average, +400 is ten-to-one odds.
    pub rating: f64,
    /// The rating's 95 % interval.
    pub rating_low: f64,
    pub rating_high: f64,
    /// Verdicts on runs where it answered.
    pub votes: u32,
    pub wins: u32,
    pub losses: u32,
    pub ties: u32,
    /// Wins and half the ties over all its comparisons; 0 without any.
    pub win_rate: f64,
    /// Its median cost (USD) and latency over the same runs.
    pub median_cost: f64,
    pub median_latency_ms: u64,
}

impl App {
    /// The leaderboard of the runs and verdicts `q` selects.
    pub fn leaderboard(&self, q: &LeaderboardQuery) -> Result<Leaderboard, AppError> {
        let verdicts = self.store().verdicts(&VerdictQuery {
            source: q.source,
            since_ms: q.since_ms,
            until_ms: None,
            tag: q.tag.clone(),
            judge_model: q.judge_model.clone(),
        })?;
        let verdicts = table::on_panel(verdicts, q.panel.as_deref());
        Ok(table::leaderboard(q.source, &verdicts))
    }
}

impl Leaderboard {
    /// The table as CSV: one row per model, a header first.
    pub fn to_csv(&self) -> String {
        table::to_csv(self)
    }
}
