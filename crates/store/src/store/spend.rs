//! Where the money and the time went: the spend figures of the history over a
//! time range ([`Store::spend_stats`]) and the sum a budget is checked against
//! ([`Store::spent_between`]).
//!
//! Every figure is an indexed SQL aggregate (migration `0006_spend.sql`): the
//! runs' `(created_at, total_cost)` in one range scan grouped by day, so there
//! is a bucket only for a day that has runs, however far apart they are; the
//! results are read from `spend_hours`, their sums per UTC hour, model and end
//! (kept by triggers), and only the part of an hour that the range or a local
//! midnight cuts (an offset of part of an hour) from the results themselves,
//! grouped by day; weeks,
//! months, providers and models are summed from the days; latency percentiles
//! are one ordered index scan per model and percentile, from its nearer end.
//!
//! Time zone: days, weeks (Monday to Sunday) and months are cut at the local
//! midnight of the UTC offset the host passes ([`SpendQuery::utc_offset_minutes`],
//! 0 for UTC). The offset is fixed for the whole range: a host passes the one in
//! effect now, so in a zone with daylight saving a run within an hour of
//! midnight on the other side of a change may count on the neighbouring day.
//!
//! Costs: a run's `total_cost` is every call of it, the consolidation included;
//! a model's cost is its own calls. What a run cost beyond its models' calls
//! (the summary, the claims) is [`SpendTotals::resolution_cost`], so the models'
//! costs plus it are the runs' cost. Judge models' calls are kept apart from
//! runs ([`SpendTotals::judge_cost`]), and so is what deleted runs had cost
//! ([`SpendTotals::deleted_cost`]): both are read from the spend ledger.

use super::Store;
use crate::Result;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The key of `Usage::extra` the engine sets when a model had no known price
/// (its cost is then counted as 0).
pub const UNPRICED_KEY: &str = "pricing";

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Which runs the figures count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct SpendQuery {
    /// Runs created at or after this (unix ms); all when `None`.
    pub since_ms: Option<i64>,
    /// Runs created before this (unix ms); all when `None`.
    pub until_ms: Option<i64>,
    /// Where days, weeks and months start: minutes east of UTC (e.g. 60 for
    /// UTC+1, the negated value of JavaScript's `getTimezoneOffset()`).
    pub utc_offset_minutes: i32,
}

/// What the runs cost in all, and what they used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpendTotals {
    /// USD: the sum of the runs' `total_cost`.
    pub cost: f64,
    pub runs: u64,
    /// Model calls (results), every sample counted.
    pub calls: u64,
    /// Calls that did not answer (any end but `answered`).
    pub failures: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD: what the runs cost beyond their models' calls (the consolidation,
    /// the claims): `cost` minus the models' costs.
    pub resolution_cost: f64,
    /// USD: judge models' calls in the range, those that gave no ranking
    /// included (not part of `cost`).
    pub judge_cost: f64,
    /// USD: what runs created in the range cost that have since been deleted
    /// (still spent: the spend ledger keeps it; not part of `cost`).
    pub deleted_cost: f64,
}

/// One day, week or month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpendBucket {
    /// Its first day, `YYYY-MM-DD` (a week starts on Monday; a month on the 1st).
    pub start: String,
    /// Its first instant (unix ms) at the query's offset.
    pub start_ms: i64,
    /// USD: the runs' cost.
    pub cost: f64,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD per provider of the models' calls (for a stacked chart).
    pub providers: BTreeMap<String, f64>,
    /// USD per model of its calls (for a stacked chart).
    pub models: BTreeMap<String, f64>,
}

/// One provider's calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProviderSpend {
    pub provider: String,
    pub cost: f64,
    pub calls: u64,
    pub failures: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// One model's calls (`provider/model`, every sample of it counted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelSpend {
    pub model: String,
    pub provider: String,
    pub cost: f64,
    pub calls: u64,
    /// Calls that did not answer.
    pub failures: u64,
    /// Calls that did not answer, by how they ended (`failed`, `timed_out`,
    /// `cancelled`, `missing_key`, `refused`, …).
    pub failures_by_end: BTreeMap<String, u64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Median duration of the calls that answered, in ms (nearest rank).
    pub latency_p50_ms: Option<u64>,
    /// 95th percentile duration of the calls that answered, in ms (nearest rank).
    pub latency_p95_ms: Option<u64>,
}

/// A model whose calls had no known price (counted as 0): add one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnpricedModel {
    pub model: String,
    pub calls: u64,
    /// Its latest such call's run (unix ms).
    pub last_ms: i64,
}

/// Every figure of the Usage view over a [`SpendQuery`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpendStats {
    pub query: SpendQuery,
    pub totals: SpendTotals,
    /// The days that have runs, in order (a day without one has no bucket).
    pub days: Vec<SpendBucket>,
    pub weeks: Vec<SpendBucket>,
    pub months: Vec<SpendBucket>,
    /// Most expensive first.
    pub providers: Vec<ProviderSpend>,
    /// Most expensive first.
    pub models: Vec<ModelSpend>,
    /// By name.
    pub unpriced: Vec<UnpricedModel>,
}

/// A model's provider: the part of `provider/model` before the slash.
pub fn provider_of(model: &str) -> &str {
    model.split_once('/').map_or(model, |(p, _)| p)
}

impl Store {
    /// Every figure of the history's spend over `q` (see the module's notes).
    pub fn spend_stats(&self, q: &SpendQuery) -> Result<SpendStats> {
        let lo = q.since_ms.unwrap_or(i64::MIN);
        let hi = q.until_ms.unwrap_or(i64::MAX);
        let off = i64::from(q.utc_offset_minutes) * 60_000;
        let mut out = SpendStats {
            query: *q,
            ..SpendStats::default()
        };
        out.totals.judge_cost = self.ledger_spend("judge", lo, hi)?;
        let ledger_runs = self.ledger_spend("run", lo, hi)?;
        out.totals.deleted_cost = ledger_runs;
        let (first, last): (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT min(created_at), max(created_at) FROM runs \
                 WHERE created_at >= ?1 AND created_at < ?2",
            )?
            .query_row([lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(out);
        };
        // One bucket per day that has runs, in one grouped scan: a run dated
        // centuries away costs one more row, not a bucket per day between.
        let mut acc = Results {
            days: BTreeMap::new(),
            off,
            index: HashMap::new(),
            models: Vec::new(),
            by_day: HashMap::new(),
            cost: 0.0,
        };
        let mut runs_q = self.conn.prepare_cached(&format!(
            "SELECT {day} AS day, count(*), coalesce(sum(total_cost), 0) FROM runs \
             WHERE created_at >= ?1 AND created_at < ?2 GROUP BY day",
            day = day_sql("created_at")
        ))?;
        let mut rows = runs_q.query(rusqlite::params![lo, hi, off])?;
        while let Some(row) = rows.next()? {
            let (day, runs, cost): (i64, i64, f64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            out.totals.cost += cost;
            out.totals.runs += runs as u64;
            let b = acc.bucket(day);
            b.cost += cost;
            b.runs += runs as u64;
        }
        drop(rows);
        // A cent's billionth either way is rounding, not a deleted run.
        out.totals.deleted_cost = Some(ledger_runs - out.totals.cost)
            .filter(|d| *d > 1e-9)
            .unwrap_or(0.0);
        self.results_between(&mut acc, lo.max(first), hi.min(last.saturating_add(1)))?;
        let (days, models, models_cost) = acc.finish();
        out.days = days;
        for b in &out.days {
            out.totals.input_tokens += b.input_tokens;
            out.totals.output_tokens += b.output_tokens;
        }
        out.totals.resolution_cost = (out.totals.cost - models_cost).max(0.0);
        out.weeks = roll_up(&out.days, |day| day - (day + 3).rem_euclid(7), off);
        out.months = roll_up(
            &out.days,
            |day| {
                let (y, m, _) = crate::time::civil_from_days(day);
                crate::time::days_from_civil(y, m, 1)
            },
            off,
        );
        // The k-th duration counted from whichever end is nearer (p95 from the
        // top), so each percentile steps through at most half the model's calls.
        let mut up = self.conn.prepare_cached(
            "SELECT duration_ms FROM model_results INDEXED BY model_results_latency \
             WHERE model = ?1 AND ended = 'answered' AND created_at >= ?2 AND created_at < ?3 \
             ORDER BY duration_ms LIMIT 1 OFFSET ?4",
        )?;
        let mut down = self.conn.prepare_cached(
            "SELECT duration_ms FROM model_results INDEXED BY model_results_latency \
             WHERE model = ?1 AND ended = 'answered' AND created_at >= ?2 AND created_at < ?3 \
             ORDER BY duration_ms DESC LIMIT 1 OFFSET ?4",
        )?;
        let mut providers: BTreeMap<String, ProviderSpend> = BTreeMap::new();
        for mut m in models {
            let name = m.model.clone();
            let answered = m.calls - m.failures;
            let mut rank = |p: f64| -> Result<Option<u64>> {
                if answered == 0 {
                    return Ok(None);
                }
                let n = answered as i64;
                let k = ((p * n as f64).ceil() as i64 - 1).clamp(0, n - 1);
                let (stmt, k) = if k < n / 2 {
                    (&mut up, k)
                } else {
                    (&mut down, n - 1 - k)
                };
                let v: i64 = stmt.query_row(rusqlite::params![name, lo, hi, k], |r| r.get(0))?;
                Ok(Some(v as u64))
            };
            m.latency_p50_ms = rank(0.5)?;
            m.latency_p95_ms = rank(0.95)?;
            let p = providers
                .entry(m.provider.clone())
                .or_insert_with(|| ProviderSpend {
                    provider: m.provider.clone(),
                    ..ProviderSpend::default()
                });
            p.cost += m.cost;
            p.calls += m.calls;
            p.failures += m.failures;
            p.input_tokens += m.input_tokens;
            p.output_tokens += m.output_tokens;
            out.totals.calls += m.calls;
            out.totals.failures += m.failures;
            out.models.push(m);
        }
        out.models.sort_by(|a, b| b.cost.total_cmp(&a.cost));
        out.providers = providers.into_values().collect();
        out.providers.sort_by(|a, b| b.cost.total_cmp(&a.cost));
        out.unpriced = self
            .conn
            .prepare_cached(
                "SELECT model, count(*), max(created_at) \
                 FROM model_results INDEXED BY model_results_unpriced \
                 WHERE unpriced = 1 AND created_at >= ?1 AND created_at < ?2 \
                 GROUP BY model ORDER BY model",
            )?
            .query_map([lo, hi], |r| {
                Ok(UnpricedModel {
                    model: r.get(0)?,
                    calls: r.get::<_, i64>(1)? as u64,
                    last_ms: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(out)
    }
}

/// The day number (days since 1970-01-01 at the offset `?3`, in ms) of the
/// instant in `col`, as SQL: the floor of `(col + ?3) / DAY_MS`, as
/// [`day_of`] counts it (SQLite's `/` truncates toward zero).
fn day_sql(col: &str) -> String {
    // CAST: past the ends of i64, SQLite's sum turns into a float.
    format!(
        "CAST((({col} + ?3) - ((({col} + ?3) % {DAY_MS}) + {DAY_MS}) % {DAY_MS}) / {DAY_MS} \
         AS INTEGER)"
    )
}

/// The day number of the instant `t` at the offset `off` (ms).
fn day_of(t: i64, off: i64) -> i64 {
    t.saturating_add(off).div_euclid(DAY_MS)
}

/// The first instant (unix ms) of `day` at the offset `off`.
fn day_start(day: i64, off: i64) -> i64 {
    day.saturating_mul(DAY_MS).saturating_sub(off)
}

/// The results' sums, by day and by model, as they are read (a model is a
/// number here; the maps are filled once, at the end).
struct Results {
    /// The days that have runs (or results), by day number.
    days: BTreeMap<i64, SpendBucket>,
    off: i64,
    index: HashMap<String, usize>,
    models: Vec<ModelSpend>,
    /// Cost per model (its number) and day, where the model had a call.
    by_day: HashMap<(usize, i64), f64>,
    cost: f64,
}

impl Results {
    /// The bucket of `day`, made when it has none yet.
    fn bucket(&mut self, day: i64) -> &mut SpendBucket {
        let off = self.off;
        self.days.entry(day).or_insert_with(|| SpendBucket {
            start: date(day),
            start_ms: day_start(day, off),
            ..SpendBucket::default()
        })
    }

    /// One row: `calls` results of `model` that ended `ended`, on `day`.
    fn add(&mut self, day: i64, row: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
        let model = row.get_ref(0)?.as_str()?;
        let calls = row.get::<_, i64>(2)? as u64;
        let cost: f64 = row.get(3)?;
        let (tin, tout) = (row.get::<_, i64>(4)? as u64, row.get::<_, i64>(5)? as u64);
        let i = match self.index.get(model) {
            Some(&i) => i,
            None => {
                self.index.insert(model.to_string(), self.models.len());
                self.models.push(ModelSpend {
                    model: model.to_string(),
                    provider: provider_of(model).to_string(),
                    ..ModelSpend::default()
                });
                self.models.len() - 1
            }
        };
        let b = self.bucket(day);
        b.input_tokens += tin;
        b.output_tokens += tout;
        *self.by_day.entry((i, day)).or_default() += cost;
        self.cost += cost;
        let m = &mut self.models[i];
        m.calls += calls;
        m.cost += cost;
        m.input_tokens += tin;
        m.output_tokens += tout;
        let ended = row.get_ref(1)?.as_str()?;
        if ended != "answered" {
            m.failures += calls;
            *m.failures_by_end.entry(ended.to_string()).or_default() += calls;
        }
        Ok(())
    }

    /// The days in order, each with its costs by model and provider; the
    /// models; what their calls cost.
    fn finish(mut self) -> (Vec<SpendBucket>, Vec<ModelSpend>, f64) {
        for (&(i, day), &c) in &self.by_day {
            let m = &self.models[i];
            let b = self.days.get_mut(&day).expect("made by add");
            b.models.insert(m.model.clone(), c);
            *b.providers.entry(m.provider.clone()).or_default() += c;
        }
        (self.days.into_values().collect(), self.models, self.cost)
    }
}

impl Store {
    /// The results of the runs created in `[lo, hi)` into `acc`: the whole
    /// hours from the per-hour rollup (`spend_hours`), the parts of an hour the
    /// range or a day boundary cuts (an offset that is not whole hours), and
    /// everything before 1970-01-01 01:00 UTC (the rollup's hour is
    /// `created_at / 3600000`, which puts the last hour before 1970 in hour 0),
    /// from the results themselves, each part in one scan grouped by day.
    fn results_between(&self, acc: &mut Results, lo: i64, hi: i64) -> Result<()> {
        let (h0, h1) = (
            lo.saturating_add(HOUR_MS - 1).div_euclid(HOUR_MS).max(1),
            hi.div_euclid(HOUR_MS),
        );
        let mut pieces = Vec::new();
        if h0 < h1 {
            pieces.push((lo, h0 * HOUR_MS));
            pieces.push((h1 * HOUR_MS, hi));
            let mut hours = self.conn.prepare_cached(
                "SELECT model, ended, calls, cost, input_tokens, output_tokens, hour \
                 FROM spend_hours WHERE hour >= ?1 AND hour < ?2",
            )?;
            let mut rows = hours.query([h0, h1])?;
            while let Some(row) = rows.next()? {
                let start = row.get::<_, i64>(6)? * HOUR_MS;
                let day = day_of(start, acc.off);
                if day != day_of(start + HOUR_MS - 1, acc.off) {
                    if pieces.last() != Some(&(start, start + HOUR_MS)) {
                        pieces.push((start, start + HOUR_MS));
                    }
                    continue;
                }
                acc.add(day, row)?;
            }
        } else {
            pieces.push((lo, hi));
        }
        let mut raw = self.conn.prepare_cached(&format!(
            "SELECT model, ended, count(*), sum(cost), sum(input_tokens), sum(output_tokens), \
                    {day} AS day \
             FROM model_results WHERE created_at >= ?1 AND created_at < ?2 \
             GROUP BY day, model, ended",
            day = day_sql("created_at")
        ))?;
        for (a, b) in pieces {
            if a >= b {
                continue;
            }
            let mut rows = raw.query(rusqlite::params![a, b, acc.off])?;
            while let Some(row) = rows.next()? {
                acc.add(row.get(6)?, row)?;
            }
        }
        Ok(())
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
fn date(day: i64) -> String {
    let (y, m, d) = crate::time::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The days summed into the buckets `start_of` puts them in (in order).
fn roll_up(days: &[SpendBucket], start_of: impl Fn(i64) -> i64, off: i64) -> Vec<SpendBucket> {
    let mut out: Vec<SpendBucket> = Vec::new();
    for d in days {
        let day = day_of(d.start_ms, off);
        let start = start_of(day);
        if out
            .last()
            .is_none_or(|b| b.start_ms != day_start(start, off))
        {
            out.push(SpendBucket {
                start: date(start),
                start_ms: day_start(start, off),
                ..SpendBucket::default()
            });
        }
        let b = out.last_mut().expect("pushed above");
        b.cost += d.cost;
        b.runs += d.runs;
        b.input_tokens += d.input_tokens;
        b.output_tokens += d.output_tokens;
        for (k, v) in &d.providers {
            *b.providers.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &d.models {
            *b.models.entry(k.clone()).or_default() += v;
        }
    }
    out
}
