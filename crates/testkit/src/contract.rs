//! The hosted endpoint's OpenAPI description (`shared/contract/`), as JSON Schema
//! validators, so every host's tests check its output against the real contract.

use serde_json::Value;
use std::path::PathBuf;

/// `shared/` beside the project's checkout.
pub fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The OpenAPI document, as JSON.
pub fn openapi() -> Value {
    let path = shared_dir().join("contract/opper-roundtable.openapi.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_norway::from_str(&text).expect("the contract is valid YAML")
}

/// A validator for one of the document's schemas (`RoundtableResponse`,
/// `RoundtableStreamChunk`, `ErrorResponse`, `RoundtableRequest`, …).
pub fn validator(schema: &str) -> jsonschema::Validator {
    let doc = openapi();
    let mut s = doc["components"]["schemas"][schema].clone();
    assert!(s.is_object(), "no schema {schema} in the contract");
    // Keep the document's other schemas reachable for `$ref`s.
    s["components"] = doc["components"].clone();
    jsonschema::draft202012::new(&s).expect("the contract's schema compiles")
}

/// Validation errors of `value` against `schema`, as readable lines.
pub fn errors(schema: &str, value: &Value) -> Vec<String> {
    validator(schema)
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
