//! Where a run's events go: the host's [`RunSink`], called on the run's own
//! task as each event happens, in order, with `Done` last and only once the
//! history has the run. The desktop writes to its IPC channel, the local API
//! to its SSE stream, the CLI to its progress bars; `&()` listens to nothing.
//!
//! A sink is called while the run goes on: it must not block (a host with a
//! slow reader, such as an SSE client, keeps what waits itself; see the
//! server's `stream.rs`).

use roundtable_core::RunEvent;

/// Takes a run's events as they happen.
pub trait RunSink: Send + Sync {
    fn event(&self, event: RunEvent);
}

/// Any function of an event is a sink.
impl<F: Fn(RunEvent) + Send + Sync> RunSink for F {
    fn event(&self, event: RunEvent) {
        self(event)
    }
}

/// No host listening: the run is recorded all the same.
impl RunSink for () {
    fn event(&self, _: RunEvent) {}
}
