//! The `generateContent` request: the URL and the JSON body of a call.

use super::profile::{
    MAX_OUTPUT_TOKENS, ThinkingForm, model_id, thinking_budget, thinking_form, thinking_level,
};
use crate::providers::shared::{binary_parts, prompt_with_files, turns, with_schema_instruction};
use crate::providers::{ChatCall, Dialect};
use serde_json::{Map, Value, json};

pub fn endpoint(base: &str, call: &ChatCall) -> String {
    let model = model_id(call.model);
    if call.stream {
        format!("{base}/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("{base}/models/{model}:generateContent")
    }
}

pub fn build_body(call: &ChatCall) -> Value {
    let model = model_id(call.model);
    let mut config = Map::new();
    let mut system = call.instructions.map(str::to_string);

    let form = thinking_form(model, call.dialect);
    let level = call.reasoning.filter(|_| form != ThinkingForm::None);
    let allowance = level.map_or(0, |l| thinking_budget(model, l));
    if let Some(n) = call.max_tokens {
        let limit = if allowance > 0 {
            n.saturating_add(allowance).min(MAX_OUTPUT_TOKENS.max(n))
        } else {
            n
        };
        config.insert("maxOutputTokens".into(), json!(limit));
    }
    if let Some(t) = call.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = call.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(level) = level {
        let thinking = if form == ThinkingForm::Level {
            json!({"thinkingLevel": thinking_level(model, level), "includeThoughts": true})
        } else {
            json!({"thinkingBudget": allowance, "includeThoughts": true})
        };
        config.insert("thinkingConfig".into(), thinking);
    }
    if let Some(schema) = call.output_schema {
        config.insert("responseMimeType".into(), json!("application/json"));
        if call.dialect == Dialect::CompatibleJsonMode {
            system = Some(with_schema_instruction(system, schema));
        } else {
            config.insert("responseJsonSchema".into(), schema.clone());
        }
    }

    let mut body = Map::new();
    // The model's turns under Gemini's own role name, `model`; images and
    // PDFs as `inline_data` parts before the text of their user turn.
    let contents: Vec<Value> = turns(call)
        .map(|(user, text, attachments)| {
            if user {
                let mut parts: Vec<Value> = binary_parts(attachments)
                    .map(|p| json!({"inline_data": {"mime_type": p.media_type, "data": p.base64}}))
                    .collect();
                parts.push(json!({"text": prompt_with_files(text, attachments)}));
                json!({"role": "user", "parts": parts})
            } else {
                json!({"role": "model", "parts": [{"text": text}]})
            }
        })
        .collect();
    body.insert("contents".into(), Value::Array(contents));
    if let Some(s) = system {
        body.insert("systemInstruction".into(), json!({"parts": [{"text": s}]}));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    Value::Object(body)
}
