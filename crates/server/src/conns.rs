//! What each open connection is doing, so that one between requests gives its
//! slot to a new connection instead of locking it out. A connection is busy
//! from the first byte of a request until its answer is sent (a stream's last
//! chunk included); otherwise it is idle, and when [`MAX_CONNECTIONS`] are
//! open, a new connection takes the slot of the one idle the longest, which
//! is closed. Only when every open connection is busy is a new one refused.
//!
//! The one race left is HTTP's own: a request whose first bytes arrive just as
//! its idle connection is closed is not read (the connection ends without an
//! answer, as when any server closes an idle keep-alive connection), and
//! clients send it again on a new connection. A request once read is always
//! answered.
//!
//! [`MAX_CONNECTIONS`]: crate::limits::MAX_CONNECTIONS

use axum::body::{Body, HttpBody};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::IncomingStream;
use futures_util::task::AtomicWaker;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use tokio::sync::OwnedSemaphorePermit;

/// Orders the moments connections went idle (not a clock: only which came first).
static TICK: AtomicU64 = AtomicU64::new(0);

#[derive(Default)]
struct State {
    /// Requests in flight whose answer is not all sent.
    requests: usize,
    /// Bytes arrived since it was last idle: a request is being read.
    reading: bool,
    /// It gave its slot away: it ends at its next read.
    closing: bool,
    /// When it last went idle ([`TICK`]).
    idle_since: u64,
}

/// One open connection, shared by its socket ([`crate::limits::Counted`]),
/// the requests it carries and the listener's table.
pub(crate) struct Conn {
    state: Mutex<State>,
    /// Its slot, until it closes or gives it to a new connection.
    permit: Mutex<Option<OwnedSemaphorePermit>>,
    /// Its reader, woken to see that it is closing.
    reader: AtomicWaker,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Conn {
    fn new(permit: OwnedSemaphorePermit) -> Arc<Conn> {
        Arc::new(Conn {
            state: Mutex::new(State {
                idle_since: TICK.fetch_add(1, Ordering::Relaxed),
                ..State::default()
            }),
            permit: Mutex::new(Some(permit)),
            reader: AtomicWaker::new(),
        })
    }

    /// Before a read: whether the connection is to end instead (the reader is
    /// registered to be woken when it is told to).
    pub fn closing(&self, cx: &Context<'_>) -> bool {
        self.reader.register(cx.waker());
        lock(&self.state).closing
    }

    /// After a read that brought bytes: whether they may be served; false when
    /// the connection gave its slot away meanwhile (the bytes are dropped and
    /// the connection ends).
    pub fn arrived(&self) -> bool {
        let mut s = lock(&self.state);
        s.reading = !s.closing;
        !s.closing
    }

    /// A request is in flight until the returned hold is dropped.
    fn hold(self: &Arc<Self>) -> Held {
        lock(&self.state).requests += 1;
        Held(Arc::clone(self))
    }

    /// Takes the slot of this connection if it is idle, and tells it to end.
    fn give_up(&self) -> Option<OwnedSemaphorePermit> {
        let mut s = lock(&self.state);
        if s.requests > 0 || s.reading || s.closing {
            return None;
        }
        s.closing = true;
        drop(s);
        let permit = lock(&self.permit).take();
        self.reader.wake();
        permit
    }
}

/// A request in flight on its connection.
struct Held(Arc<Conn>);

impl Drop for Held {
    fn drop(&mut self) {
        let mut s = lock(&self.0.state);
        s.requests -= 1;
        if s.requests == 0 {
            s.reading = false;
            s.idle_since = TICK.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The open connections, for the listener to find an idle one.
#[derive(Default)]
pub(crate) struct Table {
    open: Vec<Weak<Conn>>,
}

impl Table {
    /// A new connection holding `permit`, in the table.
    pub fn open(&mut self, permit: OwnedSemaphorePermit) -> Arc<Conn> {
        let conn = Conn::new(permit);
        self.open.retain(|c| c.strong_count() > 0);
        self.open.push(Arc::downgrade(&conn));
        conn
    }

    /// The slot of the connection idle the longest, which is told to end;
    /// `None` when every connection is busy.
    pub fn take_idle(&mut self) -> Option<OwnedSemaphorePermit> {
        self.open.retain(|c| c.strong_count() > 0);
        let mut idle: Vec<(u64, Arc<Conn>)> = self
            .open
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|c| {
                let s = lock(&c.state);
                let since = (s.requests == 0 && !s.reading && !s.closing).then_some(s.idle_since);
                drop(s);
                since.map(|t| (t, c))
            })
            .collect();
        idle.sort_by_key(|(t, _)| *t);
        // One may turn busy since it was looked at: then the next.
        idle.into_iter().find_map(|(_, c)| c.give_up())
    }
}

/// The connection a request came on, for [`in_flight`].
#[derive(Clone)]
pub(crate) struct ConnOf(Arc<Conn>);

impl Connected<IncomingStream<'_, crate::limits::LimitedListener>> for ConnOf {
    fn connect_info(stream: IncomingStream<'_, crate::limits::LimitedListener>) -> Self {
        ConnOf(Arc::clone(stream.io().conn()))
    }
}

/// Marks its connection busy from the request until its answer's body is all
/// sent (or dropped): a streamed answer keeps its connection busy.
pub(crate) async fn in_flight(request: Request, next: Next) -> Response {
    let held = request
        .extensions()
        .get::<ConnectInfo<ConnOf>>()
        .map(|c| c.0.0.hold());
    let response = next.run(request).await;
    match held {
        Some(held) => response.map(|body| Body::new(HeldBody { body, _held: held })),
        None => response,
    }
}

/// An answer's body that keeps its connection busy until it is dropped.
struct HeldBody {
    body: Body,
    _held: Held,
}

impl HttpBody for HeldBody {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
