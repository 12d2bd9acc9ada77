//! `roundtable stats` and `roundtable budget` over a seeded history, and a run
//! warned at 80 % of the budget and refused past it (exit 1, naming it).

use crate::common::{Home, script};
use roundtable_store::{
    Meta, ModelOutcome, ModelResult, RoundtableResponse, RunStatus, Store, UNPRICED_KEY, Usage,
};
use roundtable_testkit::FakeProvider;

fn call(index: usize, model: &str, cost: f64, ms: u64, outcome: ModelOutcome) -> ModelResult {
    let mut usage = Usage {
        input_tokens: 100,
        output_tokens: 50,
        ..Usage::default()
    };
    if model.starts_with("mine/") {
        usage
            .extra
            .insert(UNPRICED_KEY.into(), "no known price".into());
    }
    ModelResult {
        index,
        model: model.into(),
        data: "x".into(),
        cost,
        duration_ms: ms,
        usage,
        outcome: Some(outcome),
        error: (outcome != ModelOutcome::Answered).then(|| "it ended".into()),
        ..ModelResult::default()
    }
}

/// Two runs made now: $0.30 and $0.50 (of which $0.05 the summary).
fn seed(home: &Home) {
    let store = Store::open(&home.path().join("history.db")).unwrap();
    let runs = [
        (
            "rt_s1",
            vec![
                call(0, "openai/gpt-4.1", 0.10, 1000, ModelOutcome::Answered),
                call(1, "anthropic/claude", 0.20, 3000, ModelOutcome::Answered),
            ],
            0.0,
        ),
        (
            "rt_s2",
            vec![
                call(0, "anthropic/claude", 0.45, 2000, ModelOutcome::Answered),
                call(1, "mine/x", 0.0, 500, ModelOutcome::Answered),
                call(2, "openai/gpt-4.1", 0.0, 9000, ModelOutcome::TimedOut),
            ],
            0.05,
        ),
    ];
    for (id, model_results, summary) in runs {
        let response = RoundtableResponse {
            id: id.into(),
            data: Some("x".into()),
            meta: Meta {
                total_cost: model_results.iter().map(|r| r.cost).sum::<f64>() + summary,
                ..Meta::default()
            },
            model_results,
        };
        store
            .import_response(None, &response, RunStatus::Completed, None)
            .unwrap();
    }
}

#[tokio::test]
async fn stats_as_tables_and_json() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    seed(&home);

    let out = home.run(&["stats"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout;
    assert!(
        text.starts_with("2 runs, 5 calls (1 did not answer), $0.8000 (of which $0.0500 the summaries and claims), 500→250 tokens in→out"),
        "{text}"
    );
    let claude = text
        .lines()
        .find(|l| l.starts_with("anthropic/claude"))
        .unwrap();
    assert!(
        claude.contains("$0.6500") && claude.contains("2.0s") && claude.contains("3.0s"),
        "{claude}"
    );
    let gpt = text
        .lines()
        .find(|l| l.starts_with("openai/gpt-4.1"))
        .unwrap();
    assert!(gpt.contains("timed_out 1"), "{gpt}");
    assert!(
        text.contains("No known price, counted as $0: mine/x (1 calls)"),
        "{text}"
    );

    let out = home
        .run(&["stats", "--by", "provider", "--since", "7d"])
        .await;
    let anthropic = out
        .stdout
        .lines()
        .find(|l| l.starts_with("anthropic"))
        .unwrap();
    assert!(anthropic.contains("$0.6500"), "{}", out.stdout);
    let out = home.run(&["stats", "--by", "day"]).await;
    let today = jiff::ZonedDateTime::now().date().to_string();
    let line = out.stdout.lines().find(|l| l.starts_with(&today)).unwrap();
    assert!(
        line.contains("$0.8000") && line.contains("anthropic/claude $0.6500"),
        "{line}"
    );

    let s = home.json(&["stats", "--json"]).await;
    assert_eq!(s["totals"]["runs"], 2);
    assert_eq!(s["models"][0]["model"], "anthropic/claude");
    assert_eq!(s["days"].as_array().unwrap().len(), 1);

    let out = home.run(&["stats", "--since", "2099-01-01"]).await;
    assert_eq!(out.stdout, "No runs in this period.\n");
    let out = home.run(&["stats", "--since", "whenever"]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--since"), "{}", out.stderr);
}

#[tokio::test]
async fn the_budget_warns_at_80_percent_and_refuses_past_it() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::with_config(&fake, "\n[budget]\ndaily_usd = 1.0\n");
    seed(&home);

    let out = home.run(&["budget"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("today       $0.80 of $1.00 (80 %)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("this month  $0.80 (no limit)"),
        "{}",
        out.stdout
    );
    let run = home
        .run(&["run", "Capital?", "-m", "fake/a", "--resolution", "fast"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("budget: $0.80 of the daily budget of $1.00 spent today (80 %)"),
        "{}",
        run.stderr
    );

    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.fake]\nformat = \"openai\"\nbase_url = \"{}\"\n[budget]\ndaily_usd = 0.75\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
    let calls = fake.requests().len();
    let run = home
        .run(&["run", "Capital?", "-m", "fake/a", "--resolution", "fast"])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("$0.80 of the daily budget of $0.75 spent today (107 %)")
            && run.stderr.contains("refused"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests().len(), calls, "nobody was called");
    let b = home.json(&["budget", "--json"]).await;
    assert_eq!(b["state"], "exceeded");
}
