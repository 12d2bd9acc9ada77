//! What a Gemini model accepts, from its id: its version, how its thinking is
//! configured (a budget or a level), and the budget or level of each `reasoning`
//! level.

use crate::providers::Dialect;

/// The most output tokens a thinking budget is allowed to raise the limit to.
pub(super) const MAX_OUTPUT_TOKENS: u32 = 65536;

pub(super) fn model_id(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// Whether `word` is one of the dash-separated words of a model id (`pro` in
/// `gemini-2.5-pro`, not in `…-preview`).
fn has_word(model: &str, word: &str) -> bool {
    model.split('-').any(|w| w == word)
}

/// The `(major, minor)` version in a Gemini model id (`gemini-2.5-flash` is 2.5,
/// `gemini-3-pro-preview` 3.0); `None` when it has none (`gemini-flash-latest`).
pub fn gemini_version(model: &str) -> Option<(u32, u32)> {
    let rest = &model[model.find("gemini-")? + "gemini-".len()..];
    let token = rest.split('-').next()?;
    let (major, minor) = token.split_once('.').unwrap_or((token, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// How a model's thinking is configured, if it can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ThinkingForm {
    None,
    Budget,
    Level,
}

pub(super) fn thinking_form(model: &str, dialect: Dialect) -> ThinkingForm {
    if dialect != Dialect::Native {
        return ThinkingForm::Budget;
    }
    match gemini_version(model) {
        Some(v) if v >= (3, 0) => ThinkingForm::Level,
        Some(v) if v >= (2, 5) => ThinkingForm::Budget,
        _ => ThinkingForm::None,
    }
}

/// The `thinkingBudget` of a `reasoning` level for `model`.
pub fn thinking_budget(model: &str, level: &str) -> u32 {
    match level {
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ if has_word(model, "pro") => 32768,
        _ => 24576,
    }
}

/// The `thinkingLevel` of a `reasoning` level for a Gemini 3 model: Pro models
/// take `low` and `high` only.
pub fn thinking_level(model: &str, level: &str) -> &'static str {
    match level {
        "low" => "low",
        "medium" if has_word(model, "flash") => "medium",
        _ => "high",
    }
}
