//! The claims matrix (`consensus: true`): asked of the summary model beside the
//! consolidation, through each wire format's own structured output; a malformed
//! or failed matrix leaves the summary whole and says why.

use crate::common::native_provider;
use roundtable_core::providers::WireFormat;
use roundtable_core::resolution::claims::{ClaimKind, Stance};
use roundtable_core::{Engine, ModelSpec, PriceTable, Resolution, RoundtableRequest};
use roundtable_testkit::{Behavior, FakeProvider, Script};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const CLAIMS: &str = r#"{"claims": [
    {"claim": "Paris is the capital of France", "stances": {"A": "supports", "B": "supports"}},
    {"claim": "Lyon is the capital", "stances": {"A": "contradicts", "B": "supports"}}
]}"#;

/// The claims prompt starts so; the consolidation's does not.
const CLAIMS_PROMPT: &str = "List the distinct";

fn script() -> Script {
    let summariser =
        |claims: &str| Behavior::answer("Paris is the capital.").answer_when(CLAIMS_PROMPT, claims);
    Script::new()
        .model("a", Behavior::answer("Paris."))
        .model("b", Behavior::answer("Paris, though some say Lyon."))
        .model("summ", summariser(CLAIMS))
        .model("claude-sonnet-4-5", summariser(CLAIMS))
        .model("gemini-2.5-flash", summariser(CLAIMS))
        .model("muddled", summariser("They mostly agree."))
}

fn engine(fake: &FakeProvider) -> Engine {
    Engine::new(
        vec![
            native_provider("oa", WireFormat::Openai, fake.openai_base_url(), true),
            native_provider("an", WireFormat::Anthropic, fake.anthropic_base_url(), true),
            native_provider("ge", WireFormat::Gemini, fake.gemini_base_url(), true),
        ],
        PriceTable::builtin(),
    )
}

fn request(summary_model: &str) -> RoundtableRequest {
    RoundtableRequest {
        input: "What is the capital of France?".into(),
        models: vec![ModelSpec::named("oa/a"), ModelSpec::named("oa/b")],
        resolution: Some(Resolution::Summary),
        summary_model: Some(summary_model.into()),
        consensus: Some(true),
        ..Default::default()
    }
}

/// The JSON Schema the claims call asked for, where the format puts it.
fn claims_schema(fake: &FakeProvider, model: &str) -> Value {
    let body = fake
        .requests()
        .into_iter()
        .filter(|r| r.model == model && r.body.to_string().contains(CLAIMS_PROMPT))
        .map(|r| r.body)
        .next_back()
        .unwrap_or_else(|| panic!("no claims call to {model}"));
    [
        &body["response_format"]["json_schema"]["schema"],
        &body["output_config"]["format"]["schema"],
        &body["tools"][0]["input_schema"],
        &body["generationConfig"]["responseJsonSchema"],
    ]
    .into_iter()
    .find(|v| !v.is_null())
    .cloned()
    .unwrap_or_else(|| panic!("{model}: no structured output in {body}"))
}

#[tokio::test]
async fn each_wire_format_asks_for_the_matrix_through_its_structured_output() {
    let fake = FakeProvider::start(script()).await.unwrap();
    for (summary, model) in [
        ("oa/summ", "summ"),
        ("an/claude-sonnet-4-5", "claude-sonnet-4-5"),
        ("ge/gemini-2.5-flash", "gemini-2.5-flash"),
    ] {
        let out = engine(&fake)
            .run(request(summary), None, CancellationToken::new())
            .await
            .unwrap();
        let meta = &out.response.meta;
        assert_eq!(
            out.response.data.as_deref(),
            Some("Paris is the capital."),
            "{summary}"
        );
        let m = meta
            .claims
            .as_ref()
            .unwrap_or_else(|| panic!("{summary}: {meta:?}"));
        assert_eq!(m.results, vec![0, 1]);
        assert_eq!(m.claims[0].kind, ClaimKind::Unanimous);
        assert_eq!(
            m.claims[1].stances,
            vec![Stance::Contradicts, Stance::Supports]
        );
        assert!((m.agreement_rate - 0.5).abs() < 1e-12);
        let schema = claims_schema(&fake, model);
        assert_eq!(
            schema["properties"]["claims"]["items"]["properties"]["stances"]["required"],
            serde_json::json!(["A", "B"]),
            "{summary}"
        );
    }
}

#[tokio::test]
async fn a_bad_matrix_keeps_the_summary_and_says_why() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let out = engine(&fake)
        .run(request("oa/muddled"), None, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(out.response.data.as_deref(), Some("Paris is the capital."));
    assert!(out.response.meta.claims.is_none());
    let e = out.response.meta.claims_error.as_deref().unwrap();
    assert!(e.contains("not the matrix asked for"), "{e}");
    assert_eq!(out.status, roundtable_core::RunStatus::Completed);
}

#[tokio::test]
async fn without_consensus_no_claims_call_is_made() {
    let fake = FakeProvider::start(script()).await.unwrap();
    let mut req = request("oa/summ");
    req.consensus = None;
    let out = engine(&fake)
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    assert!(out.response.meta.claims.is_none() && out.response.meta.claims_error.is_none());
    assert!(
        fake.requests()
            .iter()
            .all(|r| !r.body.to_string().contains(CLAIMS_PROMPT)),
        "a claims call was made"
    );
}
