//! A judge's places land on the models whose answers it ranked, whatever order
//! the answers were shown in: which answer stood under each label is read from
//! the prompt the fake received, so a mapping by shown position instead of by
//! answer, or no shuffle at all, fails here.

use crate::common::Fixture;
use roundtable_app::core::{Meta, ModelResult, RoundtableResponse, RunStatus};
use roundtable_app::store::Store;
use roundtable_testkit::{Behavior, Script};
use std::collections::HashSet;
use tokio_util::sync::CancellationToken;

const MODELS: [&str; 3] = ["fake/x", "fake/y", "fake/z"];

/// The answer each model gives: its own, to be found in the judge's prompt.
fn answer(i: usize) -> String {
    format!("Answer {i}, written by one of the panel.")
}

/// The prompt of the judge's last call.
fn judge_prompt(f: &Fixture) -> String {
    let body = f
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.model == "judge")
        .expect("the judge was called")
        .body;
    let messages = body["messages"].as_array().unwrap();
    messages
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which answer (by its index in the panel) the prompt shows under `label`.
fn under(prompt: &str, label: &str) -> u32 {
    let open = format!("id=\"{label}\">\n");
    let start = prompt
        .find(&open)
        .unwrap_or_else(|| panic!("{label}: {prompt}"))
        + open.len();
    let text = &prompt[start..start + prompt[start..].find('\n').unwrap()];
    (0..MODELS.len())
        .find(|&i| answer(i) == text)
        .unwrap_or_else(|| panic!("{label} shows {text:?}")) as u32
}

#[tokio::test]
async fn the_judges_places_land_on_the_answers_it_saw_under_each_label() {
    // The judge always puts C first, then A, then B.
    let ranking = r#"{"ranking": [
        {"response": "C", "reason": "third shown"},
        {"response": "A", "reason": "first shown"},
        {"response": "B", "reason": "second shown"}]}"#;
    let mut script = Script::new().model("judge", Behavior::answer(ranking));
    for (i, m) in MODELS.iter().enumerate() {
        let id = m.strip_prefix("fake/").unwrap();
        script = script.model(id, Behavior::answer(answer(i)));
    }
    let f = Fixture::start(script).await;
    let run = f.fast(&MODELS).await.0.unwrap().response;

    let mut orders = HashSet::new();
    for _ in 0..12 {
        let judged = f
            .app
            .judge(&run.id, "fake/judge", CancellationToken::new())
            .await
            .unwrap();
        let prompt = judge_prompt(&f);
        let shown: Vec<u32> = ["A", "B", "C"].iter().map(|l| under(&prompt, l)).collect();
        assert_eq!(judged.ranking, [shown[2], shown[0], shown[1]], "{prompt}");
        assert_eq!(
            judged.reasons,
            ["third shown", "first shown", "second shown"]
        );
        for name in MODELS {
            assert!(
                !prompt.contains(name),
                "{name} named to the judge: {prompt}"
            );
        }
        // What is stored is what was returned.
        let stored = f.app.run_verdicts(&run.id).unwrap().judgements;
        assert_eq!(stored.last().unwrap().ranking, judged.ranking);
        orders.insert(shown);
    }
    // Twelve judgings of three answers all in one order: 1 in 6^11.
    assert!(
        orders.len() > 1,
        "the answers are always shown in one order"
    );
}

#[tokio::test]
async fn only_answers_are_judged_in_one_call_asked_for_its_ranking_as_json() {
    let ranking =
        r#"{"ranking": [{"response": "B", "reason": "b"}, {"response": "A", "reason": "a"}]}"#;
    let f = Fixture::start(Script::new().model("judge", Behavior::answer(ranking))).await;
    // A run of three: two answered, one failed after some text, one
    // "answered" nothing; only the two answers are for the judge.
    let result = |index: usize, data: &str, error: Option<&str>| ModelResult {
        index,
        model: MODELS[index].into(),
        data: data.into(),
        error: error.map(Into::into),
        ..Default::default()
    };
    let response = RoundtableResponse {
        id: "rt_judged".into(),
        data: None,
        meta: Meta::default(),
        model_results: vec![
            result(0, &answer(0), None),
            result(1, "Half an answ", Some("the stream broke off")),
            result(2, &answer(2), None),
            ModelResult {
                index: 3,
                ..result(2, "  ", None)
            },
        ],
    };
    let store = Store::open(&f.home.path().join("history.db")).unwrap();
    store
        .import_response(None, &response, RunStatus::Completed, None)
        .unwrap();

    let judged = f
        .app
        .judge("rt_judged", "fake/judge", CancellationToken::new())
        .await
        .unwrap();
    let mut ranked = judged.ranking.clone();
    ranked.sort();
    assert_eq!(ranked, [0, 2], "only the two answers are ranked");
    let prompt = judge_prompt(&f);
    assert!(!prompt.contains("Half an answ"), "{prompt}");
    assert!(
        !prompt.contains("id=\"C\""),
        "two responses shown: {prompt}"
    );
    // One call, the judge's, asked for its ranking through structured output.
    assert_eq!(f.fake.calls_for("judge"), 1);
    assert_eq!(f.fake.requests().len(), 1);
    let body = f.fake.requests().pop().unwrap().body;
    assert_eq!(body["response_format"]["type"], "json_schema", "{body}");
}
