//! What budgets count, whoever spends: the worst case of the runs still
//! going (set aside when each starts, given back when it ends however it
//! ends), a deleted run's cost, re-resolutions and judge calls, a failed
//! judge call's cost included.

use crate::common::{Events, Fixture, open, request, script, spent_elsewhere};
use roundtable_app::core::{Resolution, RunStatus};
use roundtable_app::store::{SpendQuery, Store};
use roundtable_app::{Code, Reresolve};
use roundtable_testkit::FakeProvider;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// $1e-5 an output token: a call's worst case (8,192 tokens) is $0.08.
const PRICES: &str = r#"{
  "fake/a": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-5},
  "fake/b": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-5},
  "fake/slow": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-5}
}"#;

/// The fake's models priced, with `[budget]` as given.
async fn priced(budget: &str) -> Fixture {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("prices.json"), PRICES).unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "price_files = [\"prices.json\"]\n\n[providers.fake]\nformat = \"openai\"\n\
             base_url = \"{}\"\n\n[budget]\n{budget}\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
    let app = open(home.path());
    Fixture { fake, home, app }
}

#[tokio::test]
async fn runs_started_together_count_each_others_worst_case() {
    let fx = priced("daily_usd = 0.02").await;
    // Each run's worst case ($0.08) is over the budget on its own: the first
    // starts (nothing is spent yet), the others see it set aside.
    let (r1, r2, r3, r4, r5, r6) = tokio::join!(
        fx.fast(&["fake/a"]),
        fx.fast(&["fake/a"]),
        fx.fast(&["fake/a"]),
        fx.fast(&["fake/a"]),
        fx.fast(&["fake/a"]),
        fx.fast(&["fake/a"]),
    );
    let outs = [r1.0, r2.0, r3.0, r4.0, r5.0, r6.0];
    assert_eq!(outs.iter().filter(|o| o.is_ok()).count(), 1);
    for e in outs.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(e.code, Code::BudgetExceeded);
        assert!(
            e.message.contains("set aside for 1 run(s) still going"),
            "{}",
            e.message
        );
    }
    assert_eq!(fx.fake.requests().len(), 1);
    // It ended: what it cost counts, not its worst case.
    let s = fx.app.budget_status().unwrap();
    assert!(s.spent_today_usd > 0.0 && s.spent_today_usd < 0.02, "{s:?}");
    let (out, _) = fx.fast(&["fake/a"]).await;
    assert_eq!(out.unwrap().status, RunStatus::Completed);
}

#[tokio::test]
async fn a_run_dropped_midway_gives_back_what_it_set_aside() {
    let fx = priced("daily_usd = 0.02").await;
    let events = Events::default();
    let mut run = Box::pin(fx.app.run(
        request("Capital?", &["fake/slow"], Resolution::Fast),
        &events,
        CancellationToken::new(),
    ));
    let called = async {
        while fx.fake.requests().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        _ = &mut run => panic!("the slow model answered first"),
        () = called => {}
    }
    // Set aside while it goes, for every host of this history.
    let other = Store::open(&fx.home.path().join("history.db")).unwrap();
    assert_eq!(other.spend_now(&[0]).unwrap().in_flight, 1);
    assert_eq!(
        fx.fast(&["fake/a"]).await.0.unwrap_err().code,
        Code::BudgetExceeded
    );
    // The host drops the run (a window closed, a client gone).
    drop(run);
    assert_eq!(other.spend_now(&[0]).unwrap().in_flight, 0);
    let (out, _) = fx.fast(&["fake/a"]).await;
    assert_eq!(out.unwrap().status, RunStatus::Completed);
}

#[tokio::test]
async fn deleting_a_run_does_not_give_its_cost_back() {
    let fx = priced("daily_usd = 1.0").await;
    spent_elsewhere(&fx, "rt_spent", 1.5);
    assert_eq!(
        fx.fast(&["fake/a"]).await.0.unwrap_err().code,
        Code::BudgetExceeded
    );
    fx.app.delete_run("rt_spent").unwrap();
    let s = fx.app.budget_status().unwrap();
    assert!((s.spent_today_usd - 1.5).abs() < 1e-9, "{s:?}");
    let e = fx.fast(&["fake/a"]).await.0.unwrap_err();
    assert_eq!(e.code, Code::BudgetExceeded);
    assert!(
        e.message.contains("$1.50 of the daily budget"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn re_resolving_and_judging_are_refused_past_the_budget() {
    let fx = priced("daily_usd = 1.0").await;
    let (first, _) = fx.fast(&["fake/a", "fake/b"]).await;
    let id = first.unwrap().response.id;
    spent_elsewhere(&fx, "rt_spent", 1.5);
    let calls = fx.fake.requests().len();
    let how = Reresolve {
        resolution: Resolution::Summary,
        summary_model: Some("fake/b".into()),
        ..Default::default()
    };
    let e = fx
        .app
        .reresolve(&id, how, &(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::BudgetExceeded, "{}", e.message);
    let e = fx
        .app
        .judge(&id, "fake/a", CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::BudgetExceeded, "{}", e.message);
    assert_eq!(fx.fake.requests().len(), calls, "nobody was called");
}

#[tokio::test]
async fn a_failed_judge_calls_cost_is_spent() {
    let fx = priced("daily_usd = 1.0").await;
    let (first, _) = fx.fast(&["fake/a", "fake/b"]).await;
    let id = first.unwrap().response.id;
    let before = fx.app.budget_status().unwrap().spent_today_usd;
    // `a` answers "Paris", which is no ranking: the judge fails, paid for.
    let e = fx
        .app
        .judge(&id, "fake/a", CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::JudgeFailed, "{}", e.message);
    let after = fx.app.budget_status().unwrap().spent_today_usd;
    assert!(after > before, "{before} → {after}");
    let judged = fx.app.spend_stats(&SpendQuery::default()).unwrap();
    assert!((judged.totals.judge_cost - (after - before)).abs() < 1e-12);
}
