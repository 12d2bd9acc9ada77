//! Runs whose answers are crafted against the agreement code: each is recorded,
//! shown, exported in every format, imported and run again, in the real
//! history, answered by the fake provider over HTTP.

use crate::common::{Fixture, open, request};
use roundtable_app::ExportFormat;
use roundtable_app::core::{ModelOutcome, Resolution};
use roundtable_testkit::{Behavior, Script};
use serde_json::{Value, json};

/// Object keys that parse as array indices: one 3.2 TB array's length, one
/// `usize::MAX` (whose `+ 1` overflowed).
const ANSWER: &str = r#"{"99999999999": "A", "18446744073709551615": ["B"]}"#;

#[tokio::test]
async fn numeric_looking_keys_are_recorded_shown_exported_imported_and_rerun() {
    let answer = Behavior::answer(ANSWER);
    let f = Fixture::start(Script::new().model("a", answer.clone()).model("b", answer)).await;
    let mut req = request("Fill it in", &["fake/a", "fake/b"], Resolution::Fast);
    req.output_schema = Some(json!({"type": "object"}));
    let out = f.run(req).await.0.unwrap();
    let outcomes: Vec<_> = out
        .response
        .model_results
        .iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes, [Some(ModelOutcome::Answered); 2]);
    let want: Value = serde_json::from_str(ANSWER).unwrap();
    let agreement = out.response.meta.agreement.clone().expect("computed");
    assert_eq!(agreement.consensus.unwrap().object, want);
    let id = out.response.id.clone();

    // A backup without the agreement, as a run recorded before it existed:
    // each reading computes it again.
    let mut backup: Value = serde_json::from_str(
        &f.app
            .export(std::slice::from_ref(&id), ExportFormat::Json)
            .unwrap(),
    )
    .unwrap();
    let run = backup
        .as_array_mut()
        .and_then(|runs| runs.first_mut())
        .expect("one run");
    let meta = run["meta"].as_object_mut().unwrap();
    assert!(meta.remove("agreement").is_some(), "{meta:?}");

    let home = tempfile::tempdir().unwrap();
    let other = open(home.path());
    let ids = other.import(&backup.to_string()).unwrap();
    assert_eq!(ids, std::slice::from_ref(&id));
    let shown = other.view_run(&id).unwrap();
    let consensus = shown.response.meta.agreement.unwrap().consensus.unwrap();
    assert_eq!(consensus.object, want);
    for format in [
        ExportFormat::Md,
        ExportFormat::Html,
        ExportFormat::Csv,
        ExportFormat::Json,
    ] {
        let text = other.export(std::slice::from_ref(&id), format).unwrap();
        assert!(text.contains("99999999999"), "{format:?}: {text}");
    }

    // Again, in the history it was recorded in.
    let sink = crate::common::Events::default();
    let again = f
        .app
        .rerun(&id, &sink, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap();
    let agreement = again.response.meta.agreement.expect("computed");
    assert_eq!(agreement.consensus.unwrap().object, want);
}
