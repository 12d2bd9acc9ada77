//! `roundtable stats`: where the money and the time went, as tables (or the
//! app's figures as JSON); `roundtable budget`: spent today and this month
//! against `[budget]`; and the budget's warning before a run.

use crate::Failure;
use crate::render::{self, clean};
use console::style;
use roundtable_app::store::{SpendBucket, SpendQuery, SpendStats};
use roundtable_app::{App, BudgetPeriod, BudgetState, BudgetStatus};

/// How `roundtable stats` breaks the spend down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Provider,
    Model,
    Day,
    Week,
    Month,
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Only runs since a date (2026-11-01) or for a span back from now (7d, 2w, 3 months)
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Break it down by provider, model (the default), day, week or month
    #[arg(long, value_enum, default_value = "model")]
    by: By,
    /// Print every figure as JSON (days, weeks, months, providers, models, unpriced)
    #[arg(long)]
    json: bool,
}

/// Minutes east of UTC here, now: where days start.
fn local_offset_minutes() -> i32 {
    jiff::ZonedDateTime::now().offset().seconds() / 60
}

pub fn stats(app: &App, args: StatsArgs) -> Result<(), Failure> {
    let query = SpendQuery {
        since_ms: args
            .since
            .as_deref()
            .map(crate::verdicts::since_ms)
            .transpose()?,
        until_ms: None,
        utc_offset_minutes: local_offset_minutes(),
    };
    let s = app.spend_stats(&query)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s).expect("serialises"));
        return Ok(());
    }
    print!("{}", table(&s, args.by));
    Ok(())
}

fn tokens(input: u64, output: u64) -> String {
    format!("{input}→{output}")
}

fn ms(v: Option<u64>) -> String {
    v.map(render::seconds).unwrap_or_else(|| "–".into())
}

/// The tables of `s` broken down `by`, for people.
pub fn table(s: &SpendStats, by: By) -> String {
    let mut out = String::new();
    let t = &s.totals;
    if t.runs == 0 {
        out.push_str("No runs in this period.\n");
        return out;
    }
    out.push_str(&format!(
        "{} runs, {} calls ({} did not answer), {} (of which {} the summaries and claims), {} tokens in→out\n",
        t.runs,
        t.calls,
        t.failures,
        render::cost(t.cost),
        render::cost(t.resolution_cost),
        tokens(t.input_tokens, t.output_tokens)
    ));
    if t.judge_cost > 0.0 {
        out.push_str(&format!("judge rankings: {}\n", render::cost(t.judge_cost)));
    }
    out.push('\n');
    let head = |s: String| format!("{}\n", style(s).dim());
    match by {
        By::Provider => {
            out.push_str(&head(format!(
                "{:<24} {:>10} {:>7} {:>7} {:>21}",
                "provider", "cost", "calls", "failed", "tokens in→out"
            )));
            for p in &s.providers {
                out.push_str(&format!(
                    "{:<24} {:>10} {:>7} {:>7} {:>21}\n",
                    clean(&p.provider),
                    render::cost(p.cost),
                    p.calls,
                    p.failures,
                    tokens(p.input_tokens, p.output_tokens)
                ));
            }
        }
        By::Model => {
            out.push_str(&head(format!(
                "{:<36} {:>10} {:>7} {:>7} {:>21} {:>7} {:>7}  {}",
                "model", "cost", "calls", "failed", "tokens in→out", "p50", "p95", "failures"
            )));
            for m in &s.models {
                let ends: Vec<String> = m
                    .failures_by_end
                    .iter()
                    .map(|(end, n)| format!("{end} {n}"))
                    .collect();
                out.push_str(&format!(
                    "{:<36} {:>10} {:>7} {:>7} {:>21} {:>7} {:>7}  {}\n",
                    clean(&m.model),
                    render::cost(m.cost),
                    m.calls,
                    m.failures,
                    tokens(m.input_tokens, m.output_tokens),
                    ms(m.latency_p50_ms),
                    ms(m.latency_p95_ms),
                    ends.join(", ")
                ));
            }
        }
        By::Day | By::Week | By::Month => {
            let (what, buckets): (&str, &[SpendBucket]) = match by {
                By::Day => ("day", &s.days),
                By::Week => ("week of", &s.weeks),
                _ => ("month", &s.months),
            };
            out.push_str(&head(format!(
                "{:<12} {:>10} {:>7} {:>21}  {}",
                what, "cost", "runs", "tokens in→out", "most spent on"
            )));
            for b in buckets {
                let start = if by == By::Month {
                    &b.start[..7]
                } else {
                    &b.start
                };
                let top = b
                    .models
                    .iter()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .filter(|(_, c)| **c > 0.0)
                    .map(|(m, c)| format!("{} {}", clean(m), render::cost(*c)))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{:<12} {:>10} {:>7} {:>21}  {}\n",
                    start,
                    render::cost(b.cost),
                    b.runs,
                    tokens(b.input_tokens, b.output_tokens),
                    top
                ));
            }
        }
    }
    if !s.unpriced.is_empty() {
        let names: Vec<String> = s
            .unpriced
            .iter()
            .map(|u| format!("{} ({} calls)", clean(&u.model), u.calls))
            .collect();
        out.push_str(&format!(
            "\n{}\n",
            style(format!(
                "No known price, counted as $0: {}. Add one in a LiteLLM-format price file (price_files in config.toml).",
                names.join(", ")
            ))
            .yellow()
        ));
    }
    out
}

fn period(p: &Option<BudgetPeriod>, spent: f64, when: &str) -> String {
    match p {
        Some(p) => {
            let line = format!(
                "{when:<11} ${:.2} of ${:.2} ({:.0} %)",
                p.spent_usd,
                p.limit_usd,
                p.fraction * 100.0
            );
            match p.state {
                BudgetState::Ok => line,
                BudgetState::Warning => style(line).yellow().to_string(),
                BudgetState::Exceeded => style(line).red().to_string(),
            }
        }
        None => format!("{when:<11} ${spent:.2} (no limit)"),
    }
}

/// `roundtable budget`.
pub fn budget(app: &App, json: bool) -> Result<(), Failure> {
    let s = app.budget_status()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s).expect("serialises"));
        return Ok(());
    }
    print!("{}", budget_text(&s));
    Ok(())
}

pub fn budget_text(s: &BudgetStatus) -> String {
    let mut out = format!(
        "{}\n{}\n",
        period(&s.daily, s.spent_today_usd, "today"),
        period(&s.monthly, s.spent_month_usd, "this month")
    );
    if s.daily.is_none() && s.monthly.is_none() {
        out.push_str(
            "No budget set: add [budget] daily_usd and/or monthly_usd to config.toml (or in Settings).\n",
        );
    } else if s.soft {
        out.push_str("The budget is soft: past a limit, runs go on with a warning.\n");
    }
    if let Some(m) = &s.message {
        out.push_str(&format!("{}\n", clean(m)));
    }
    out
}

/// Before a run: the budget's warning (80 % or more, or past a soft limit)
/// as a yellow line on stderr. A hard limit passed is the run's own error.
pub fn warn_budget(app: &App) {
    let budget = app.budget();
    if budget.daily_usd.is_none() && budget.monthly_usd.is_none() {
        return;
    }
    let Ok(s) = app.budget_status() else { return };
    if s.state == BudgetState::Ok || !s.allows_a_run() {
        return;
    }
    if let Some(m) = s.message {
        eprintln!(
            "{}",
            style(format!("budget: {}", clean(&m)))
                .for_stderr()
                .yellow()
        );
    }
}
