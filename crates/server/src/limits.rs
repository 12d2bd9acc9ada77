//! What one machine's clients may hold at once: open connections and runs in
//! flight. Past either limit the answer is `503` with the contract's error shape,
//! code `busy`, and `Retry-After: 1`; nothing already in flight is disturbed. A
//! connection between requests holds its slot only until a new connection
//! needs it (`conns.rs`).

use crate::conns::{Conn, Table};
use crate::error::ApiError;
use axum::http::StatusCode;
use serde_json::json;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most connections open at once. The next one takes the slot of the
/// connection idle (between requests) the longest, which is closed; when every
/// open connection has a request in flight, it is answered `503 busy` and closed.
pub const MAX_CONNECTIONS: usize = 256;

/// Most runs in flight at once (plain and streamed). The next request is
/// answered `503 busy` before it calls any provider.
pub const MAX_CONCURRENT_RUNS: usize = 64;

/// How long a new connection may stay silent before its first request starts;
/// past it the connection is closed, so silent connections cannot hold the
/// [`MAX_CONNECTIONS`] slots.
pub const FIRST_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest body of a run: `max_body_bytes` for the request itself, plus
/// room for `max_run_attachment_bytes` of attached files as base64 (4 bytes for
/// every 3, and a padded group per file). axum's own limit (2 MB) would refuse
/// a run with a photo; this one takes a run at the configured per-run limit.
pub fn run_body_limit(max_body_bytes: usize, max_run_attachment_bytes: u64) -> usize {
    let files = roundtable_app::core::attachments::MAX_FILES as u64;
    let base64 = max_run_attachment_bytes
        .div_ceil(3)
        .saturating_mul(4)
        .saturating_add(4 * files);
    max_body_bytes.saturating_add(usize::try_from(base64).unwrap_or(usize::MAX))
}

/// Most connections being turned away at once; past it a connection is closed
/// without an answer, so a flood cannot pile up refusals either.
const MAX_REFUSING: usize = 64;

/// How long a refused connection is given to send its request head before the
/// `503` (read so that closing does not reset the connection under the answer).
const REFUSE_READ: Duration = Duration::from_millis(500);

/// The `503 busy` error: `what` ran out, `limit` is the constant that says how many.
pub(crate) fn busy(what: &str, limit: usize, constant: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        format!(
            "the local API is busy: {limit} {what} already (the limit, {constant}); try again when one has finished"
        ),
    )
    .details(json!({ "limit": limit, "constant": constant }))
}

/// A TCP listener that holds one of [`MAX_CONNECTIONS`] permits per connection
/// it hands to the server, takes an idle connection's for a new one when none
/// is left, and answers the ones past it with `503 busy`.
pub(crate) struct LimitedListener {
    inner: TcpListener,
    open: Arc<Semaphore>,
    conns: Table,
    refusing: Arc<Semaphore>,
}

impl LimitedListener {
    pub fn new(inner: TcpListener) -> Self {
        LimitedListener {
            inner,
            open: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            conns: Table::default(),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        loop {
            let (tcp, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) {
                        // Out of file descriptors, most likely: wait for some to close.
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    continue;
                }
            };
            // Small SSE chunks must not wait for Nagle's algorithm.
            let _ = tcp.set_nodelay(true);
            let permit = match Arc::clone(&self.open).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => self.conns.take_idle(),
            };
            match permit {
                Some(permit) => {
                    return (
                        Counted {
                            tcp,
                            conn: self.conns.open(permit),
                            silent: Some(Box::pin(tokio::time::sleep(FIRST_REQUEST_TIMEOUT))),
                        },
                        addr,
                    );
                }
                None => {
                    if let Ok(slot) = Arc::clone(&self.refusing).try_acquire_owned() {
                        tokio::spawn(refuse(tcp, slot));
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Answers a connection past [`MAX_CONNECTIONS`] with `503 busy`, then closes it.
async fn refuse(mut tcp: TcpStream, _slot: OwnedSemaphorePermit) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(REFUSE_READ, async {
        while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let body = busy("connections are open", MAX_CONNECTIONS, "MAX_CONNECTIONS").body_json();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.write_all(response.as_bytes()).await;
    let _ = tcp.shutdown().await;
    // Read what else comes (a body) until the client closes: closing with
    // unread data would reset the connection under the answer.
    let _ = tokio::time::timeout(REFUSE_READ, async {
        while let Ok(1..) = tcp.read(&mut buf).await {}
    })
    .await;
}

/// A connection the server holds, with its slot (given back when it closes,
/// or given to a new connection while it is idle: then it ends at its next read).
pub(crate) struct Counted {
    tcp: TcpStream,
    conn: Arc<Conn>,
    /// Until the first byte arrives: when the connection is closed if none does.
    silent: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Counted {
    pub(crate) fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Its slot went to a new connection: it ends, as if the client closed.
        if self.conn.closing(cx) {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled
            && buf.filled().len() > before
        {
            if !self.conn.arrived() {
                buf.set_filled(before);
                return Poll::Ready(Ok(()));
            }
            self.silent = None;
        }
        if polled.is_pending()
            && let Some(deadline) = self.silent.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no request within FIRST_REQUEST_TIMEOUT",
            )));
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
