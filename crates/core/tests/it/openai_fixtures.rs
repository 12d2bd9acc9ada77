//! Every recorded OpenAI Chat Completions stream in `shared/provider-fixtures/openai-chat/`
//! parses, through the same SSE decoder the client uses.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use roundtable_core::WireFormat;
use roundtable_core::providers::{Completion, Delta};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/provider-fixtures/openai-chat")
}

async fn parse(name: &str) -> (Completion, Vec<Delta>, bool) {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]);
    let mut events = stream.eventsource();
    let mut parser = WireFormat::Openai.stream_parser();
    let mut deltas = Vec::new();
    while let Some(e) = events.next().await {
        let e = e.unwrap();
        deltas.extend(parser.feed(&e.event, &e.data).unwrap());
    }
    (parser.completion(), deltas, parser.is_complete())
}

#[tokio::test]
async fn every_recorded_stream_parses() {
    let mut n = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let (c, deltas, complete) = parse(&name).await;
        assert!(complete, "{name}: stream not complete");
        let usage = c
            .usage
            .clone()
            .unwrap_or_else(|| panic!("{name}: no usage"));
        assert!(usage.input_tokens > 0 && usage.output_tokens > 0, "{name}");
        // The deltas add up to the text.
        let streamed: String = deltas
            .iter()
            .filter_map(|d| match d {
                Delta::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(streamed, c.text, "{name}");
        n += 1;
    }
    assert_eq!(n, 12);
}

#[tokio::test]
async fn expected_answers() {
    let (c, _, _) =
        parse("83b060bae42eb41c4f1edbb7c1542b954b37d9dfd1910b964ddebc9677e6ae85.sse").await;
    assert_eq!(c.text, "Foo!");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    let u = c.usage.unwrap();
    assert_eq!((u.input_tokens, u.output_tokens), (9, 2));

    let (c, _, _) =
        parse("7e5ea4d12e7cc064399b6631415e65923f182256b6e6b752950a3aaa2ad2320a.sse").await;
    assert_eq!(
        c.text,
        r#"{"city":"San Francisco","temperature":61,"units":"f"}"#
    );

    let (c, _, _) =
        parse("e2aad469b71d1d4894ff833ea147020a9d875eb7ce644a0ff355581690a4cbfd.sse").await;
    assert!(
        c.text
            .starts_with("I'm unable to provide real-time weather updates.")
    );

    // n = 3: the choices are interleaved; the answer is choice 0 alone.
    let (c, _, _) =
        parse("a491adda08c3d4fde95f5b2ee3f60f7f745f1a56d82e62f58031cc2add502380.sse").await;
    assert!(
        c.text.starts_with(r#"{"city":"San Francisco""#),
        "{}",
        c.text
    );

    // A truncated answer says so.
    let (c, _, _) =
        parse("4cc50a6135d254573a502310e6af1246f55edb6ad95fa24059f160996b68866d.sse").await;
    assert_eq!(c.finish_reason.as_deref(), Some("length"));
}

#[tokio::test]
async fn refusals_are_flagged_not_answered() {
    for name in [
        "173417d553406f034f643e5db3f8d591fb691ebac56f5ae39a22cc7d455c5353.sse",
        "569c877e69429d4cbc1577d2cd6dd33878095c68badc6b6654a69769b391a1c1.sse",
    ] {
        let (c, _, _) = parse(name).await;
        assert_eq!(c.text, "");
        assert!(c.refusal.unwrap().starts_with("I'm"), "{name}");
    }
}

#[tokio::test]
async fn tool_call_streams_end_cleanly() {
    let (c, _, _) =
        parse("2018feb66ae13fcf5333d61b95849decc68d3f63bd38172889367e1afb1e04f7.sse").await;
    assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(c.text, "");
}
