//! Every recorded Anthropic Messages stream in `shared/provider-fixtures/anthropic/`
//! parses, through the same SSE decoder the client uses; and usage is priced in
//! the contract's convention.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use roundtable_core::providers::{Completion, Delta};
use roundtable_core::{PriceTable, WireFormat};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/provider-fixtures/anthropic")
}

struct Parsed {
    completion: Completion,
    text: String,
    thinking: String,
    complete: bool,
}

async fn parse_bytes(bytes: Vec<u8>) -> Parsed {
    // Some recordings lost the blank line that ends their last event; the SDKs
    // that recorded them flush a pending event at the end of the body, so do we.
    let chunks = [bytes, b"\n\n".to_vec()].map(Ok::<_, std::io::Error>);
    let mut events = futures_util::stream::iter(chunks).eventsource();
    let mut parser = WireFormat::Anthropic.stream_parser();
    let (mut text, mut thinking) = (String::new(), String::new());
    while let Some(e) = events.next().await {
        let e = e.unwrap();
        for delta in parser.feed(&e.event, &e.data).unwrap() {
            match delta {
                Delta::Text(t) => text.push_str(&t),
                Delta::Thinking(t) => thinking.push_str(&t),
                Delta::Usage(_) => {}
            }
        }
    }
    Parsed {
        completion: parser.completion(),
        text,
        thinking,
        complete: parser.is_complete(),
    }
}

async fn parse(name: &str) -> Parsed {
    parse_bytes(std::fs::read(fixtures().join(name)).unwrap()).await
}

#[tokio::test]
async fn every_recorded_stream_parses() {
    let mut n = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let p = parse(&name).await;
        assert!(p.complete, "{name}: stream not complete");
        let c = &p.completion;
        let usage = c
            .usage
            .clone()
            .unwrap_or_else(|| panic!("{name}: no usage"));
        assert!(usage.input_tokens > 0, "{name}");
        assert!(c.finish_reason.is_some(), "{name}");
        // The deltas add up to the text and the thinking, kept apart.
        assert_eq!(p.text, c.text, "{name}");
        assert_eq!(p.thinking, c.thinking, "{name}");
        n += 1;
    }
    assert_eq!(n, 10);
}

#[tokio::test]
async fn expected_answers() {
    let c = parse("basic_response.txt").await.completion;
    assert_eq!(c.text, "Hello there!");
    assert_eq!(c.finish_reason.as_deref(), Some("end_turn"));
    let u = c.usage.unwrap();
    // message_start's input count, message_delta's cumulative output count.
    assert_eq!((u.input_tokens, u.output_tokens), (11, 6));
    assert!(c.refusal.is_none());

    // Compaction summaries and model-fallback markers are not part of the answer.
    for name in [
        "compaction_response.txt",
        "fallback_response.txt",
        "fallback_credit_response.txt",
    ] {
        let c = parse(name).await.completion;
        assert_eq!(c.text, "Hello there!", "{name}");
        assert_eq!(c.usage.unwrap().output_tokens, 8, "{name}");
    }

    let c = parse("stream-b-fallback.sse").await.completion;
    // A fallback model continuing a prefill: the text starts mid-sentence.
    assert!(
        c.text.starts_with(" there! Happy to explain."),
        "{}",
        c.text
    );
    assert!(
        c.text
            .ends_with("Just let me know what's sparking your interest!")
    );
    assert_eq!(c.usage.unwrap().output_tokens, 547);
}

#[tokio::test]
async fn thinking_is_kept_apart_from_the_answer() {
    let p = parse("stream-a-refusal.sse").await;
    let c = p.completion;
    assert!(c.thinking.starts_with("Simple educational question"));
    assert!(c.thinking.ends_with("roll with it politely."));
    assert!(!c.text.contains("Simple educ"));
    assert_eq!(c.text, "Hi");
    let u = c.usage.unwrap();
    assert_eq!((u.output_tokens, u.reasoning_tokens), (106, 67));
}

#[tokio::test]
async fn refusals_are_flagged() {
    let c = parse("refusal_response.txt").await.completion;
    assert_eq!(c.text, "");
    assert_eq!(c.finish_reason.as_deref(), Some("refusal"));
    assert_eq!(
        c.refusal.as_deref(),
        Some("This request was refused due to policy. (stop_reason: refusal, category: cyber)")
    );

    for name in ["stream-a-refusal.sse", "stream-a-toolrefusal.sse"] {
        let c = parse(name).await.completion;
        assert_eq!(
            c.refusal.as_deref(),
            Some("Claude declined to answer (stop_reason: refusal)"),
            "{name}"
        );
    }
    // The server tool's query and results are not the answer.
    let c = parse("stream-a-toolrefusal.sse").await.completion;
    assert_eq!(
        c.text,
        "Here's a summary of this year's solar eclipses and how"
    );
    // message_delta's cumulative counts replace message_start's.
    assert_eq!(c.usage.unwrap().input_tokens, 28);
}

#[tokio::test]
async fn tool_use_and_partial_json_streams_end_cleanly() {
    let c = parse("tool_use_response.txt").await.completion;
    assert_eq!(c.text, "I'll check the current weather in Paris for you.");
    assert_eq!(c.finish_reason.as_deref(), Some("tool_use"));
    let u = c.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (377, 65));

    let c = parse("incomplete_partial_json_response.txt")
        .await
        .completion;
    assert_eq!(
        c.text,
        "I'll create a comprehensive tax guide for someone with multiple W2s and save it in a file called taxes.txt. Let me do that for you now."
    );
    assert_eq!(c.finish_reason.as_deref(), Some("max_tokens"));
    let u = c.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (450, 124));
}

#[tokio::test]
async fn the_forced_output_tool_input_is_the_answer() {
    // The recorded tool call, as if it were the tool a schema is forced through.
    let recorded = std::fs::read_to_string(fixtures().join("tool_use_response.txt")).unwrap();
    let forced = recorded.replace(r#""name":"get_weather""#, r#""name":"output""#);
    assert_ne!(forced, recorded);
    let p = parse_bytes(forced.into_bytes()).await;
    assert_eq!(p.completion.text, r#"{"location": "Paris"}"#);
    let value: serde_json::Value = serde_json::from_str(&p.completion.text).unwrap();
    assert_eq!(value["location"], "Paris");
}

#[test]
fn usage_with_cache_reads_and_writes_is_priced_at_claude_sonnet_4_5() {
    let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
        "content":[{"type":"text","text":"Paris."}],"stop_reason":"end_turn",
        "usage":{"input_tokens":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":1000,
                 "cache_creation":{"ephemeral_5m_input_tokens":600,"ephemeral_1h_input_tokens":400},
                 "output_tokens":500,"output_tokens_details":{"thinking_tokens":200}}}"#;
    let c = WireFormat::Anthropic.parse_response(body).unwrap();
    let u = c.usage.unwrap();
    assert_eq!(u.input_tokens, 3100, "uncached + reads + writes");
    assert_eq!(u.cache_read_tokens, 2000);
    assert_eq!(u.cache_creation_tokens, 600);
    assert_eq!(u.cache_creation_1h_tokens, 400);
    assert_eq!((u.output_tokens, u.reasoning_tokens), (500, 200));

    let price = PriceTable::builtin()
        .lookup("anthropic", "claude-sonnet-4-5")
        .unwrap();
    // $3/M input, $0.30/M cache reads, $3.75/M 5-minute writes, $6/M 1-hour
    // writes, $15/M output (thinking included).
    let expected: f64 =
        100.0 * 3e-6 + 2000.0 * 0.3e-6 + 600.0 * 3.75e-6 + 400.0 * 6e-6 + 500.0 * 15e-6;
    assert!((expected - 0.01305).abs() < 1e-12);
    assert!(
        (price.cost(&u) - expected).abs() < 1e-12,
        "{}",
        price.cost(&u)
    );
}
