//! Budgets per period: `[budget]` in `config.toml` (a daily and a monthly limit
//! in USD, and whether they are soft), shared by the desktop, the CLI and the
//! local API because the figure checked is the history's own sum
//! ([`roundtable_store::Store::spent_between`]: every run's cost, whichever
//! host ran it, and the judge models' calls).
//!
//! ```toml
//! [budget]
//! daily_usd = 5.0      # optional: no daily limit when absent
//! monthly_usd = 50.0   # optional
//! soft = false         # true: past the limit is a warning, not a refusal
//! ```
//!
//! At 80 % of a limit the status is a warning (hosts show it: the CLI on
//! stderr, the desktop and the API from [`App::budget_status`]); past 100 %
//! [`App::run`] (and a re-resolution, and a judge call) is refused with
//! [`Code::BudgetExceeded`] unless the budget is soft. The figure checked
//! counts what was spent (the history's spend ledger: a deleted run's cost
//! stays spent) and the worst case of every run still going, set aside when
//! it started ([`App::reserve_budget`]). Days and months are the local time
//! zone's.

use crate::config::Config;
use crate::{App, AppError, Code};
use roundtable_core::ValidationError;
use roundtable_store::Store;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// The share of a limit at which the status becomes a warning.
pub const WARNING_AT: f64 = 0.8;

/// The most a limit may be (USD).
const MAX_LIMIT_USD: f64 = 1_000_000.0;

/// `[budget]`: the limits per period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    /// USD a local day; no limit when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_usd: Option<f64>,
    /// USD a calendar month; no limit when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_usd: Option<f64>,
    /// Past a limit, warn instead of refusing a run.
    pub soft: bool,
}

impl BudgetConfig {
    /// Each limit is a positive number of USD; the error names the entry.
    pub fn check(&self) -> Result<(), ValidationError> {
        for (field, v) in [
            ("budget.daily_usd", self.daily_usd),
            ("budget.monthly_usd", self.monthly_usd),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0 && v <= MAX_LIMIT_USD)
            {
                return Err(ValidationError::new(
                    field,
                    format!(
                        "must be more than 0 and at most {MAX_LIMIT_USD} (USD); leave it out for no limit"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Where spend stands against a limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BudgetState {
    /// Under 80 % (or no limit).
    #[default]
    Ok,
    /// At 80 % or more.
    Warning,
    /// At 100 % or more: a new run is refused unless the budget is soft.
    Exceeded,
}

/// One period's limit and what was spent in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BudgetPeriod {
    /// `daily` or `monthly`.
    pub name: String,
    pub limit_usd: f64,
    pub spent_usd: f64,
    /// `spent_usd / limit_usd`.
    pub fraction: f64,
    pub state: BudgetState,
    /// The period's first instant (unix ms, local midnight).
    pub since_ms: i64,
}

/// The budget's status now (see [`App::budget_status`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BudgetStatus {
    /// USD spent today (local day), every host's runs and judge calls.
    pub spent_today_usd: f64,
    /// USD spent this calendar month.
    pub spent_month_usd: f64,
    pub daily: Option<BudgetPeriod>,
    pub monthly: Option<BudgetPeriod>,
    pub soft: bool,
    /// The worse of the two periods' states.
    pub state: BudgetState,
    /// What to tell the user when the state is not `ok` (names the budget and
    /// the figures).
    pub message: Option<String>,
}

fn period(name: &str, limit: Option<f64>, spent: f64, since_ms: i64) -> Option<BudgetPeriod> {
    let limit = limit?;
    let fraction = spent / limit;
    let state = if fraction >= 1.0 {
        BudgetState::Exceeded
    } else if fraction >= WARNING_AT {
        BudgetState::Warning
    } else {
        BudgetState::Ok
    };
    Some(BudgetPeriod {
        name: name.into(),
        limit_usd: limit,
        spent_usd: spent,
        fraction,
        state,
        since_ms,
    })
}

fn describe(p: &BudgetPeriod) -> String {
    let when = if p.name == "daily" {
        "today"
    } else {
        "this month"
    };
    format!(
        "${:.2} of the {} budget of ${:.2} spent {when} ({:.0} %)",
        p.spent_usd,
        p.name,
        p.limit_usd,
        p.fraction * 100.0
    )
}

impl BudgetStatus {
    /// The status of `budget` given what was spent.
    pub fn new(budget: &BudgetConfig, today: (f64, i64), month: (f64, i64)) -> BudgetStatus {
        let daily = period("daily", budget.daily_usd, today.0, today.1);
        let monthly = period("monthly", budget.monthly_usd, month.0, month.1);
        let worst = [&daily, &monthly]
            .into_iter()
            .flatten()
            .max_by_key(|p| p.state)
            .filter(|p| p.state != BudgetState::Ok);
        let message = worst.map(|p| match p.state {
            BudgetState::Exceeded if budget.soft => {
                format!("{}; the budget is soft, so runs go on", describe(p))
            }
            BudgetState::Exceeded => format!(
                "{}: new runs are refused (raise budget.{}_usd in config.toml or Settings, or set budget.soft = true)",
                describe(p),
                p.name
            ),
            _ => describe(p),
        });
        BudgetStatus {
            spent_today_usd: today.0,
            spent_month_usd: month.0,
            state: worst.map_or(BudgetState::Ok, |p| p.state),
            daily,
            monthly,
            soft: budget.soft,
            message,
        }
    }

    /// A new run may start: not past a hard limit.
    pub fn allows_a_run(&self) -> bool {
        self.soft || self.state != BudgetState::Exceeded
    }
}

/// The first instants (unix ms) of today and of this month, local time.
fn period_starts() -> (i64, i64) {
    let now = jiff::ZonedDateTime::now();
    let ms = |z: Result<jiff::ZonedDateTime, jiff::Error>| {
        z.map(|z| z.timestamp().as_millisecond())
            .unwrap_or_else(|_| now.timestamp().as_millisecond())
    };
    let day = ms(now.start_of_day());
    let month = ms(now.first_of_month().and_then(|z| z.start_of_day()));
    (day, month)
}

impl App {
    /// `[budget]` as `config.toml` says now (Settings or another host may have
    /// changed it); the one read at open when the file cannot be read.
    pub fn budget(&self) -> BudgetConfig {
        Config::load(&self.home.join("config.toml"))
            .map(|c| c.budget)
            .unwrap_or(self.config.budget)
    }

    /// What was spent today and this month against `[budget]`, and its state.
    pub fn budget_status(&self) -> Result<BudgetStatus, AppError> {
        self.status_of(&self.budget())
    }

    /// What was spent today and this month against `budget`.
    fn status_of(&self, budget: &BudgetConfig) -> Result<BudgetStatus, AppError> {
        let (day, month) = period_starts();
        let store = self.store();
        let today = store.spent_between(day, i64::MAX)?;
        let this_month = store.spent_between(month, i64::MAX)?;
        drop(store);
        Ok(BudgetStatus::new(budget, (today, day), (this_month, month)))
    }

    /// Refuses a new run (a re-resolution, a judge call) past a hard limit
    /// ([`Code::BudgetExceeded`]), counting as spent what the runs in flight,
    /// in this process or another, have set aside; else sets aside its worst
    /// case (`worst`, USD, asked for only when there is a limit) until the
    /// returned guard is dropped. The check and the setting aside are one
    /// write to the history, so runs started at once each see the others'.
    pub(crate) fn reserve_budget(
        &self,
        run_id: Option<&str>,
        worst: impl FnOnce() -> Result<f64, AppError>,
    ) -> Result<Option<Reservation>, AppError> {
        let budget = self.budget();
        if budget.daily_usd.is_none() && budget.monthly_usd.is_none() {
            return Ok(None);
        }
        let worst = worst()?;
        let (day, month) = period_starts();
        let mut refused = None;
        let (_, id) = self
            .store()
            .reserve_spend(run_id, worst, &[day, month], |now| {
                let with = |spent: f64| spent + now.reserved;
                let status = BudgetStatus::new(
                    &budget,
                    (with(now.spent[0]), day),
                    (with(now.spent[1]), month),
                );
                let allowed = status.allows_a_run();
                if !allowed {
                    refused = Some((status, now.reserved, now.in_flight));
                }
                allowed
            })?;
        if let Some((status, reserved, in_flight)) = refused {
            let mut message = status
                .message
                .unwrap_or_else(|| "the budget is spent".into());
            if reserved > 0.0 {
                message.push_str(&format!(
                    "; ${reserved:.2} of it is set aside for {in_flight} run(s) still going, \
                     at their worst case, until they end"
                ));
            }
            return Err(AppError::new(Code::BudgetExceeded, message));
        }
        Ok(id.map(|id| Reservation {
            store: self.store.clone(),
            id,
        }))
    }
}

/// A run's worst case set aside against the budgets while it goes (see
/// [`App::reserve_budget`]). Dropping it releases it: when the run ends,
/// fails, is cancelled or its task panics; a process that dies leaves it to
/// the next check, which drops it.
pub(crate) struct Reservation {
    store: Arc<Mutex<Store>>,
    id: i64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = store.release_spend(self.id) {
            tracing::warn!(error = %e, "could not release a budget reservation: the next check drops it when this process ends");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(daily: Option<f64>, monthly: Option<f64>, soft: bool) -> BudgetConfig {
        BudgetConfig {
            daily_usd: daily,
            monthly_usd: monthly,
            soft,
        }
    }

    #[test]
    fn states_at_80_and_100_percent() {
        let b = budget(Some(5.0), Some(50.0), false);
        let s = BudgetStatus::new(&b, (1.0, 0), (10.0, 0));
        assert_eq!(s.state, BudgetState::Ok);
        assert!(s.message.is_none() && s.allows_a_run());
        let s = BudgetStatus::new(&b, (4.0, 0), (10.0, 0));
        assert_eq!(s.state, BudgetState::Warning);
        assert_eq!(s.daily.as_ref().unwrap().state, BudgetState::Warning);
        assert_eq!(s.monthly.as_ref().unwrap().state, BudgetState::Ok);
        let m = s.message.unwrap();
        assert!(m.contains("$4.00 of the daily budget of $5.00"), "{m}");
        let s = BudgetStatus::new(&b, (1.0, 0), (50.0, 0));
        assert_eq!(s.state, BudgetState::Exceeded);
        assert!(!s.allows_a_run());
        let m = s.message.unwrap();
        assert!(
            m.contains("monthly budget of $50.00") && m.contains("refused"),
            "{m}"
        );
        let s = BudgetStatus::new(&budget(Some(5.0), None, true), (7.5, 0), (7.5, 0));
        assert_eq!(s.state, BudgetState::Exceeded);
        assert!(s.allows_a_run());
        assert!(s.message.unwrap().contains("soft"));
        assert!(s.monthly.is_none());
        let s = BudgetStatus::new(&BudgetConfig::default(), (99.0, 0), (99.0, 0));
        assert_eq!(s.state, BudgetState::Ok);
    }

    #[test]
    fn limits_are_checked_naming_the_entry() {
        assert!(budget(Some(0.5), Some(20.0), false).check().is_ok());
        let e = budget(Some(0.0), None, false).check().unwrap_err();
        assert_eq!(e.field, "budget.daily_usd");
        let e = budget(None, Some(f64::NAN), false).check().unwrap_err();
        assert_eq!(e.field, "budget.monthly_usd");
        let e = Config::parse("[budget]\ndaily_usd = -1\n").unwrap_err();
        assert!(e.contains("budget.daily_usd"), "{e}");
        let e = Config::parse("[budget]\nweekly_usd = 1\n").unwrap_err();
        assert!(e.contains("weekly_usd"), "{e}");
        let c = Config::parse("[budget]\ndaily_usd = 2\nsoft = true\n").unwrap();
        assert_eq!(c.budget, budget(Some(2.0), None, true));
    }
}
