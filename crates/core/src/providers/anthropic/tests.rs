use super::*;
use crate::providers::{ChatCall, Delta, Dialect, StreamParser};
use reqwest::header::HeaderMap;
use serde_json::json;

fn call<'a>() -> ChatCall<'a> {
    ChatCall {
        model: "claude-sonnet-4-5-20250929",
        instructions: Some("Be brief."),
        input: "Hi",
        max_tokens: None,
        temperature: Some(0.2),
        top_p: Some(0.9),
        reasoning: None,
        output_schema: None,
        stream: true,
        dialect: Dialect::Native,
        attachments: &[],
        history: &[],
    }
}

#[test]
fn reads_versions_from_model_ids() {
    assert_eq!(claude_version("claude-sonnet-4-5-20250929"), Some((4, 5)));
    assert_eq!(claude_version("claude-3-7-sonnet-latest"), Some((3, 7)));
    assert_eq!(claude_version("claude-3-5-haiku-20241022"), Some((3, 5)));
    assert_eq!(claude_version("claude-3-haiku-20240307"), Some((3, 0)));
    assert_eq!(claude_version("claude-opus-4-20250514"), Some((4, 0)));
    assert_eq!(claude_version("claude-opus-4-1"), Some((4, 1)));
    assert_eq!(claude_version("claude-fable-5"), Some((5, 0)));
    assert_eq!(
        claude_version("us.anthropic.claude-opus-4-6-v1"),
        Some((4, 6))
    );
    assert_eq!(claude_version("claude-opus-4-1@20250805"), Some((4, 1)));
    assert_eq!(claude_version("claude-mythos-preview"), None);
    assert_eq!(claude_version("llama3"), None);
}

#[test]
fn builds_a_plain_body() {
    let b = build_body(&call());
    assert_eq!(b["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(b["system"], "Be brief.");
    assert_eq!(b["messages"], json!([{"role": "user", "content": "Hi"}]));
    assert_eq!(b["max_tokens"], 8192);
    assert_eq!(b["stream"], true);
    // Not both: only temperature.
    assert_eq!(b["temperature"], 0.2);
    assert!(b.get("top_p").is_none());
    assert!(b.get("thinking").is_none());
    assert!(b.get("output_config").is_none());
    assert_eq!(
        endpoint(&crate::provider::builtin("anthropic").unwrap().base_url),
        "https://api.anthropic.com/v1/messages"
    );
    assert_eq!(endpoint("http://h/v1"), "http://h/v1/messages");
}

#[test]
fn max_tokens_defaults_and_caps_per_model() {
    let mut c = call();
    c.model = "claude-3-haiku-20240307";
    assert_eq!(build_body(&c)["max_tokens"], 4096);
    c.max_tokens = Some(100_000);
    assert_eq!(build_body(&c)["max_tokens"], 4096);
    c.model = "claude-3-5-haiku-latest";
    assert_eq!(build_body(&c)["max_tokens"], 8192);
    c.model = "claude-sonnet-4-5";
    assert_eq!(build_body(&c)["max_tokens"], 64000);
    c.max_tokens = Some(300);
    assert_eq!(build_body(&c)["max_tokens"], 300);
    c.model = "some-proxy-model";
    c.max_tokens = None;
    assert_eq!(build_body(&c)["max_tokens"], 8192);
}

#[test]
fn budget_thinking_raises_max_tokens_and_drops_sampling() {
    let mut c = call();
    c.reasoning = Some("medium");
    c.max_tokens = Some(1000);
    let b = build_body(&c);
    assert_eq!(
        b["thinking"],
        json!({"type": "enabled", "budget_tokens": 8192})
    );
    assert_eq!(b["max_tokens"], 9192);
    assert!(b.get("temperature").is_none() && b.get("top_p").is_none());

    // Opus 4.1 writes at most 32000 tokens: the budget shrinks to fit.
    c.model = "claude-opus-4-1-20250805";
    c.reasoning = Some("max");
    c.max_tokens = None;
    let b = build_body(&c);
    assert_eq!(b["max_tokens"], 32000);
    assert_eq!(b["thinking"]["budget_tokens"], 32000 - 8192);

    c.model = "claude-3-7-sonnet-20250219";
    c.reasoning = Some("low");
    assert_eq!(build_body(&c)["thinking"]["budget_tokens"], 2048);
}

#[test]
fn adaptive_thinking_on_newer_models() {
    let mut c = call();
    c.model = "claude-opus-4-7";
    c.reasoning = Some("max");
    let b = build_body(&c);
    assert_eq!(b["thinking"], json!({"type": "adaptive"}));
    assert_eq!(b["output_config"]["effort"], "max");
    assert_eq!(b["max_tokens"], 32000 + 8192);
    // 4.7 rejects sampling parameters even without thinking.
    c.reasoning = None;
    let b = build_body(&c);
    assert!(b.get("temperature").is_none() && b.get("thinking").is_none());
    c.model = "claude-haiku-5-5";
    c.reasoning = Some("max");
    assert_eq!(build_body(&c)["output_config"]["effort"], "high");
    c.model = "claude-sonnet-4-6";
    c.reasoning = None;
    assert_eq!(build_body(&c)["temperature"], 0.2);
}

#[test]
fn models_that_do_not_reason_get_no_thinking() {
    let mut c = call();
    c.reasoning = Some("high");
    for model in ["claude-3-5-sonnet-20241022", "claude-3-5-haiku-latest"] {
        c.model = model;
        let b = build_body(&c);
        assert!(b.get("thinking").is_none(), "{model}");
        assert_eq!(b["temperature"], 0.2, "{model}");
    }
    // An id without a version (an alias) gets what was asked for, not nothing.
    c.model = "claude-mythos-preview";
    assert_eq!(build_body(&c)["thinking"]["budget_tokens"], 16384);
    // A compatible server gets the budget form when asked.
    c.model = "deepseek-chat";
    c.dialect = Dialect::Compatible;
    assert_eq!(build_body(&c)["thinking"]["budget_tokens"], 16384);
}

#[test]
fn schemas_go_native_through_a_tool_or_into_the_prompt() {
    let closed = json!({"type": "object", "properties": {"a": {"type": "string"}},
        "required": ["a"], "additionalProperties": false});
    let open = json!({"type": "object", "properties": {"a": {"type": "integer", "minimum": 0}}});
    let list = json!({"type": "array", "items": {"type": "string"}});
    assert!(schema_fits_native(&closed));
    assert!(!schema_fits_native(&open));

    let mut c = call();
    c.output_schema = Some(&closed);
    let b = build_body(&c);
    assert_eq!(
        b["output_config"]["format"],
        json!({"type": "json_schema", "schema": closed})
    );
    assert!(b.get("tools").is_none());

    // Native output does not take this schema: a forced tool does.
    c.output_schema = Some(&open);
    let b = build_body(&c);
    assert_eq!(b["tools"][0]["name"], OUTPUT_TOOL);
    assert_eq!(b["tools"][0]["input_schema"], open);
    assert_eq!(
        b["tool_choice"],
        json!({"type": "tool", "name": OUTPUT_TOOL})
    );

    // Older models: the tool too.
    c.model = "claude-sonnet-4-20250514";
    c.output_schema = Some(&closed);
    assert_eq!(build_body(&c)["tool_choice"]["name"], OUTPUT_TOOL);

    // Thinking cannot be combined with a forced tool: the prompt carries it.
    c.reasoning = Some("low");
    let b = build_body(&c);
    assert!(b.get("tools").is_none());
    let system = b["system"].as_str().unwrap();
    assert!(system.starts_with("Be brief.") && system.contains("\"additionalProperties\""));

    // A non-object root cannot be a tool input.
    c.reasoning = None;
    c.output_schema = Some(&list);
    let b = build_body(&c);
    assert!(b.get("tools").is_none());
    assert!(b["system"].as_str().unwrap().contains("\"array\""));
}

#[test]
fn parses_a_response_with_thinking_tool_output_and_cache_usage() {
    let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
        "content":[{"type":"thinking","thinking":"Let me see.","signature":"x"},
                   {"type":"tool_use","id":"t","name":"output","input":{"city":"Paris"}}],
        "stop_reason":"tool_use","stop_sequence":null,
        "usage":{"input_tokens":10,"cache_read_input_tokens":200,"cache_creation_input_tokens":50,
                 "cache_creation":{"ephemeral_5m_input_tokens":30,"ephemeral_1h_input_tokens":20},
                 "output_tokens":40,"server_tool_use":{"web_search_requests":2,"web_fetch_requests":3}}}"#;
    let c = parse_response(body).unwrap();
    assert_eq!(c.text, r#"{"city":"Paris"}"#);
    assert_eq!(c.thinking, "Let me see.");
    assert_eq!(c.finish_reason.as_deref(), Some("tool_use"));
    let u = c.usage.unwrap();
    assert_eq!(u.input_tokens, 260);
    assert_eq!(u.cache_read_tokens, 200);
    assert_eq!(
        (u.cache_creation_tokens, u.cache_creation_1h_tokens),
        (30, 20)
    );
    assert_eq!(u.output_tokens, 40);
    assert_eq!(u.web_search_requests, 2);
    assert_eq!(u.web_fetch_requests, 3);
}

#[test]
fn a_refusal_is_flagged() {
    let body = br#"{"type":"message","content":[],"stop_reason":"refusal",
        "stop_details":{"type":"refusal","category":"cyber","explanation":"Not this."},
        "usage":{"input_tokens":5,"output_tokens":0}}"#;
    let c = parse_response(body).unwrap();
    assert_eq!(
        c.refusal.as_deref(),
        Some("Not this. (stop_reason: refusal, category: cyber)")
    );
}

#[test]
fn errors_carry_the_providers_message() {
    let e = parse_error(
        529,
        &HeaderMap::new(),
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    assert!(e.transient);
    assert_eq!(e.status, Some(529));
    assert_eq!(e.message, "Overloaded (overloaded_error)");
    let e = parse_error(
        400,
        &HeaderMap::new(),
        br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}}"#,
    );
    assert!(!e.transient);
    let mut h = HeaderMap::new();
    h.insert("x-should-retry", "false".parse().unwrap());
    assert!(!parse_error(529, &h, b"").transient);

    // Mid-stream.
    let mut s = StreamState::default();
    let e = s
        .feed(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
        .unwrap_err();
    assert!(e.transient);
    assert_eq!(e.status, Some(529));
    let e = s
        .feed(
            "error",
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"bad"}}"#,
        )
        .unwrap_err();
    assert!(!e.transient);
    assert!(s.feed("", "{not json").unwrap_err().transient);
}

#[test]
fn huge_block_indices_neither_allocate_nor_overflow() {
    let mut s = StreamState::default();
    for index in ["100000000000", "18446744073709551615"] {
        let start = format!(
            r#"{{"type":"content_block_start","index":{index},"content_block":{{"type":"text","text":""}}}}"#
        );
        s.feed("", &start).unwrap();
        let delta = format!(
            r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"text_delta","text":"hi"}}}}"#
        );
        assert_eq!(s.feed("", &delta).unwrap(), vec![Delta::Text("hi".into())]);
    }
    assert_eq!(s.completion().text, "hihi");
}
