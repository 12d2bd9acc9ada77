//! The Messages request: the URL and the JSON body of a call, shaped by the
//! model's [`Profile`].

use super::OUTPUT_TOOL;
use super::profile::{Profile, ThinkingForm, fit_thinking, profile, thinking_budget};
use crate::attachments::{Kind, Part};
use crate::providers::shared::{binary_parts, prompt_with_files, turns, with_schema_instruction};
use crate::providers::{ChatCall, Dialect};
use serde_json::{Map, Value, json};

/// `{base}/v1/messages`; a base that already ends in `/v1` is not doubled.
pub fn endpoint(base: &str) -> String {
    if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

/// How an `output_schema` is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchemaMode {
    /// `output_config.format`.
    Native,
    /// A forced [`OUTPUT_TOOL`] call.
    Tool,
    /// In the system prompt.
    Prompt,
}

/// Keywords Anthropic's constrained decoding does not take.
const UNSUPPORTED_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "patternProperties",
];

/// Whether a schema fits Anthropic's constrained decoding: every object closed
/// with `additionalProperties: false`, no numeric bounds (`minimum`, …), length
/// bounds (`maxLength`, …) or size bounds (`maxItems`, `minProperties`, …), and
/// `minItems` at most 1.
pub fn schema_fits_native(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            let is_object = map.get("type").and_then(Value::as_str) == Some("object")
                || map.contains_key("properties");
            if is_object && map.get("additionalProperties") != Some(&Value::Bool(false)) {
                return false;
            }
            if UNSUPPORTED_KEYWORDS.iter().any(|k| map.contains_key(*k))
                || map
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .is_some_and(|n| n > 1)
            {
                return false;
            }
            map.iter()
                // A property named like a keyword is not one.
                .filter(|(k, _)| k.as_str() != "properties")
                .all(|(_, v)| schema_fits_native(v))
                && map
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_none_or(|p| p.values().all(schema_fits_native))
        }
        Value::Array(items) => items.iter().all(schema_fits_native),
        _ => true,
    }
}

fn schema_mode(call: &ChatCall, profile: &Profile, thinking: bool, schema: &Value) -> SchemaMode {
    let object_root = schema.get("type").and_then(Value::as_str) == Some("object");
    if call.dialect == Dialect::CompatibleJsonMode {
        SchemaMode::Prompt
    } else if profile.native_schema && schema_fits_native(schema) {
        SchemaMode::Native
    } else if !thinking && object_root {
        // Anthropic cannot force a tool while thinking.
        SchemaMode::Tool
    } else {
        SchemaMode::Prompt
    }
}

/// The user message's content: the prompt as a string, or, with images or PDFs
/// attached, `image` and `document` blocks (base64 sources) before the
/// prompt's text block, where Anthropic advises them.
fn user_content(input: &str, attachments: &[Part]) -> Value {
    let text = prompt_with_files(input, attachments);
    let mut blocks: Vec<Value> = binary_parts(attachments)
        .map(|p| {
            let source = json!({"type": "base64", "media_type": p.media_type, "data": p.base64});
            match p.kind {
                Kind::Pdf => json!({"type": "document", "source": source, "title": p.name}),
                _ => json!({"type": "image", "source": source}),
            }
        })
        .collect();
    if blocks.is_empty() {
        return json!(text);
    }
    blocks.push(json!({"type": "text", "text": text}));
    Value::Array(blocks)
}

pub fn build_body(call: &ChatCall) -> Value {
    let profile = profile(call.model, call.dialect);
    let default_answer = if profile.max_output == Some(4096) {
        4096
    } else {
        8192
    };
    let answer = call.max_tokens.unwrap_or(default_answer);
    let level = call
        .reasoning
        .filter(|_| profile.thinking != ThinkingForm::None);

    let mut body = Map::new();
    body.insert("model".into(), json!(call.model));
    let mut output_config = Map::new();
    match level {
        Some(level) => {
            let (max_tokens, budget) =
                fit_thinking(answer, thinking_budget(level), profile.max_output);
            body.insert("max_tokens".into(), json!(max_tokens));
            if profile.thinking == ThinkingForm::Adaptive {
                body.insert("thinking".into(), json!({"type": "adaptive"}));
                let effort = match level {
                    "max" if !profile.max_effort => "high",
                    "low" | "medium" | "high" | "max" => level,
                    _ => "high",
                };
                output_config.insert("effort".into(), json!(effort));
            } else {
                body.insert(
                    "thinking".into(),
                    json!({"type": "enabled", "budget_tokens": budget}),
                );
            }
        }
        None => {
            let max_tokens = profile.max_output.map_or(answer, |cap| answer.min(cap));
            body.insert("max_tokens".into(), json!(max_tokens));
            if profile.sampling {
                // Only one of the two: newer models refuse the pair. Anthropic's
                // temperature goes up to 1.
                if let Some(t) = call.temperature {
                    body.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
                } else if let Some(p) = call.top_p {
                    body.insert("top_p".into(), json!(p));
                }
            }
        }
    }

    let mut system = call.instructions.map(str::to_string);
    if let Some(schema) = call.output_schema {
        match schema_mode(call, &profile, level.is_some(), schema) {
            SchemaMode::Native => {
                output_config.insert(
                    "format".into(),
                    json!({"type": "json_schema", "schema": schema}),
                );
            }
            SchemaMode::Tool => {
                body.insert(
                    "tools".into(),
                    json!([{
                        "name": OUTPUT_TOOL,
                        "description": "Give the answer, as the input of this tool.",
                        "input_schema": schema,
                    }]),
                );
                body.insert(
                    "tool_choice".into(),
                    json!({"type": "tool", "name": OUTPUT_TOOL}),
                );
            }
            SchemaMode::Prompt => {
                system = Some(with_schema_instruction(system, schema));
            }
        }
    }
    if let Some(s) = system {
        body.insert("system".into(), json!(s));
    }
    let messages: Vec<Value> = turns(call)
        .map(|(user, text, attachments)| {
            if user {
                json!({"role": "user", "content": user_content(text, attachments)})
            } else {
                json!({"role": "assistant", "content": text})
            }
        })
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    if !output_config.is_empty() {
        body.insert("output_config".into(), Value::Object(output_config));
    }
    if call.stream {
        body.insert("stream".into(), json!(true));
    }
    Value::Object(body)
}
