//! A server with few slots, as llama.cpp's is by default: it serves `n`
//! generations at a time, and a request that comes while all are busy aborts
//! the oldest one in flight.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use axum::body::Body;
use axum::response::Response;
use futures_util::{StreamExt, stream};
use tokio::sync::oneshot;

/// The generations in flight, oldest first, each with the means to abort it.
#[derive(Default)]
pub(crate) struct InFlight {
    calls: Mutex<VecDeque<(u64, oneshot::Sender<()>)>>,
}

impl InFlight {
    /// Makes room for call `seq` among `slots` (aborting the oldest when they
    /// are all busy), and returns what tells the call it was aborted.
    fn enter(&self, seq: u64, slots: usize) -> oneshot::Receiver<()> {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        while calls.len() >= slots.max(1) {
            if let Some((_, abort)) = calls.pop_front() {
                let _ = abort.send(());
            }
        }
        let (tx, rx) = oneshot::channel();
        calls.push_back((seq, tx));
        rx
    }

    fn leave(&self, seq: u64) {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(s, _)| *s != seq);
    }
}

/// `response` served in one of `slots`: its body breaks off if a later request
/// needs the slot before it is sent in full, or, with `end_with_done`, ends
/// there with `data: [DONE]` and no finish reason, as llama-cpp-python ends a
/// stream it cuts.
pub(crate) fn in_slot(
    in_flight: std::sync::Arc<InFlight>,
    seq: u64,
    slots: usize,
    end_with_done: bool,
    response: Response,
) -> Response {
    let aborted = in_flight.enter(seq, slots);
    let (parts, body) = response.into_parts();
    let data = body.into_data_stream();
    let state = (data, aborted, in_flight, false);
    let body = stream::unfold(
        state,
        move |(mut data, mut aborted, in_flight, done)| async move {
            if done {
                return None;
            }
            tokio::select! {
                biased;
                _ = &mut aborted => {
                    let end = if end_with_done {
                        Ok(axum::body::Bytes::from_static(b"data: [DONE]\n\n"))
                    } else {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionAborted,
                            "another request took the slot",
                        ))
                    };
                    Some((end, (data, aborted, in_flight, true)))
                }
                item = data.next() => match item {
                    Some(item) => Some((item.map_err(std::io::Error::other), (data, aborted, in_flight, false))),
                    None => {
                        in_flight.leave(seq);
                        None
                    }
                },
            }
        },
    );
    Response::from_parts(parts, Body::from_stream(body))
}
