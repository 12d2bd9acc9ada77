//! Recording a run as it happens: its beginning before any provider is
//! called, each model's result as it arrives, the whole response at the end;
//! the host's sink gets every event, and `Done` only once the history has the
//! run.

use super::RunSink;
use crate::{App, AppError};
use roundtable_core::engine::PreparedRun;
use roundtable_core::{RunEvent, RunOutcome};
use roundtable_store::{NewRun, ParentKind, RunWrite};
use tokio::sync::mpsc::UnboundedSender;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl App {
    /// The step that records `prepared` as running.
    pub(crate) fn begin(prepared: &PreparedRun, parent: Option<(String, ParentKind)>) -> RunWrite {
        let (parent_id, parent_kind) = parent.unzip();
        RunWrite::Begin(NewRun {
            id: prepared.id.clone(),
            created_at_ms: now_ms(),
            request: prepared.request.clone(),
            parent_id,
            parent_kind,
        })
    }

    /// Drives a run to its end while recording its events: each model's result as
    /// it arrives, the whole response at the end. The host's `sink` gets every
    /// event, on this task, and `Done` only once the history has the whole run.
    /// The engine's tasks send here (one channel); the sink is called from
    /// this loop, so it sees the events in the order they were sent.
    pub(crate) async fn record_while<F>(
        &self,
        id: &str,
        sink: &dyn RunSink,
        run: impl FnOnce(UnboundedSender<RunEvent>) -> F,
    ) -> Result<RunOutcome, AppError>
    where
        F: std::future::Future<Output = RunOutcome>,
    {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
        let mut done = None;
        let mut handle = |event: RunEvent| {
            match &event {
                RunEvent::ModelFinished { result } | RunEvent::ModelFailed { result } => {
                    self.recorder.send(RunWrite::Result {
                        run_id: id.to_string(),
                        result: result.clone(),
                    });
                }
                RunEvent::Done { .. } => {
                    done = Some(event);
                    return;
                }
                _ => {}
            }
            sink.event(event);
        };
        let run = run(tx);
        tokio::pin!(run);
        let outcome = loop {
            tokio::select! {
                biased;
                Some(event) = rx.recv() => handle(event),
                outcome = &mut run => break outcome,
            }
        };
        while let Ok(event) = rx.try_recv() {
            handle(event);
        }
        let finish = RunWrite::Finish {
            response: outcome.response.clone(),
            status: outcome.status,
        };
        if let Err(e) = self.recorder.finish(finish).await {
            tracing::warn!(error = %e, run = id, "could not record the run's end yet: it is tried again until it lands");
        }
        if let Some(done) = done {
            sink.event(done);
        }
        Ok(outcome)
    }
}
