//! Rerunning: the same request as a stored run, as a new run linked to it.

use super::RunSink;
use crate::{App, AppError};
use roundtable_core::RunOutcome;
use roundtable_store::ParentKind;
use tokio_util::sync::CancellationToken;

impl App {
    /// The same request again, as a new run linked to the first.
    pub async fn rerun(
        &self,
        id: &str,
        sink: &dyn RunSink,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let run = self.get_run(id)?;
        self.run_with_parent(
            run.request,
            Some((id.to_string(), ParentKind::Rerun)),
            sink,
            cancel,
        )
        .await
    }
}
