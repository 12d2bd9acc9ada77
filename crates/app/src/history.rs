//! The history: listing, searching and reading runs, deleting, starring and
//! tagging them, exporting them as one document (JSON and HTML with the
//! attached files' bytes), importing a JSON export.
//! The runs themselves are recorded by [`crate::runs`].

use crate::Code;
use crate::{App, AppError};
use roundtable_core::RunStatus;
use roundtable_store::{ListQuery, RunSummary, StoredRun};
use serde::{Deserialize, Serialize};

/// The history list's filters; `text` searches the full text.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(optional_fields))]
pub struct HistoryQuery {
    pub text: Option<String>,
    pub model: Option<String>,
    pub status: Option<RunStatus>,
    pub starred: Option<bool>,
    pub tag: Option<String>,
    /// Runs created at or after this time (unix ms).
    pub since_ms: Option<i64>,
    pub limit: Option<u32>,
    /// Lines skipped before the page (after `after`'s, when given): a page
    /// of a search; the list pages with `after`.
    pub offset: Option<u32>,
    /// The id of the last line of the page before: the next page of the list
    /// (at the cost of the first, however deep; a run not in the history is
    /// `not_found`). Not with `text`: a search is ranked and pages with
    /// `offset`.
    pub after: Option<String>,
    /// One line per conversation (its latest turn, with its number of
    /// turns); a search finds any turn whatever this says.
    pub threads: Option<bool>,
}

impl HistoryQuery {
    /// A page of this many when the query names none.
    pub const DEFAULT_LIMIT: u32 = 100;

    /// The filters as the store takes them (blank names filter nothing).
    pub fn list_query(&self) -> ListQuery {
        let named = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        ListQuery {
            limit: self.limit.unwrap_or(Self::DEFAULT_LIMIT) as usize,
            offset: self.offset.unwrap_or(0) as usize,
            after: named(&self.after),
            status: self.status,
            starred: self.starred,
            model: named(&self.model),
            tag: named(&self.tag),
            since_ms: self.since_ms,
            threads: self.threads.unwrap_or(false) && self.text().is_none(),
            ..Default::default()
        }
    }

    /// The search text, when there is one.
    pub fn text(&self) -> Option<&str> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

/// Everything a history export can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Md,
    Json,
    Csv,
    Html,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "md" | "markdown" => Ok(ExportFormat::Md),
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "html" => Ok(ExportFormat::Html),
            other => Err(format!(
                "unknown format '{other}': expected md, json, csv or html"
            )),
        }
    }
}

impl App {
    /// The history, newest first, filtered; searched in full text when
    /// `query.text` is given.
    pub fn query_runs(&self, query: &HistoryQuery) -> Result<Vec<RunSummary>, AppError> {
        let list = query.list_query();
        match query.text() {
            Some(_) if list.after.is_some() => Err(AppError {
                field: Some("after".into()),
                ..AppError::new(
                    Code::InvalidRequest,
                    "after: a search is ranked, not in the list's order: page it with offset",
                )
            }),
            Some(text) => self.search_runs(text, &list),
            None => self.list_runs(&list),
        }
    }

    pub fn list_runs(&self, query: &ListQuery) -> Result<Vec<RunSummary>, AppError> {
        Ok(self.store().list_runs(query)?)
    }

    pub fn search_runs(&self, text: &str, query: &ListQuery) -> Result<Vec<RunSummary>, AppError> {
        Ok(self.store().search(text, query)?)
    }

    pub fn get_run(&self, id: &str) -> Result<StoredRun, AppError> {
        self.store()
            .get_run(id)?
            .ok_or_else(|| AppError::not_found(id))
    }

    /// A run as shown to people (`history show`, the exports, the desktop's
    /// run view): [`App::get_run`] with `meta.agreement` computed when the run
    /// was stored without it (recorded before it existed, or still running).
    /// Kept apart from `get_run`, which listings call per row, because the
    /// similarity of long answers takes milliseconds.
    pub fn view_run(&self, id: &str) -> Result<StoredRun, AppError> {
        let mut run = self.get_run(id)?;
        roundtable_core::agreement::fill(&run.request, &mut run.response);
        Ok(run)
    }

    pub fn delete_run(&self, id: &str) -> Result<(), AppError> {
        if self.store().delete_run(id)? {
            Ok(())
        } else {
            Err(AppError::not_found(id))
        }
    }

    pub fn set_starred(&self, id: &str, starred: bool) -> Result<(), AppError> {
        if self.store().set_starred(id, starred)? {
            Ok(())
        } else {
            Err(AppError::not_found(id))
        }
    }

    pub fn add_tag(&self, id: &str, tag: &str) -> Result<(), AppError> {
        let tag = tag.trim();
        if tag.is_empty() {
            return Err(AppError::new(
                Code::InvalidRequest,
                "tag: must not be empty",
            ));
        }
        self.get_run(id)?;
        self.store().add_tag(id, tag)?;
        Ok(())
    }

    pub fn remove_tag(&self, id: &str, tag: &str) -> Result<(), AppError> {
        self.get_run(id)?;
        self.store().remove_tag(id, tag)?;
        Ok(())
    }

    /// A number that changes whenever any process wrote the history.
    pub fn history_version(&self) -> Result<i64, AppError> {
        Ok(self.store().change_counter()?)
    }

    /// Runs exported as one comparison document.
    pub fn export(&self, ids: &[String], format: ExportFormat) -> Result<String, AppError> {
        if ids.is_empty() {
            return Err(AppError::new(
                Code::InvalidRequest,
                "give at least one run id to export",
            ));
        }
        let mut runs = ids
            .iter()
            .map(|id| self.view_run(id))
            .collect::<Result<Vec<_>, _>>()?;
        if matches!(format, ExportFormat::Json | ExportFormat::Html) {
            // JSON carries the attached files' bytes (an import restores them),
            // HTML shows the images; a file no longer there is still named.
            let store = self.store();
            for run in &mut runs {
                let missing = store.hydrate_available(&mut run.request);
                if !missing.is_empty() {
                    tracing::warn!(run = %run.summary.id, files = ?missing,
                        "attached files not in the history's folder: exported by name only");
                }
            }
        }
        use roundtable_store::export;
        Ok(match format {
            ExportFormat::Md => export::to_markdown(&runs),
            ExportFormat::Json => {
                // A backup: each run's vote and judgements with it.
                let store = self.store();
                let verdicts = runs
                    .iter()
                    .map(|r| store.run_verdicts(&r.summary.id))
                    .collect::<Result<Vec<_>, _>>()?;
                export::to_json(&runs, &verdicts)
            }
            ExportFormat::Csv => export::to_csv(&runs),
            ExportFormat::Html => export::to_html(&runs),
        })
    }

    /// Loads runs from a JSON export (attached files with their bytes are
    /// stored as a run's are); returns their ids.
    pub fn import(&self, json: &str) -> Result<Vec<String>, AppError> {
        let runs = roundtable_store::export::import_runs_json(json)
            .map_err(|e| AppError::new(Code::InvalidRequest, e.to_string()))?;
        let ids = runs.iter().map(|r| r.response.id.clone()).collect();
        self.store().bulk_import(&runs)?;
        Ok(ids)
    }
}
