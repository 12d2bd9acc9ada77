//! Format-independent pieces of an answer: the text, its chunks, the usage, the
//! error to send, and the plan of a streamed body with its faults applied.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use futures_util::stream;
use serde_json::Value;

use crate::script::{Behavior, FakeUsage, Fault};

/// What a request asks about, read from its body by the format's module.
#[derive(Debug, Default)]
pub(crate) struct Prompt {
    /// Characters of all the message text (system prompt included).
    pub chars: usize,
    /// Text of the last user message.
    pub last_user: String,
}

impl Prompt {
    /// Builds a prompt from the values holding message text and the last user message.
    pub fn from_parts<'a>(
        sections: impl IntoIterator<Item = &'a Value>,
        last_user: Option<&Value>,
    ) -> Self {
        let chars = sections
            .into_iter()
            .map(|section| text_of(section).chars().count())
            .sum();
        Self {
            chars,
            last_user: last_user.map(text_of).unwrap_or_default(),
        }
    }
}

/// The text inside a message-like JSON value: strings reached through `content`,
/// `text` and `parts` keys (or directly), concatenated. Roles, types, tool calls and
/// other fields are skipped.
pub(crate) fn text_of(value: &Value) -> String {
    fn collect(value: &Value, out: &mut String) {
        match value {
            Value::String(text) => out.push_str(text),
            Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
            Value::Object(fields) => {
                for (key, field) in fields {
                    if matches!(key.as_str(), "content" | "text" | "parts") {
                        collect(field, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    collect(value, &mut out);
    out
}

/// A successful answer, ready to be rendered in any format.
#[derive(Debug)]
pub(crate) struct Reply {
    pub model: String,
    /// Unique per server; each format adds its own prefix.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    pub answer: String,
    pub thinking: Option<String>,
    pub answer_chunks: Vec<String>,
    pub thinking_chunks: Vec<String>,
    pub usage: FakeUsage,
}

impl Reply {
    pub fn new(model: &str, behavior: &Behavior, prompt: &Prompt, seq: u64) -> Self {
        let by_prompt = behavior
            .answer_when
            .iter()
            .find(|(needle, _)| prompt.last_user.contains(needle.as_str()))
            .map(|(_, text)| text.clone());
        let answer = by_prompt
            .or_else(|| behavior.answer.clone())
            .unwrap_or_else(|| {
                let excerpt: String = prompt.last_user.chars().take(40).collect();
                format!("Answer from {model}: {excerpt}")
            });
        let thinking = behavior.thinking.clone().filter(|text| !text.is_empty());
        let usage = behavior
            .usage
            .unwrap_or_else(|| estimate_usage(prompt.chars, &answer, thinking.as_deref()));
        let answer_chunks = split_chunks(&answer, behavior.chunks);
        let thinking_chunks = thinking
            .as_deref()
            .map(|text| split_chunks(text, behavior.chunks))
            .unwrap_or_default();
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self {
            model: model.to_owned(),
            id: format!("rt{seq:012x}"),
            created,
            answer,
            thinking,
            answer_chunks,
            thinking_chunks,
            usage,
        }
    }
}

fn tokens_for(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

fn estimate_usage(prompt_chars: usize, answer: &str, thinking: Option<&str>) -> FakeUsage {
    let reasoning = thinking.map_or(0, |text| tokens_for(text.chars().count()));
    FakeUsage {
        input_tokens: tokens_for(prompt_chars).max(1),
        output_tokens: tokens_for(answer.chars().count()).max(1) + reasoning,
        reasoning_tokens: reasoning,
        ..FakeUsage::default()
    }
}

/// Splits `text` into `n` pieces of nearly equal length on character boundaries
/// (the longer pieces first). Never returns empty pieces, except one empty piece for
/// an empty text; a text shorter than `n` characters gives one piece per character.
pub(crate) fn split_chunks(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    let n = n.clamp(1, chars.len());
    let (base, extra) = (chars.len() / n, chars.len() % n);
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let len = base + usize::from(i < extra);
        pieces.push(chars[start..start + len].iter().collect());
        start += len;
    }
    pieces
}

/// An HTTP error to send in a format's own error body shape.
#[derive(Debug, Default)]
pub(crate) struct ErrorReply {
    pub status: u16,
    pub message: String,
    pub code: Option<String>,
    pub retry_after: Option<String>,
    pub retry_after_ms: Option<f64>,
    pub should_retry: Option<bool>,
}

impl ErrorReply {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            ..Self::default()
        }
    }

    /// Google's `retryDelay` (`"1s"`, `"1.5s"`) for this error, when it has a
    /// retry hint in seconds.
    pub fn retry_delay(&self) -> Option<String> {
        if let Some(value) = &self.retry_after {
            let seconds = value.trim().trim_end_matches('s');
            return seconds
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|_| format!("{seconds}s"));
        }
        self.retry_after_ms.map(|ms| format!("{}s", ms / 1000.0))
    }
}

/// What a piece of a streamed body carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// Framing: starts, stops, usage, `[DONE]`.
    Meta,
    /// A piece of the thinking text.
    Thinking,
    /// A piece of the answer text.
    Answer,
}

/// One piece of a streamed body, exactly as written on the wire.
#[derive(Debug)]
pub(crate) struct Frame {
    pub kind: FrameKind,
    pub bytes: Bytes,
}

impl Frame {
    pub fn meta(text: String) -> Self {
        Self {
            kind: FrameKind::Meta,
            bytes: Bytes::from(text),
        }
    }

    pub fn content(kind: FrameKind, text: String) -> Self {
        Self {
            kind,
            bytes: Bytes::from(text),
        }
    }
}

/// An event whose data is not UTF-8.
const INVALID_UTF8: &[u8] = b"data: {\"text\": \"\xff\xfe\xc3\"}\n\n";

/// One step of sending a body.
#[derive(Debug, PartialEq)]
pub(crate) enum Step {
    Send(Bytes),
    Sleep(Duration),
    /// Drop the connection without finishing the body.
    Abort,
}

/// Orders the frames of a stream into steps: `delay` between consecutive content
/// frames, and the stream faults applied after about half of the answer frames.
pub(crate) fn plan_stream(
    frames: Vec<Frame>,
    malformed: &'static str,
    delay: Duration,
    fault: &Fault,
) -> Vec<Step> {
    let answer_frames = frames
        .iter()
        .filter(|frame| frame.kind == FrameKind::Answer)
        .count();
    let cut = (answer_frames / 2).max(1);
    let mut steps = Vec::with_capacity(frames.len() * 2 + 1);
    let mut seen_content = false;
    let mut answers = 0;
    for frame in frames {
        if frame.kind != FrameKind::Meta {
            if seen_content && !delay.is_zero() {
                steps.push(Step::Sleep(delay));
            }
            seen_content = true;
        }
        steps.push(Step::Send(frame.bytes));
        if frame.kind == FrameKind::Answer {
            answers += 1;
            if answers == cut {
                match fault {
                    Fault::DisconnectMidStream => {
                        steps.push(Step::Abort);
                        return steps;
                    }
                    Fault::MalformedChunk => {
                        steps.push(Step::Send(Bytes::from_static(malformed.as_bytes())))
                    }
                    Fault::InvalidUtf8 => steps.push(Step::Send(Bytes::from_static(INVALID_UTF8))),
                    _ => {}
                }
            }
        }
    }
    steps
}

/// A body that sends the steps in order. An abort first pauses briefly so that what
/// was sent before it reaches the client, then fails the body, which makes the
/// server drop the connection.
pub(crate) fn body_from_steps(steps: Vec<Step>) -> Body {
    let steps = stream::unfold(steps.into_iter(), |mut steps| async move {
        loop {
            match steps.next()? {
                Step::Send(bytes) => return Some((Ok(bytes), steps)),
                Step::Sleep(delay) => tokio::time::sleep(delay).await,
                Step::Abort => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    let error = std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "scripted disconnect",
                    );
                    return Some((Err(error), steps));
                }
            }
        }
    });
    Body::from_stream(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_chunks_is_even_and_lossless() {
        assert_eq!(split_chunks("Paris", 4), ["Pa", "r", "i", "s"]);
        assert_eq!(split_chunks("ab", 4), ["a", "b"]);
        assert_eq!(split_chunks("", 4), [""]);
        assert_eq!(split_chunks("héllo wörld", 0), ["héllo wörld"]);
        let pieces = split_chunks("ééééééé", 3);
        assert_eq!(pieces, ["ééé", "éé", "éé"]);
    }

    #[test]
    fn text_of_reads_every_message_shape() {
        let openai = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url", "image_url": {"url": "x"}}]}
        ]);
        assert_eq!(text_of(&openai), "Be brief.Hi");
        let gemini = json!([{"role": "user", "parts": [{"text": "Why"}, {"text": "?"}]}]);
        assert_eq!(text_of(&gemini), "Why?");
        assert_eq!(text_of(&Value::Null), "");
    }

    #[test]
    fn default_answer_and_estimated_usage() {
        let prompt = Prompt {
            chars: 9,
            last_user: "What is the capital of France, and why is it Paris?".into(),
        };
        let reply = Reply::new("m1", &Behavior::default().thinking("hmmmm"), &prompt, 7);
        assert_eq!(
            reply.answer,
            "Answer from m1: What is the capital of France, and why i"
        );
        assert_eq!(reply.usage.input_tokens, 3);
        assert_eq!(reply.usage.reasoning_tokens, 2);
        // 56 answer characters: 14 tokens, plus 2 of reasoning.
        assert_eq!(reply.usage.output_tokens, 14 + 2);
        assert_eq!(reply.answer_chunks.concat(), reply.answer);
        assert_eq!(reply.thinking_chunks.concat(), "hmmmm");
    }

    #[test]
    fn retry_delay_formats() {
        let mut error = ErrorReply::new(429, "x");
        assert_eq!(error.retry_delay(), None);
        error.retry_after_ms = Some(1500.0);
        assert_eq!(error.retry_delay().as_deref(), Some("1.5s"));
        error.retry_after = Some("2".into());
        assert_eq!(error.retry_delay().as_deref(), Some("2s"));
        error.retry_after = Some("Wed, 21 Oct 2015 07:28:00 GMT".into());
        assert_eq!(error.retry_delay(), None);
    }

    fn frames() -> Vec<Frame> {
        let mut frames = vec![Frame::meta("start".into())];
        for i in 0..4 {
            frames.push(Frame::content(FrameKind::Answer, format!("a{i}")));
        }
        frames.push(Frame::meta("end".into()));
        frames
    }

    fn sent(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|step| match step {
                Step::Send(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                Step::Sleep(d) => format!("sleep {}", d.as_millis()),
                Step::Abort => "abort".into(),
            })
            .collect()
    }

    #[test]
    fn stream_plans() {
        let delay = Duration::from_millis(5);
        assert_eq!(
            sent(&plan_stream(frames(), "bad", delay, &Fault::None)),
            [
                "start", "a0", "sleep 5", "a1", "sleep 5", "a2", "sleep 5", "a3", "end"
            ]
        );
        assert_eq!(
            sent(&plan_stream(
                frames(),
                "bad",
                Duration::ZERO,
                &Fault::DisconnectMidStream
            )),
            ["start", "a0", "a1", "abort"]
        );
        assert_eq!(
            sent(&plan_stream(
                frames(),
                "bad",
                Duration::ZERO,
                &Fault::MalformedChunk
            )),
            ["start", "a0", "a1", "bad", "a2", "a3", "end"]
        );
    }
}
