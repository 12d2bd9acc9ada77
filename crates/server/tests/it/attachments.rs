//! Attachments over the local API: a run with an image reaches the provider
//! and the history, a body past axum's 2 MB default (and past
//! `server.max_body_bytes`) is taken when its attachments are within
//! `[limits]`, a body past the run's limit is a 413, and a bad file is a 400
//! naming its field, all in the contract's error shape.

use crate::common::{Server, check_error, check_response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use roundtable_server::{ServeOptions, run_body_limit};
use roundtable_testkit::{Behavior, Script};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

fn script() -> Script {
    Script::new().model("a", Behavior::answer("A tiny image."))
}

fn file(name: &str, media_type: &str, bytes: &[u8]) -> Value {
    json!({"name": name, "media_type": media_type, "data": STANDARD.encode(bytes)})
}

fn body(attachments: Vec<Value>) -> Value {
    json!({
        "input": "What is attached?",
        "models": [{"name": "fake/a"}],
        "resolution": "fast",
        "attachments": attachments,
    })
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, v)
}

#[tokio::test]
async fn a_run_with_an_image_reaches_the_provider_and_the_history() {
    let s = Server::start(script()).await;
    let b = body(vec![
        file("chart.png", "image/png", PNG),
        file("notes.md", "text/markdown", b"# Notes\nRevenue rose.\n"),
    ]);
    let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
    assert_eq!(status, 200, "{v}");
    check_response(&v);
    let sent = s.fake.requests()[0].body.to_string();
    let image = format!("data:image/png;base64,{}", STANDARD.encode(PNG));
    assert!(sent.contains(&image), "{sent}");
    assert!(sent.contains("Revenue rose."), "{sent}");

    let stored = s.app.get_run(v["id"].as_str().unwrap()).unwrap().request;
    let sha = stored.attachments[0].sha256.clone().unwrap();
    assert!(stored.attachments[0].data.is_empty());
    assert!(
        s.home
            .path()
            .join("attachments")
            .join(&sha[..2])
            .join(&sha)
            .is_file()
    );
}

#[tokio::test]
async fn an_image_past_the_default_body_limit_is_taken() {
    // 3 MB of image: 4 MB of base64, past axum's 2 MB and server.max_body_bytes.
    let s = Server::start(script()).await;
    let mut big = PNG.to_vec();
    big.resize(3 * 1024 * 1024, 0);
    let b = body(vec![file("photo.png", "image/png", &big)]);
    assert!(serde_json::to_vec(&b).unwrap().len() > 4 * 1024 * 1024);
    let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["model_results"][0]["data"], "A tiny image.");
}

#[tokio::test]
async fn a_run_at_its_attachment_limit_is_taken_and_past_it_refused() {
    let limits = "[limits]\nmax_attachment_bytes = 1000\nmax_run_attachment_bytes = 3000\n";
    let options = ServeOptions {
        max_body_bytes: Some(2000),
        ..Default::default()
    };
    let s = Server::start_with_config(script(), options, limits).await;
    let text = |n: usize| file(&format!("{n}.txt"), "text/plain", &[b'a'; 1000]);

    // Exactly the per-run limit: a body over max_body_bytes, within the run's.
    let at = body(vec![text(1), text(2), text(3)]);
    let size = serde_json::to_vec(&at).unwrap().len();
    assert!(size > 2000 && size <= run_body_limit(2000, 3000), "{size}");
    let (status, v) = json_of(s.post(&at).send().await.unwrap()).await;
    assert_eq!(status, 200, "{v}");

    // One more file: within the body's room, refused by the run's checks.
    let (status, v) = json_of(
        s.post(&body(vec![text(1), text(2), text(3), text(4)]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    check_error(&v);
    assert_eq!(v["error"]["details"]["field"], "attachments");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_run_attachment_bytes"),
        "{v}"
    );

    // Past the run's room: 413 before the JSON is read, naming the limits.
    let past: Vec<Value> = (0..8).map(text).collect();
    let (status, v) = json_of(s.post(&body(past)).send().await.unwrap()).await;
    assert_eq!(status, 413, "{v}");
    check_error(&v);
    assert_eq!(v["error"]["code"], "payload_too_large");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("max_run_attachment_bytes"), "{message}");

    // The room is for attachments only: a long prompt is held to max_body_bytes.
    let mut long = body(vec![text(1)]);
    long["input"] = json!("x".repeat(2500));
    let (status, v) = json_of(s.post(&long).send().await.unwrap()).await;
    assert_eq!(status, 413, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("attachments apart"),
        "{v}"
    );
    assert!(
        s.fake.requests().len() == 1,
        "only the run at the limit called"
    );
}

#[tokio::test]
async fn a_bad_file_is_a_400_naming_its_field() {
    let limits = "[limits]\nmax_attachment_bytes = 100\n";
    let s = Server::start_with_config(script(), ServeOptions::default(), limits).await;
    let mut not_base64 = file("a.png", "image/png", PNG);
    not_base64["data"] = json!("not base64!");
    let cases = [
        (not_base64, "attachments[0].data", "base64"),
        (
            file("a.zip", "application/zip", b"PK\x03\x04"),
            "attachments[0].media_type",
            "application/zip",
        ),
        (
            file("big.txt", "text/plain", &[b'a'; 101]),
            "attachments[0].data",
            "max_attachment_bytes",
        ),
        (
            file("a.png", "image/png", b"GIF89a not a png"),
            "attachments[0].data",
            "not image/png",
        ),
    ];
    for (attachment, field, says) in cases {
        for stream in [false, true] {
            let mut b = body(vec![attachment.clone()]);
            b["stream"] = json!(stream);
            let (status, v) = json_of(s.post(&b).send().await.unwrap()).await;
            assert_eq!(status, 400, "{field}: {v}");
            check_error(&v);
            assert_eq!(v["error"]["code"], "invalid_request");
            assert_eq!(v["error"]["details"]["field"], field, "{v}");
            let message = v["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{message}");
        }
    }
    assert!(s.fake.requests().is_empty(), "no provider was called");
}
