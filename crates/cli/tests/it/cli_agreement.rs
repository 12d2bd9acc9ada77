//! Where the answers agree (`meta.agreement`) from the CLI: a schema run's
//! field majority and consensus object in the response, `history show` and
//! every export; the winner's share of a multiple-choice run; the similarity
//! of free-text answers.

use crate::common::Home;
use roundtable_testkit::{Behavior, FakeProvider, Script, contract};
use serde_json::json;

fn script() -> Script {
    Script::new()
        .model("j1", Behavior::answer(r#"{"city":"Paris","pop":2}"#))
        .model("j2", Behavior::answer(r#"{"city":"Paris","pop":2.0}"#))
        .model("j3", Behavior::answer(r#"{"city":"Lyon","pop":2}"#))
        .model("a", Behavior::answer("Paris is the capital of France."))
        .model("b", Behavior::answer("London"))
}

#[tokio::test]
async fn a_schema_run_has_the_field_majority_everywhere() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let schema = home.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"type":"object","properties":{"city":{"type":"string"},"pop":{"type":"number"}}}"#,
    )
    .unwrap();
    let v = home
        .json(&[
            "run",
            "Largest city?",
            "-m",
            "fake/j1",
            "-m",
            "fake/j2",
            "-m",
            "fake/j3",
            "--schema",
            schema.to_str().unwrap(),
            "--json",
        ])
        .await;
    let errors = contract::errors("RoundtableResponse", &v);
    assert!(errors.is_empty(), "an additive extension: {errors:?}");
    let a = &v["meta"]["agreement"];
    let fields = a["fields"]["fields"].as_array().unwrap();
    let city = fields.iter().find(|f| f["pointer"] == "/city").unwrap();
    assert_eq!(city["majority"], "Paris");
    assert_eq!(city["values"][1]["results"], json!([2]));
    let pop = fields.iter().find(|f| f["pointer"] == "/pop").unwrap();
    assert_eq!(pop["share"], 1.0, "2 and 2.0 are one value");
    assert_eq!(a["consensus"]["object"], json!({"city": "Paris", "pop": 2}));

    let id = v["id"].as_str().unwrap();
    let shown = home.run(&["history", "show", id]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let out = &shown.stdout;
    assert!(out.contains("Agreement · 2 fields over 3 answers"), "{out}");
    assert!(out.contains("\"Paris\""), "{out}");
    assert!(out.contains("2/3  67 %"), "{out}");
    assert!(out.contains("differs: fake/j3 \"Lyon\""), "{out}");
    assert!(out.contains("Consensus:"), "{out}");

    let dir = home.path().join("exports");
    std::fs::create_dir(&dir).unwrap();
    for (format, needle) in [
        ("md", "### Agreement"),
        ("html", "<h3>Agreement</h3>"),
        ("csv", "fields_agreeing"),
        ("json", "\"agreement\""),
    ] {
        let file = dir.join(format!("out.{format}"));
        let out = home
            .run(&[
                "export",
                id,
                "--format",
                format,
                "--output",
                file.to_str().unwrap(),
            ])
            .await;
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(needle), "{format}: {text}");
    }
}

/// `roundtable run` of the panel a, a, b with `resolution` (and its options).
async fn panel_of_three(home: &Home, resolution: &[&str]) -> String {
    let mut args = vec![
        "run",
        "Capital?",
        "-m",
        "fake/a",
        "-m",
        "fake/a",
        "-m",
        "fake/b",
        "--resolution",
    ];
    args.extend(resolution);
    let out = home.run(&args).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

#[tokio::test]
async fn multiple_choice_prints_the_winners_share_and_free_text_the_similarity() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let home = Home::new(&fake);
    let s = panel_of_three(&home, &["multiple_choice", "--choices", "Paris,London"]).await;
    assert!(s.contains("Agreement: Paris 2/3, 67 %"), "{s}");

    let s = panel_of_three(&home, &["fast"]).await;
    assert!(s.contains("Agreement · similarity of the answers"), "{s}");
    assert!(s.contains("mean"), "{s}");
    assert!(s.contains("fake/b  ← outlier"), "{s}");
}
