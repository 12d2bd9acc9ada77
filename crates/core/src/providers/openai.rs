//! OpenAI Chat Completions (`POST {base}/chat/completions`), which also serves every
//! OpenAI-compatible server (Ollama, LM Studio, llama.cpp, vLLM, OpenRouter, Groq,
//! Mistral, DeepSeek, xAI).

use super::{
    ChatCall, Completion, Delta, Dialect, ProviderError, StreamParser, body_excerpt, http_error,
};
use crate::contract::Usage;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn endpoint(base: &str) -> String {
    format!("{base}/chat/completions")
}

/// Whether an official OpenAI model takes `reasoning_effort` (and refuses
/// `temperature`/`top_p`): the o-series, and gpt-5 onwards but their `-chat`
/// variants.
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    let o_series = m.starts_with('o') && m[1..].starts_with(|c: char| c.is_ascii_digit());
    let generation: Option<u32> = m
        .strip_prefix("gpt-")
        .and_then(|rest| rest.split(['.', '-']).next())
        .and_then(|n| n.parse().ok());
    o_series || generation.is_some_and(|g| g >= 5) && !m.contains("-chat")
}

/// `low`/`medium`/`high`/`max` as OpenAI's `reasoning_effort`.
pub fn reasoning_effort(level: &str) -> &'static str {
    match level {
        "low" => "low",
        "medium" => "medium",
        _ => "high",
    }
}

/// Whether a schema can be sent with `strict: true`: every object lists all its
/// properties as required and forbids others.
pub fn schema_is_strict_compatible(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("object")
                || map.contains_key("properties")
            {
                let props = map.get("properties").and_then(Value::as_object);
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
                let all_required = props
                    .map(|p| p.keys().all(|k| required.contains(&k.as_str())))
                    .unwrap_or(true);
                if !closed || !all_required {
                    return false;
                }
            }
            map.values().all(schema_is_strict_compatible)
        }
        Value::Array(items) => items.iter().all(schema_is_strict_compatible),
        _ => true,
    }
}

/// The prompt line that carries a schema for servers without schema support.
pub fn schema_instruction(schema: &Value) -> String {
    format!(
        "Respond with a single JSON value, and nothing else, that is valid against this JSON Schema:\n{schema}"
    )
}

pub fn build_body(call: &ChatCall) -> Value {
    let native = call.dialect == Dialect::Native;
    let json_mode_only = call.dialect == Dialect::CompatibleJsonMode;
    let mut messages = Vec::new();
    let mut system = call.instructions.map(str::to_string);
    if let (true, Some(schema)) = (json_mode_only, call.output_schema) {
        let line = schema_instruction(schema);
        system = Some(match system {
            Some(s) => format!("{s}\n\n{line}"),
            None => line,
        });
    }
    if let Some(s) = system {
        messages.push(json!({"role": "system", "content": s}));
    }
    messages.push(json!({"role": "user", "content": call.input}));

    let mut body = Map::new();
    body.insert("model".into(), json!(call.model));
    body.insert("messages".into(), Value::Array(messages));
    if call.stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    let reasoning_model = native && is_reasoning_model(call.model);
    if let Some(n) = call.max_tokens {
        let field = if native {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(field.into(), json!(n));
    }
    if !reasoning_model {
        if let Some(t) = call.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = call.top_p {
            body.insert("top_p".into(), json!(p));
        }
    }
    if let Some(level) = call.reasoning
        && (reasoning_model || !native)
    {
        body.insert("reasoning_effort".into(), json!(reasoning_effort(level)));
    }
    if let Some(schema) = call.output_schema {
        let format = if json_mode_only {
            json!({"type": "json_object"})
        } else {
            json!({
                "type": "json_schema",
                "json_schema": {
                    "name": "output",
                    "schema": schema,
                    "strict": schema_is_strict_compatible(schema),
                }
            })
        };
        body.insert("response_format".into(), format);
    }
    Value::Object(body)
}

#[derive(Debug, Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
    #[serde(default)]
    audio_tokens: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
    #[serde(default)]
    audio_tokens: Option<u64>,
}

/// OpenAI counts cached and reasoning tokens inside the prompt and completion
/// counts, which is the contract's convention too.
fn usage_from_wire(u: WireUsage) -> Usage {
    let p = u.prompt_tokens_details.unwrap_or_default();
    let c = u.completion_tokens_details.unwrap_or_default();
    Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        cache_read_tokens: p.cached_tokens.unwrap_or(0),
        reasoning_tokens: c.reasoning_tokens.unwrap_or(0),
        input_audio_tokens: p.audio_tokens.unwrap_or(0),
        output_audio_tokens: c.audio_tokens.unwrap_or(0),
        ..Default::default()
    }
}

#[derive(Debug, Deserialize)]
struct WireResponse {
    #[serde(default)]
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct WireChoice {
    /// With `n > 1` a stream interleaves several choices; the answer is the first.
    #[serde(default)]
    index: usize,
    #[serde(default)]
    message: Option<WireMessage>,
    #[serde(default)]
    delta: Option<WireMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    /// DeepSeek, vLLM, LM Studio: reasoning text beside the answer.
    #[serde(default)]
    reasoning_content: Option<String>,
    /// OpenRouter, Ollama, Groq.
    #[serde(default)]
    reasoning: Option<String>,
}

/// An `{"error": …}` object some servers send in a 200 body or a stream chunk.
fn embedded_error(v: &Value) -> Option<ProviderError> {
    let err = v.get("error")?;
    if err.is_null() {
        return None;
    }
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| err.to_string());
    Some(ProviderError::transient(message))
}

pub fn parse_response(body: &[u8]) -> Result<Completion, ProviderError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ProviderError::permanent(format!("unreadable response ({e}): {}", body_excerpt(body)))
    })?;
    if let Some(err) = embedded_error(&value) {
        return Err(err);
    }
    let wire: WireResponse = serde_json::from_value(value)
        .map_err(|e| ProviderError::permanent(format!("unexpected response shape: {e}")))?;
    let mut out = Completion {
        usage: wire.usage.map(usage_from_wire),
        ..Default::default()
    };
    if let Some(choice) = wire.choices.into_iter().find(|c| c.index == 0) {
        let msg = choice.message.unwrap_or_default();
        out.text = msg.content.unwrap_or_default();
        out.thinking = msg.reasoning_content.or(msg.reasoning).unwrap_or_default();
        out.refusal = msg.refusal.filter(|r| !r.is_empty());
        out.finish_reason = choice.finish_reason;
    }
    Ok(out)
}

/// The stream of `chat.completion.chunk`s, ended by `data: [DONE]`.
#[derive(Debug, Default)]
pub struct StreamState {
    completion: Completion,
    refusal: String,
    done: bool,
}

impl StreamParser for StreamState {
    fn feed(&mut self, _event: &str, data: &str) -> Result<Vec<Delta>, ProviderError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let value: Value = serde_json::from_str(data).map_err(|e| {
            ProviderError::transient(format!(
                "malformed stream chunk ({e}): {}",
                body_excerpt(data.as_bytes())
            ))
        })?;
        if let Some(err) = embedded_error(&value) {
            return Err(err);
        }
        let chunk: WireResponse = serde_json::from_value(value)
            .map_err(|e| ProviderError::transient(format!("unexpected stream chunk shape: {e}")))?;
        let mut deltas = Vec::new();
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(d) = choice.delta {
                if let Some(t) = d.content.filter(|t| !t.is_empty()) {
                    self.completion.text.push_str(&t);
                    deltas.push(Delta::Text(t));
                }
                if let Some(t) = d
                    .reasoning_content
                    .or(d.reasoning)
                    .filter(|t| !t.is_empty())
                {
                    self.completion.thinking.push_str(&t);
                    deltas.push(Delta::Thinking(t));
                }
                if let Some(r) = d.refusal {
                    self.refusal.push_str(&r);
                }
            }
            if choice.finish_reason.is_some() {
                self.completion.finish_reason = choice.finish_reason;
            }
        }
        if let Some(u) = chunk.usage {
            let usage = usage_from_wire(u);
            self.completion.usage = Some(usage.clone());
            deltas.push(Delta::Usage(usage));
        }
        Ok(deltas)
    }

    fn is_complete(&self) -> bool {
        self.done || self.completion.finish_reason.is_some()
    }

    fn completion(&self) -> Completion {
        let mut c = self.completion.clone();
        if !self.refusal.is_empty() {
            c.refusal = Some(self.refusal.clone());
        }
        c
    }
}

pub fn parse_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let err = parsed.as_ref().and_then(|v| v.get("error"));
    let message = err
        .and_then(|e| e.get("message").and_then(Value::as_str).or(e.as_str()))
        .map(str::to_string)
        .or_else(|| {
            parsed
                .as_ref()
                .and_then(|v| v.get("message").and_then(Value::as_str))
                .map(str::to_string)
        })
        .unwrap_or_else(|| body_excerpt(body));
    let code = err
        .and_then(|e| e.get("code").or_else(|| e.get("type")))
        .and_then(Value::as_str);
    let mut e = http_error(status, headers, message);
    // Out of credit is not a rate limit: waiting will not help.
    if code == Some("insufficient_quota") {
        e.transient = false;
        e.message = format!("{} (insufficient_quota)", e.message);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>() -> ChatCall<'a> {
        ChatCall {
            model: "gpt-4.1-mini",
            instructions: Some("Be brief."),
            input: "Hi",
            max_tokens: Some(100),
            temperature: Some(0.2),
            top_p: Some(0.9),
            reasoning: Some("high"),
            output_schema: None,
            stream: true,
            dialect: Dialect::Native,
        }
    }

    #[test]
    fn builds_a_native_streaming_body() {
        let b = build_body(&call());
        assert_eq!(b["model"], "gpt-4.1-mini");
        assert_eq!(b["messages"][0]["role"], "system");
        assert_eq!(b["messages"][1]["content"], "Hi");
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(b["max_completion_tokens"], 100);
        assert_eq!(b["temperature"], 0.2);
        // gpt-4.1 does not reason: the parameter is not sent.
        assert!(b.get("reasoning_effort").is_none());
    }

    #[test]
    fn reasoning_models_get_effort_and_no_sampling() {
        let mut c = call();
        c.model = "o4-mini";
        c.reasoning = Some("max");
        let b = build_body(&c);
        assert_eq!(b["reasoning_effort"], "high");
        assert!(b.get("temperature").is_none());
        assert!(b.get("top_p").is_none());
        assert!(is_reasoning_model("gpt-5-mini"));
        assert!(is_reasoning_model("gpt-6.1-sol"));
        assert!(!is_reasoning_model("gpt-5-chat-latest"));
        assert!(!is_reasoning_model("gpt-4.1"));
        assert!(!is_reasoning_model("gpt-4o"));
        assert!(!is_reasoning_model("omni"));
    }

    #[test]
    fn compatible_servers_get_max_tokens_and_json_mode() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let mut c = call();
        c.dialect = Dialect::CompatibleJsonMode;
        c.output_schema = Some(&schema);
        let b = build_body(&c);
        assert_eq!(b["max_tokens"], 100);
        assert_eq!(b["response_format"]["type"], "json_object");
        let system = b["messages"][0]["content"].as_str().unwrap();
        assert!(system.starts_with("Be brief."));
        assert!(system.contains("\"properties\""));
    }

    #[test]
    fn strict_only_when_the_schema_allows_it() {
        let loose = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let strict = json!({"type": "object", "properties": {"a": {"type": "string"}},
            "required": ["a"], "additionalProperties": false});
        assert!(!schema_is_strict_compatible(&loose));
        assert!(schema_is_strict_compatible(&strict));
        let mut c = call();
        c.output_schema = Some(&strict);
        let b = build_body(&c);
        assert_eq!(b["response_format"]["json_schema"]["strict"], true);
        assert_eq!(b["response_format"]["json_schema"]["schema"], strict);
    }

    #[test]
    fn parses_a_response_with_cached_and_reasoning_tokens() {
        let body = br#"{"id":"x","object":"chat.completion","choices":[{"index":0,
            "message":{"role":"assistant","content":"Paris"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":20,"completion_tokens":7,"total_tokens":27,
            "prompt_tokens_details":{"cached_tokens":5},
            "completion_tokens_details":{"reasoning_tokens":3}}}"#;
        let c = parse_response(body).unwrap();
        assert_eq!(c.text, "Paris");
        let u = c.usage.unwrap();
        assert_eq!(
            (
                u.input_tokens,
                u.output_tokens,
                u.cache_read_tokens,
                u.reasoning_tokens
            ),
            (20, 7, 5, 3)
        );
    }

    #[test]
    fn surfaces_the_providers_error_message() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        let e = parse_error(
            429,
            &h,
            br#"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
        );
        assert_eq!(e.message, "Rate limit reached");
        assert!(e.transient);
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(2)));

        let e = parse_error(
            429,
            &HeaderMap::new(),
            br#"{"error":{"message":"You exceeded your quota","code":"insufficient_quota"}}"#,
        );
        assert!(!e.transient);

        let mut h = HeaderMap::new();
        h.insert("x-should-retry", "false".parse().unwrap());
        assert!(!parse_error(503, &h, b"oops").transient);
        let e = parse_error(401, &HeaderMap::new(), b"<html>nope</html>");
        assert_eq!(e.message, "<html>nope</html>");
        assert!(!e.transient);
    }
}
