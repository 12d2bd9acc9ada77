//! What an OpenAI model accepts, from its id: whether it reasons (and then
//! refuses sampling parameters), and the effort of each `reasoning` level.

/// Whether an official OpenAI model takes `reasoning_effort` (and refuses
/// `temperature`/`top_p`): the o-series, and gpt-5 onwards but their `-chat`
/// variants.
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    let o_series = m.starts_with('o') && m[1..].starts_with(|c: char| c.is_ascii_digit());
    let generation: Option<u32> = m
        .strip_prefix("gpt-")
        .and_then(|rest| rest.split(['.', '-']).next())
        .and_then(|n| n.parse().ok());
    o_series || generation.is_some_and(|g| g >= 5) && !m.contains("-chat")
}

/// `low`/`medium`/`high`/`max` as OpenAI's `reasoning_effort`.
pub fn reasoning_effort(level: &str) -> &'static str {
    match level {
        "low" => "low",
        "medium" => "medium",
        _ => "high",
    }
}
