//! Property tests of the stream and response parsers, on stable proptest:
//!
//! * every recorded stream in `../shared/provider-fixtures/`, split into chunks
//!   at arbitrary byte positions (inside multi-byte UTF-8 too), parses through
//!   the client's SSE decoder to the same answer, thinking, usage and error as
//!   the stream read whole;
//! * arbitrary bytes given to each format's stream parser, response parser and
//!   error parser never panic.
//!
//! Each test prints the number of cases it ran (`--nocapture` shows it).

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::header::HeaderMap;
use roundtable_core::WireFormat;
use roundtable_core::providers::Delta;
use std::path::PathBuf;

/// Cases per property.
const CASES: u32 = 400;

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Every recorded stream, with its format.
fn recorded_streams() -> Vec<(WireFormat, String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/provider-fixtures");
    let mut out = Vec::new();
    for (format, dir, is_stream) in [
        (
            WireFormat::Openai,
            "openai-chat",
            (|_: &str| true) as fn(&str) -> bool,
        ),
        (WireFormat::Anthropic, "anthropic", |_| true),
        (WireFormat::Gemini, "gemini", |n| {
            n.starts_with("streaming-")
        }),
    ] {
        let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| is_stream(n))
            .collect();
        names.sort();
        for name in names {
            let bytes = std::fs::read(root.join(dir).join(&name)).unwrap();
            out.push((format, format!("{dir}/{name}"), bytes));
        }
    }
    assert!(
        out.len() > 30,
        "the recorded streams are beside the checkout"
    );
    out
}

/// What a stream parsed to: answer, thinking, usage, and the first error.
#[derive(Debug, PartialEq)]
struct Parsed {
    text: String,
    thinking: String,
    usage: String,
    error: Option<String>,
    complete: bool,
}

async fn parse(format: WireFormat, chunks: Vec<Vec<u8>>) -> Parsed {
    let chunks = chunks
        .into_iter()
        .chain([b"\n\n".to_vec()])
        .map(Ok::<_, std::io::Error>);
    let mut events = futures_util::stream::iter(chunks).eventsource();
    let mut parser = format.stream_parser();
    let (mut text, mut thinking, mut error) = (String::new(), String::new(), None);
    while let Some(e) = events.next().await {
        let e = match e {
            Ok(e) => e,
            Err(e) => {
                error = Some(format!("decoder: {e}"));
                break;
            }
        };
        match parser.feed(&e.event, &e.data) {
            Ok(deltas) => {
                for d in deltas {
                    match d {
                        Delta::Text(t) => text.push_str(&t),
                        Delta::Thinking(t) => thinking.push_str(&t),
                        Delta::Usage(_) => {}
                    }
                }
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let c = parser.completion();
    Parsed {
        usage: format!("{:?}", c.usage),
        text,
        thinking,
        error,
        complete: parser.is_complete(),
    }
}

fn split_at(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
    cuts.iter_mut().for_each(|c| *c %= bytes.len() + 1);
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in cuts {
        out.push(bytes[from..c].to_vec());
        from = c;
    }
    out.push(bytes[from..].to_vec());
    out
}

#[test]
fn recorded_streams_parse_the_same_however_they_are_split() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let streams = recorded_streams();
    let whole: Vec<Parsed> = streams
        .iter()
        .map(|(f, _, b)| rt.block_on(parse(*f, vec![b.clone()])))
        .collect();
    let strategy = (
        0..streams.len(),
        proptest::collection::vec(any::<usize>(), 1..40),
    );
    let ran = std::cell::Cell::new(0u32);
    runner()
        .run(&strategy, |(i, cuts)| {
            let (format, name, bytes) = &streams[i];
            let split = rt.block_on(parse(*format, split_at(bytes, cuts)));
            prop_assert_eq!(&split, &whole[i], "{}", name);
            ran.set(ran.get() + 1);
            Ok(())
        })
        .unwrap();
    // Every stream split at every single byte as well: multi-byte characters cut
    // in every possible place.
    let mut each = 0;
    for (i, (format, name, bytes)) in streams.iter().enumerate() {
        let one_by_one = bytes.iter().map(|b| vec![*b]).collect();
        assert_eq!(rt.block_on(parse(*format, one_by_one)), whole[i], "{name}");
        each += 1;
    }
    println!(
        "{} random splits of {} recorded streams, and {each} split at every byte",
        ran.get(),
        streams.len()
    );
}

#[test]
fn arbitrary_bytes_never_panic_a_parser() {
    let formats = [
        WireFormat::Openai,
        WireFormat::Anthropic,
        WireFormat::Gemini,
    ];
    // Bytes, and JSON-ish text, which reaches deeper into the parsers.
    let json_ish = proptest::string::string_regex(r#"[{}\[\]":,0-9a-z_ .\-\\]{0,200}"#).unwrap();
    let strategy = (
        0..3usize,
        proptest::collection::vec(any::<u8>(), 0..400),
        json_ish,
        100u16..600,
    );
    let ran = std::cell::Cell::new(0u32);
    runner()
        .run(&strategy, |(f, bytes, text, status)| {
            let format = formats[f];
            let _ = format.parse_response(&bytes);
            let _ = format.parse_response(text.as_bytes());
            let _ = format.parse_error(status, &HeaderMap::new(), &bytes);
            let _ = format.parse_error(status, &HeaderMap::new(), text.as_bytes());
            let mut parser = format.stream_parser();
            let lossy = String::from_utf8_lossy(&bytes);
            let _ = parser.feed("", &lossy);
            let _ = parser.feed("message", &text);
            let _ = parser.completion();
            ran.set(ran.get() + 1);
            Ok(())
        })
        .unwrap();
    // Events shaped like each format's own, with arbitrary values in them.
    let shaped = proptest::collection::vec(
        (
            0..3usize,
            prop_oneof![
                Just("content_block_start"),
                Just("content_block_delta"),
                Just("message_delta"),
                Just("choices"),
                Just("candidates"),
            ],
            any::<i64>(),
            ".{0,20}",
        ),
        1..20,
    );
    let shaped_ran = std::cell::Cell::new(0u32);
    runner()
        .run(&shaped, |events| {
            let mut parsers: Vec<_> = formats.iter().map(|f| f.stream_parser()).collect();
            for (f, kind, n, s) in events {
                let s = serde_json::to_string(&s).unwrap();
                let data = match kind {
                    "choices" => format!(
                        r#"{{"choices":[{{"index":{n},"delta":{{"content":{s}}},"finish_reason":{s}}}],"usage":{{"prompt_tokens":{n}}}}}"#
                    ),
                    "candidates" => format!(
                        r#"{{"candidates":[{{"index":{n},"content":{{"parts":[{{"text":{s}}}]}}}}],"usageMetadata":{{"promptTokenCount":{n}}}}}"#
                    ),
                    _ => format!(
                        r#"{{"type":"{kind}","index":{n},"content_block":{{"type":"text","text":{s}}},"delta":{{"type":"text_delta","text":{s}}},"usage":{{"output_tokens":{n}}}}}"#
                    ),
                };
                let _ = parsers[f].feed(kind, &data);
            }
            for p in &parsers {
                let _ = p.completion();
            }
            shaped_ran.set(shaped_ran.get() + 1);
            Ok(())
        })
        .unwrap();
    println!(
        "{} arbitrary inputs and {} shaped event sequences, no panic",
        ran.get(),
        shaped_ran.get()
    );
}

#[test]
fn arbitrary_answers_never_panic_the_vote_reader() {
    // A real model's "Bien sûr. The answer is C) Berlin." once cut a character
    // in two while the answer's prefix was checked: any text must be read.
    let choices = vec!["Paris".to_string(), "New York".into(), "é".into()];
    let ran = std::cell::Cell::new(0u32);
    runner()
        .run(&any::<String>(), |answer| {
            let _ = roundtable_core::resolution::vote::read_vote(&answer, &choices);
            ran.set(ran.get() + 1);
            Ok(())
        })
        .unwrap();
    println!("{} arbitrary answers read, no panic", ran.get());
}
