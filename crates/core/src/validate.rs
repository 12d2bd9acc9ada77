//! Validation of a request before any provider is called. Every error names the
//! offending field, in the contract's own spelling (`models[1].temperature`).

use crate::contract::{
    MAX_MAX_RETRIES, MAX_SAMPLES, MAX_TIMEOUT_MS, Resolution, RoundtableRequest,
};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The offending field, e.g. `models[0].name`.
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub const REASONING_LEVELS: [&str; 4] = ["low", "medium", "high", "max"];

/// The most choices a request gives (each is listed in every model's prompt).
pub const MAX_CHOICES: usize = 100;
/// The longest choice, in bytes; with [`MAX_CHOICES`], 100 KB of choices at most.
pub const MAX_CHOICE_BYTES: usize = 1_000;

/// Splits `provider/model` at the first `/` (a model may itself contain `/`,
/// e.g. `openrouter/meta-llama/llama-3.1-8b`).
pub fn split_model_name(name: &str) -> Option<(&str, &str)> {
    let (provider, model) = name.split_once('/')?;
    if provider.is_empty() || model.is_empty() {
        None
    } else {
        Some((provider, model))
    }
}

/// Checks `req` against the contract; `is_known_provider` tells whether a
/// provider id is configured.
pub fn validate_request(
    req: &RoundtableRequest,
    is_known_provider: &dyn Fn(&str) -> bool,
) -> Result<(), ValidationError> {
    if req.input.trim().is_empty() {
        return Err(ValidationError::new("input", "must not be empty"));
    }
    if req.models.is_empty() {
        return Err(ValidationError::new(
            "models",
            "at least one model is required (e.g. {\"name\": \"openai/gpt-4.1-mini\"})",
        ));
    }
    for (i, spec) in req.models.iter().enumerate() {
        let field = |f: &str| format!("models[{i}].{f}");
        check_model_name(&spec.name, &field("name"), is_known_provider)?;
        if let Some(t) = spec.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(ValidationError::new(
                field("temperature"),
                format!("{t} is outside 0 to 2"),
            ));
        }
        if let Some(p) = spec.top_p
            && !(0.0..=1.0).contains(&p)
        {
            return Err(ValidationError::new(
                field("top_p"),
                format!("{p} is outside 0 to 1"),
            ));
        }
        if spec.max_tokens == Some(0) {
            return Err(ValidationError::new(
                field("max_tokens"),
                "must be at least 1",
            ));
        }
        if let Some(r) = &spec.reasoning
            && !REASONING_LEVELS.contains(&r.as_str())
        {
            return Err(ValidationError::new(
                field("reasoning"),
                format!("'{r}' is not one of low, medium, high, max"),
            ));
        }
        for (key, value) in [("samples", spec.samples), ("sample", spec.sample)] {
            if let Some(n) = value
                && !(1..=MAX_SAMPLES).contains(&n)
            {
                return Err(ValidationError::new(
                    field(key),
                    format!("{n} is outside 1 to {MAX_SAMPLES}"),
                ));
            }
        }
    }
    if let Some(m) = &req.summary_model {
        check_model_name(m, "summary_model", is_known_provider)?;
    }
    check_choices(req)?;
    if let Some(schema) = &req.output_schema {
        if !schema.is_object() {
            return Err(ValidationError::new(
                "output_schema",
                "must be a JSON Schema object",
            ));
        }
        if let Err(e) = jsonschema::meta::validate(schema) {
            return Err(ValidationError::new(
                "output_schema",
                format!("is not a valid JSON Schema: {e}"),
            ));
        }
        if let Err(e) = jsonschema::validator_for(schema) {
            return Err(ValidationError::new(
                "output_schema",
                format!("is not a valid JSON Schema: {e}"),
            ));
        }
    }
    if req.max_retries() > MAX_MAX_RETRIES {
        return Err(ValidationError::new(
            "max_retries",
            format!(
                "{} is over the maximum of {MAX_MAX_RETRIES}",
                req.max_retries()
            ),
        ));
    }
    if req.timeout_ms() > MAX_TIMEOUT_MS {
        return Err(ValidationError::new(
            "timeout_ms",
            format!(
                "{} is over the maximum of {MAX_TIMEOUT_MS}",
                req.timeout_ms()
            ),
        ));
    }
    if req.timeout_ms() == 0 {
        return Err(ValidationError::new("timeout_ms", "must be at least 1"));
    }
    if let Some(cap) = req.max_cost
        && !(cap.is_finite() && cap > 0.0)
    {
        return Err(ValidationError::new(
            "max_cost",
            format!("must be a positive number of US dollars, not {cap}"),
        ));
    }
    match &req.previous_id {
        Some(id) if id.trim().is_empty() => {
            return Err(ValidationError::new(
                "previous_id",
                "must be the id of a run in the history (e.g. rt_…), not empty",
            ));
        }
        None if req.context.is_some() => {
            return Err(ValidationError::new(
                "context",
                "only a follow-up has earlier answers: give previous_id too",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// A request's `choices`, whatever its resolution: at most [`MAX_CHOICES`] of
/// at most [`MAX_CHOICE_BYTES`] each. Multiple choice needs two or more, none
/// empty and none twice (ignoring surrounding blanks and ASCII case).
fn check_choices(req: &RoundtableRequest) -> Result<(), ValidationError> {
    let choices = req.choices.as_deref().unwrap_or_default();
    if choices.len() > MAX_CHOICES {
        return Err(ValidationError::new(
            "choices",
            format!(
                "{} choices, over the maximum of {MAX_CHOICES}",
                choices.len()
            ),
        ));
    }
    if let Some(i) = choices.iter().position(|c| c.len() > MAX_CHOICE_BYTES) {
        return Err(ValidationError::new(
            format!("choices[{i}]"),
            format!(
                "is {} bytes, over the limit of {MAX_CHOICE_BYTES}",
                choices[i].len()
            ),
        ));
    }
    if req.resolution() != Resolution::MultipleChoice {
        return Ok(());
    }
    if choices.len() < 2 {
        return Err(ValidationError::new(
            "choices",
            "multiple_choice needs at least two choices",
        ));
    }
    if let Some(i) = choices.iter().position(|c| c.trim().is_empty()) {
        return Err(ValidationError::new(
            format!("choices[{i}]"),
            "must not be empty",
        ));
    }
    if let Some(i) = first_repeat(choices, |c| c.trim().to_ascii_lowercase()) {
        return Err(ValidationError::new(
            format!("choices[{i}]"),
            format!("'{}' appears twice", choices[i]),
        ));
    }
    Ok(())
}

/// The position of the first item whose `key` an earlier item has; `key` is
/// called once per item.
fn first_repeat(items: &[String], mut key: impl FnMut(&str) -> String) -> Option<usize> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().position(|c| !seen.insert(key(c)))
}

/// The one rule for a model's name, wherever one is given (a request's panel
/// and summary model, the default panel in `config.toml`): `provider/model`,
/// of a provider `is_known_provider` knows. The error names `field`.
pub fn check_model_name(
    name: &str,
    field: &str,
    is_known_provider: &dyn Fn(&str) -> bool,
) -> Result<(), ValidationError> {
    let Some((provider, _)) = split_model_name(name) else {
        return Err(ValidationError::new(
            field,
            format!("'{name}' is not provider/model (e.g. openai/gpt-4.1-mini)"),
        ));
    };
    if !is_known_provider(provider) {
        return Err(ValidationError::new(
            field,
            format!(
                "'{name}': unknown provider '{provider}' (add it under [providers.{provider}] in config.toml)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::ModelSpec;
    use serde_json::json;

    fn known(p: &str) -> bool {
        matches!(p, "openai" | "ollama")
    }

    fn base() -> RoundtableRequest {
        RoundtableRequest {
            input: "What is 2+2?".into(),
            models: vec![ModelSpec::named("openai/gpt-4.1-mini")],
            ..Default::default()
        }
    }

    fn field_of(req: RoundtableRequest) -> String {
        validate_request(&req, &known).unwrap_err().field
    }

    #[test]
    fn accepts_a_plain_request() {
        validate_request(&base(), &known).unwrap();
    }

    #[test]
    fn each_error_names_its_field() {
        let mut r = base();
        r.models.clear();
        assert_eq!(field_of(r), "models");

        let mut r = base();
        r.models.push(ModelSpec::named("nope/x"));
        let e = validate_request(&r, &known).unwrap_err();
        assert_eq!(e.field, "models[1].name");
        assert!(e.to_string().contains("unknown provider 'nope'"), "{e}");

        let mut r = base();
        r.models[0].name = "gpt-4o".into();
        assert_eq!(field_of(r), "models[0].name");

        let mut r = base();
        r.resolution = Some(Resolution::MultipleChoice);
        r.choices = Some(vec!["A".into()]);
        assert_eq!(field_of(r), "choices");

        let mut r = base();
        r.resolution = Some(Resolution::MultipleChoice);
        assert_eq!(field_of(r), "choices");

        let mut r = base();
        r.output_schema = Some(json!({"type": "no-such-type"}));
        assert_eq!(field_of(r), "output_schema");

        let mut r = base();
        r.output_schema = Some(json!("string"));
        assert_eq!(field_of(r), "output_schema");

        let mut r = base();
        r.max_retries = Some(4);
        assert_eq!(field_of(r), "max_retries");

        let mut r = base();
        r.timeout_ms = Some(300_001);
        assert_eq!(field_of(r), "timeout_ms");

        let mut r = base();
        r.models[0].temperature = Some(2.5);
        assert_eq!(field_of(r), "models[0].temperature");

        let mut r = base();
        r.models[0].top_p = Some(-0.1);
        assert_eq!(field_of(r), "models[0].top_p");

        let mut r = base();
        r.models[0].reasoning = Some("extreme".into());
        assert_eq!(field_of(r), "models[0].reasoning");

        let mut r = base();
        r.summary_model = Some("nope/x".into());
        assert_eq!(field_of(r), "summary_model");

        let mut r = base();
        r.input = "  ".into();
        assert_eq!(field_of(r), "input");

        for n in [0, MAX_SAMPLES + 1] {
            let mut r = base();
            r.models.push(ModelSpec::named("openai/gpt-4.1-mini"));
            r.models[1].samples = Some(n);
            assert_eq!(field_of(r), "models[1].samples");
        }
    }

    #[test]
    fn samples_expand_into_numbered_entries_once() {
        let mut r = base();
        r.models[0].samples = Some(MAX_SAMPLES);
        validate_request(&r, &known).unwrap();
        r.models[0].samples = Some(3);
        r.models[0].temperature = Some(0.7);
        r.models.push(ModelSpec::named("ollama/x"));
        assert_eq!(r.panel_size(), 4);
        let expanded = crate::contract::expand_samples(&r.models);
        let samples: Vec<_> = expanded.iter().map(|m| (m.sample, m.samples)).collect();
        assert_eq!(
            samples,
            [
                (Some(1), None),
                (Some(2), None),
                (Some(3), None),
                (None, None)
            ]
        );
        assert!(expanded[..3].iter().all(|m| m.temperature == Some(0.7)));
        assert_eq!(crate::contract::expand_samples(&expanded), expanded);
    }

    #[test]
    fn bounds_are_inclusive() {
        let mut r = base();
        r.max_retries = Some(3);
        r.timeout_ms = Some(300_000);
        r.models[0].temperature = Some(2.0);
        r.models[0].top_p = Some(1.0);
        validate_request(&r, &known).unwrap();
    }

    #[test]
    fn unknown_request_fields_are_tolerated() {
        let r: RoundtableRequest = serde_json::from_value(json!({
            "input": "hi", "models": [{"name": "openai/x", "future": 1}], "whatever": true
        }))
        .unwrap();
        validate_request(&r, &known).unwrap();
    }

    fn multiple_choice(choices: Vec<String>) -> RoundtableRequest {
        RoundtableRequest {
            resolution: Some(Resolution::MultipleChoice),
            choices: Some(choices),
            ..base()
        }
    }

    #[test]
    fn choices_are_limited_in_number_and_size_and_the_error_names_them() {
        // 1.9 MB of choices, under the local API's body limit: refused at once.
        let many: Vec<String> = (0..190_000).map(|i| format!("c{i:07}")).collect();
        let e = validate_request(&multiple_choice(many), &known).unwrap_err();
        assert_eq!(e.field, "choices");
        assert!(e.message.contains("190000 choices"), "{e}");
        assert!(e.message.contains(&MAX_CHOICES.to_string()), "{e}");

        let mut long = vec!["A".to_string(), "B".repeat(MAX_CHOICE_BYTES + 1)];
        let e = validate_request(&multiple_choice(long.clone()), &known).unwrap_err();
        assert_eq!(e.field, "choices[1]");
        assert!(e.message.contains("over the limit of 1000"), "{e}");
        // Whatever the resolution.
        let mut r = base();
        r.choices = Some(long.clone());
        assert_eq!(field_of(r), "choices[1]");

        long[1].truncate(MAX_CHOICE_BYTES);
        validate_request(&multiple_choice(long), &known).unwrap();
        let most: Vec<String> = (0..MAX_CHOICES)
            .map(|i| format!("{i:0width$}", width = MAX_CHOICE_BYTES))
            .collect();
        validate_request(&multiple_choice(most), &known).unwrap();
    }

    #[test]
    fn a_repeated_choice_is_found_with_one_key_per_choice() {
        let mut r = multiple_choice(vec!["Paris".into(), "Rome".into(), "  paris ".into()]);
        let e = validate_request(&r, &known).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("choices[2]", "'  paris ' appears twice")
        );
        r.choices = Some(vec!["Paris".into(), " ".into()]);
        assert_eq!(field_of(r), "choices[1]");

        // Linear: each item's key is made once, wherever the repeat is.
        let items: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
        let mut keys = 0;
        let none = first_repeat(&items, |c| {
            keys += 1;
            c.to_string()
        });
        assert_eq!((none, keys), (None, items.len()));
        let mut with_repeat = items.clone();
        with_repeat.push("0".into());
        assert_eq!(first_repeat(&with_repeat, str::to_string), Some(100_000));
    }
}
