//! JSON export and import: contract responses with the run's status and
//! request, and what a person and the judges added to it ([`RunMarks`]): a
//! JSON export is a backup, and everything in it comes back.

use crate::{Error, ImportedRun, Result, RunMarks, RunVerdicts, StoredRun};
use roundtable_core::{RoundtableRequest, RoundtableResponse, RunStatus};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct ExportedRun<'a> {
    #[serde(flatten)]
    response: &'a RoundtableResponse,
    status: RunStatus,
    request: &'a RoundtableRequest,
    created_at: &'a str,
    created_at_ms: i64,
    #[serde(flatten)]
    marks: RunMarks,
}

#[derive(Deserialize)]
struct ImportItem {
    #[serde(flatten)]
    response: RoundtableResponse,
    #[serde(default)]
    status: Option<RunStatus>,
    #[serde(default)]
    request: Option<RoundtableRequest>,
    #[serde(default)]
    created_at_ms: Option<i64>,
    #[serde(flatten)]
    marks: RunMarks,
}

/// The runs as a JSON array of contract responses (`RoundtableResponse`), each
/// with the added fields `status`, `request`, `created_at` (RFC 3339) and
/// `created_at_ms`, and those of [`RunMarks`] it has: `starred`, `tags`,
/// `vote`, `judgements` (`verdicts[i]` is `runs[i]`'s; none past its end),
/// `parent_id` and `parent_kind`. `meta.agreement` is as stored: the history's
/// export (`App::export`) computes it first for a run stored without it, while
/// an export imported back stays identical. [`import_runs_json`] reads it back.
pub fn to_json(runs: &[StoredRun], verdicts: &[RunVerdicts]) -> String {
    let items: Vec<ExportedRun<'_>> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| ExportedRun {
            response: &r.response,
            status: r.summary.status,
            request: &r.request,
            created_at: &r.summary.created_at,
            created_at_ms: r.summary.created_at_ms,
            marks: RunMarks {
                starred: r.summary.starred,
                tags: r.summary.tags.clone(),
                verdicts: verdicts.get(i).cloned().unwrap_or_default(),
                parent_id: r.summary.parent_id.clone(),
                parent_kind: r.summary.parent_kind,
            },
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&items).expect("contract types always serialize");
    s.push('\n');
    s
}

/// Parse a JSON export back: an array written by [`to_json`], a single response
/// object, or a bare array of plain contract responses. A response without a
/// `status` is `completed` when it has a resolved answer or a successful model
/// result, else `failed`.
pub fn import_json(
    text: &str,
) -> Result<Vec<(Option<RoundtableRequest>, RoundtableResponse, RunStatus)>> {
    Ok(import_runs_json(text)?
        .into_iter()
        .map(|r| (r.request, r.response, r.status))
        .collect())
}

/// Like [`import_json`], keeping each run's `created_at_ms` when present (ready for
/// [`crate::Store::bulk_import`]).
pub fn import_runs_json(text: &str) -> Result<Vec<ImportedRun>> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::Import(format!("not JSON: {e}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        obj @ serde_json::Value::Object(_) => vec![obj],
        _ => {
            return Err(Error::Import(
                "expected a response object or an array of them".to_string(),
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let item: ImportItem = serde_json::from_value(item)
                .map_err(|e| Error::Import(format!("item {}: {e}", i + 1)))?;
            if item.response.id.trim().is_empty() {
                return Err(Error::Import(format!("item {}: empty \"id\"", i + 1)));
            }
            let status = item.status.unwrap_or_else(|| {
                let answered = item.response.data.is_some()
                    || item.response.model_results.iter().any(|m| m.succeeded());
                if answered {
                    RunStatus::Completed
                } else {
                    RunStatus::Failed
                }
            });
            Ok(ImportedRun {
                request: item.request,
                response: item.response,
                status,
                created_at_ms: item.created_at_ms,
                marks: item.marks,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_single_plain_response() {
        let text = r#"{"id":"rt_1","data":"yes","meta":{"resolution":"summary","models_used":["a/b"],
            "total_cost":0.1,"total_duration_ms":5},"model_results":[{"index":0,"model":"a/b",
            "data":"yes","duration_ms":5,"usage":{"input_tokens":1,"output_tokens":2}}]}"#;
        let runs = import_json(text).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].0, None);
        assert_eq!(runs[0].1.id, "rt_1");
        assert_eq!(runs[0].2, RunStatus::Completed);
    }

    #[test]
    fn rejects_garbage_clearly() {
        assert!(matches!(import_json("nope"), Err(Error::Import(_))));
        assert!(matches!(import_json("42"), Err(Error::Import(_))));
        let err = import_json(r#"[{"id":"rt_1"}]"#).unwrap_err().to_string();
        assert!(err.contains("item 1"), "{err}");
    }
}
