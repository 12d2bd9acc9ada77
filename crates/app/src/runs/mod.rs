//! Runs: a roundtable run and recorded ([`App::run`]), the same request again
//! ([`App::rerun`], `rerun.rs`), a stored run resolved again from its stored
//! answers ([`App::reresolve`], `reresolve.rs`), a follow-up sent its
//! conversation and the conversation read or deleted (`follow_up.rs`). Each is validated before any
//! provider is called, recorded as running, recorded answer by answer as the
//! answers arrive and finished (`record.rs`), by a writer of its own
//! (`recorder.rs`) so the history's lock never holds up a run. The host
//! gets the events through its [`RunSink`] (`sink.rs`); one that cannot take
//! them one by one keeps them in a [`Merging`] queue (`merge.rs`).
//!
//! Extending it: a new kind of run is a file here that prepares the run with
//! [`App::engine_for`], writes its beginning ([`App::begin`]) and drives the
//! engine through [`App::record_while`].

mod follow_up;
mod merge;
mod record;
pub(crate) mod recorder;
mod reresolve;
mod rerun;
mod sink;

pub use merge::{Mergeable, Merging};
pub use reresolve::Reresolve;
pub use sink::RunSink;

use crate::{App, AppError};
use roundtable_core::{RoundtableRequest, RunOutcome};
use roundtable_store::ParentKind;
use tokio_util::sync::CancellationToken;

impl App {
    /// Runs a roundtable: validates it before any provider is called, records it
    /// as running, runs the panel and the resolution, recording each answer as it
    /// arrives, and gives the events to `sink` as they happen. Past a hard
    /// daily or monthly budget it is refused ([`crate::Code::BudgetExceeded`]);
    /// under it, its worst case is set aside against the budget until it ends.
    pub async fn run(
        &self,
        request: RoundtableRequest,
        sink: &dyn RunSink,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        self.run_with_parent(request, None, sink, cancel).await
    }

    pub(crate) async fn run_with_parent(
        &self,
        request: RoundtableRequest,
        parent: Option<(String, ParentKind)>,
        sink: &dyn RunSink,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let engine = self.engine_for(&request);
        let prepared = self.with_thread(engine.prepare(request)?)?;
        // Held until the run ends (see `Reservation`).
        let _reserved =
            self.reserve_budget(Some(&prepared.id), || self.worst_case(&engine, &prepared))?;
        self.check_cost(&engine, &prepared)?;
        self.recorder
            .write(vec![Self::begin(&prepared, parent)])
            .await?;
        let id = prepared.id.clone();
        self.record_while(&id, sink, |tx| engine.execute(prepared, Some(tx), cancel))
            .await
    }
}
