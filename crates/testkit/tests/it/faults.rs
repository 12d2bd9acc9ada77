//! Scripted faults, key checks and load, over real HTTP.

use std::time::Duration;

use crate::common::{client, parse_sse, read_until_error};
use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
use serde_json::{Value, json};

const OPENAI: &str = "/chat/completions";

fn chat(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [{"role": "user", "content": "Hello?"}],
        "stream": stream,
        "stream_options": {"include_usage": true}
    })
}

fn messages(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hello?"}],
        "stream": stream
    })
}

fn contents() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "Hello?"}]}]})
}

async fn start(model: &str, behavior: Behavior) -> FakeProvider {
    FakeProvider::start(Script::new().model(model, behavior))
        .await
        .expect("start")
}

async fn post(url: String, body: &Value) -> reqwest::Response {
    client().post(url).json(body).send().await.expect("send")
}

#[tokio::test]
async fn rate_limit_then_success_with_retry_headers() {
    let fault = Fault::status(429, "Rate limit reached")
        .retry_after("1")
        .retry_after_ms(1000)
        .should_retry(true);
    let fake = start("gpt-a", Behavior::answer("ok").faults(vec![fault])).await;
    let url = format!("{}{OPENAI}", fake.openai_base_url());

    let first = post(url.clone(), &chat("gpt-a", false)).await;
    assert_eq!(first.status(), 429);
    assert_eq!(first.headers()["retry-after"], "1");
    assert_eq!(first.headers()["retry-after-ms"], "1000");
    assert_eq!(first.headers()["x-should-retry"], "true");
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Rate limit reached");
    assert_eq!(body["error"]["type"], "requests");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");

    let second = post(url.clone(), &chat("gpt-a", false)).await;
    assert_eq!(second.status(), 200);
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "ok");
    assert_eq!(fake.calls_for("gpt-a"), 2);
}

#[tokio::test]
async fn fault_sequences_are_counted_per_model() {
    let script = Script::new()
        .model(
            "a",
            Behavior::answer("a").faults([Fault::None, Fault::status(500, "boom")]),
        )
        .default_behavior(Behavior::answer("d").fault(Fault::status(503, "busy")));
    let fake = FakeProvider::start(script).await.unwrap();
    let url = format!("{}{OPENAI}", fake.openai_base_url());
    let status = |response: reqwest::Response| response.status().as_u16();
    assert_eq!(status(post(url.clone(), &chat("a", false)).await), 200);
    // Models without their own behaviour share the default's faults, but not its count.
    assert_eq!(status(post(url.clone(), &chat("x", false)).await), 503);
    assert_eq!(status(post(url.clone(), &chat("y", false)).await), 503);
    assert_eq!(status(post(url.clone(), &chat("a", false)).await), 500);
    assert_eq!(status(post(url.clone(), &chat("a", false)).await), 200);
    assert_eq!(status(post(url.clone(), &chat("x", false)).await), 200);
}

#[tokio::test]
async fn status_faults_use_each_format_error_shape() {
    let fake = FakeProvider::start(
        Script::new()
            .model(
                "quota",
                Behavior::new().fault(Fault::status(429, "No quota").code("insufficient_quota")),
            )
            .model(
                "server",
                Behavior::new().faults(vec![Fault::status(500, "Internal"); 2]),
            )
            .model(
                "overloaded",
                Behavior::new().fault(Fault::status(529, "Overloaded")),
            )
            .model(
                "busy",
                Behavior::new().fault(Fault::status(503, "Unavailable")),
            )
            .model(
                "limited",
                Behavior::new().fault(Fault::status(429, "Quota exceeded").retry_after("1")),
            ),
    )
    .await
    .unwrap();

    let response = post(
        format!("{}{OPENAI}", fake.openai_base_url()),
        &chat("quota", false),
    )
    .await;
    assert_eq!(response.status(), 429);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"message": "No quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})
    );

    let response = post(
        format!("{}{OPENAI}", fake.openai_base_url()),
        &chat("server", true),
    )
    .await;
    assert_eq!(
        response.status(),
        500,
        "stream requests fail before the stream"
    );
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "server_error");

    let anthropic = format!("{}/v1/messages", fake.anthropic_base_url());
    let response = post(anthropic.clone(), &messages("server", false)).await;
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"type": "error", "error": {"type": "api_error", "message": "Internal"}})
    );
    let response = post(anthropic, &messages("overloaded", true)).await;
    assert_eq!(response.status(), 529);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "overloaded_error");

    let gemini = |model: &str| format!("{}/models/{model}:generateContent", fake.gemini_base_url());
    let response = post(gemini("busy"), &contents()).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {"code": 503, "message": "Unavailable", "status": "UNAVAILABLE"}})
    );
    let response = post(gemini("limited"), &contents()).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(
        body["error"]["details"],
        json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}])
    );
}

#[tokio::test]
async fn hang_holds_the_request_until_the_client_times_out() {
    let fake = start("slow", Behavior::answer("late").faults([Fault::Hang])).await;
    let url = format!("{}{OPENAI}", fake.openai_base_url());
    let error = reqwest::Client::new()
        .post(&url)
        .timeout(Duration::from_millis(200))
        .json(&chat("slow", true))
        .send()
        .await
        .expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    // The server is still fine, and the next call succeeds.
    let response = post(url, &chat("slow", false)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn shutdown_closes_hanging_connections() {
    let fake = start("slow", Behavior::new().faults([Fault::Hang])).await;
    let url = format!("{}{OPENAI}", fake.openai_base_url());
    let pending =
        tokio::spawn(async move { client().post(url).json(&chat("slow", false)).send().await });
    while fake.calls_for("slow") == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fake.shutdown().await;
    // Closed by the shutdown, not by a time-out (the client has none; the
    // guard only keeps a broken shutdown from hanging the suite).
    let outcome = tokio::time::timeout(Duration::from_secs(60), pending)
        .await
        .expect("the hanging connection was closed")
        .unwrap();
    let error = outcome.expect_err("the connection was closed");
    assert!(!error.is_timeout(), "{error:?}");
}

#[tokio::test]
async fn dropping_the_provider_frees_its_port() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let addr = fake.addr();
    drop(fake);
    // The listener goes away with the cancelled task; rebinding the port shows it.
    let mut rebound = None;
    for _ in 0..50 {
        match FakeProvider::start_on(addr, Script::new()).await {
            Ok(again) => {
                rebound = Some(again);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    let again = rebound.expect("port freed");
    assert_eq!(again.addr(), addr);
}

#[tokio::test]
async fn disconnect_mid_stream_in_each_format() {
    let behavior = Behavior::answer("aaaabbbbccccdddd").chunks(4).faults([
        Fault::DisconnectMidStream,
        Fault::DisconnectMidStream,
        Fault::DisconnectMidStream,
    ]);
    let fake = start("m", behavior).await;

    let response = post(
        format!("{}{OPENAI}", fake.openai_base_url()),
        &chat("m", true),
    )
    .await;
    assert_eq!(response.status(), 200);
    let (received, error) = read_until_error(response).await;
    assert!(error.is_some(), "the body must fail: {received}");
    assert!(!received.contains("[DONE]"));
    let pieces: String = parse_sse(&received)
        .iter()
        .filter_map(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(pieces, "aaaabbbb", "two of four chunks arrive");

    let response = post(
        format!("{}/v1/messages", fake.anthropic_base_url()),
        &messages("m", true),
    )
    .await;
    let (received, error) = read_until_error(response).await;
    assert!(error.is_some());
    assert!(received.contains("text_delta"));
    assert!(!received.contains("message_stop"));

    let url = format!(
        "{}/models/m:streamGenerateContent?alt=sse",
        fake.gemini_base_url()
    );
    let (received, error) = read_until_error(post(url, &contents()).await).await;
    assert!(error.is_some());
    assert!(received.contains("\"text\""));
    assert!(!received.contains("finishReason"));
}

#[tokio::test]
async fn disconnect_without_streaming_cuts_the_body() {
    let fake = start(
        "m",
        Behavior::answer("whole").faults([Fault::DisconnectMidStream]),
    )
    .await;
    let response = post(
        format!("{}{OPENAI}", fake.openai_base_url()),
        &chat("m", false),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.json::<Value>().await.is_err());
}

#[tokio::test]
async fn malformed_chunk_then_the_stream_goes_on() {
    let behavior = Behavior::answer("one two three four").faults([
        Fault::MalformedChunk,
        Fault::MalformedChunk,
        Fault::MalformedChunk,
        Fault::MalformedChunk,
    ]);
    let fake = start("m", behavior).await;

    let text = post(
        format!("{}{OPENAI}", fake.openai_base_url()),
        &chat("m", true),
    )
    .await
    .text()
    .await
    .unwrap();
    let events = parse_sse(&text);
    let bad: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].data == "{not json")
        .collect();
    assert_eq!(bad.len(), 1, "{text}");
    assert!(bad[0] > 1, "good chunks come first");
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let answer: String = events
        .iter()
        .filter(|e| e.data != "{not json" && e.data != "[DONE]")
        .filter_map(|e| {
            e.json()["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(answer, "one two three four");

    let text = post(
        format!("{}/v1/messages", fake.anthropic_base_url()),
        &messages("m", true),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(text.contains("event: content_block_delta\ndata: {not json\n\n"));
    assert!(text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

    let url = format!(
        "{}/models/m:streamGenerateContent?alt=sse",
        fake.gemini_base_url()
    );
    let text = post(url, &contents()).await.text().await.unwrap();
    assert!(text.contains("data: {not json\r\n\r\n"));
    assert!(text.contains("finishReason"));

    let response = post(
        format!("{}{OPENAI}", fake.openai_base_url()),
        &chat("m", false),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.json::<Value>().await.is_err(),
        "a body that does not parse"
    );
}

#[tokio::test]
async fn echo_key_leaks_the_key_in_each_format() {
    let fake = start(
        "m",
        Behavior::new().faults([Fault::EchoKey, Fault::EchoKey, Fault::EchoKey]),
    )
    .await;
    let key = "sk-secret-1234567890";

    let response = client()
        .post(format!("{}{OPENAI}", fake.openai_base_url()))
        .bearer_auth(key)
        .json(&chat("m", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains(key));
    assert_eq!(body["error"]["code"], "invalid_api_key");

    let response = client()
        .post(format!("{}/v1/messages", fake.anthropic_base_url()))
        .header("x-api-key", key)
        .json(&messages("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(body["error"]["message"].as_str().unwrap().contains(key));

    let response = client()
        .post(format!(
            "{}/models/m:generateContent?key={key}",
            fake.gemini_base_url()
        ))
        .json(&contents())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert!(body["error"]["message"].as_str().unwrap().contains(key));
}

#[tokio::test]
async fn require_key_rejects_missing_and_wrong_keys() {
    let fake = FakeProvider::start(Script::new().require_key("sk-test"))
        .await
        .unwrap();
    let http = client();
    let openai = format!("{}{OPENAI}", fake.openai_base_url());
    let anthropic = format!("{}/v1/messages", fake.anthropic_base_url());
    let gemini = format!("{}/models/g:generateContent", fake.gemini_base_url());

    let status = |response: reqwest::Response| response.status().as_u16();
    let send = |request: reqwest::RequestBuilder| async move { request.send().await.unwrap() };

    let missing = send(http.post(&openai).json(&chat("m", false))).await;
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(!body["error"]["message"].as_str().unwrap().contains("sk-"));
    assert_eq!(
        status(
            send(
                http.post(&openai)
                    .bearer_auth("sk-wrong")
                    .json(&chat("m", false))
            )
            .await
        ),
        401
    );
    // The key must be where the format puts it.
    assert_eq!(
        status(
            send(
                http.post(&openai)
                    .header("x-api-key", "sk-test")
                    .json(&chat("m", false))
            )
            .await
        ),
        401
    );
    assert_eq!(
        status(
            send(
                http.post(&openai)
                    .bearer_auth("sk-test")
                    .json(&chat("m", false))
            )
            .await
        ),
        200
    );

    let wrong = send(
        http.post(&anthropic)
            .header("x-api-key", "sk-wrong")
            .json(&messages("m", false)),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body,
        json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
    );
    assert_eq!(
        status(
            send(
                http.post(&anthropic)
                    .header("x-api-key", "sk-test")
                    .json(&messages("m", false))
            )
            .await
        ),
        200
    );

    let missing = send(http.post(&gemini).json(&contents())).await;
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], 401);
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(
        status(
            send(
                http.post(&gemini)
                    .header("x-goog-api-key", "sk-test")
                    .json(&contents())
            )
            .await
        ),
        200
    );
    assert_eq!(
        status(send(http.post(format!("{gemini}?key=sk-test")).json(&contents())).await),
        200
    );

    let models = send(http.get(format!("{}/models", fake.openai_base_url()))).await;
    assert_eq!(models.status(), 401);
}

#[tokio::test]
async fn bad_requests_get_the_format_400() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let response = client()
        .post(format!("{}/v1/messages", fake.anthropic_base_url()))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let response = post(
        format!("{}/models/g:countTokens", fake.gemini_base_url()),
        &contents(),
    )
    .await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["status"], "NOT_FOUND");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn set_script_applies_to_later_requests() {
    let fake = start("m", Behavior::answer("before")).await;
    let url = format!("{}{OPENAI}", fake.openai_base_url());
    let answer = |body: Value| body["choices"][0]["message"]["content"].clone();
    let body: Value = post(url.clone(), &chat("m", false))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer(body), "before");
    fake.set_script(Script::new().model("m", Behavior::answer("after")));
    let body: Value = post(url, &chat("m", false)).await.json().await.unwrap();
    assert_eq!(answer(body), "after");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_streams() {
    let mut script = Script::new();
    for i in 0..200 {
        script = script.model(
            format!("m{i}"),
            Behavior::answer(format!("answer {i}")).chunks(8),
        );
    }
    let fake = FakeProvider::start(script).await.unwrap();
    let http = client();
    let url = format!("{}{OPENAI}", fake.openai_base_url());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (http, url) = (http.clone(), url.clone());
        tasks.spawn(async move {
            let text = http
                .post(url)
                .json(&chat(&format!("m{i}"), true))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let answer: String = parse_sse(&text)
                .iter()
                .filter(|e| e.data != "[DONE]")
                .filter_map(|e| {
                    e.json()["choices"][0]["delta"]["content"]
                        .as_str()
                        .map(str::to_owned)
                })
                .collect();
            assert_eq!(answer, format!("answer {i}"));
        });
    }
    while let Some(outcome) = tasks.join_next().await {
        outcome.unwrap();
    }
    assert_eq!(fake.requests().len(), 200);
    assert!((0..200).all(|i| fake.calls_for(&format!("m{i}")) == 1));
}
