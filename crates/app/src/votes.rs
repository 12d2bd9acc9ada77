//! A person's vote on a run: cast it, change it, withdraw it, read it back with
//! the judges' rankings. What the votes add up to is [`crate::leaderboard`].

use crate::{App, AppError};
use roundtable_store::{Ballot, Judgement, Vote};
use serde::Serialize;

/// What was thought of a run's answers: the person's vote and the judges'.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunVerdicts {
    pub vote: Option<Vote>,
    pub judgements: Vec<Judgement>,
}

impl App {
    /// Cast the vote on a run, or change it.
    pub fn cast_vote(&self, run_id: &str, ballot: &Ballot) -> Result<Vote, AppError> {
        Ok(self.store().set_vote(run_id, ballot)?)
    }

    /// Withdraw the vote on a run; `false` when there was none.
    pub fn withdraw_vote(&self, run_id: &str) -> Result<bool, AppError> {
        Ok(self.store().withdraw_vote(run_id)?)
    }

    /// The vote and the judges' rankings of a run.
    pub fn run_verdicts(&self, run_id: &str) -> Result<RunVerdicts, AppError> {
        let store = self.store();
        if store.get_run(run_id)?.is_none() {
            return Err(AppError::not_found(run_id));
        }
        Ok(RunVerdicts {
            vote: store.vote(run_id)?,
            judgements: store.judgements(run_id)?,
        })
    }
}
