//! Attachments (issue 18) over real HTTP to the fake provider: each wire format
//! gets the image, the PDF and the text file in its own shape (checked on the
//! bodies the fake recorded), an OpenAI-compatible local server gets images but
//! is not sent a PDF (its result says why), the price table's
//! `supports_vision: false` holds a model back, a provider's refusal names what
//! was sent, and the summary model gets the files' names, not their bytes.

use crate::common::native_provider;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_core::contract::{Attachment, ModelOutcome};
use roundtable_core::{
    Engine, ModelPrice, ModelSpec, PriceTable, Provider, Resolution, RoundtableRequest, RunStatus,
    WireFormat,
};
use roundtable_testkit::{Behavior, FakeProvider, Fault, Format, Script};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
/// The smallest PDF that says it is one.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

fn attachment(name: &str, media_type: &str, bytes: &[u8]) -> Attachment {
    Attachment {
        name: name.into(),
        media_type: media_type.into(),
        data: STANDARD.encode(bytes),
        ..Default::default()
    }
}

fn all_three() -> Vec<Attachment> {
    vec![
        attachment("chart.png", "image/png", PNG),
        attachment("contract.pdf", "application/pdf", PDF),
        attachment("notes.md", "text/markdown", b"# Notes\nRevenue rose.\n"),
    ]
}

fn engine(fake: &FakeProvider, prices: PriceTable) -> Engine {
    let local = Provider {
        local: true,
        ..Provider::new("local", WireFormat::Openai, fake.openai_base_url())
    };
    Engine::new(
        vec![
            native_provider("oa", WireFormat::Openai, fake.openai_base_url(), true),
            native_provider("an", WireFormat::Anthropic, fake.anthropic_base_url(), true),
            native_provider("ge", WireFormat::Gemini, fake.gemini_base_url(), false),
            local,
        ],
        prices,
    )
}

async fn fake() -> FakeProvider {
    FakeProvider::start(
        Script::new()
            .model("gpt-a", Behavior::answer("A bar chart."))
            .model("claude-b", Behavior::answer("A chart and a contract."))
            .model("gemini-c", Behavior::answer("Revenue rose."))
            .model("llava", Behavior::answer("A small image."))
            .model("blind", Behavior::answer("never asked")),
    )
    .await
    .unwrap()
}

fn request(models: &[&str], attachments: Vec<Attachment>) -> RoundtableRequest {
    RoundtableRequest {
        input: "What do these show?".into(),
        models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
        resolution: Some(Resolution::Fast),
        attachments,
        ..Default::default()
    }
}

fn body_for(fake: &FakeProvider, model: &str) -> Value {
    let found = fake.requests().into_iter().find(|r| r.model == model);
    found
        .unwrap_or_else(|| panic!("no request for {model}"))
        .body
}

#[tokio::test]
async fn each_format_gets_the_files_in_its_own_shape() {
    let fake = fake().await;
    let out = engine(&fake, PriceTable::empty())
        .run(
            request(&["oa/gpt-a", "an/claude-b", "ge/gemini-c"], all_three()),
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    assert!(
        out.response.model_results.iter().all(|r| r.succeeded()),
        "{:?}",
        out.response.model_results
    );
    let png = STANDARD.encode(PNG);
    let pdf = STANDARD.encode(PDF);

    // OpenAI: image_url with a data URL, a file part, then the text.
    let body = body_for(&fake, "gpt-a");
    let content = &body["messages"][0]["content"];
    assert_eq!(content[0]["type"], "image_url");
    assert_eq!(
        content[0]["image_url"]["url"],
        format!("data:image/png;base64,{png}")
    );
    assert_eq!(content[1]["type"], "file");
    assert_eq!(content[1]["file"]["filename"], "contract.pdf");
    assert_eq!(
        content[1]["file"]["file_data"],
        format!("data:application/pdf;base64,{pdf}")
    );
    assert_eq!(content[2]["type"], "text");
    assert_eq!(
        content[2]["text"],
        "File: notes.md\n```md\n# Notes\nRevenue rose.\n```\n\nWhat do these show?"
    );
    assert_eq!(content.as_array().unwrap().len(), 3);

    // Anthropic: image and document blocks with base64 sources, then the text.
    let body = body_for(&fake, "claude-b");
    let content = &body["messages"][0]["content"];
    assert_eq!(content[0]["type"], "image");
    assert_eq!(content[0]["source"]["type"], "base64");
    assert_eq!(content[0]["source"]["media_type"], "image/png");
    assert_eq!(content[0]["source"]["data"], png);
    assert_eq!(content[1]["type"], "document");
    assert_eq!(content[1]["source"]["media_type"], "application/pdf");
    assert_eq!(content[1]["source"]["data"], pdf);
    assert_eq!(content[1]["title"], "contract.pdf");
    assert_eq!(content[2]["type"], "text");
    assert!(
        content[2]["text"]
            .as_str()
            .unwrap()
            .ends_with("What do these show?")
    );

    // Gemini: inline_data parts, then the text.
    let body = body_for(&fake, "gemini-c");
    let parts = &body["contents"][0]["parts"];
    assert_eq!(body["contents"][0]["role"], "user");
    assert_eq!(parts[0]["inline_data"]["mime_type"], "image/png");
    assert_eq!(parts[0]["inline_data"]["data"], png);
    assert_eq!(parts[1]["inline_data"]["mime_type"], "application/pdf");
    assert!(
        parts[2]["text"]
            .as_str()
            .unwrap()
            .contains("File: notes.md")
    );
    let formats: Vec<Format> = fake.requests().iter().map(|r| r.format).collect();
    for f in [Format::OpenAi, Format::Anthropic, Format::Gemini] {
        assert!(formats.contains(&f), "{formats:?}");
    }
}

#[tokio::test]
async fn a_local_server_gets_images_but_is_not_sent_a_pdf() {
    let fake = fake().await;
    let engine = engine(&fake, PriceTable::empty());
    let out = engine
        .run(
            request(&["local/llava", "oa/gpt-a"], all_three()),
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    // The other model still answers; the local one was never called.
    assert_eq!(out.status, RunStatus::Completed);
    let local = &out.response.model_results[0];
    assert_eq!(local.outcome, Some(ModelOutcome::Unsupported));
    let error = local.error.as_deref().unwrap();
    assert!(
        error
            .starts_with("attachment 'contract.pdf' (application/pdf, 45 B): an OpenAI-compatible"),
        "{error}"
    );
    assert_eq!(fake.calls_for("llava"), 0);
    assert!(out.response.model_results[1].succeeded());

    // Without the PDF it is sent the image as an image_url part.
    let mut files = all_three();
    files.remove(1);
    let out = engine
        .run(
            request(&["local/llava"], files),
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    let body = body_for(&fake, "llava");
    let content = &body["messages"][0]["content"];
    assert_eq!(content[0]["type"], "image_url");
    assert!(
        content[1]["text"]
            .as_str()
            .unwrap()
            .contains("File: notes.md")
    );
}

#[tokio::test]
async fn a_model_the_price_table_calls_blind_is_not_sent_an_image() {
    let fake = fake().await;
    let mut prices = PriceTable::empty();
    prices.insert(
        "oa/blind",
        ModelPrice {
            supports_vision: Some(false),
            ..Default::default()
        },
    );
    let out = engine(&fake, prices)
        .run(
            request(&["oa/blind", "an/claude-b"], all_three()),
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let blind = &out.response.model_results[0];
    assert_eq!(blind.outcome, Some(ModelOutcome::Unsupported));
    assert!(
        blind
            .error
            .as_deref()
            .unwrap()
            .contains("oa/blind does not read images"),
        "{blind:?}"
    );
    assert_eq!(fake.calls_for("blind"), 0);
    assert!(out.response.model_results[1].succeeded());
}

#[tokio::test]
async fn a_providers_refusal_names_what_was_sent() {
    let fake = FakeProvider::start(Script::new().model(
        "gemini-c",
        Behavior::answer("x").fault(Fault::status(400, "Request contains an invalid argument.")),
    ))
    .await
    .unwrap();
    let out = engine(&fake, PriceTable::empty())
        .run(
            request(&["ge/gemini-c"], all_three()),
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap();
    let r = &out.response.model_results[0];
    assert_eq!(r.outcome, Some(ModelOutcome::Failed));
    let error = r.error.as_deref().unwrap();
    assert!(error.contains("invalid argument"), "{error}");
    assert!(
        error.contains("; sent with attachments 'chart.png' (image/png, 67 B), 'contract.pdf'"),
        "{error}"
    );
}

#[tokio::test]
async fn the_summary_model_gets_the_names_not_the_bytes() {
    let fake = fake().await;
    let mut req = request(&["oa/gpt-a", "an/claude-b"], all_three());
    req.resolution = Some(Resolution::Summary);
    req.summary_model = Some("ge/gemini-c".into());
    let out = engine(&fake, PriceTable::empty())
        .run(req, None, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    let body = body_for(&fake, "gemini-c");
    let parts = body["contents"][0]["parts"].as_array().unwrap();
    assert_eq!(
        parts.len(),
        1,
        "no inline data for the summary model: {body}"
    );
    let text = parts[0]["text"].as_str().unwrap();
    assert!(
        text.contains("What do these show?\n\n(attached to the question: 'chart.png' (image/png, 67 B), 'contract.pdf'"),
        "{text}"
    );
}

#[tokio::test]
async fn bad_attachments_are_refused_before_any_call_naming_the_field() {
    let fake = fake().await;
    let engine = engine(&fake, PriceTable::empty());
    let mut files = all_three();
    files[2].data = "%%% not base64".into();
    let e = engine
        .run(
            request(&["oa/gpt-a"], files),
            None,
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field, "attachments[2].data");
    assert!(e.message.contains("not valid base64"), "{e}");

    let files = vec![attachment("a.bmp", "image/bmp", b"BM....")];
    let e = engine.validate(&request(&["oa/gpt-a"], files)).unwrap_err();
    assert_eq!(e.field, "attachments[0].media_type");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_estimate_counts_the_files() {
    use roundtable_core::engine::{IMAGE_TOKENS, PDF_TOKENS_PER_50_KB};
    let fake = fake().await;
    let engine = engine(&fake, PriceTable::empty());
    let plain = engine
        .estimate(&request(&["oa/gpt-a"], vec![]), &Default::default())
        .unwrap();
    let with = engine
        .estimate(&request(&["oa/gpt-a"], all_three()), &Default::default())
        .unwrap();
    let (plain, with) = (&plain.calls[0], &with.calls[0]);
    // The text file as the text it is sent as (its name, a fence, 2 lines),
    // the image and the one-page PDF at their flat rates.
    let text = with.input_tokens - plain.input_tokens - IMAGE_TOKENS - PDF_TOKENS_PER_50_KB;
    assert!((8..40).contains(&text), "{text}");
    assert!(!with.input_exact);
    assert!(fake.requests().is_empty());
}
