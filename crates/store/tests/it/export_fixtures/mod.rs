//! Builders for the export tests: runs as the engine records them.
#![allow(dead_code)]

use roundtable_store::export::{to_html, to_markdown};
use roundtable_store::{
    Meta, ModelResult, ModelSpec, Resolution, RoundtableRequest, RoundtableResponse, RunStatus,
    Store, StoredRun, Usage,
};

pub fn spec(name: &str) -> ModelSpec {
    ModelSpec::named(name)
}

pub fn req(models: Vec<ModelSpec>, resolution: Resolution) -> RoundtableRequest {
    RoundtableRequest {
        input: "Capital of France?".into(),
        models,
        resolution: Some(resolution),
        summary_model: Some("openai/judge".into()),
        ..RoundtableRequest::default()
    }
}

pub fn answer(index: usize, model: &str, data: &str) -> ModelResult {
    ModelResult {
        index,
        model: model.into(),
        data: data.into(),
        duration_ms: 900 + index as u64 * 10,
        cost: 0.001,
        usage: Usage {
            input_tokens: 120,
            output_tokens: 300 + index as u64,
            ..Usage::default()
        },
        ..ModelResult::default()
    }
}

pub fn failure(index: usize, model: &str, error: &str) -> ModelResult {
    ModelResult {
        index,
        model: model.into(),
        duration_ms: 30_000,
        error: Some(error.into()),
        ..ModelResult::default()
    }
}

/// A response whose meta is built the way the engine builds it: every model's
/// cost plus the summary's 0.002 in `total_cost`, 1840 ms in all.
pub fn resp(
    req: &RoundtableRequest,
    results: Vec<ModelResult>,
    data: Option<&str>,
) -> RoundtableResponse {
    let summary = req.resolution() == Resolution::Summary;
    let total_cost =
        results.iter().map(|r| r.cost).sum::<f64>() + if summary { 0.002 } else { 0.0 };
    RoundtableResponse {
        id: "rt_show".into(),
        data: data.map(str::to_string),
        meta: Meta {
            resolution: req.resolution(),
            models_used: results
                .iter()
                .filter(|r| r.error.is_none())
                .map(|r| r.model.clone())
                .collect(),
            total_cost,
            total_duration_ms: 1840,
            summary_model: summary.then(|| "openai/judge".to_string()),
            summary_usage: summary.then(|| Usage {
                input_tokens: 900,
                output_tokens: 200,
                ..Usage::default()
            }),
            ..Meta::default()
        },
        model_results: results,
    }
}

pub fn stored(req: &RoundtableRequest, resp: &RoundtableResponse, status: RunStatus) -> StoredRun {
    let store = Store::open_in_memory().unwrap();
    store
        .import_response(Some(req), resp, status, Some(0))
        .unwrap();
    store.get_run(&resp.id).unwrap().unwrap()
}

/// Both exports of one run.
pub fn exports(run: &StoredRun) -> (String, String) {
    let runs = [run.clone()];
    (to_html(&runs), to_markdown(&runs))
}

/// The resolved box of the HTML export.
pub fn resolved_box(html: &str) -> &str {
    let start = html
        .find("<div class=\"resolved\">")
        .expect("a resolved box");
    let end = start + html[start..].find("</div>\n").unwrap();
    &html[start..end]
}

pub fn no_live_markup(html: &str) {
    let lower = html.to_ascii_lowercase();
    // Text `<` is always escaped, so an event handler could only sit in a tag
    // named here.
    for bad in ["<script", "<img", "<svg", "<iframe", "<i>", "<b>"] {
        assert!(!lower.contains(bad), "{bad} is live");
    }
}
