//! Every recorded Gemini response in `shared/provider-fixtures/gemini/` parses:
//! `unary-*` bodies through `parse_response` (or `parse_error` for error bodies),
//! `streaming-*` bodies through the same SSE decoder the client uses.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use roundtable_core::providers::{Completion, Delta, ProviderError};
use roundtable_core::{PriceTable, WireFormat};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/provider-fixtures/gemini")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).unwrap()
}

fn names(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

fn is_error_body(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .is_some_and(|v| v.get("error").is_some())
}

fn unary(name: &str) -> Result<Completion, ProviderError> {
    WireFormat::Gemini.parse_response(&read(name))
}

fn error(name: &str, status: u16) -> ProviderError {
    WireFormat::Gemini.parse_error(status, &HeaderMap::new(), &read(name))
}

struct Streamed {
    completion: Result<Completion, ProviderError>,
    text: String,
    thinking: String,
    usage_deltas: usize,
    complete: bool,
}

async fn stream(name: &str) -> Streamed {
    // Some recordings lost the blank line that ends their last event; the SDKs
    // that recorded them flush a pending event at the end of the body, so do we.
    let chunks = [read(name), b"\n\n".to_vec()].map(Ok::<_, std::io::Error>);
    let mut events = futures_util::stream::iter(chunks).eventsource();
    let mut parser = WireFormat::Gemini.stream_parser();
    let mut out = Streamed {
        completion: Ok(Completion::default()),
        text: String::new(),
        thinking: String::new(),
        usage_deltas: 0,
        complete: false,
    };
    while let Some(e) = events.next().await {
        let e = e.unwrap();
        match parser.feed(&e.event, &e.data) {
            Ok(deltas) => {
                for delta in deltas {
                    match delta {
                        Delta::Text(t) => out.text.push_str(&t),
                        Delta::Thinking(t) => out.thinking.push_str(&t),
                        Delta::Usage(_) => out.usage_deltas += 1,
                    }
                }
            }
            Err(err) => {
                out.completion = Err(err);
                return out;
            }
        }
    }
    out.complete = parser.is_complete();
    out.completion = Ok(parser.completion());
    out
}

#[test]
fn every_unary_body_parses() {
    let names = names("unary-");
    assert_eq!(names.len(), 23);
    for name in &names {
        let bytes = read(name);
        // The `.txt` twins are the same bodies as the `.json` files.
        if let Some(base) = name.strip_suffix(".txt") {
            assert_eq!(bytes, read(&format!("{base}.json")), "{name}");
        }
        if is_error_body(&bytes) {
            let e = error(name, 400);
            assert!(
                !e.message.is_empty() && !e.message.starts_with('{'),
                "{name}"
            );
            continue;
        }
        let result = unary(name);
        if name.starts_with("unary-success-") {
            let c = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.finish_reason.as_deref(), Some("STOP"), "{name}");
            assert!(c.refusal.is_none(), "{name}");
            assert!(!c.text.is_empty() || !c.thinking.is_empty(), "{name}");
            let u = c.usage.unwrap_or_else(|| panic!("{name}: no usage"));
            assert!(u.input_tokens > 0 && u.output_tokens > 0, "{name}");
        } else {
            // A failure is an error or a refusal, never an answer.
            match result {
                Ok(c) => assert!(c.refusal.is_some(), "{name}: {c:?}"),
                Err(e) => assert!(!e.message.is_empty(), "{name}"),
            }
        }
    }
}

#[test]
fn expected_unary_answers() {
    let c = unary("unary-success-basic-reply-short.json").unwrap();
    assert_eq!(
        c.text,
        "Google's headquarters, also known as the Googleplex, is located in **Mountain View, California**.\n"
    );
    let u = c.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (7, 22));

    let c = unary("unary-success-thinking-reply-thought-summary.json").unwrap();
    assert_eq!(c.text, "Mountain View");
    assert!(
        c.thinking
            .starts_with("**Thinking About Google's Headquarters**")
    );
    let u = c.usage.unwrap();
    // candidatesTokenCount 2 + thoughtsTokenCount 24.
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.reasoning_tokens),
        (14, 26, 24)
    );

    // Code and its result are parts of their own; the answer is the text.
    let c = unary("unary-success-code-execution.json").unwrap();
    assert!(
        c.text
            .starts_with("The first 5 prime numbers are 2, 3, 5, 7, and 11.")
    );
    assert!(!c.text.contains("prime_numbers ="));
    let u = c.usage.unwrap();
    // The tool-use prompt (160) is input too.
    assert_eq!((u.input_tokens, u.output_tokens), (21 + 160, 96 + 86));

    // A function call alone: thinking, but no text.
    let c = unary("unary-success-thinking-function-call-thought-summary-signature.json").unwrap();
    assert_eq!(c.text, "");
    assert!(
        c.thinking
            .starts_with("**Thinking Through the New Year's Eve")
    );
}

#[test]
fn blocked_and_failed_unary_answers() {
    let c = unary("unary-failure-finish-reason-safety.json").unwrap();
    assert_eq!(
        c.refusal.as_deref(),
        Some("blocked by Gemini safety filters (SAFETY)")
    );
    assert_eq!(c.finish_reason.as_deref(), Some("SAFETY"));

    let c = unary("unary-failure-only-prompt-feedback.json").unwrap();
    assert_eq!(
        c.refusal.as_deref(),
        Some("the prompt was blocked by Gemini: Message")
    );

    let e = unary("unary-failure-with-message-no-content.json").unwrap_err();
    assert_eq!(
        e.message,
        "Gemini returned no answer (finish reason OTHER): Model failed to generate content due to internal error."
    );
    assert!(e.transient);

    let e = error("unary-failure-api-key.json", 400);
    assert_eq!(
        e.message,
        "API key not valid. Please pass a valid API key. (INVALID_ARGUMENT)"
    );
    assert!(!e.transient);
    let e = error("unary-failure-unknown-model.json", 404);
    assert!(
        e.message
            .starts_with("models/gemini-5.0-flash is not found")
    );
    assert!(e.message.ends_with("(NOT_FOUND)"));
    let e = error("unary-failure-generativelanguage-api-not-enabled.json", 403);
    assert!(e.message.contains("has not been used in project"));
    assert!(!e.transient);
}

#[tokio::test]
async fn every_stream_parses() {
    let names = names("streaming-");
    assert_eq!(names.len(), 13);
    for name in &names {
        let bytes = read(name);
        if is_error_body(&bytes) {
            // Not a stream: the error body of a failed streaming request.
            let e = error(name, 400);
            assert_eq!(
                e.message,
                "Request contains an invalid argument. (INVALID_ARGUMENT)"
            );
            continue;
        }
        let s = stream(name).await;
        let c = s.completion.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(s.complete, "{name}: stream not complete");
        // The deltas add up to the text and the thinking, kept apart.
        assert_eq!(s.text, c.text, "{name}");
        assert_eq!(s.thinking, c.thinking, "{name}");
        assert!(s.usage_deltas <= 1, "{name}: usage is reported once");
        if name.starts_with("streaming-success-") {
            assert_eq!(c.finish_reason.as_deref(), Some("STOP"), "{name}");
            assert!(c.refusal.is_none(), "{name}");
        } else {
            assert!(c.refusal.is_some(), "{name}");
        }
    }
}

#[tokio::test]
async fn expected_streamed_answers() {
    let c = stream("streaming-success-basic-reply-short.txt")
        .await
        .completion
        .unwrap();
    assert_eq!(c.text, "The capital of Wyoming is **Cheyenne**.\n");
    let u = c.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (7, 10));

    let s = stream("streaming-success-thinking-reply-thought-summary.txt").await;
    let c = s.completion.unwrap();
    assert!(c.thinking.starts_with("**Exploring Sky Color**"));
    assert!(c.text.starts_with("The sky is blue because"));
    assert!(!c.text.contains("Exploring Sky Color"));
    let u = c.usage.unwrap();
    assert_eq!((u.output_tokens, u.reasoning_tokens), (48 + 540, 540));
    assert_eq!(s.usage_deltas, 1);

    let c = stream("streaming-success-finish-message.txt")
        .await
        .completion
        .unwrap();
    assert_eq!(c.text, "Hello world!");
    assert_eq!(c.usage, None);

    // The image part is skipped; the text around it is the answer.
    let c = stream("streaming-success-empty-parts.txt")
        .await
        .completion
        .unwrap();
    assert_eq!(
        c.text,
        "Here's a cute cartoon kitten playing with a ball of yarn for you! "
    );

    let c = stream("streaming-success-code-execution.txt")
        .await
        .completion
        .unwrap();
    assert!(
        c.text
            .ends_with("using a Python tool:\n\nThe sum of the first 5 prime numbers is 28.")
    );
    let u = c.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (21 + 243, 126 + 95));

    let c = stream("streaming-success-url-context.txt")
        .await
        .completion
        .unwrap();
    assert!(c.text.starts_with("\nThe Google homepage"));
}

#[tokio::test]
async fn blocked_streams_are_refusals() {
    let c = stream("streaming-failure-prompt-blocked-safety.txt")
        .await
        .completion
        .unwrap();
    assert_eq!(c.text, "");
    assert_eq!(
        c.refusal.as_deref(),
        Some("the prompt was blocked by Gemini safety filters (SAFETY)")
    );

    // Recitation: text arrived, then the candidate was stopped.
    let c = stream("streaming-failure-recitation-no-content.txt")
        .await
        .completion
        .unwrap();
    assert_eq!(c.text, "text1text2text3text4text5text6text7text8");
    assert_eq!(
        c.refusal.as_deref(),
        Some("blocked by Gemini for reciting a source too closely (RECITATION)")
    );
}

#[tokio::test]
async fn a_stream_cut_before_its_finish_reason_is_incomplete() {
    let bytes = read("streaming-success-basic-reply-short.txt");
    let text = String::from_utf8(bytes).unwrap();
    let cut = &text[..text.rfind("data: ").unwrap()];
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(cut.as_bytes().to_vec())]);
    let mut events = stream.eventsource();
    let mut parser = WireFormat::Gemini.stream_parser();
    while let Some(e) = events.next().await {
        let e = e.unwrap();
        parser.feed(&e.event, &e.data).unwrap();
    }
    // Every chunk carried usage, but no candidate finished.
    assert!(!parser.is_complete());
}

#[test]
fn usage_with_cached_and_thought_tokens_is_priced_at_gemini_2_5_flash() {
    let body = br#"{"candidates":[{"content":{"parts":[{"text":"Paris."}],"role":"model"},
        "finishReason":"STOP","index":0}],
        "usageMetadata":{"promptTokenCount":1000,"cachedContentTokenCount":400,
        "candidatesTokenCount":100,"thoughtsTokenCount":300,"totalTokenCount":1400}}"#;
    let u = WireFormat::Gemini
        .parse_response(body)
        .unwrap()
        .usage
        .unwrap();
    assert_eq!((u.input_tokens, u.cache_read_tokens), (1000, 400));
    assert_eq!((u.output_tokens, u.reasoning_tokens), (400, 300));

    let price = PriceTable::builtin()
        .lookup("gemini", "gemini-2.5-flash")
        .unwrap();
    // $0.30/M input, $0.03/M cached, $2.50/M output and thoughts.
    let expected: f64 = 600.0 * 0.3e-6 + 400.0 * 0.03e-6 + 100.0 * 2.5e-6 + 300.0 * 2.5e-6;
    assert!((expected - 0.001192).abs() < 1e-12);
    assert!(
        (price.cost(&u) - expected).abs() < 1e-12,
        "{}",
        price.cost(&u)
    );
}
