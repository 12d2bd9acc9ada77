//! A real server on 127.0.0.1 (a free port) over an App whose home is a temp
//! directory, with the fake provider configured as `fake` (OpenAI format).

#![allow(dead_code)]

use futures_util::StreamExt;
use roundtable_app::keys::MemoryKeychain;
use roundtable_app::{App, AppOptions};
use roundtable_server::{ServeOptions, ServerHandle};
use roundtable_testkit::{FakeProvider, Script};
use serde_json::Value;
use std::sync::Arc;

pub const TOKEN: &str = "test-token-0123456789abcdef";

pub struct Server {
    pub fake: FakeProvider,
    pub home: tempfile::TempDir,
    pub app: Arc<App>,
    pub handle: ServerHandle,
    pub client: reqwest::Client,
}

impl Server {
    pub async fn start(script: Script) -> Server {
        Self::start_with(script, ServeOptions::default()).await
    }

    pub async fn start_with(script: Script, options: ServeOptions) -> Server {
        Self::start_with_config(script, options, "").await
    }

    /// `extra` is appended to `config.toml` (a `[limits]` table, say).
    pub async fn start_with_config(
        script: Script,
        mut options: ServeOptions,
        extra: &str,
    ) -> Server {
        let fake = FakeProvider::start(script).await.unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                // A loopback server that says nothing of itself gets a panel
                // in parallel, as the fake serves it (and the load bench
                // shares this set-up).
                "[providers.fake]\nformat = \"openai\"\nbase_url = \"{}\"\n{extra}",
                fake.openai_base_url()
            ),
        )
        .unwrap();
        let app = Arc::new(
            App::open(AppOptions {
                home: Some(home.path().to_path_buf()),
                keychain: Some(Arc::new(MemoryKeychain::default())),
            })
            .unwrap(),
        );
        if options.token.is_none() {
            options.token = Some(TOKEN.into());
        }
        let handle = roundtable_server::serve(Arc::clone(&app), options)
            .await
            .unwrap();
        Server {
            fake,
            home,
            app,
            handle,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.url())
    }

    /// An authorised POST of `body` (JSON) to /v3/roundtable.
    pub fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url("/v3/roundtable"))
            .bearer_auth(TOKEN)
            .json(body)
    }
}

/// The `data:` payloads of an SSE body, in order (`[DONE]` included).
pub async fn sse_payloads(response: reqwest::Response) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        buf.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data: ") {
                    out.push(data.to_string());
                }
            }
        }
    }
    assert!(buf.trim().is_empty(), "a partial event at the end: {buf:?}");
    out
}

/// Fast mode's `data: null` is the contract's one documented exception to the
/// schema (which types `data` as a string): checked as `""`.
pub fn check_response(v: &Value) {
    let mut v = v.clone();
    if v["data"].is_null() {
        v["data"] = Value::String(String::new());
    }
    let errors = roundtable_testkit::contract::errors("RoundtableResponse", &v);
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
}

pub fn check_error(v: &Value) {
    let errors = roundtable_testkit::contract::errors("ErrorResponse", v);
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
}
