//! The Chat Completions request: the URL and the JSON body of a call.

use super::profile::{is_reasoning_model, reasoning_effort};
use crate::attachments::{Kind, Part};
use crate::providers::shared::{binary_parts, prompt_with_files, turns, with_schema_instruction};
use crate::providers::{ChatCall, Dialect};
use serde_json::{Map, Value, json};

pub fn endpoint(base: &str) -> String {
    format!("{base}/chat/completions")
}

/// Whether a schema can be sent with `strict: true`: every object lists all its
/// properties as required and forbids others.
pub fn schema_is_strict_compatible(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("object")
                || map.contains_key("properties")
            {
                let props = map.get("properties").and_then(Value::as_object);
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
                let all_required = props
                    .map(|p| p.keys().all(|k| required.contains(&k.as_str())))
                    .unwrap_or(true);
                if !closed || !all_required {
                    return false;
                }
            }
            map.values().all(schema_is_strict_compatible)
        }
        Value::Array(items) => items.iter().all(schema_is_strict_compatible),
        _ => true,
    }
}

/// The user message's content: the prompt as a string, or, with images or PDFs
/// attached, a list of parts (`image_url` with a data URL, `file` with
/// `file_data`) ending in the prompt's text.
fn user_content(input: &str, attachments: &[Part]) -> Value {
    let text = prompt_with_files(input, attachments);
    let mut parts: Vec<Value> = binary_parts(attachments)
        .map(|p| match p.kind {
            Kind::Pdf => json!({
                "type": "file",
                "file": {"filename": p.name, "file_data": p.data_url()},
            }),
            _ => json!({"type": "image_url", "image_url": {"url": p.data_url()}}),
        })
        .collect();
    if parts.is_empty() {
        return json!(text);
    }
    parts.push(json!({"type": "text", "text": text}));
    Value::Array(parts)
}

pub fn build_body(call: &ChatCall) -> Value {
    let native = call.dialect == Dialect::Native;
    let json_mode_only = call.dialect == Dialect::CompatibleJsonMode;
    let mut messages = Vec::new();
    let mut system = call.instructions.map(str::to_string);
    if let (true, Some(schema)) = (json_mode_only, call.output_schema) {
        system = Some(with_schema_instruction(system, schema));
    }
    if let Some(s) = system {
        messages.push(json!({"role": "system", "content": s}));
    }
    for (user, text, attachments) in turns(call) {
        messages.push(if user {
            json!({"role": "user", "content": user_content(text, attachments)})
        } else {
            json!({"role": "assistant", "content": text})
        });
    }

    let mut body = Map::new();
    body.insert("model".into(), json!(call.model));
    body.insert("messages".into(), Value::Array(messages));
    if call.stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    let reasoning_model = native && is_reasoning_model(call.model);
    if let Some(n) = call.max_tokens {
        let field = if native {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(field.into(), json!(n));
    }
    if !reasoning_model {
        if let Some(t) = call.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(p) = call.top_p {
            body.insert("top_p".into(), json!(p));
        }
    }
    if let Some(level) = call.reasoning
        && (reasoning_model || !native)
    {
        body.insert("reasoning_effort".into(), json!(reasoning_effort(level)));
    }
    if let Some(schema) = call.output_schema {
        let format = if json_mode_only {
            json!({"type": "json_object"})
        } else {
            json!({
                "type": "json_schema",
                "json_schema": {
                    "name": "output",
                    "schema": schema,
                    "strict": schema_is_strict_compatible(schema),
                }
            })
        };
        body.insert("response_format".into(), format);
    }
    Value::Object(body)
}
