//! OpenAI request bodies validated against the official API description: the mock
//! server the official SDKs test against (`@stdy/cli`, installed by
//! `scripts/install-test-tools.sh`) serves `shared/provider-fixtures/openai-spec/openapi.yaml`
//! on loopback and answers 400 with per-field errors for a body that does not fit
//! the spec. Every option combination the adapter can produce is sent to it.

use futures_util::StreamExt;
use roundtable_core::WireFormat;
use roundtable_core::providers::{ChatCall, Dialect};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STDY_VERSION: &str = "0.22.2";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn spec_path() -> PathBuf {
    repo_root().join("../shared/provider-fixtures/openai-spec/openapi.yaml")
}

/// The `steady` binary of `@stdy/cli`: `$STDY_BIN`, or the one
/// `scripts/install-test-tools.sh` installs. Missing is a failure, not a skip.
fn steady_bin() -> PathBuf {
    let (bin, source) = match std::env::var_os("STDY_BIN") {
        Some(p) => (PathBuf::from(p), "STDY_BIN"),
        None => (
            repo_root().join(".tools/npm/node_modules/.bin/steady"),
            "the default location",
        ),
    };
    assert!(
        bin.is_file(),
        "the OpenAI mock server (@stdy/cli@{STDY_VERSION}) is not installed: {} (from {source}) \
         does not exist. Run `scripts/install-test-tools.sh` from the repository root \
         (or set STDY_BIN to a `steady` binary).",
        bin.display()
    );
    bin
}

/// The running mock; killed (with the native binary its npm wrapper starts) on drop.
struct MockServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl MockServer {
    fn start() -> MockServer {
        let bin = steady_bin();
        let spec = spec_path();
        assert!(spec.is_file(), "missing spec {}", spec.display());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("no free port")
            .port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("steady-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("cannot create the mock's log");
        let mut cmd = Command::new(&bin);
        cmd.args([
            "--host",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-q",
            "--no-color",
        ])
        .arg(&spec)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file);
        // The npm bin is a node wrapper around a native binary: give both a process
        // group of their own so drop can end the pair.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = MockServer { child, port, log };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the mock server exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "the mock server did not listen on port {} within {STARTUP_TIMEOUT:?}:\n{}",
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn url(&self) -> String {
        // The spec's server is `https://api.openai.com/v1`; the mock serves its
        // paths from the root.
        format!("http://127.0.0.1:{}/chat/completions", self.port)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, String) {
    let resp = client
        .post(url)
        .bearer_auth("sk-test")
        .json(body)
        .send()
        .await
        .expect("the mock server did not answer");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// Every distinct body the adapter builds, over all its options.
fn all_bodies() -> BTreeSet<String> {
    let strict = json!({"type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "number"}},
        "required": ["answer", "score"], "additionalProperties": false});
    let loose = json!({"type": "object", "properties": {"answer": {"type": "string"}}});
    let schemas = [None, Some(&strict), Some(&loose)];
    let mut bodies = BTreeSet::new();
    for model in ["gpt-4.1-mini", "o4-mini", "gpt-5-mini"] {
        for dialect in [
            Dialect::Native,
            Dialect::Compatible,
            Dialect::CompatibleJsonMode,
        ] {
            for stream in [false, true] {
                for output_schema in schemas {
                    for reasoning in [None, Some("low"), Some("max")] {
                        for (temperature, top_p) in [
                            (None, None),
                            (Some(0.2), None),
                            (None, Some(0.9)),
                            (Some(0.7), Some(0.95)),
                        ] {
                            for max_tokens in [None, Some(256)] {
                                for instructions in [None, Some("Be brief.")] {
                                    let call = ChatCall {
                                        model,
                                        instructions,
                                        input: "What is the capital of France?",
                                        max_tokens,
                                        temperature,
                                        top_p,
                                        reasoning,
                                        output_schema,
                                        stream,
                                        dialect,
                                        attachments: &[],
                                        history: &[],
                                    };
                                    let body = WireFormat::Openai.build_body(&call);
                                    bodies.insert(serde_json::to_string(&body).unwrap());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // With attachments (an image alone, and an image, a PDF and a text file),
    // and a follow-up whose earlier turn had the image.
    let files = attachment_parts();
    let thread = {
        use roundtable_core::thread::{Message, Role};
        let message = |role, text: &str, attachments: &[_]| Message {
            role,
            text: text.into(),
            attachments: attachments.to_vec().into(),
        };
        [
            message(Role::User, "What is this?", &files[..1]),
            message(Role::Assistant, "A chart.", &[]),
        ]
    };
    for model in ["gpt-4.1-mini", "gpt-5-mini"] {
        for dialect in [Dialect::Native, Dialect::Compatible] {
            for stream in [false, true] {
                for (attachments, history) in [
                    (&files[..1], &[][..]),
                    (&files[..], &[][..]),
                    (&[][..], &thread[..]),
                ] {
                    let call = ChatCall {
                        model,
                        instructions: Some("Be brief."),
                        input: "What do these show?",
                        max_tokens: Some(256),
                        temperature: None,
                        top_p: None,
                        reasoning: None,
                        output_schema: None,
                        stream,
                        dialect,
                        attachments,
                        history,
                    };
                    let body = WireFormat::Openai.build_body(&call);
                    bodies.insert(serde_json::to_string(&body).unwrap());
                }
            }
        }
    }
    bodies
}

fn attachment_parts() -> Vec<roundtable_core::attachments::Part> {
    use base64::Engine as _;
    let file = |name: &str, media_type: &str, bytes: &[u8]| roundtable_core::Attachment {
        name: name.into(),
        media_type: media_type.into(),
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
        ..Default::default()
    };
    roundtable_core::attachments::prepare(
        &[
            file("chart.png", "image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            file("contract.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
            file("notes.md", "text/markdown", b"# Notes\n"),
        ],
        &Default::default(),
    )
    .unwrap()
}

/// The mock's generated 200 body decodes; with its first choice made index 0, the
/// answer is read from the spec's field names.
fn check_response(text: &str, request: &str) {
    let parsed = WireFormat::Openai.parse_response(text.as_bytes());
    assert!(
        parsed.is_ok(),
        "the spec's response does not parse: {parsed:?}\nresponse: {text}\nrequest: {request}"
    );
    let mut value: Value = serde_json::from_str(text).unwrap();
    let Some(choice) = value["choices"].get_mut(0) else {
        return;
    };
    choice["index"] = json!(0);
    let message = choice["message"].clone();
    let finish = choice["finish_reason"].as_str().map(str::to_string);
    let c = WireFormat::Openai
        .parse_response(value.to_string().as_bytes())
        .unwrap();
    assert_eq!(c.text, message["content"].as_str().unwrap_or_default());
    assert_eq!(
        c.refusal.as_deref(),
        message["refusal"].as_str().filter(|r| !r.is_empty())
    );
    assert_eq!(c.finish_reason, finish);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_the_adapter_builds_fits_the_openai_spec() {
    let server = MockServer::start();
    let url = server.url();
    let client = reqwest::Client::new();

    // The check can fail: bodies that break the spec are refused, field by field.
    let invalid = [
        json!({"model": 5}),
        json!({"model": "o4-mini", "messages": [{"role": "user", "content": "hi"}],
               "reasoning_effort": "extreme"}),
        json!({"model": "o4-mini", "messages": [{"role": "user", "content": "hi"}],
               "max_completion_tokens": "many"}),
        json!({"model": "o4-mini", "messages": [{"role": "user", "content": "hi"}],
               "response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}),
        json!({"model": "o4-mini", "messages": [{"role": "user", "content": "hi"}],
               "stream": true, "stream_options": {"include_usage": "yes"}}),
        json!({"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": [
               {"type": "image_url", "image_url": "data:image/png;base64,AAAA"}]}]}),
    ];
    for body in &invalid {
        let (status, text) = post(&client, &url, body).await;
        assert_eq!(
            status, 400,
            "the mock accepted an invalid body {body}: {text}"
        );
        assert!(text.contains("Validation failed"), "{text}");
    }

    let bodies = all_bodies();
    let results: Vec<(String, u16, String)> = futures_util::stream::iter(bodies)
        .map(|body| {
            let (client, url) = (&client, &url);
            async move {
                let value: Value = serde_json::from_str(&body).unwrap();
                let (status, text) = post(client, url, &value).await;
                (body, status, text)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let mut failures = Vec::new();
    for (body, status, text) in &results {
        if !(200..300).contains(status) {
            failures.push(format!("HTTP {status}\n  mock: {text}\n  request: {body}"));
        } else if !body.contains("\"stream\":true") {
            check_response(text, body);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} request bodies do not fit the OpenAI spec:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    eprintln!("{} distinct request bodies fit the spec", results.len());
}
