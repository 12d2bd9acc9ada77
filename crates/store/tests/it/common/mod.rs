//! Shared builders for the store's tests.
#![allow(dead_code)]

use roundtable_store::{
    Meta, ModelOutcome, ModelResult, ModelSpec, NewRun, Resolution, RoundtableRequest,
    RoundtableResponse, Usage,
};

pub fn request(input: &str, models: &[&str]) -> RoundtableRequest {
    RoundtableRequest {
        input: input.to_string(),
        models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
        instructions: Some("Answer briefly.".to_string()),
        resolution: Some(Resolution::Summary),
        summary_model: Some("openai/gpt-4.1-mini".to_string()),
        max_retries: Some(2),
        ..RoundtableRequest::default()
    }
}

pub fn result(index: usize, model: &str, data: &str) -> ModelResult {
    ModelResult {
        index,
        model: model.to_string(),
        data: data.to_string(),
        duration_ms: 900 + index as u64 * 10,
        // One model waited for a slot of its server: kept like the rest.
        queued_ms: (index == 1).then_some(250),
        schema_fallback: (index == 1).then_some(true),
        cost: 0.001 * (index as f64 + 1.0),
        error: None,
        usage: Usage {
            input_tokens: 120,
            output_tokens: 300 + index as u64,
            cache_read_tokens: 20,
            reasoning_tokens: 5,
            ..Usage::default()
        },
        schema_valid: None,
        schema_error: None,
        thinking: Some(format!("thinking of {model}")),
        attempts: Some(1),
        vote: None,
        vote_read: None,
        outcome: Some(ModelOutcome::Answered),
        sample: None,
        context_resolved: None,
    }
}

pub fn failed(index: usize, model: &str, error: &str) -> ModelResult {
    ModelResult {
        index,
        model: model.to_string(),
        data: String::new(),
        duration_ms: 30_000,
        cost: 0.0,
        error: Some(error.to_string()),
        usage: Usage::default(),
        attempts: Some(2),
        outcome: Some(ModelOutcome::TimedOut),
        ..ModelResult::default()
    }
}

/// A finished response for `req`, one answer per model (`answers[i]`).
pub fn response(
    id: &str,
    req: &RoundtableRequest,
    answers: &[&str],
    data: Option<&str>,
) -> RoundtableResponse {
    let model_results: Vec<ModelResult> = req
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| result(i, &m.name, answers.get(i).copied().unwrap_or("")))
        .collect();
    let total_cost = model_results.iter().map(|r| r.cost).sum::<f64>() + 0.002;
    RoundtableResponse {
        id: id.to_string(),
        data: data.map(str::to_string),
        meta: Meta {
            resolution: req.resolution(),
            models_used: model_results.iter().map(|r| r.model.clone()).collect(),
            total_cost,
            total_duration_ms: 1840,
            summary_model: req.summary_model.clone(),
            summary_usage: Some(Usage {
                input_tokens: 900,
                output_tokens: 200,
                ..Usage::default()
            }),
            trace_uuid: "trace-1".to_string(),
            ..Meta::default()
        },
        model_results,
    }
}

pub fn new_run(id: &str, created_at_ms: i64, req: &RoundtableRequest) -> NewRun {
    NewRun {
        id: id.to_string(),
        created_at_ms,
        request: req.clone(),
        parent_id: None,
        parent_kind: None,
    }
}
