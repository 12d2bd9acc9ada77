use super::*;
use crate::providers::{ChatCall, Dialect, StreamParser};
use reqwest::header::HeaderMap;
use serde_json::json;
use std::time::Duration;

fn call<'a>() -> ChatCall<'a> {
    ChatCall {
        model: "gemini-2.5-flash",
        instructions: Some("Be brief."),
        input: "Hi",
        max_tokens: Some(500),
        temperature: Some(0.2),
        top_p: Some(0.9),
        reasoning: None,
        output_schema: None,
        stream: false,
        dialect: Dialect::Native,
        attachments: &[],
        history: &[],
    }
}

#[test]
fn endpoints() {
    let mut c = call();
    assert_eq!(
        endpoint(&crate::provider::builtin("gemini").unwrap().base_url, &c),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    );
    c.stream = true;
    c.model = "models/gemini-2.5-pro";
    assert_eq!(
        endpoint("http://h/v1beta", &c),
        "http://h/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    );
}

#[test]
fn versions() {
    assert_eq!(gemini_version("gemini-2.5-flash-lite"), Some((2, 5)));
    assert_eq!(gemini_version("gemini-3-pro-preview"), Some((3, 0)));
    assert_eq!(gemini_version("gemini-3.8-flash"), Some((3, 8)));
    assert_eq!(gemini_version("gemini-4-argon"), Some((4, 0)));
    assert_eq!(gemini_version("gemini-flash-latest"), None);
}

#[test]
fn builds_a_body() {
    let b = build_body(&call());
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "Hi"}]}])
    );
    assert_eq!(b["systemInstruction"]["parts"][0]["text"], "Be brief.");
    let g = &b["generationConfig"];
    assert_eq!(g["maxOutputTokens"], 500);
    assert_eq!(g["temperature"], 0.2);
    assert_eq!(g["topP"], 0.9);
    assert!(g.get("thinkingConfig").is_none());

    let mut c = call();
    c.instructions = None;
    c.max_tokens = None;
    c.temperature = None;
    c.top_p = None;
    let b = build_body(&c);
    assert!(b.get("generationConfig").is_none() && b.get("systemInstruction").is_none());
}

#[test]
fn reasoning_maps_to_budgets_and_levels() {
    let mut c = call();
    c.reasoning = Some("medium");
    let g = build_body(&c)["generationConfig"].clone();
    assert_eq!(
        g["thinkingConfig"],
        json!({"thinkingBudget": 8192, "includeThoughts": true})
    );
    assert_eq!(g["maxOutputTokens"], 500 + 8192);

    c.reasoning = Some("max");
    c.model = "gemini-2.5-pro";
    assert_eq!(
        build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingBudget"],
        32768
    );
    c.model = "gemini-2.5-flash-lite";
    assert_eq!(
        build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingBudget"],
        24576
    );

    c.model = "gemini-3-pro-preview";
    c.reasoning = Some("medium");
    assert_eq!(
        build_body(&c)["generationConfig"]["thinkingConfig"],
        json!({"thinkingLevel": "high", "includeThoughts": true})
    );
    c.model = "gemini-3.8-flash";
    assert_eq!(
        build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingLevel"],
        "medium"
    );
    c.reasoning = Some("low");
    assert_eq!(
        build_body(&c)["generationConfig"]["thinkingConfig"]["thinkingLevel"],
        "low"
    );

    // Models that do not reason are sent nothing.
    for model in ["gemini-2.0-flash", "gemini-1.5-pro", "gemini-flash-latest"] {
        c.model = model;
        let g = build_body(&c)["generationConfig"].clone();
        assert!(g.get("thinkingConfig").is_none(), "{model}");
        assert_eq!(g["maxOutputTokens"], 500, "{model}");
    }
}

#[test]
fn schemas() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let mut c = call();
    c.output_schema = Some(&schema);
    let g = build_body(&c)["generationConfig"].clone();
    assert_eq!(g["responseMimeType"], "application/json");
    assert_eq!(g["responseJsonSchema"], schema);

    c.dialect = Dialect::CompatibleJsonMode;
    let b = build_body(&c);
    assert!(b["generationConfig"].get("responseJsonSchema").is_none());
    let system = b["systemInstruction"]["parts"][0]["text"].as_str().unwrap();
    assert!(system.starts_with("Be brief.") && system.contains("\"properties\""));
}

#[test]
fn usage_counts_cache_tools_and_thoughts() {
    let body = br#"{"candidates":[{"content":{"parts":[{"text":"Hmm","thought":true},{"text":"Yes"}],"role":"model"},
        "finishReason":"STOP","index":0}],
        "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":60,"candidatesTokenCount":5,
        "thoughtsTokenCount":20,"toolUsePromptTokenCount":7,"totalTokenCount":132}}"#;
    let c = parse_response(body).unwrap();
    assert_eq!((c.text.as_str(), c.thinking.as_str()), ("Yes", "Hmm"));
    let u = c.usage.unwrap();
    assert_eq!(
        (
            u.input_tokens,
            u.cache_read_tokens,
            u.output_tokens,
            u.reasoning_tokens
        ),
        (107, 60, 25, 20)
    );
    assert_eq!(u.extra["tool_use_prompt_tokens"], 7);
}

#[test]
fn retry_info_is_honoured_unless_a_header_says_otherwise() {
    let body = br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},
                   {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}"#;
    let e = parse_error(429, &HeaderMap::new(), body);
    assert!(e.transient);
    assert_eq!(e.message, "Quota exceeded (RESOURCE_EXHAUSTED)");
    assert_eq!(e.retry_after, Some(Duration::from_millis(1500)));
    let mut h = HeaderMap::new();
    h.insert("retry-after", "3".parse().unwrap());
    assert_eq!(
        parse_error(429, &h, body).retry_after,
        Some(Duration::from_secs(3))
    );
    let e = parse_error(503, &HeaderMap::new(), b"upstream connect error");
    assert!(e.transient);
    assert_eq!(e.message, "upstream connect error");
}

#[test]
fn an_error_inside_a_stream_ends_it() {
    let mut s = StreamState::default();
    let e = s
        .feed(
            "",
            r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
        )
        .unwrap_err();
    assert!(e.transient);
    assert_eq!(e.status, Some(503));
    assert!(s.feed("", "{not json").unwrap_err().transient);
}
