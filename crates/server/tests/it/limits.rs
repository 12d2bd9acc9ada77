//! The local API under hostile or greedy clients: a request without `Host`, more
//! connections or runs than the limits, a stream nobody reads, and a token that
//! must not show in logs. Raw sockets where reqwest would be too polite.

use crate::common::{Server, TOKEN, check_error};
use roundtable_server::{
    FIRST_REQUEST_TIMEOUT, MAX_CONCURRENT_RUNS, MAX_CONNECTIONS, ServeOptions,
};
use roundtable_testkit::{Behavior, Script};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Sends `request` as is and reads until the server closes: (status, body).
async fn raw(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut out))
        .await
        .expect("the server answers and closes")
        .unwrap();
    split_response(&out)
}

fn split_response(bytes: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(bytes).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn error_code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    check_error(&v);
    v["error"]["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_request_without_exactly_one_host_is_refused() {
    let s = Server::start(Script::new().default_behavior(Behavior::answer("ok"))).await;
    let addr = s.handle.addr();
    // HTTP/1.0 needs no Host: the rebinding check had nothing to look at.
    let (status, body) = raw(addr, "GET /healthz HTTP/1.0\r\n\r\n").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "invalid_request"),
        "{body}"
    );
    assert!(body.contains("no Host header"), "{body}");
    let post = format!(
        "POST /v3/roundtable HTTP/1.0\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    assert_eq!(raw(addr, &post).await.0, 400);
    let two = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    let (status, body) = raw(addr, two).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("more than one Host"), "{body}");
    // With one loopback Host it answers.
    let ok = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert_eq!(raw(addr, ok).await.0, 200);
}

#[tokio::test]
async fn serve_options_never_show_the_token() {
    let options = ServeOptions {
        token: Some("secret-token-that-must-not-leak".into()),
        ..ServeOptions::default()
    };
    let shown = format!("{options:?} {options:#?}");
    assert!(!shown.contains("secret-token"), "{shown}");
    assert!(
        shown.contains("<redacted>") && shown.contains("127.0.0.1"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_past_the_limit_are_503_busy_until_one_ends() {
    let hang = Behavior::answer("slow ".repeat(50))
        .chunks(50)
        .chunk_delay(2_000);
    let s = Server::start(Script::new().default_behavior(hang)).await;
    let body =
        json!({"input": "q", "models": [{"name": "fake/a"}], "resolution": "fast", "stream": true});
    // Each streamed response starts once its run is in flight.
    let mut streams = Vec::new();
    for _ in 0..MAX_CONCURRENT_RUNS {
        let r = s.post(&body).send().await.unwrap();
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    assert_eq!(s.handle.runs_in_flight(), MAX_CONCURRENT_RUNS);
    let mut extra = body.clone();
    extra["input"] = json!("one too many (e2e-busy)");
    let r = s.post(&extra).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let v: Value = r.json().await.unwrap();
    check_error(&v);
    assert_eq!(v["error"]["code"], "busy");
    assert_eq!(v["error"]["details"]["limit"], MAX_CONCURRENT_RUNS);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MAX_CONCURRENT_RUNS")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let called = s
        .fake
        .requests()
        .iter()
        .any(|r| r.body.to_string().contains("e2e-busy"));
    assert!(!called, "no provider was called for it");
    assert_eq!(s.handle.runs_in_flight(), MAX_CONCURRENT_RUNS);
    // A client leaves: its run is cancelled and recorded, and its slot is free.
    drop(streams.pop());
    let start = Instant::now();
    loop {
        let r = s.post(&body).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a request that stays in flight on `tcp`: its head, and a body that
/// never comes. Returns once its handler waits for the body (the server's
/// `100 Continue`).
async fn unfinished(tcp: &mut TcpStream) {
    let head = format!(
        "POST /v3/roundtable HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 100"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
}

/// Opens a connection and answers one `/healthz` on it; the server keeps it
/// open (keep-alive).
async fn idle_keep_alive(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    tcp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_are_503_busy_while_each_has_a_request_in_flight() {
    let s = Server::start(Script::new().default_behavior(Behavior::answer("ok"))).await;
    let addr = s.handle.addr();
    let mut open = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        unfinished(&mut tcp).await;
        open.push(tcp);
    }
    let (status, body) = raw(addr, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (503, "busy"),
        "{body}"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["details"]["limit"], MAX_CONNECTIONS);
    assert!(body.contains("MAX_CONNECTIONS"), "{body}");
    // One closes; a new connection is served again.
    drop(open.pop());
    let start = Instant::now();
    loop {
        let (status, _) = raw(
            addr,
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        .await;
        if status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the connection slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Idle keep-alive connections (issue 24, item 26) held every slot: a few
/// idle clients locked every other one out until they closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_gives_its_slot_to_a_new_client() {
    let slow = Behavior::answer("slow ".repeat(50))
        .chunks(50)
        .chunk_delay(2_000);
    let s = Server::start(
        Script::new()
            .default_behavior(Behavior::answer("ok"))
            .model("slow", slow),
    )
    .await;
    let addr = s.handle.addr();
    let mut idle = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        idle.push(idle_keep_alive(addr).await);
    }
    // The first is busy again: its request is in flight; the second streams
    // an answer (busy until its last chunk is sent).
    unfinished(&mut idle[0]).await;
    let body = json!({"input": "q", "models": [{"name": "fake/slow"}], "resolution": "fast", "stream": true}).to_string();
    let stream = format!(
        "POST /v3/roundtable HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    idle[1].write_all(stream.as_bytes()).await.unwrap();
    let mut head = [0u8; 64];
    let n = idle[1].read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200"));
    // Every slot is taken, yet a new client is answered, again and again
    // (each keeping its connection: no slot comes back free).
    let mut new = Vec::new();
    for _ in 0..3 {
        new.push(idle_keep_alive(addr).await);
    }
    // Each took the slot of the connection idle the longest, which was closed;
    // the busy one was left alone and the others stay open.
    let mut buf = [0u8; 4096];
    for (i, tcp) in idle.iter_mut().enumerate().take(6) {
        let read = tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf)).await;
        let closed = matches!(read, Ok(Ok(0)) | Ok(Err(_)));
        assert_eq!(closed, (2..=4).contains(&i), "connection {i}: {read:?}");
    }
    // As many again: each takes an idle one's slot, never a busy one's.
    for _ in 0..MAX_CONNECTIONS {
        new.push(idle_keep_alive(addr).await);
    }
    for (i, tcp) in idle.iter_mut().enumerate().take(2) {
        let read = tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf)).await;
        assert!(
            !matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "busy connection {i} was closed: {read:?}"
        );
    }
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let s = Server::start(Script::new().default_behavior(Behavior::answer("ok"))).await;
    let mut silent = TcpStream::connect(s.handle.addr()).await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(FIRST_REQUEST_TIMEOUT * 2, silent.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the silent connection was not closed: {read:?}"
    );
    assert!(start.elapsed() >= FIRST_REQUEST_TIMEOUT - Duration::from_millis(100));
    // One that talks is served, and stays open between requests.
    let mut talking = TcpStream::connect(s.handle.addr()).await.unwrap();
    let mut buf = [0u8; 4096];
    for _ in 0..2 {
        talking
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let n = talking.read(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(
            text.starts_with("HTTP/1.1 200") && text.ends_with('}'),
            "{text}"
        );
    }
}

/// The body of a chunked HTTP/1.1 response, de-chunked.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .unwrap();
        body = &body[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// A client that reads nothing until the run is over still gets every piece, in
/// order (the merging of deltas itself is tested in `src/outbox.rs`: over
/// loopback the kernel's send buffer grows to megabytes, so a test here cannot
/// tell how much the server kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_late_gets_every_piece_in_order() {
    const EVENTS: usize = 5_000;
    let answer: String = (0..EVENTS)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let s =
        Server::start(Script::new().model("a", Behavior::answer(answer.clone()).chunks(EVENTS)))
            .await;
    let body =
        json!({"input": "q", "models": [{"name": "fake/a"}], "resolution": "fast", "stream": true})
            .to_string();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket.connect(s.handle.addr()).await.unwrap();
    let request = format!(
        "POST /v3/roundtable HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let start = Instant::now();
    while s.handle.runs_in_flight() > 0 || start.elapsed() < Duration::from_millis(200) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run did not end"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.unwrap();
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 200"));
    let sse = String::from_utf8(dechunk(&raw[head_end + 4..])).unwrap();
    let chunks: Vec<Value> = sse
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter(|c| c["type"] == "model_delta")
        .map(|c| c["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, answer, "every piece, in order");
    let kinds: Vec<&str> = chunks.iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[kinds.len() - 2..], ["model_result", "done"]);
    assert!(sse.ends_with("data: [DONE]\n\n"));
}
