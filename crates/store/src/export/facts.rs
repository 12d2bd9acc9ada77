//! What the Markdown and HTML exports say about a run beyond its texts, as plain
//! text, worded once for both: a model's label (`#2` when the panel has it more
//! than once) and options, its token counts, how its answer ended, its vote, the
//! summary's own time and cost, and why a run has no resolved answer.
//!
//! Everything returned here is plain, unescaped text (some of it comes from
//! models or the request): each format escapes it as it writes it.

use super::{fmt_cost, fmt_duration};
use crate::StoredRun;
use crate::{Attachment, ModelOutcome, ModelResult, ModelSpec, Resolution, RunStatus, Usage};
use roundtable_core::attachments::human_size;

/// How the window names a model of the panel (the CLI too, through
/// [`model_labels`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// `provider/model`.
    pub name: String,
    /// `Some(n)` when the same model appears more than once: shown as `#n`.
    pub sample: Option<usize>,
    /// `temperature 0.2`, `top p 0.9`, `max 512 tokens`, `reasoning high`.
    pub options: Vec<String>,
}

impl Label {
    /// `name #2`.
    pub fn name_and_sample(&self) -> String {
        match self.sample {
            Some(n) => format!("{} #{n}", self.name),
            None => self.name.clone(),
        }
    }

    /// `name #2 (temperature 0.2, top p 0.9)`.
    pub fn full(&self) -> String {
        if self.options.is_empty() {
            self.name_and_sample()
        } else {
            format!("{} ({})", self.name_and_sample(), self.options.join(", "))
        }
    }
}

/// The labels of the run's results, in their order: each one's options from the
/// request's model spec at its index, and its sample number among the panel's
/// models of the same name (as the desktop's cards number them). Without a
/// matching spec (a run imported without its request), the results themselves
/// are counted.
pub(crate) fn labels(run: &StoredRun) -> Vec<Label> {
    model_labels(&run.request.models, &run.response.model_results)
}

/// [`labels`] from a request's model specs and the results.
pub fn model_labels(specs: &[ModelSpec], results: &[ModelResult]) -> Vec<Label> {
    results
        .iter()
        .enumerate()
        .map(|(at, m)| {
            let spec = specs.get(m.index).filter(|s| s.name == m.model);
            let sample = match spec {
                Some(_) => ordinal(specs.iter().map(|s| s.name.as_str()), m.index, &m.model),
                None => ordinal(results.iter().map(|r| r.model.as_str()), at, &m.model),
            };
            Label {
                name: m.model.clone(),
                sample,
                options: spec.map(options).unwrap_or_default(),
            }
        })
        .collect()
}

/// Among `names`, the 1-based rank of position `at` among those equal to `name`,
/// when there are two or more of them.
fn ordinal<'a>(names: impl Iterator<Item = &'a str>, at: usize, name: &str) -> Option<usize> {
    let mut count = 0;
    let mut rank = None;
    for (i, n) in names.enumerate() {
        if n == name {
            count += 1;
            if i == at {
                rank = Some(count);
            }
        }
    }
    rank.filter(|_| count > 1)
}

/// A model spec's options, in the order the panel lists them.
pub(crate) fn options(spec: &ModelSpec) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = spec.temperature {
        out.push(format!("temperature {t}"));
    }
    if let Some(p) = spec.top_p {
        out.push(format!("top p {p}"));
    }
    if let Some(n) = spec.max_tokens {
        out.push(format!("max {n} tokens"));
    }
    if let Some(r) = spec.reasoning.as_deref().filter(|r| !r.is_empty()) {
        out.push(format!("reasoning {r}"));
    }
    out
}

/// Each attached file as `chart.png (image/png, 12 KB)`, in the request's order.
pub(crate) fn attachments(run: &StoredRun) -> Vec<String> {
    run.request.attachments.iter().map(attachment).collect()
}

/// `chart.png (image/png, 12 KB)`.
pub(crate) fn attachment(a: &Attachment) -> String {
    // A stored request has the size; one carrying its bytes, their length.
    let size = a.size.unwrap_or_else(|| {
        let padding = a.data.bytes().rev().take_while(|&b| b == b'=').count() as u64;
        (a.data.len() as u64 / 4 * 3).saturating_sub(padding)
    });
    format!("{} ({}, {})", a.name, a.media_type, human_size(size))
}

/// A model's time: `900 ms`, or `900 ms (after 2.1 s queued)` when it waited for
/// a free slot of its provider before its call started.
pub(crate) fn time(m: &ModelResult) -> String {
    match m.queued_ms.filter(|&q| q > 0) {
        Some(q) => format!(
            "{} (after {} queued)",
            fmt_duration(m.duration_ms),
            fmt_duration(q)
        ),
        None => fmt_duration(m.duration_ms),
    }
}

/// `120 in / 300 out tokens` (`~120 in / ~300 out tokens` when estimated);
/// `tokens not reported` when both are 0 although something was said (a 0 there
/// would be false); `None` when nothing was said and nothing counted.
pub(crate) fn tokens(u: &Usage, said_something: bool) -> Option<String> {
    if u.input_tokens == 0 && u.output_tokens == 0 {
        return said_something.then(|| "tokens not reported".to_string());
    }
    let t = if u.is_estimated() { "~" } else { "" };
    Some(format!(
        "{t}{} in / {t}{} out tokens",
        u.input_tokens, u.output_tokens
    ))
}

/// One token count for a table cell: `120`, `~120`, or `—` when not reported.
pub(crate) fn token_cell(u: &Usage, n: u64) -> String {
    if u.input_tokens == 0 && u.output_tokens == 0 {
        "—".to_string()
    } else if u.is_estimated() {
        format!("~{n}")
    } else {
        n.to_string()
    }
}

/// How a model's answer ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Answered,
    /// It failed (or was cancelled) after part of its answer had arrived: `data`
    /// is that part, not a full answer.
    Partial,
    Failed,
}

pub(crate) fn ending(m: &ModelResult) -> Ending {
    match &m.error {
        None => Ending::Answered,
        Some(_) if !m.data.trim().is_empty() => Ending::Partial,
        Some(_) => Ending::Failed,
    }
}

/// The short status of a model: `ok`, `failed`, `partial`, `cancelled`.
pub(crate) fn status_word(m: &ModelResult) -> &'static str {
    let cancelled = m.ended() == ModelOutcome::Cancelled;
    match ending(m) {
        Ending::Answered => "ok",
        Ending::Partial if cancelled => "cancelled, partial",
        Ending::Partial => "failed, partial",
        Ending::Failed if cancelled => "cancelled",
        Ending::Failed => "failed",
    }
}

/// The note above a partial answer.
pub(crate) fn partial_note(m: &ModelResult) -> &'static str {
    if m.ended() == ModelOutcome::Cancelled {
        "Partial answer: what had arrived when it was cancelled."
    } else {
        "Partial answer: what had arrived before it failed."
    }
}

/// In a multiple-choice run, how an answer was counted: `Some(Ok(choice))`, or
/// `Some(Err(why))` when it counted for nothing; `None` outside such runs and for
/// failed models (which do not vote).
pub(crate) fn ballot(run: &StoredRun, m: &ModelResult) -> Option<Result<String, &'static str>> {
    if run.response.meta.resolution != Resolution::MultipleChoice || m.error.is_some() {
        return None;
    }
    Some(match &m.vote {
        Some(v) => Ok(v.clone()),
        None => Err("off-list: not counted"),
    })
}

/// The votes per choice, every choice listed, with whether it won.
pub(crate) fn votes(run: &StoredRun) -> Option<Vec<(String, u32, bool)>> {
    let r = &run.response;
    let votes = r.meta.votes.as_ref()?;
    let winner = r.data.as_deref().filter(|d| !d.is_empty());
    Some(
        votes
            .iter()
            .map(|(c, &n)| (c.clone(), n, Some(c.as_str()) == winner))
            .collect(),
    )
}

/// A schema mark for an answer: `Some(Ok(()))` valid, `Some(Err(why))` invalid.
pub(crate) fn schema_mark(m: &ModelResult) -> Option<Result<(), String>> {
    match m.schema_valid? {
        true => Some(Ok(())),
        false => Some(Err(m
            .schema_error
            .clone()
            .unwrap_or_else(|| "does not match the schema".to_string()))),
    }
}

/// The consolidation's own figures, for the summary row.
pub(crate) struct SummaryFigures {
    pub model: String,
    pub usage: Usage,
    /// The run's cost less every model's: what the consolidation cost.
    pub cost: f64,
    /// The run's time less its slowest model's (its wait for a slot included):
    /// about how long the consolidation
    /// took (it starts once every model has answered); `None` when that says
    /// nothing (the figures of an imported run need not add up).
    pub approx_ms: Option<u64>,
    /// `ok`, `failed`, or `ok (fallback)` when another model wrote it.
    pub status: &'static str,
}

pub(crate) fn summary_figures(run: &StoredRun) -> Option<SummaryFigures> {
    let r = &run.response;
    let usage = r.meta.summary_usage.clone()?;
    let models_cost: f64 = r.model_results.iter().map(|m| m.cost).sum();
    let cost = r.meta.total_cost - models_cost;
    let total = Some(r.meta.total_duration_ms)
        .filter(|&ms| ms > 0)
        .or(run.summary.duration_ms);
    let slowest = r
        .model_results
        .iter()
        .map(|m| m.queued_ms.unwrap_or(0) + m.duration_ms)
        .max();
    let wrote = r.data.as_deref().is_some_and(|d| !d.trim().is_empty());
    Some(SummaryFigures {
        model: r
            .meta
            .summary_model
            .clone()
            .unwrap_or_else(|| "summary".into()),
        usage,
        cost: if cost > 1e-9 { cost } else { 0.0 },
        approx_ms: total
            .zip(slowest)
            .and_then(|(t, s)| t.checked_sub(s))
            .filter(|&ms| ms > 0),
        status: match (&r.meta.summary_error, wrote) {
            (None, _) => "ok",
            (Some(_), true) => "ok (fallback)",
            (Some(_), false) => "failed",
        },
    })
}

/// `~1.2 s · 900 in / 200 out tokens · $0.0020`.
pub(crate) fn summary_stats(f: &SummaryFigures) -> String {
    let mut stats = Vec::new();
    if let Some(ms) = f.approx_ms {
        stats.push(format!("~{}", fmt_duration(ms)));
    }
    stats.extend(tokens(&f.usage, true));
    stats.push(fmt_cost(f.cost));
    stats.join(" · ")
}

/// A note on a resolved answer that was written: why the summary model did not
/// write it (`meta.summary_error` set although there is an answer).
pub(crate) fn resolved_note(run: &StoredRun) -> Option<String> {
    let r = &run.response;
    let wrote = r.data.as_deref().is_some_and(|d| !d.trim().is_empty());
    r.meta.summary_error.clone().filter(|_| wrote)
}

/// Why there is no resolved answer, said plainly; `None` when there is one.
pub(crate) fn no_resolved_answer(run: &StoredRun) -> Option<String> {
    let r = &run.response;
    if r.data.as_deref().is_some_and(|d| !d.trim().is_empty()) {
        return None;
    }
    let answered = r.model_results.iter().any(|m| m.error.is_none());
    let resolution = r.meta.resolution;
    Some(match run.summary.status {
        RunStatus::Running => "the run had not finished when it was exported.".into(),
        RunStatus::Interrupted => "the run was cancelled before its answers were resolved.".into(),
        _ if !answered && r.model_results.is_empty() => "no model answered.".into(),
        _ if !answered => "every model failed, so there was nothing to resolve.".into(),
        _ => match (&r.meta.summary_error, resolution) {
            (Some(e), Resolution::Summary) => format!("the consolidation failed: {e}"),
            (Some(e), _) => format!("resolving failed: {e}"),
            (None, Resolution::Fast) => {
                "fast mode resolves nothing: each answer stands on its own.".into()
            }
            (None, Resolution::MultipleChoice) => {
                "no answer picked one of the listed choices.".into()
            }
            (None, Resolution::Summary) => "no resolved answer was recorded.".into(),
        },
    })
}

/// `None: why` as the whole sentence shown in place of the resolved answer.
pub(crate) fn none_because(why: &str) -> String {
    format!("No resolved answer: {why}")
}
