//! The three wire formats, streamed and not, over real HTTP.

use std::time::{Duration, Instant};

use crate::common::{client, parse_sse};
use roundtable_testkit::{Behavior, FakeProvider, FakeUsage, Format, RECORDED_PATH, Script};
use serde_json::{Value, json};

fn usage() -> FakeUsage {
    FakeUsage::new(100, 20)
        .cached(30)
        .reasoning(5)
        .cache_creation(10)
}

async fn start(behavior: Behavior) -> FakeProvider {
    FakeProvider::start(Script::new().model("m", behavior))
        .await
        .expect("start")
}

fn openai_request(stream: bool, include_usage: bool) -> Value {
    let mut body = json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the capital of France?"}
        ],
        "stream": stream
    });
    if include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

#[tokio::test]
async fn openai_completion_has_answer_and_usage() {
    let fake = start(Behavior::answer("Paris").usage(usage())).await;
    let response = client()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .bearer_auth("sk-any")
        .json(&openai_request(false, false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "m");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let choice = &body["choices"][0];
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "Paris");
    assert_eq!(choice["finish_reason"], "stop");
    let usage = &body["usage"];
    assert_eq!(usage["prompt_tokens"], 100);
    assert_eq!(usage["completion_tokens"], 20);
    assert_eq!(usage["total_tokens"], 120);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 30);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 5);
}

#[tokio::test]
async fn openai_stream_has_role_chunks_finish_usage_and_done() {
    let fake = start(Behavior::answer("Paris is lovely").usage(usage())).await;
    let response = client()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .json(&openai_request(true, true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let events = parse_sse(&text);
    let (done, chunks) = events.split_last().unwrap();
    assert_eq!(done.data, "[DONE]");
    let chunks: Vec<Value> = chunks.iter().map(|event| event.json()).collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(chunks.iter().all(|c| c["id"] == chunks[0]["id"]));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");

    let pieces: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .filter(|piece| !piece.is_empty())
        .collect();
    assert_eq!(pieces.len(), 4);
    assert_eq!(pieces.concat(), "Paris is lovely");

    let (usage_chunk, rest) = chunks.split_last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["prompt_tokens"], 100);
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 20);
    assert_eq!(
        usage_chunk["usage"]["prompt_tokens_details"]["cached_tokens"],
        30
    );
    let finish = rest.last().unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert!(rest.iter().all(|c| c["usage"].is_null()));
}

#[tokio::test]
async fn openai_stream_without_include_usage_has_no_usage_chunk() {
    let fake = start(Behavior::answer("Paris").chunks(2)).await;
    let text = client()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .json(&openai_request(true, false))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = parse_sse(&text);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| e.json())
        .collect();
    // role, two content chunks, finish
    assert_eq!(chunks.len(), 4);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"].as_array().unwrap().len() == 1)
    );
}

#[tokio::test]
async fn default_answer_quotes_the_last_user_message_and_usage_is_estimated() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let body: Value = client()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .json(&json!({
            "model": "whatever-7b",
            "messages": [
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": [{"type": "text", "text": "Tell me everything about the Roman Empire, please."}]}
            ]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(
        answer,
        "Answer from whatever-7b: Tell me everything about the Roman Empir"
    );
    // "first" + "ok" + 50 characters = 57 characters -> 15 tokens.
    assert_eq!(body["usage"]["prompt_tokens"], 15);
    let answer_tokens = answer.chars().count().div_ceil(4);
    assert_eq!(body["usage"]["completion_tokens"], answer_tokens);
    assert_eq!(
        body["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );
}

fn anthropic_request(stream: bool) -> Value {
    json!({
        "model": "m",
        "max_tokens": 1024,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "stream": stream
    })
}

#[tokio::test]
async fn anthropic_message_has_thinking_text_and_usage() {
    let fake = start(
        Behavior::answer("Paris")
            .thinking("Easy one.")
            .usage(usage()),
    )
    .await;
    let response = client()
        .post(format!("{}/v1/messages", fake.anthropic_base_url()))
        .header("x-api-key", "sk-ant")
        .header("anthropic-version", "2023-06-01")
        .json(&anthropic_request(false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["model"], "m");
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(body["content"][0]["type"], "thinking");
    assert_eq!(body["content"][0]["thinking"], "Easy one.");
    assert!(body["content"][0]["signature"].as_str().is_some());
    assert_eq!(body["content"][1], json!({"type": "text", "text": "Paris"}));
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(
        body["usage"],
        json!({
            "input_tokens": 60,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": 10,
            "output_tokens": 20
        })
    );
}

#[tokio::test]
async fn anthropic_stream_follows_the_event_sequence() {
    let fake = start(
        Behavior::answer("Paris is lovely")
            .thinking("Easy one, really.")
            .chunks(3)
            .usage(usage()),
    )
    .await;
    let response = client()
        .post(format!("{}/v1/messages", fake.anthropic_base_url()))
        .json(&anthropic_request(true))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = parse_sse(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|e| e.event.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = events.iter().map(|e| e.json()).collect();
    for (name, value) in names.iter().zip(&data) {
        assert_eq!(value["type"], *name);
    }
    let start = &data[0]["message"];
    assert_eq!(start["usage"]["input_tokens"], 60);
    assert_eq!(start["usage"]["cache_read_input_tokens"], 30);
    assert_eq!(data[1]["content_block"]["type"], "thinking");
    assert_eq!(data[6]["delta"]["type"], "signature_delta");
    assert_eq!(data[8]["content_block"]["type"], "text");
    assert_eq!(data[8]["index"], 1);

    let delta_text = |kind: &str, field: &str| -> String {
        data.iter()
            .filter(|d| d["delta"]["type"] == kind)
            .map(|d| d["delta"][field].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        delta_text("thinking_delta", "thinking"),
        "Easy one, really."
    );
    assert_eq!(delta_text("text_delta", "text"), "Paris is lovely");

    let message_delta = &data[13];
    assert_eq!(message_delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(message_delta["usage"]["output_tokens"], 20);
}

fn gemini_request() -> Value {
    json!({
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]
    })
}

#[tokio::test]
async fn gemini_generate_content_has_thought_part_and_usage_metadata() {
    let fake = start(
        Behavior::answer("Paris")
            .thinking("Easy one.")
            .usage(usage()),
    )
    .await;
    let response = client()
        .post(format!(
            "{}/models/m:generateContent",
            fake.gemini_base_url()
        ))
        .header("x-goog-api-key", "AIza-test")
        .json(&gemini_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let candidate = &body["candidates"][0];
    assert_eq!(candidate["content"]["role"], "model");
    assert_eq!(
        candidate["content"]["parts"],
        json!([{"text": "Easy one.", "thought": true}, {"text": "Paris"}])
    );
    assert_eq!(candidate["finishReason"], "STOP");
    let usage = &body["usageMetadata"];
    assert_eq!(usage["promptTokenCount"], 100);
    assert_eq!(usage["candidatesTokenCount"], 15);
    assert_eq!(usage["thoughtsTokenCount"], 5);
    assert_eq!(usage["cachedContentTokenCount"], 30);
    assert_eq!(usage["totalTokenCount"], 120);
    assert_eq!(body["modelVersion"], "m");
}

#[tokio::test]
async fn gemini_sse_stream_has_crlf_chunks_and_no_done() {
    let fake = start(
        Behavior::answer("Paris is lovely")
            .thinking("Hmm.")
            .chunks(3),
    )
    .await;
    let response = client()
        .post(format!(
            "{}/models/m:streamGenerateContent?alt=sse",
            fake.gemini_base_url()
        ))
        .json(&gemini_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = response.text().await.unwrap();
    assert!(text.starts_with("data: {"));
    assert!(text.ends_with("}\r\n\r\n"));
    assert!(!text.contains("[DONE]"));
    let chunks: Vec<Value> = parse_sse(&text).iter().map(|e| e.json()).collect();
    assert_eq!(chunks.len(), 3 + 3);
    let part = |c: &Value| c["candidates"][0]["content"]["parts"][0].clone();
    let thoughts: String = chunks
        .iter()
        .map(part)
        .filter(|p| p["thought"] == true)
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect();
    let answer: String = chunks
        .iter()
        .map(part)
        .filter(|p| p.get("thought").is_none())
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(thoughts, "Hmm.");
    assert_eq!(answer, "Paris is lovely");
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(
        last["usageMetadata"]["candidatesTokenCount"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["candidates"][0].get("finishReason").is_none())
    );
}

#[tokio::test]
async fn gemini_stream_without_alt_sse_is_a_json_array() {
    let fake = start(Behavior::answer("Paris is lovely")).await;
    let body: Value = client()
        .post(format!(
            "{}/models/m:streamGenerateContent",
            fake.gemini_base_url()
        ))
        .json(&gemini_request())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chunks = body.as_array().unwrap();
    assert_eq!(chunks.len(), 4);
    assert_eq!(chunks[3]["candidates"][0]["finishReason"], "STOP");
}

#[tokio::test]
async fn model_listings_in_each_shape() {
    let fake = FakeProvider::start(
        Script::new()
            .model("a", Behavior::answer("x"))
            .model("b", Behavior::answer("y")),
    )
    .await
    .unwrap();
    let openai: Value = client()
        .get(format!("{}/models", fake.openai_base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(openai["object"], "list");
    assert_eq!(openai["data"][0]["id"], "a");
    assert_eq!(openai["data"][0]["object"], "model");
    assert_eq!(openai["data"][1]["id"], "b");

    let anthropic: Value = client()
        .get(format!("{}/v1/models", fake.anthropic_base_url()))
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anthropic["data"][1]["type"], "model");
    assert_eq!(anthropic["has_more"], false);
    assert_eq!(anthropic["last_id"], "b");

    let gemini: Value = client()
        .get(format!("{}/models", fake.gemini_base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gemini["models"][0]["name"], "models/a");

    let formats: Vec<Format> = fake.requests().iter().map(|r| r.format).collect();
    assert_eq!(formats, [Format::OpenAi, Format::Anthropic, Format::Gemini]);
}

#[tokio::test]
async fn latency_delays_headers_and_chunk_delay_spaces_chunks() {
    let fake = start(Behavior::answer("abcd").latency(120).chunk_delay(40)).await;
    let started = Instant::now();
    let response = client()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .json(&openai_request(true, false))
        .send()
        .await
        .unwrap();
    let headers_after = started.elapsed();
    assert!(
        headers_after >= Duration::from_millis(120),
        "{headers_after:?}"
    );
    response.text().await.unwrap();
    let total = started.elapsed();
    // Three pauses between four content chunks.
    assert!(total >= Duration::from_millis(120 + 3 * 40), "{total:?}");
}

#[tokio::test]
async fn requests_are_recorded_in_order() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let body = openai_request(true, true);
    client()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .bearer_auth("sk-one")
        .header("x-custom", "yes")
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client()
        .post(format!(
            "{}/models/gemini-x:generateContent?key=abc",
            fake.gemini_base_url()
        ))
        .json(&gemini_request())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.format, Format::OpenAi);
    assert_eq!(first.path, "/v1/chat/completions");
    assert_eq!(first.model, "m");
    assert!(first.stream);
    assert_eq!(first.body, body);
    assert_eq!(first.header("authorization"), Some("Bearer sk-one"));
    assert_eq!(first.header("X-Custom"), Some("yes"));
    let second = &requests[1];
    assert_eq!(second.format, Format::Gemini);
    assert_eq!(second.path, "/v1beta/models/gemini-x:generateContent");
    assert_eq!(second.query.as_deref(), Some("key=abc"));
    assert_eq!(second.model, "gemini-x");
    assert!(!second.stream);
    assert_eq!(fake.calls_for("m"), 1);
    assert_eq!(fake.calls_for("gemini-x"), 1);
    assert_eq!(fake.calls_for("nobody"), 0);

    // The same record over HTTP, for tests of the built programs; reading it
    // is not itself recorded.
    let over_http: Value = client()
        .get(format!("{}{RECORDED_PATH}", fake.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http[0]["format"], "openai");
    assert_eq!(over_http[0]["path"], "/v1/chat/completions");
    assert_eq!(over_http[0]["model"], "m");
    assert_eq!(over_http[0]["stream"], true);
    assert_eq!(over_http[0]["body"], body);
    assert_eq!(over_http[1]["format"], "gemini");
    assert_eq!(over_http.as_array().map(Vec::len), Some(2));
    assert_eq!(fake.requests().len(), 2);

    fake.reset();
    assert!(fake.requests().is_empty());
    assert_eq!(fake.calls_for("m"), 0);
}

#[tokio::test]
async fn model_names_with_suffixes_are_taken_verbatim() {
    let fake = FakeProvider::start(Script::new().model("x@latency=200", Behavior::answer("as is")))
        .await
        .unwrap();
    let body: Value = client()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .json(&json!({"model": "x@latency=200", "messages": []}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "as is");
    assert_eq!(fake.calls_for("x@latency=200"), 1);
}
