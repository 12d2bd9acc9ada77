//! What the fake provider answers: a [`Script`] of per-model [`Behavior`]s.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::fault::Fault;
pub use crate::identity::Identity;

/// The whole scripted world: one behaviour per model name, a default for the rest,
/// and optionally an API key every request must carry.
///
/// Deserializes from JSON or TOML (see [`Script::load`]); every field may be omitted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Script {
    /// Behaviour of models not listed in `models`.
    pub default: Behavior,
    /// Behaviour per model name as sent on the wire (without any provider prefix).
    pub models: BTreeMap<String, Behavior>,
    /// When set, requests that do not carry this key (in the header their format uses:
    /// `Authorization: Bearer` for OpenAI, `x-api-key` for Anthropic, `x-goog-api-key`
    /// or `?key=` for Gemini) get the format's 401 error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_key: Option<String>,
    /// When set, the server serves this many generations at a time, as a local
    /// server with few slots does: a request that comes while all are busy
    /// aborts the oldest one in flight. `GET /props` then says `total_slots`,
    /// as llama.cpp's server does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<usize>,
    /// A stream cut for a newer request ends with `data: [DONE]` and no finish
    /// reason, as llama-cpp-python ends one, instead of breaking off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cut_with_done: bool,
    /// Which local server the fake says it is, on the paths that kind answers
    /// (see [`Identity`]); unset, it answers `GET /props` when it has `slots`,
    /// as llama.cpp's server does, and nothing else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

impl Script {
    /// An empty script: every model gets [`Behavior::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Scripts `name` (the model name as sent on the wire).
    pub fn model(mut self, name: impl Into<String>, behavior: Behavior) -> Self {
        self.models.insert(name.into(), behavior);
        self
    }

    /// Sets the behaviour of models not listed with [`Script::model`].
    pub fn default_behavior(mut self, behavior: Behavior) -> Self {
        self.default = behavior;
        self
    }

    /// Requires every request to carry `key`.
    pub fn require_key(mut self, key: impl Into<String>) -> Self {
        self.require_key = Some(key.into());
        self
    }

    /// Serves `n` generations at a time, aborting the oldest for a new one.
    pub fn slots(mut self, n: usize) -> Self {
        self.slots = Some(n);
        self
    }

    /// Ends a stream cut for a newer request as llama-cpp-python does (see
    /// [`Script::cut_with_done`]).
    pub fn cut_with_done(mut self) -> Self {
        self.cut_with_done = true;
        self
    }

    /// Passes for `identity` (see [`Identity`]).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The behaviour that applies to `model`.
    pub fn behavior_for(&self, model: &str) -> &Behavior {
        self.models.get(model).unwrap_or(&self.default)
    }

    /// Parses a script written as JSON.
    pub fn from_json(text: &str) -> Result<Self, ScriptError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Parses a script written as TOML.
    pub fn from_toml(text: &str) -> Result<Self, ScriptError> {
        Ok(toml::from_str(text)?)
    }

    /// Reads a script file: TOML when the name ends in `.toml`, JSON otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ScriptError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)?;
        let is_toml = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
        if is_toml {
            Self::from_toml(&text)
        } else {
            Self::from_json(&text)
        }
    }
}

/// Why a script could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read the script: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid JSON script: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid TOML script: {0}")]
    Toml(#[from] toml::de::Error),
}

/// How one model answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Behavior {
    /// The answer text. `None`: `"Answer from {model}: "` followed by the first 40
    /// characters of the last user message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Answers by prompt: the first `(needle, text)` whose needle is in the last
    /// user message answers `text` instead of `answer` (a judge or a claims call
    /// told apart from a consolidation sent to the same model).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer_when: Vec<(String, String)>,
    /// Thinking text, sent before the answer in each format's own way (Anthropic
    /// `thinking` block, Gemini `thought: true` part, OpenAI-compatible
    /// `reasoning_content`). `None` or empty: no thinking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Delay before the response headers, in milliseconds.
    pub latency_ms: u64,
    /// Delay between two consecutive content chunks of a stream, in milliseconds.
    pub chunk_delay_ms: u64,
    /// How many content chunks the answer (and, separately, the thinking) is split
    /// into when streaming. 0 counts as 1; a text shorter than this gives one chunk
    /// per character.
    pub chunks: usize,
    /// Reported token usage. `None`: estimated, see [`FakeUsage`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<FakeUsage>,
    /// OpenAI streams: ignore `stream_options.include_usage` and send no usage,
    /// as llama-cpp-python's server does.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_stream_usage: bool,
    /// OpenAI format: refuse `response_format` of type `json_schema` with an
    /// HTTP 500 and a Python traceback, as llama-cpp-python's server does (JSON
    /// mode, `json_object`, is taken).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refuse_json_schema: bool,
    /// Call `n` (0-based, counted per model name) gets `faults[n]`; calls past the
    /// end succeed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
}

impl Default for Behavior {
    fn default() -> Self {
        Self {
            answer: None,
            answer_when: Vec::new(),
            thinking: None,
            latency_ms: 0,
            chunk_delay_ms: 0,
            chunks: 4,
            usage: None,
            no_stream_usage: false,
            refuse_json_schema: false,
            faults: Vec::new(),
        }
    }
}

impl Behavior {
    /// Same as [`Behavior::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A behaviour answering `text`.
    pub fn answer(text: impl Into<String>) -> Self {
        Self {
            answer: Some(text.into()),
            ..Self::default()
        }
    }

    /// Replaces the answer text.
    pub fn with_answer(mut self, text: impl Into<String>) -> Self {
        self.answer = Some(text.into());
        self
    }

    /// Answers `text` when the last user message contains `needle`.
    pub fn answer_when(mut self, needle: impl Into<String>, text: impl Into<String>) -> Self {
        self.answer_when.push((needle.into(), text.into()));
        self
    }

    /// Adds thinking text before the answer.
    pub fn thinking(mut self, text: impl Into<String>) -> Self {
        self.thinking = Some(text.into());
        self
    }

    /// Delay before the response headers.
    pub fn latency(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }

    /// Delay between consecutive content chunks of a stream.
    pub fn chunk_delay(mut self, ms: u64) -> Self {
        self.chunk_delay_ms = ms;
        self
    }

    /// Number of content chunks a streamed answer is split into.
    pub fn chunks(mut self, n: usize) -> Self {
        self.chunks = n;
        self
    }

    /// Fixed token usage to report.
    pub fn usage(mut self, usage: FakeUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sends no usage in OpenAI streams, whatever the client asks.
    pub fn no_stream_usage(mut self) -> Self {
        self.no_stream_usage = true;
        self
    }

    /// Refuses JSON Schema output (`response_format.type = "json_schema"`).
    pub fn refuse_json_schema(mut self) -> Self {
        self.refuse_json_schema = true;
        self
    }

    /// Replaces the fault sequence: call `n` gets the `n`-th fault.
    pub fn faults(mut self, faults: impl IntoIterator<Item = Fault>) -> Self {
        self.faults = faults.into_iter().collect();
        self
    }

    /// Appends one fault to the sequence.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }
}

/// Token usage in provider-neutral terms; each format reports it in its own
/// convention:
///
/// * `input_tokens` is the whole prompt, cached and cache-written parts included
///   (OpenAI `prompt_tokens`, Gemini `promptTokenCount`; Anthropic `input_tokens`
///   gets `input_tokens - cached_tokens - cache_creation_tokens`, since Anthropic
///   counts those apart).
/// * `output_tokens` is the whole output, reasoning included (OpenAI
///   `completion_tokens`, Anthropic `output_tokens`; Gemini `candidatesTokenCount`
///   gets `output_tokens - reasoning_tokens`, with the rest in `thoughtsTokenCount`).
/// * `cache_creation_tokens` only shows in Anthropic's format.
///
/// When a behaviour has no usage, it is estimated: input = characters of the
/// request's messages / 4 rounded up (at least 1), reasoning = thinking characters
/// / 4 rounded up (0 without thinking), output = answer characters / 4 rounded up
/// (at least 1) plus reasoning; nothing cached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FakeUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    pub cache_creation_tokens: u64,
}

impl FakeUsage {
    /// Usage with the given input and output tokens and nothing else.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            ..Self::default()
        }
    }

    /// Sets how many input tokens were read from the cache.
    pub fn cached(mut self, tokens: u64) -> Self {
        self.cached_tokens = tokens;
        self
    }

    /// Sets how many output tokens were reasoning.
    pub fn reasoning(mut self, tokens: u64) -> Self {
        self.reasoning_tokens = tokens;
        self
    }

    /// Sets how many input tokens were written to the cache.
    pub fn cache_creation(mut self, tokens: u64) -> Self {
        self.cache_creation_tokens = tokens;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_the_fields() {
        let script = Script::new()
            .model(
                "gpt-a",
                Behavior::answer("Paris")
                    .latency(50)
                    .chunks(2)
                    .fault(Fault::status(429, "slow down").retry_after("1")),
            )
            .require_key("sk-test");
        let behavior = script.behavior_for("gpt-a");
        assert_eq!(behavior.answer.as_deref(), Some("Paris"));
        assert_eq!(behavior.latency_ms, 50);
        assert_eq!(behavior.chunks, 2);
        assert_eq!(
            behavior.faults,
            vec![Fault::Status {
                status: 429,
                message: "slow down".into(),
                retry_after: Some("1".into()),
                retry_after_ms: None,
                code: None,
                should_retry: None,
            }]
        );
        assert_eq!(script.behavior_for("other"), &Behavior::default());
        assert_eq!(Behavior::default().chunks, 4);
    }

    #[test]
    fn json_and_toml_scripts_parse() {
        let json = r#"{
            "default": {"answer": "hi"},
            "models": {"m": {"latency_ms": 5, "faults": [{"kind": "status", "status": 503, "message": "busy"}, {"kind": "hang"}]}},
            "require_key": "k"
        }"#;
        let from_json = Script::from_json(json).unwrap();
        let toml = r#"
            require_key = "k"
            [default]
            answer = "hi"
            [models.m]
            latency_ms = 5
            faults = [{ kind = "status", status = 503, message = "busy" }, { kind = "hang" }]
        "#;
        let from_toml = Script::from_toml(toml).unwrap();
        assert_eq!(from_json, from_toml);
        let m = from_json.behavior_for("m");
        assert_eq!(m.chunks, 4, "omitted fields keep their defaults");
        assert_eq!(m.faults[0], Fault::status(503, "busy"));
        assert_eq!(m.faults[1], Fault::Hang);
    }

    #[test]
    fn script_round_trips_through_json() {
        let script = Script::new().model(
            "x",
            Behavior::answer("a")
                .thinking("t")
                .usage(FakeUsage::new(3, 4).cached(1))
                .faults([Fault::EchoKey, Fault::None]),
        );
        let text = serde_json::to_string(&script).unwrap();
        assert_eq!(Script::from_json(&text).unwrap(), script);
    }
}
