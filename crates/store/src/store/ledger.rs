//! What was spent, as budgets count it (migration `0009_spend_ledger.sql`):
//! the spend ledger, which keeps a run's cost when the run is deleted and
//! every judge call's (a failed one's too), and the reservations of the runs
//! in flight, which a budget counts as spent until they end.
//!
//! A reservation is checked and made in one write transaction
//! ([`Store::reserve_spend`]), so runs started at once, by this process or
//! another, each see the others' reservations. It is removed when its run
//! ends ([`Store::release_spend`]); one left by a process that died (its
//! owner's lock file is gone or free) is dropped by the next check.

use super::Store;
use crate::Result;
use crate::time::now_ms;
use rusqlite::{OptionalExtension, Transaction, params};

/// Where spend stands now (see [`Store::spend_now`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendNow {
    /// USD spent since each instant asked for (the ledger: runs, deleted ones
    /// included, and judge calls).
    pub spent: Vec<f64>,
    /// USD the runs in flight have set aside: each one's worst case less what
    /// it has cost so far.
    pub reserved: f64,
    /// How many runs (or judge calls) are in flight with a reservation.
    pub in_flight: u64,
}

impl Store {
    /// USD spent in `[since, until)`: the runs created in it (a run deleted
    /// since still counts: the ledger keeps it) and the judge calls made in it.
    pub fn spent_between(&self, since_ms: i64, until_ms: i64) -> Result<f64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce(sum(cost), 0) FROM spend_ledger WHERE at >= ?1 AND at < ?2",
            )?
            .query_row([since_ms, until_ms], |r| r.get(0))?)
    }

    /// USD of the ledger's entries of `kind` (`run`, deleted runs included;
    /// `judge`, calls that gave no ranking included) in `[since, until)`.
    pub(super) fn ledger_spend(&self, kind: &str, since_ms: i64, until_ms: i64) -> Result<f64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce(sum(cost), 0) FROM spend_ledger \
                 WHERE at >= ?1 AND at < ?2 AND kind = ?3",
            )?
            .query_row(rusqlite::params![since_ms, until_ms, kind], |r| r.get(0))?)
    }

    /// Records what a judge call that gave no ranking (it failed, or its
    /// answer could not be read) cost: it was paid for all the same. A
    /// ranking stored with [`Store::record_judgement`] is recorded with it.
    pub fn record_judge_spend(&self, run_id: &str, judge_model: &str, cost: f64) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO spend_ledger (kind, run_id, model, at, cost) \
                 VALUES ('judge', ?1, ?2, ?3, ?4)",
            )?
            .execute(params![run_id, judge_model, now_ms(), cost])?;
            Ok(())
        })
    }

    /// What was spent since each of `since` and what runs in flight have set
    /// aside (dropping the reservations of processes that died).
    pub fn spend_now(&self, since: &[i64]) -> Result<SpendNow> {
        self.write(|tx| self.spend_now_in(tx, since))
    }

    /// Sets aside `usd` for a run (`run_id`; `None` for a judge call) when
    /// `admit` accepts where spend stands, in one write transaction: whoever
    /// checks next counts it. Returns where spend stood and, when admitted,
    /// the reservation to release when the run ends.
    pub fn reserve_spend(
        &self,
        run_id: Option<&str>,
        usd: f64,
        since: &[i64],
        admit: impl FnOnce(&SpendNow) -> bool,
    ) -> Result<(SpendNow, Option<i64>)> {
        self.write(|tx| {
            let now = self.spend_now_in(tx, since)?;
            if !admit(&now) {
                return Ok((now, None));
            }
            let usd = if usd.is_finite() { usd.max(0.0) } else { 0.0 };
            let id = tx
                .prepare_cached(
                    "INSERT INTO spend_reservations (owner, run_id, usd, at) \
                     VALUES (?1, ?2, ?3, ?4) RETURNING seq",
                )?
                .query_row(params![self.owner, run_id, usd, now_ms()], |r| r.get(0))?;
            Ok((now, Some(id)))
        })
    }

    /// Removes a reservation: its run ended (its cost is in the ledger).
    pub fn release_spend(&self, reservation: i64) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM spend_reservations WHERE seq = ?1")?
                .execute([reservation])?;
            Ok(())
        })
    }

    fn spend_now_in(&self, tx: &Transaction<'_>, since: &[i64]) -> Result<SpendNow> {
        let owners: Vec<String> = tx
            .prepare_cached("SELECT DISTINCT owner FROM spend_reservations WHERE owner != ?1")?
            .query_map([&self.owner], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for owner in owners.iter().filter(|o| !self.owner_alive(o)) {
            tx.prepare_cached("DELETE FROM spend_reservations WHERE owner = ?1")?
                .execute([owner])?;
        }
        let mut spent = Vec::with_capacity(since.len());
        for &s in since {
            spent.push(
                tx.prepare_cached(
                    "SELECT coalesce(sum(cost), 0) FROM spend_ledger WHERE at >= ?1",
                )?
                .query_row([s], |r| r.get(0))?,
            );
        }
        let (reserved, in_flight): (Option<f64>, i64) = tx
            .prepare_cached(
                "SELECT sum(max(r.usd - coalesce(l.cost, 0), 0)), count(*) \
                 FROM spend_reservations r \
                 LEFT JOIN spend_ledger l ON l.kind = 'run' AND l.run_id = r.run_id",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((None, 0));
        Ok(SpendNow {
            spent,
            reserved: reserved.unwrap_or(0.0),
            in_flight: in_flight as u64,
        })
    }
}
