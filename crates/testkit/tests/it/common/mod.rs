//! Helpers shared by the integration tests: a client and an SSE reader.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::StreamExt;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event: Option<String>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|error| panic!("event data is not JSON ({error}): {}", self.data))
    }
}

/// Splits an SSE body into events (`\n` or `\r\n` line endings).
pub fn parse_sse(text: &str) -> Vec<Event> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = Some(name.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            Event {
                event,
                data: data.join("\n"),
            }
        })
        .collect()
}

/// Reads a body to its end, or to the first error; returns what arrived and the error.
pub async fn read_until_error(response: reqwest::Response) -> (String, Option<reqwest::Error>) {
    let mut received = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(error) => return (String::from_utf8_lossy(&received).into_owned(), Some(error)),
        }
    }
    (String::from_utf8_lossy(&received).into_owned(), None)
}
