//! Conversations: a run whose request names a `previous_id` is a follow-up. The
//! history gives the turns from the thread's first run to that one (on its
//! branch), each with its attachments' bytes, and the engine sends each model
//! its thread ([`roundtable_core::thread`]). A conversation is read, and a
//! turn deleted with what follows it, or the whole thread, through the same
//! module.
//!
//! "Carry on with one model" is a follow-up whose panel is that model, in
//! `fast` mode; "edit and branch" a follow-up of the edited turn's own
//! previous run (a second run following the same run is a branch).

use crate::{App, AppError, Code, ExportFormat};
use roundtable_core::attachments;
use roundtable_core::engine::PreparedRun;
use roundtable_core::thread::PriorTurn;
use roundtable_store::{StoredRun, path_to};
use std::sync::Arc;

impl App {
    /// `prepared` with the conversation its `previous_id` names, when it has
    /// one; an id not in the history is refused naming the field.
    pub(crate) fn with_thread(&self, prepared: PreparedRun) -> Result<PreparedRun, AppError> {
        self.with_thread_files(prepared, true)
    }

    /// As [`App::with_thread`]; without `files` the earlier turns' attachments
    /// are not read, only named with their kind and size (a re-resolution,
    /// whose summary model gets no files; an estimate, which counts them by
    /// size, asked for as the prompt is typed).
    pub(crate) fn with_thread_files(
        &self,
        prepared: PreparedRun,
        files: bool,
    ) -> Result<PreparedRun, AppError> {
        let Some(previous) = prepared.request.previous_id.clone() else {
            return Ok(prepared);
        };
        let own = Arc::clone(&prepared.attachments);
        let turns = self.turns_to(&previous, files.then_some(own.as_slice()))?;
        if turns.is_empty() {
            return Err(AppError {
                field: Some("previous_id".into()),
                ..AppError::new(
                    Code::InvalidRequest,
                    format!(
                        "previous_id: no run {previous} in the history to follow up \
                         (see `roundtable history list`)"
                    ),
                )
            });
        }
        Ok(prepared.with_thread(turns))
    }

    /// The turns of the conversation from its first run to `last`, oldest
    /// first, each as the next turn reads it; none when `last` is not in the
    /// history. With `sending` (the next turn's own files), every earlier file
    /// is read, each once for every model, once the conversation's files
    /// (`sending` included) are within `[limits]`' thread limits, checked on
    /// their stored sizes before any is read; without, they are only named.
    pub(crate) fn turns_to(
        &self,
        last: &str,
        sending: Option<&[attachments::Part]>,
    ) -> Result<Vec<PriorTurn>, AppError> {
        let thread = self.store().thread(last)?;
        let path = path_to(&thread, last);
        if let Some(own) = sending {
            let earlier = path.iter().flat_map(|run| {
                let files = run.request.attachments.iter();
                files.map(|a| a.size.unwrap_or_default())
            });
            let limits = self.config.limits.engine().attachments;
            attachments::check_thread(earlier.chain(own.iter().map(|p| p.size)), &limits)?;
        }
        path.into_iter()
            .map(|run| self.prior_turn(run, sending.is_some()))
            .collect()
    }

    /// A stored turn as the next one sends it: its question, its attachments
    /// (their bytes read back and checked), its resolved answer and each
    /// model's answer.
    fn prior_turn(&self, run: &StoredRun, files: bool) -> Result<PriorTurn, AppError> {
        let mut request = run.request.clone();
        if !files {
            let named = request.attachments.iter().filter_map(|a| {
                Some(attachments::Part {
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    kind: attachments::Kind::of(&a.media_type)?,
                    base64: String::new(),
                    text: None,
                    size: a.size.unwrap_or_default(),
                })
            });
            return Ok(PriorTurn::of(request.input, named.collect(), &run.response));
        }
        self.store().hydrate(&mut request)?;
        // Checked when first sent; a limit lowered since does not stop the
        // conversation, so the file limits here are the largest there are.
        let limits = attachments::AttachmentLimits {
            max_file_bytes: u64::MAX / 2,
            max_run_bytes: u64::MAX / 2,
            ..Default::default()
        };
        let files = attachments::prepare(&request.attachments, &limits)?;
        Ok(PriorTurn::of(request.input, files, &run.response))
    }

    /// Every run of the conversation `id` is a turn of, oldest first, every
    /// branch included.
    pub fn thread(&self, id: &str) -> Result<Vec<StoredRun>, AppError> {
        let runs = self.store().thread(id)?;
        if runs.is_empty() {
            return Err(AppError::not_found(id));
        }
        Ok(runs)
    }

    /// The turns of the branch through `id`, first to last: the runs `id`
    /// follows, `id`, and the latest line of turns that follows it.
    pub fn branch_of(&self, id: &str) -> Result<Vec<String>, AppError> {
        let thread = self.thread(id)?;
        // The newest run whose path goes through `id` ends the branch.
        let path = thread
            .iter()
            .rev()
            .map(|r| path_to(&thread, &r.summary.id))
            .find(|p| p.iter().any(|r| r.summary.id == id))
            .unwrap_or_default();
        Ok(path.into_iter().map(|r| r.summary.id.clone()).collect())
    }

    /// The conversation through `id` as one document, turn by turn (see
    /// [`App::branch_of`]).
    pub fn export_thread(&self, id: &str, format: ExportFormat) -> Result<String, AppError> {
        self.export(&self.branch_of(id)?, format)
    }

    /// Deletes the turn `id` and every turn that follows it (on every branch);
    /// how many runs went.
    pub fn delete_turn_and_after(&self, id: &str) -> Result<usize, AppError> {
        match self.store().delete_turn_and_after(id)? {
            0 => Err(AppError::not_found(id)),
            n => Ok(n),
        }
    }

    /// Deletes the whole conversation `id` is a turn of; how many runs went.
    pub fn delete_thread(&self, id: &str) -> Result<usize, AppError> {
        match self.store().delete_thread(id)? {
            0 => Err(AppError::not_found(id)),
            n => Ok(n),
        }
    }
}
