//! What a Claude model accepts, from its id: its version, how it thinks, whether
//! it takes sampling parameters and native structured output, its output limit,
//! and the thinking budget of each `reasoning` level.

use crate::providers::Dialect;

/// The smallest thinking budget Anthropic accepts.
const MIN_THINKING_BUDGET: u32 = 1024;

/// The `(major, minor)` version in a Claude model id: the first short number after
/// `claude-`, and the one after it when there is one (a trailing date is not a
/// version). `None` when the id has no version number.
pub fn claude_version(model: &str) -> Option<(u32, u32)> {
    let rest = &model[model.find("claude-")? + "claude-".len()..];
    let is_short_number =
        |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit());
    let mut tokens = rest.split(['-', '.', '@', ':']);
    let major = tokens.by_ref().find(|t| is_short_number(t))?.parse().ok()?;
    let minor = tokens
        .next()
        .filter(|t| is_short_number(t))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    Some((major, minor))
}

/// How a model thinks, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ThinkingForm {
    None,
    /// `thinking: {type: "enabled", budget_tokens}`.
    Budget,
    /// `thinking: {type: "adaptive"}` and `output_config.effort`.
    Adaptive,
}

/// What a model accepts, from its id and the server's dialect.
#[derive(Debug, Clone, Copy)]
pub(super) struct Profile {
    pub(super) thinking: ThinkingForm,
    /// Takes `temperature` / `top_p`.
    pub(super) sampling: bool,
    /// Takes `output_config.format`.
    pub(super) native_schema: bool,
    /// Takes `effort: "max"`.
    pub(super) max_effort: bool,
    /// Output token limit, when known.
    pub(super) max_output: Option<u32>,
}

/// A model this table does not know: a compatible server's, or an id without a
/// Claude version. What was asked for is sent, in the form every thinking model
/// takes, and the provider may refuse it.
const UNKNOWN: Profile = Profile {
    thinking: ThinkingForm::Budget,
    sampling: true,
    native_schema: false,
    max_effort: false,
    max_output: None,
};

pub(super) fn profile(model: &str, dialect: Dialect) -> Profile {
    if dialect != Dialect::Native {
        return UNKNOWN;
    }
    let Some(v) = claude_version(model) else {
        // An id without a Claude version (a gateway's alias, a model newer than
        // this table): what was asked for is sent, in the form every thinking
        // model takes, and the provider may refuse it; never dropped silently.
        return UNKNOWN;
    };
    let opus = model.contains("opus");
    let thinking = if v >= (4, 6) {
        ThinkingForm::Adaptive
    } else if v >= (3, 7) {
        ThinkingForm::Budget
    } else {
        ThinkingForm::None
    };
    let max_output = match v {
        (0..=2, _) | (3, 0..=4) => 4096,
        (3, 5..=6) => 8192,
        (4, 0..=1) if opus => 32000,
        _ => 64000,
    };
    Profile {
        thinking,
        sampling: v < (4, 7),
        native_schema: v >= (4, 5),
        max_effort: !model.contains("haiku"),
        max_output: Some(max_output),
    }
}

/// The thinking budget of a `reasoning` level.
pub fn thinking_budget(level: &str) -> u32 {
    match level {
        "low" => 2048,
        "medium" => 8192,
        "high" => 16384,
        _ => 32000,
    }
}

/// `max_tokens` and the thinking budget inside it: the budget plus the answer's
/// allowance, both shrunk to fit under the model's output limit.
pub(super) fn fit_thinking(answer: u32, budget: u32, cap: Option<u32>) -> (u32, u32) {
    let total = answer.saturating_add(budget);
    match cap {
        Some(cap) if total > cap => {
            let budget = budget
                .min(cap.saturating_sub(answer.min(cap / 2)))
                .max(MIN_THINKING_BUDGET)
                .min(cap.saturating_sub(1));
            (cap, budget)
        }
        _ => (total, budget),
    }
}
