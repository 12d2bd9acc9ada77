//! Rerunning: the same request as a stored run, as a new run linked to it,
//! its attached files read back from the history and sent again.

use super::RunSink;
use crate::{App, AppError};
use roundtable_core::RunOutcome;
use roundtable_store::ParentKind;
use tokio_util::sync::CancellationToken;

impl App {
    /// The same request again, as a new run linked to the first. Its attached
    /// files are sent again from the history (a file no longer there fails the
    /// rerun before any provider is called, naming it).
    pub async fn rerun(
        &self,
        id: &str,
        sink: &dyn RunSink,
        cancel: CancellationToken,
    ) -> Result<RunOutcome, AppError> {
        let mut request = self.get_run(id)?.request;
        self.store().hydrate(&mut request)?;
        self.run_with_parent(
            request,
            Some((id.to_string(), ParentKind::Rerun)),
            sink,
            cancel,
        )
        .await
    }
}
