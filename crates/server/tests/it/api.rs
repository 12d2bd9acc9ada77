//! The local API over real HTTP: contract shapes, streaming, errors, security,
//! cancellation. Each test runs its own server on 127.0.0.1 (a free port).

use crate::common::{Server, TOKEN, check_error, check_response, sse_payloads};
use roundtable_app::core::RunStatus;
use roundtable_server::ServeOptions;
use roundtable_testkit::{Behavior, Fault, Script, contract};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris").thinking("Let me think."))
        .model("b", Behavior::answer("London"))
        .model(
            "down",
            Behavior::new().faults((0..8).map(|_| Fault::status(500, "exploded").retry_after("0"))),
        )
}

fn body(models: &[&str]) -> Value {
    json!({
        "input": "Capital of France?",
        "models": models.iter().map(|m| json!({"name": m})).collect::<Vec<_>>(),
    })
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, v)
}

#[tokio::test]
async fn healthz_needs_no_token() {
    let s = Server::start(script()).await;
    let (status, v) = json_of(s.client.get(s.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn every_resolution_answers_the_contract_and_is_in_the_history() {
    let s = Server::start(script()).await;
    for (path, resolution) in [
        ("/v3/roundtable", "summary"),
        ("/v3/beta/roundtable", "fast"),
        ("/v3/roundtable", "multiple_choice"),
    ] {
        let mut b = body(&["fake/a", "fake/b", "fake/down"]);
        b["resolution"] = json!(resolution);
        b["max_retries"] = json!(0);
        if resolution == "multiple_choice" {
            b["choices"] = json!(["Paris", "London"]);
        }
        let r = s
            .client
            .post(s.url(path))
            .bearer_auth(TOKEN)
            .json(&b)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let (status, v) = json_of(r).await;
        assert_eq!(status, 200, "{v}");
        check_response(&v);
        assert_eq!(v["meta"]["resolution"], resolution);
        assert_eq!(v["meta"]["models_used"], json!(["fake/a", "fake/b"]));
        assert!(
            v["model_results"][2]["error"]
                .as_str()
                .unwrap()
                .contains("exploded")
        );
        match resolution {
            "fast" => assert_eq!(v["data"], Value::Null),
            "multiple_choice" => assert_eq!(v["data"], "Paris"),
            _ => assert!(!v["data"].as_str().unwrap().is_empty()),
        }
        let id = v["id"].as_str().unwrap();
        let stored = s.app.get_run(id).unwrap();
        assert_eq!(stored.summary.status, RunStatus::Completed);
        assert_eq!(
            serde_json::to_value(&stored.response).unwrap()["id"],
            v["id"]
        );
        assert_eq!(stored.request.input, "Capital of France?");
    }
}

#[tokio::test]
async fn streaming_sends_each_documented_chunk_in_order_then_done() {
    let s = Server::start(
        Script::new()
            .model(
                "a",
                Behavior::answer("Paris is the capital of France")
                    .thinking("Let me think about it.")
                    .chunks(4),
            )
            .model(
                "flaky",
                Behavior::answer("Paris").fault(Fault::status(503, "busy").retry_after("0")),
            )
            .model(
                "down",
                Behavior::new()
                    .faults((0..4).map(|_| Fault::status(500, "exploded").retry_after("0"))),
            ),
    )
    .await;
    let mut b = body(&["fake/a", "fake/flaky", "fake/down"]);
    b["stream"] = json!(true);
    b["max_retries"] = json!(1);
    let r = s.post(&b).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let payloads = sse_payloads(r).await;
    assert_eq!(payloads.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = payloads[..payloads.len() - 1]
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    for c in &chunks {
        let errors = contract::errors("RoundtableStreamChunk", c);
        assert!(errors.is_empty(), "{errors:?}\n{c}");
    }
    let kinds: Vec<&str> = chunks.iter().map(|c| c["type"].as_str().unwrap()).collect();
    let id = chunks.last().unwrap()["id"].as_str().unwrap().to_string();
    assert!(
        chunks.iter().all(|c| c["id"] == id),
        "every chunk has the run id"
    );
    for kind in [
        "model_delta",
        "model_thinking_delta",
        "model_retry",
        "model_result",
        "consolidation_delta",
        "done",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(kinds.last(), Some(&"done"));
    assert!(!kinds.contains(&"error"));
    // Per model: deltas, then its result; every result before the consolidation.
    let pos = |pred: &dyn Fn(&Value) -> bool| -> Vec<usize> {
        chunks
            .iter()
            .enumerate()
            .filter(|(_, c)| pred(c))
            .map(|(i, _)| i)
            .collect()
    };
    let results = pos(&|c| c["type"] == "model_result");
    assert_eq!(results.len(), 3);
    for index in 0..3 {
        let result = pos(&|c| c["type"] == "model_result" && c["model_index"] == index)[0];
        let deltas = pos(&|c| {
            c["model_index"] == index
                && (c["type"] == "model_delta" || c["type"] == "model_thinking_delta")
        });
        assert!(
            deltas.iter().all(|&d| d < result),
            "model {index}: {kinds:?}"
        );
        let text: String = chunks
            .iter()
            .filter(|c| c["type"] == "model_delta" && c["model_index"] == index)
            .map(|c| c["delta"].as_str().unwrap())
            .collect();
        let r = &chunks[result];
        if index < 2 {
            assert!(r.get("error").is_none(), "{r}");
            assert_eq!(text, r["data"].as_str().unwrap());
            assert!(r["usage"]["output_tokens"].as_u64().unwrap() > 0);
        } else {
            assert!(r["error"].as_str().unwrap().contains("exploded"), "{r}");
        }
        assert!(r["cost"].is_number());
    }
    let retry = &chunks[pos(&|c| c["type"] == "model_retry")[0]];
    assert_eq!(retry["model_index"], 1);
    assert!(retry["error"].as_str().unwrap().contains("busy"), "{retry}");
    let consolidation = pos(&|c| c["type"] == "consolidation_delta");
    assert!(
        consolidation
            .iter()
            .all(|&c| c > *results.iter().max().unwrap())
    );
    let done = chunks.last().unwrap();
    let summary: String = consolidation
        .iter()
        .map(|&i| chunks[i]["delta"].as_str().unwrap())
        .collect();
    assert_eq!(done["data"].as_str().unwrap(), summary);
    assert_eq!(done["meta"], done["response"]["meta"]);
    check_response(&done["response"]);
    assert_eq!(
        s.app.get_run(&id).unwrap().summary.status,
        RunStatus::Completed,
        "in the history before `done` is sent"
    );
}

#[tokio::test]
async fn invalid_requests_are_400_naming_the_field_and_call_no_provider() {
    let s = Server::start_with(
        script(),
        ServeOptions {
            max_models: Some(3),
            ..Default::default()
        },
    )
    .await;
    let with = |patch: Value| {
        let mut b = body(&["fake/a"]);
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        (json!({"models": [{"name": "fake/a"}]}), "input"),
        (with(json!({"input": "  "})), "input"),
        (with(json!({"models": []})), "models"),
        (
            with(json!({"models": [{"name": "nope/x"}]})),
            "models[0].name",
        ),
        (
            with(json!({"models": [{"temperature": 1}]})),
            "models[0].name",
        ),
        (
            with(json!({"models": [{"name": "fake/a"}, {"name": "fake/a", "temperature": 3}]})),
            "models[1].temperature",
        ),
        (
            with(json!({"models": [{"name": "fake/a", "temperature": "hot"}]})),
            "models[0].temperature",
        ),
        (with(json!({"models": "fake/a"})), "models"),
        (with(json!({"resolution": "multiple_choice"})), "choices"),
        (with(json!({"resolution": "slowest"})), "resolution"),
        (with(json!({"max_retries": 9})), "max_retries"),
        (with(json!({"max_retries": -1})), "max_retries"),
        (with(json!({"timeout_ms": 999999})), "timeout_ms"),
        (
            with(json!({"output_schema": {"type": 12}})),
            "output_schema",
        ),
        (with(json!({"summary_model": "nope/x"})), "summary_model"),
        (
            with(
                json!({"models": [{"name": "fake/a"}, {"name": "fake/a"}, {"name": "fake/a"}, {"name": "fake/a"}]}),
            ),
            "models",
        ),
        (with(json!({"stream": true, "models": []})), "models"),
    ];
    for (b, field) in cases {
        let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
        assert_eq!(status, 400, "{b}: {v}");
        check_error(&v);
        assert_eq!(v["error"]["code"], "invalid_request", "{v}");
        assert_eq!(v["error"]["details"]["field"], field, "{b}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{v}"
        );
    }
    assert!(s.fake.requests().is_empty());
    assert!(s.app.list_runs(&Default::default()).unwrap().is_empty());
}

#[tokio::test]
async fn malformed_json_is_400_saying_what_is_wrong() {
    let s = Server::start(script()).await;
    for (text, expect) in [
        (r#"{"input": "x", "models": [}"#, "line 1 column"),
        ("", "empty"),
        (r#"{"input": "x", "models": []} trailing"#, "trailing"),
        ("[1, 2]", "JSON object"),
    ] {
        let r = s
            .client
            .post(s.url("/v3/roundtable"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .unwrap();
        let (status, v) = json_of(r).await;
        assert_eq!(status, 400, "{text}: {v}");
        check_error(&v);
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains(expect), "{text}: {m}");
    }
}

#[tokio::test]
async fn the_token_is_required_and_checked() {
    let s = Server::start(script()).await;
    let b = body(&["fake/a"]);
    let url = s.url("/v3/roundtable");
    for request in [
        s.client.post(&url).json(&b),
        s.client.post(&url).bearer_auth("wrong").json(&b),
        s.client
            .post(&url)
            .bearer_auth(format!("{TOKEN}x"))
            .json(&b),
        s.client.post(&url).basic_auth(TOKEN, Some(TOKEN)).json(&b),
    ] {
        let r = request.send().await.unwrap();
        assert!(r.headers().contains_key("www-authenticate"));
        let (status, v) = json_of(r).await;
        assert_eq!(status, 401, "{v}");
        check_error(&v);
        assert_eq!(v["error"]["code"], "unauthorized");
    }
    assert!(s.fake.requests().is_empty());
}

#[tokio::test]
async fn oversized_bodies_are_413_and_other_content_types_415() {
    let s = Server::start(script()).await;
    let mut b = body(&["fake/a"]);
    b["input"] = json!("x".repeat(3 * 1024 * 1024));
    let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
    assert_eq!(status, 413, "{v}");
    check_error(&v);
    assert_eq!(v["error"]["code"], "payload_too_large");
    assert!(v["error"]["message"].as_str().unwrap().contains("2097152"));

    // A chunked body (no Content-Length) is cut off at the limit too.
    let small = Server::start_with(
        script(),
        ServeOptions {
            max_body_bytes: Some(1000),
            ..Default::default()
        },
    )
    .await;
    let text =
        serde_json::to_vec(&json!({"input": "y".repeat(5000), "models": [{"name": "fake/a"}]}))
            .unwrap();
    let stream = futures_util::stream::iter(
        text.chunks(700)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let r = small
        .client
        .post(small.url("/v3/roundtable"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut r = s
            .client
            .post(s.url("/v3/roundtable"))
            .bearer_auth(TOKEN)
            .body(serde_json::to_vec(&body(&["fake/a"])).unwrap());
        if let Some(ct) = content_type {
            r = r.header("content-type", ct);
        }
        let (status, v) = json_of(r.send().await.unwrap()).await;
        assert_eq!(status, 415, "{content_type:?}: {v}");
        check_error(&v);
    }
    let (status, _) = json_of(
        s.client
            .post(s.url("/v3/roundtable"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json; charset=utf-8")
            .body(serde_json::to_vec(&body(&["fake/a"])).unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(s.fake.calls_for("y"), 0);
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let s = Server::start(script()).await;
    let b = body(&["fake/a"]);
    let port = s.handle.addr().port();
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("192.168.1.10:{port}"),
    ] {
        for path in ["/v3/roundtable", "/healthz"] {
            let r = s
                .client
                .post(s.url(path))
                .header("host", &host)
                .bearer_auth(TOKEN)
                .json(&b)
                .send()
                .await
                .unwrap();
            let (status, v) = json_of(r).await;
            assert_eq!(status, 403, "{host} {path}: {v}");
            check_error(&v);
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("DNS rebinding")
            );
        }
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        "[::1]".into(),
    ] {
        let r = s.post(&b).header("host", &host).send().await.unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }
    for origin in ["https://evil.example", "http://evil.example:8787", "null"] {
        let r = s.post(&b).header("origin", origin).send().await.unwrap();
        assert!(r.headers().get("access-control-allow-origin").is_none());
        let (status, v) = json_of(r).await;
        assert_eq!(status, 403, "{origin}: {v}");
        check_error(&v);
        // A preflight from there gets no CORS headers either.
        let r = s
            .client
            .request(reqwest::Method::OPTIONS, s.url("/v3/roundtable"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
    let local = "http://localhost:5173";
    let r = s.post(&b).header("origin", local).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], local);
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/v3/roundtable"))
        .header("origin", local)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], local);
}

#[tokio::test]
async fn no_model_answering_is_a_clear_error_with_each_failure() {
    let s = Server::start(
        Script::new()
            .model(
                "down",
                Behavior::new()
                    .faults((0..4).map(|_| Fault::status(500, "exploded").retry_after("0"))),
            )
            .model(
                "refused",
                Behavior::new().faults((0..4).map(|_| Fault::status(401, "bad key"))),
            ),
    )
    .await;
    let mut b = body(&["fake/down", "fake/refused"]);
    b["max_retries"] = json!(0);
    let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
    assert_eq!(status, 502, "{v}");
    check_error(&v);
    assert_eq!(v["error"]["code"], "no_model_answered");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.starts_with("no model answered") && m.contains("exploded") && m.contains("bad key"),
        "{m}"
    );
    let details = &v["error"]["details"];
    check_response(details);
    let results = details["model_results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["error"].is_string()));
    let id = details["id"].as_str().unwrap();
    assert_eq!(s.app.get_run(id).unwrap().summary.status, RunStatus::Failed);

    // Streamed: the results, an `error` chunk, then `done` with the response.
    b["stream"] = json!(true);
    let payloads = sse_payloads(s.post(&b).send().await.unwrap()).await;
    let kinds: Vec<String> = payloads
        .iter()
        .map(|p| match serde_json::from_str::<Value>(p) {
            Ok(v) => v["type"].as_str().unwrap().to_string(),
            Err(_) => p.clone(),
        })
        .collect();
    assert_eq!(
        kinds,
        ["model_result", "model_result", "error", "done", "[DONE]"],
        "{payloads:?}"
    );
    let error: Value = serde_json::from_str(&payloads[2]).unwrap();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("no model answered")
    );
}

fn slow_script() -> Script {
    Script::new().model(
        "slow",
        Behavior::answer("one two three four five six seven eight")
            .chunks(8)
            .chunk_delay(300),
    )
}

/// Reads the stream until its first `model_delta`; returns the run id.
async fn first_delta(response: &mut reqwest::Response) -> String {
    let mut buf = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("a chunk in time")
            .unwrap()
            .expect("the stream goes on");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        for line in buf.lines() {
            if let Some(data) = line.strip_prefix("data: ") {
                let v: Value = serde_json::from_str(data).unwrap();
                if v["type"] == "model_delta" {
                    return v["id"].as_str().unwrap().to_string();
                }
            }
        }
    }
}

/// Waits for run `id` to stand at `status` (a guard against a hang, not a
/// measure: what the run kept says how far it got).
async fn wait_for_status(s: &roundtable_app::App, id: &str, status: RunStatus) {
    let start = Instant::now();
    while s.get_run(id).unwrap().summary.status != status {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "run {id} never {status}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_its_run_which_is_kept_interrupted() {
    let s = Server::start(slow_script()).await;
    let mut b = body(&["fake/slow"]);
    b["stream"] = json!(true);
    let mut response = s.post(&b).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let id = first_delta(&mut response).await;
    assert_eq!(
        s.app.get_run(&id).unwrap().summary.status,
        RunStatus::Running
    );
    assert_eq!(s.handle.runs_in_flight(), 1);
    drop(response);
    // The whole answer takes 8 × 300 ms; the run ends before it: what it
    // kept stops short of the last word.
    wait_for_status(&s.app, &id, RunStatus::Interrupted).await;
    let run = s.app.get_run(&id).unwrap();
    let result = &run.response.model_results[0];
    assert_eq!(result.error.as_deref(), Some("cancelled"));
    assert!(
        result.data.starts_with("one") && !result.data.contains("eight"),
        "the provider call was dropped mid-answer: {:?}",
        result.data
    );
    // The provider call was dropped, not left to run: no task of the run is left,
    // and the fake gets no more calls.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.handle.runs_in_flight(), 0);
    assert_eq!(s.fake.calls_for("slow"), 1);

    // A plain (not streamed) request whose client gives up is cancelled too.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let e = client
        .post(s.url("/v3/roundtable"))
        .bearer_auth(TOKEN)
        .json(&body(&["fake/slow"]))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_timeout());
    let start = Instant::now();
    let id = loop {
        let runs = s.app.list_runs(&Default::default()).unwrap();
        if let Some(r) = runs
            .iter()
            .find(|r| r.id != id && r.status == RunStatus::Interrupted)
        {
            break r.id.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{runs:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        !s.app.get_run(&id).unwrap().response.model_results[0]
            .data
            .contains("eight")
    );
}

#[tokio::test]
async fn shutdown_interrupts_runs_in_flight_and_records_them() {
    let crate::common::Server {
        fake: _fake,
        home: _home,
        app,
        handle,
        client,
    } = Server::start(slow_script()).await;
    let mut b = body(&["fake/slow"]);
    b["stream"] = json!(true);
    let mut response = client
        .post(format!("{}/v3/roundtable", handle.url()))
        .bearer_auth(TOKEN)
        .json(&b)
        .send()
        .await
        .unwrap();
    let id = first_delta(&mut response).await;
    let plain = tokio::spawn({
        let client = client.clone();
        let url = format!("{}/v3/roundtable", handle.url());
        async move {
            client
                .post(url)
                .bearer_auth(TOKEN)
                .json(&json!({"input": "x", "models": [{"name": "fake/slow"}]}))
                .send()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    handle.shutdown().await;
    // Every run is recorded by the time shutdown returns, cut short: shutdown
    // did not wait for the answer to finish.
    let stored = app.get_run(&id).unwrap();
    assert_eq!(stored.summary.status, RunStatus::Interrupted);
    let kept = &stored.response.model_results[0].data;
    assert!(!kept.contains("eight"), "{kept:?}");
    let runs = app.list_runs(&Default::default()).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter().all(|r| r.status == RunStatus::Interrupted),
        "{runs:?}"
    );

    // The stream still ended properly: `error`, `done` (the response), `[DONE]`.
    let rest = crate::common::sse_payloads(response).await;
    assert_eq!(rest.last().map(String::as_str), Some("[DONE]"));
    let done: Value = serde_json::from_str(&rest[rest.len() - 2]).unwrap();
    assert_eq!(done["type"], "done");
    assert_eq!(done["id"], id.as_str());
    let error: Value = serde_json::from_str(&rest[rest.len() - 3]).unwrap();
    assert_eq!(error["type"], "error");
    assert!(error["error"].as_str().unwrap().contains("interrupted"));
    // The plain request was answered 503 with what had arrived.
    let (status, v) = json_of(plain.await.unwrap()).await;
    assert_eq!(status, 503, "{v}");
    check_error(&v);
    assert_eq!(v["error"]["code"], "interrupted");
}

#[tokio::test]
async fn a_non_loopback_address_needs_allow_remote() {
    let fake_app = Server::start(script()).await;
    let e = roundtable_server::serve(
        std::sync::Arc::clone(&fake_app.app),
        ServeOptions {
            addr: "0.0.0.0:0".parse().unwrap(),
            token: Some(TOKEN.into()),
            ..Default::default()
        },
    )
    .await
    .err()
    .expect("refused");
    assert!(e.to_string().contains("--allow-remote"), "{e}");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_errors() {
    let s = Server::start(script()).await;
    let (status, v) = json_of(s.client.get(s.url("/v3/nothing")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    check_error(&v);
    let (status, v) = json_of(
        s.client
            .get(s.url("/v3/roundtable"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 405);
    check_error(&v);
}

#[tokio::test]
async fn a_default_summary_model_saved_while_serving_applies_to_the_next_run() {
    let s = Server::start(script()).await;
    let summary_of = |v: &Value| v["meta"]["summary_model"].as_str().map(str::to_owned);
    let run = || {
        let mut b = body(&["fake/a", "fake/b"]);
        b["resolution"] = json!("summary");
        s.post(&b).send()
    };
    let (status, v) = json_of(run().await.unwrap()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        summary_of(&v).as_deref(),
        Some("fake/a"),
        "with no default: the first of the panel that answered"
    );
    // Settings saves a default (the desktop's local API serves this same App).
    let mut prefs = s.app.prefs().unwrap();
    prefs.default_summary_model = Some("fake/b".into());
    s.app.save_prefs(&prefs).unwrap();
    let (status, v) = json_of(run().await.unwrap()).await;
    assert_eq!(status, 200, "{v}");
    check_response(&v);
    assert_eq!(summary_of(&v).as_deref(), Some("fake/b"));
    // And taking it away again goes back to the first model that answered.
    prefs.default_summary_model = None;
    s.app.save_prefs(&prefs).unwrap();
    let (_, v) = json_of(run().await.unwrap()).await;
    assert_eq!(summary_of(&v).as_deref(), Some("fake/a"));
}
