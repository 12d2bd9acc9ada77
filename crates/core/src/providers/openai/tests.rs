use super::*;
use crate::providers::{ChatCall, Dialect};
use reqwest::header::HeaderMap;
use serde_json::json;

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
        attachments: &[],
        history: &[],
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
