//! Budgets per period: the history's own sum (a run of another host counts),
//! a warning at 80 %, a refusal past 100 % before any provider is called, and
//! a soft budget that only warns.

use crate::common::{Fixture, script, spent_at, spent_elsewhere};
use roundtable_app::core::RunStatus;
use roundtable_app::store::SpendQuery;
use roundtable_app::{BudgetState, Code};

/// The fake as provider `fake`, with `[budget]` as given.
async fn with_budget(budget: &str) -> Fixture {
    Fixture::with_config(script(), |base_url| {
        format!(
            "[providers.fake]\nformat = \"openai\"\nbase_url = \"{base_url}\"\n\n[budget]\n{budget}\n"
        )
    })
    .await
}

#[tokio::test]
async fn a_warning_at_80_percent_and_a_refusal_past_100() {
    let fx = with_budget("daily_usd = 1.0\nmonthly_usd = 100.0").await;
    let s = fx.app.budget_status().unwrap();
    assert_eq!(s.state, BudgetState::Ok);
    assert_eq!(s.daily.as_ref().unwrap().limit_usd, 1.0);

    spent_elsewhere(&fx, "rt_elsewhere1", 0.85);
    let s = fx.app.budget_status().unwrap();
    assert_eq!(s.state, BudgetState::Warning);
    assert!((s.spent_today_usd - 0.85).abs() < 1e-9);
    assert!((s.spent_month_usd - 0.85).abs() < 1e-9);
    assert!(s.message.unwrap().contains("daily budget of $1.00"));
    // A warning does not stop a run.
    let (out, _) = fx.fast(&["fake/a"]).await;
    assert_eq!(out.unwrap().status, RunStatus::Completed);
    let calls = fx.fake.requests().len();

    spent_elsewhere(&fx, "rt_elsewhere2", 0.20);
    let s = fx.app.budget_status().unwrap();
    assert_eq!(s.state, BudgetState::Exceeded);
    let (out, events) = fx.fast(&["fake/a"]).await;
    let e = out.unwrap_err();
    assert_eq!(e.code, Code::BudgetExceeded);
    assert!(
        e.message.contains("$1.05 of the daily budget of $1.00") && e.message.contains("refused"),
        "{}",
        e.message
    );
    // Refused before anyone was called or anything recorded.
    assert_eq!(fx.fake.requests().len(), calls);
    assert!(events.all().is_empty());
    let runs = fx
        .app
        .spend_stats(&SpendQuery::default())
        .unwrap()
        .totals
        .runs;
    assert_eq!(runs, 3);
}

#[tokio::test]
async fn a_soft_budget_warns_and_runs() {
    let fx = with_budget("monthly_usd = 0.5\nsoft = true").await;
    spent_elsewhere(&fx, "rt_elsewhere", 0.75);
    let s = fx.app.budget_status().unwrap();
    assert_eq!(s.state, BudgetState::Exceeded);
    assert!(s.soft && s.daily.is_none());
    assert!(s.message.unwrap().contains("soft"));
    let (out, _) = fx.fast(&["fake/a"]).await;
    assert_eq!(out.unwrap().status, RunStatus::Completed);
}

#[tokio::test]
async fn a_budget_changed_in_the_file_applies_to_the_next_run() {
    let fx = with_budget("").await;
    spent_elsewhere(&fx, "rt_elsewhere", 3.0);
    let (out, _) = fx.fast(&["fake/a"]).await;
    assert!(out.is_ok());
    let text = std::fs::read_to_string(fx.config_path()).unwrap();
    std::fs::write(fx.config_path(), format!("{text}daily_usd = 2.0\n")).unwrap();
    let (out, _) = fx.fast(&["fake/a"]).await;
    assert_eq!(out.unwrap_err().code, Code::BudgetExceeded);
}

#[tokio::test]
async fn a_day_counts_todays_runs_and_a_month_this_months() {
    let fx = with_budget("daily_usd = 1.0\nmonthly_usd = 10.0").await;
    let now = roundtable_app::store::now_ms();
    // Forty days ago is before this month whatever today is.
    spent_at(&fx, "rt_long_ago", 5.0, Some(now - 40 * 86_400_000));
    spent_elsewhere(&fx, "rt_today", 0.25);
    let s = fx.app.budget_status().unwrap();
    assert!((s.spent_today_usd - 0.25).abs() < 1e-9, "{s:?}");
    assert!((s.spent_month_usd - 0.25).abs() < 1e-9, "{s:?}");
    assert_eq!(s.state, BudgetState::Ok);
}

#[tokio::test]
async fn each_period_is_named_for_when_it_was_spent() {
    let fx = with_budget("monthly_usd = 1.0").await;
    spent_elsewhere(&fx, "rt_month", 0.9);
    let message = fx.app.budget_status().unwrap().message.unwrap();
    assert!(
        message.contains("of the monthly budget of $1.00 spent this month"),
        "{message}"
    );
    let fx = with_budget("daily_usd = 1.0").await;
    spent_elsewhere(&fx, "rt_day", 1.5);
    let message = fx.app.budget_status().unwrap().message.unwrap();
    assert!(
        message.contains("of the daily budget of $1.00 spent today"),
        "{message}"
    );
    // Refused with nothing in flight: nothing is said to be set aside.
    let e = fx.fast(&["fake/a"]).await.0.unwrap_err();
    assert_eq!(e.code, Code::BudgetExceeded);
    assert!(!e.message.contains("set aside"), "{}", e.message);
}
