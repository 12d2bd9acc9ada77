//! Samples of one model (issue 17): an entry with `samples: N` makes N calls,
//! each its own result numbered by `sample`; multiple choice over them is
//! self-consistency, summary over them is Self-MoA; costs count every sample.

use crate::common::{drain, engine_with_prices, request};
use roundtable_core::{ModelPrice, PriceTable, Resolution, RunEvent, RunStatus};
use roundtable_testkit::{Behavior, FakeProvider, FakeUsage, Script};
use tokio_util::sync::CancellationToken;

fn priced() -> PriceTable {
    let mut prices = PriceTable::empty();
    let price = ModelPrice {
        input: 1e-6,
        output: 2e-6,
        ..ModelPrice::default()
    };
    prices.insert("fake/a", price);
    prices.insert("fake/c", price);
    prices
}

#[tokio::test]
async fn multiple_choice_over_samples_is_self_consistency() {
    let fake = FakeProvider::start(
        Script::new()
            .model(
                "a",
                Behavior::answer("London").usage(FakeUsage::new(100, 10)),
            )
            .model(
                "c",
                Behavior::answer("Paris").usage(FakeUsage::new(100, 10)),
            ),
    )
    .await
    .unwrap();
    let mut req = request("Capital of the UK?", &["fake/a", "fake/c"]);
    req.models[0].samples = Some(5);
    req.resolution = Some(Resolution::MultipleChoice);
    req.choices = Some(vec!["Paris".into(), "London".into()]);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let out = engine_with_prices(&fake, priced())
        .run(req, Some(tx), CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response;
    assert_eq!(out.status, RunStatus::Completed);
    assert_eq!(fake.requests().len(), 6, "five samples and one other model");
    assert_eq!(r.model_results.len(), 6);
    let numbered: Vec<_> = r
        .model_results
        .iter()
        .map(|m| (m.index, m.model.as_str(), m.sample))
        .collect();
    assert_eq!(
        numbered,
        [
            (0, "fake/a", Some(1)),
            (1, "fake/a", Some(2)),
            (2, "fake/a", Some(3)),
            (3, "fake/a", Some(4)),
            (4, "fake/a", Some(5)),
            (5, "fake/c", None),
        ]
    );
    let votes = r.meta.votes.as_ref().unwrap();
    assert_eq!(votes["London"], 5);
    assert_eq!(votes["Paris"], 1);
    assert_eq!(r.data.as_deref(), Some("London"));
    assert!(
        r.model_results[..5]
            .iter()
            .all(|m| m.vote.as_deref() == Some("London"))
    );

    // Every sample is a priced call, and the total counts each one.
    let each = 100.0 * 1e-6 + 10.0 * 2e-6;
    assert!(
        r.model_results
            .iter()
            .all(|m| (m.cost - each).abs() < 1e-12)
    );
    assert!(
        (r.meta.total_cost - 6.0 * each).abs() < 1e-12,
        "{}",
        r.meta.total_cost
    );

    // The run's events list the expanded panel, and each result its sample.
    let events = drain(&mut rx);
    match events.first() {
        Some(RunEvent::RunStarted { models, .. }) => assert_eq!(models.len(), 6),
        other => panic!("{other:?}"),
    }
    let finished: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::ModelFinished { result } => Some((result.index, result.sample)),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 6);
    assert!(
        finished
            .iter()
            .all(|&(i, s)| s == (i < 5).then(|| i as u32 + 1))
    );
}

#[tokio::test]
async fn summary_over_samples_is_self_moa() {
    let fake =
        FakeProvider::start(Script::new().model("a", Behavior::answer("Paris is the capital.")))
            .await
            .unwrap();
    let mut req = request("Capital of France?", &["fake/a"]);
    req.models[0].samples = Some(3);
    req.models[0].temperature = Some(0.9);
    let out = engine_with_prices(&fake, priced())
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    let r = &out.response;
    assert_eq!(out.status, RunStatus::Completed);
    assert_eq!(r.model_results.len(), 3);
    assert_eq!(r.meta.models_used, ["fake/a", "fake/a", "fake/a"]);
    assert_eq!(r.meta.summary_model.as_deref(), Some("fake/a"));
    assert!(!r.data.as_deref().unwrap_or_default().is_empty());

    // Three sample calls, each with the entry's options, then the consolidation
    // of the three answers.
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 4);
    assert!(reqs[..3].iter().all(|q| q.body["temperature"] == 0.9));
    let prompt = reqs[3].body["messages"][0]["content"].as_str().unwrap();
    for id in ["A", "B", "C"] {
        let answer = format!("id=\"{id}\">\nParis is the capital.\n</response-");
        assert!(prompt.contains(&answer), "{id}: {prompt}");
    }
    assert!(!prompt.contains("id=\"D\""), "{prompt}");

    // The summary's cost is added to the three samples'.
    let samples: f64 = r.model_results.iter().map(|m| m.cost).sum();
    assert!(samples > 0.0);
    assert!(r.meta.total_cost >= samples);
}

#[tokio::test]
async fn samples_out_of_range_are_refused_before_any_call() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    for n in [0, roundtable_core::MAX_SAMPLES + 1] {
        let mut req = request("Hi", &["fake/a"]);
        req.models[0].samples = Some(n);
        let e = engine_with_prices(&fake, priced())
            .run(req, None, CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(e.field, "models[0].samples");
    }
    assert!(fake.requests().is_empty());
}
