//! What a run will cost, before it starts (`--estimate`), and `--max-cost`:
//! refused over the worst case unless `--yes`, stopped when reached.

use crate::common::Home;
use roundtable_testkit::{Behavior, FakeProvider, Script};

/// $1 per 1,000 output tokens for both fake models.
const PRICES: &str = r#"{
  "fake/slow": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-3},
  "fake/quick": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-3}
}"#;

fn script() -> Script {
    Script::new()
        .model(
            "slow",
            Behavior::answer("abcdefghijklmnopqrst".repeat(100))
                .chunks(100)
                .chunk_delay(15),
        )
        .model("quick", Behavior::answer("Short."))
}

fn home(fake: &FakeProvider) -> Home {
    let home = Home::with_config(fake, "");
    std::fs::write(home.path().join("prices.json"), PRICES).unwrap();
    let config = home.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("price_files = [\"prices.json\"]\n{text}")).unwrap();
    home
}

#[tokio::test]
async fn the_estimate_is_printed_without_calling_anyone() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = home(&fake);
    let args = [
        "run",
        "Say hi",
        "-m",
        "fake/quick",
        "-m",
        "fake/slow",
        "--max-tokens",
        "100",
    ];
    let out = home.run(&[&args[..], &["--estimate"]].concat()).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("fake/quick"), "{}", out.stdout);
    assert!(
        out.stdout.contains("summary by fake/quick"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Estimate: typically"), "{}", out.stdout);
    let json = home
        .json(&[&args[..], &["--estimate", "--json"]].concat())
        .await;
    assert_eq!(json["calls"][1]["output_worst"], 100);
    assert!(json["worst_cost"].as_f64().unwrap() > json["typical_cost"].as_f64().unwrap() - 1e-12);
    assert!(fake.requests().is_empty(), "nobody was called");
}

#[tokio::test]
async fn max_cost_refuses_a_run_that_could_cost_more_and_stops_one_that_does() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = home(&fake);
    let args = [
        "run",
        "Write at length",
        "-m",
        "fake/quick",
        "-m",
        "fake/slow",
        "--resolution",
        "fast",
    ];
    // The worst case (8,192 tokens each at $1 per 1,000) is far over $0.05.
    let refused = home
        .run(&[&args[..], &["--max-cost", "0.05"]].concat())
        .await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("--max-cost: this run could cost up to $"),
        "{}",
        refused.stderr
    );
    assert!(fake.requests().is_empty(), "nobody was called");

    let stopped = home
        .json(&[&args[..], &["--max-cost", "0.05", "--yes", "--json"]].concat())
        .await;
    let slow = &stopped["model_results"][1];
    assert_eq!(slow["outcome"], "budget_exceeded", "{stopped}");
    assert!(
        slow["data"].as_str().unwrap().len() < 400,
        "stopped early: {slow}"
    );
    assert_eq!(stopped["model_results"][0]["outcome"], "answered");

    let bad = home.run(&[&args[..], &["--max-cost=0"]].concat()).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--max-cost"), "{}", bad.stderr);
}

#[tokio::test]
async fn a_price_file_is_imported_and_earlier_runs_keep_their_cost() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::with_config(&fake, "");
    let file = home.path().join("upload.json");
    let cost_of = |run: &serde_json::Value| run["model_results"][0]["cost"].as_f64().unwrap();
    let args = [
        "run",
        "Hi",
        "-m",
        "fake/quick",
        "--resolution",
        "fast",
        "--json",
    ];

    let unpriced = home.json(&args).await;
    assert_eq!(cost_of(&unpriced), 0.0);

    std::fs::write(&file, PRICES).unwrap();
    let out = home
        .run(&["prices", "import", file.to_str().unwrap()])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("2 models priced"), "{}", out.stderr);
    let config = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    assert!(
        config.contains(r#"price_files = ["prices/upload.json"]"#),
        "{config}"
    );
    let first = home.json(&args).await;
    assert!(cost_of(&first) > 0.0);

    // The same file again, at twice the price: an update, listed once.
    std::fs::write(&file, PRICES.replace("1e-3", "2e-3")).unwrap();
    assert_eq!(
        home.run(&["prices", "import", file.to_str().unwrap()])
            .await
            .code,
        0
    );
    let second = home.json(&args).await;
    assert!(
        (cost_of(&second) / cost_of(&first) - 2.0).abs() < 0.05,
        "{} vs {}",
        cost_of(&second),
        cost_of(&first)
    );
    let stored = home
        .json(&["history", "show", first["id"].as_str().unwrap(), "--json"])
        .await;
    assert_eq!(
        cost_of(&stored),
        cost_of(&first),
        "a stored run keeps its cost"
    );

    std::fs::write(&file, "{\"sample_spec\": {}}").unwrap();
    let bad = home
        .run(&["prices", "import", file.to_str().unwrap()])
        .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("prices no model"), "{}", bad.stderr);
}
