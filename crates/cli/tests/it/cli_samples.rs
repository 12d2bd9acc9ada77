//! Issue 17 from the CLI: `-m provider/model*N` asks a model N times, each
//! sample named `#n` after the run and in `history show`; an invalid N is exit
//! status 2 naming the flag.

use crate::common::{Home, script};
use roundtable_testkit::FakeProvider;

#[tokio::test]
async fn a_star_n_model_is_n_samples_each_named_after_the_run_and_in_history_show() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let args = [
        "run",
        "Capital of France?",
        "-m",
        "fake/a*3",
        "-m",
        "fake/b",
        "-r",
        "multiple_choice",
        "--choices",
        "Paris,London",
    ];
    let out = home.run(&args).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let wanted = [
        "── fake/a #1 · ",
        "── fake/a #2 · ",
        "── fake/a #3 · ",
        "── fake/b · ",
    ];
    for w in wanted {
        assert!(out.stdout.contains(w), "{w}: {}", out.stdout);
    }
    assert_eq!(fake.requests().len(), 4);

    let id = out
        .stdout
        .lines()
        .last()
        .unwrap()
        .rsplit(" · ")
        .next()
        .unwrap();
    let shown = home.run(&["history", "show", id.trim()]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    for w in wanted {
        assert!(shown.stdout.contains(w), "{w}: {}", shown.stdout);
    }

    let mut json = args.to_vec();
    json.push("--json");
    let v = home.json(&json).await;
    let samples: Vec<_> = v["model_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sample"].as_u64())
        .collect();
    assert_eq!(samples, [Some(1), Some(2), Some(3), None]);
    assert_eq!(v["meta"]["votes"]["Paris"], 3);
}

#[tokio::test]
async fn an_invalid_number_of_samples_is_exit_2_naming_the_flag() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    for model in ["fake/a*0", "fake/a*x", "fake/a*", "fake/a*33", "fake/a*-2"] {
        let out = home.run(&["run", "Hi", "-m", model]).await;
        assert_eq!(out.code, 2, "{model}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("--model {model}: ")),
            "{model}: {}",
            out.stderr
        );
    }
    assert!(fake.requests().is_empty());
}
