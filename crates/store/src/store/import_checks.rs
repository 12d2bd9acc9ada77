//! What an imported run must be before it is written: every number that later
//! sizes something (a vote count drawn as a bar, an index into the answers, a
//! matrix's side), every index, every mark, in range. A document is untrusted:
//! the first thing wrong is an [`Error::Import`] naming the run and the field
//! (`run rt_1: meta.votes["A"]: 4000000000 is more than the run's 3 answers`).

use super::import::RunMarks;
use super::stars_tags::check_tag;
use super::votes::{check_ballot, check_judgement};
use crate::{Error, Result};
use roundtable_core::agreement::Agreement;
use roundtable_core::attachments::MAX_FILES;
use roundtable_core::resolution::claims::ClaimMatrix;
use roundtable_core::{MAX_SAMPLES, RoundtableRequest, RoundtableResponse, Usage};
use std::collections::HashSet;
use std::fmt::Display;

/// The largest token count, duration (ms) or file size an imported run may
/// give: 10^12, far past any real one, and small enough that sums over the
/// whole history stay exact.
pub const MAX_IMPORTED_COUNT: u64 = 1_000_000_000_000;
/// The latest time an imported run or mark may carry: 9999-12-31T23:59:59.999Z
/// (the earliest is 1970-01-01).
pub const MAX_IMPORTED_TIME_MS: i64 = 253_402_300_799_999;

/// The checks of one run, naming it in each error.
struct Check<'a> {
    id: &'a str,
}

impl Check<'_> {
    fn fail(&self, field: impl Display, message: impl Display) -> Error {
        Error::Import(format!("run {}: {field}: {message}", self.id))
    }

    fn count(&self, field: impl Display, n: u64) -> Result<()> {
        if n > MAX_IMPORTED_COUNT {
            return Err(self.fail(field, format!("{n} is over {MAX_IMPORTED_COUNT}")));
        }
        Ok(())
    }

    fn time(&self, field: impl Display, ms: i64) -> Result<()> {
        if !(0..=MAX_IMPORTED_TIME_MS).contains(&ms) {
            return Err(self.fail(
                field,
                format!("{ms} is not a time from 1970 to 9999 in unix milliseconds"),
            ));
        }
        Ok(())
    }

    fn cost(&self, field: impl Display, usd: f64) -> Result<()> {
        if !usd.is_finite() || usd < 0.0 {
            return Err(self.fail(field, format!("{usd} is not a cost (0 or more)")));
        }
        Ok(())
    }

    fn usage(&self, field: &str, u: &Usage) -> Result<()> {
        for (name, n) in [
            ("input_tokens", u.input_tokens),
            ("output_tokens", u.output_tokens),
            ("cache_read_tokens", u.cache_read_tokens),
            ("cache_creation_tokens", u.cache_creation_tokens),
            ("cache_creation_1h_tokens", u.cache_creation_1h_tokens),
            ("reasoning_tokens", u.reasoning_tokens),
            ("input_audio_tokens", u.input_audio_tokens),
            ("output_audio_tokens", u.output_audio_tokens),
            ("web_search_requests", u.web_search_requests),
            ("web_fetch_requests", u.web_fetch_requests),
        ] {
            self.count(format_args!("{field}.{name}"), n)?;
        }
        Ok(())
    }

    /// Positions in `model_results`, each below `n`.
    fn positions(&self, field: impl Display, at: &[usize], n: usize) -> Result<()> {
        match at.iter().find(|&&i| i >= n) {
            Some(i) => Err(self.fail(
                field,
                format!("{i} is not a position among the run's {n} model results"),
            )),
            None => Ok(()),
        }
    }
}

/// Checks one run to import (see the module).
pub(super) fn check_run(
    request: Option<&RoundtableRequest>,
    response: &RoundtableResponse,
    created_at_ms: Option<i64>,
    marks: &RunMarks,
) -> Result<()> {
    if response.id.trim().is_empty() {
        return Err(Error::Import("a run with an empty \"id\"".into()));
    }
    let c = Check { id: &response.id };
    if let Some(at) = created_at_ms {
        c.time("created_at_ms", at)?;
    }
    if let Some(request) = request {
        check_request(&c, request)?;
    }
    let panel = request.map_or(0, |q| {
        q.models
            .iter()
            .map(|m| m.samples().clamp(1, MAX_SAMPLES) as usize)
            .sum()
    });
    let indices = check_results(&c, response, panel)?;
    check_meta(&c, response)?;
    check_marks(&c, marks, &indices)
}

fn check_request(c: &Check<'_>, request: &RoundtableRequest) -> Result<()> {
    for (i, m) in request.models.iter().enumerate() {
        for (key, value) in [("samples", m.samples), ("sample", m.sample)] {
            if let Some(n) = value
                && !(1..=MAX_SAMPLES).contains(&n)
            {
                return Err(c.fail(
                    format_args!("request.models[{i}].{key}"),
                    format!("{n} is outside 1 to {MAX_SAMPLES}"),
                ));
            }
        }
    }
    if request.attachments.len() > MAX_FILES {
        return Err(c.fail(
            "request.attachments",
            format!(
                "{} files: at most {MAX_FILES} may be attached",
                request.attachments.len()
            ),
        ));
    }
    for (i, a) in request.attachments.iter().enumerate() {
        if let Some(size) = a.size {
            c.count(format_args!("request.attachments[{i}].size"), size)?;
        }
    }
    Ok(())
}

/// Each result's numbers, and its index below the panel's size and given
/// once; returns the indices.
fn check_results(
    c: &Check<'_>,
    response: &RoundtableResponse,
    panel: usize,
) -> Result<HashSet<u32>> {
    let results = &response.model_results;
    let panel = panel.max(results.len());
    let mut indices = HashSet::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        let field = |name: &str| format!("model_results[{i}].{name}");
        let index = u32::try_from(r.index).ok().filter(|_| r.index < panel);
        let Some(index) = index else {
            return Err(c.fail(
                field("index"),
                format!("{} is not below the panel's size ({panel})", r.index),
            ));
        };
        if !indices.insert(index) {
            return Err(c.fail(field("index"), format!("{index} is given twice")));
        }
        if let Some(n) = r.sample
            && !(1..=MAX_SAMPLES).contains(&n)
        {
            return Err(c.fail(
                field("sample"),
                format!("{n} is outside 1 to {MAX_SAMPLES}"),
            ));
        }
        c.cost(field("cost"), r.cost)?;
        c.count(field("duration_ms"), r.duration_ms)?;
        if let Some(q) = r.queued_ms {
            c.count(field("queued_ms"), q)?;
        }
        c.usage(&field("usage"), &r.usage)?;
    }
    Ok(indices)
}

fn check_meta(c: &Check<'_>, response: &RoundtableResponse) -> Result<()> {
    let meta = &response.meta;
    let n = response.model_results.len();
    c.cost("meta.total_cost", meta.total_cost)?;
    c.count("meta.total_duration_ms", meta.total_duration_ms)?;
    if let Some(u) = &meta.summary_usage {
        c.usage("meta.summary_usage", u)?;
    }
    if let Some(votes) = &meta.votes {
        let mut total: u64 = 0;
        for (choice, &count) in votes {
            if count as usize > n {
                return Err(c.fail(
                    format_args!("meta.votes[{choice:?}]"),
                    format!("{count} is more than the run's {n} model results"),
                ));
            }
            total += u64::from(count);
        }
        if total > n as u64 {
            return Err(c.fail(
                "meta.votes",
                format!("{total} votes in all, more than the run's {n} model results"),
            ));
        }
    }
    if let Some(a) = &meta.agreement {
        check_agreement(c, a, n)?;
    }
    if let Some(m) = &meta.claims {
        check_claims(c, m, n)?;
    }
    Ok(())
}

/// The agreement's indices are positions among the `n` results, its counts
/// at most `n`, its matrix square over its answers.
fn check_agreement(c: &Check<'_>, a: &Agreement, n: usize) -> Result<()> {
    if let Some(ch) = &a.choice {
        if ch.answers as usize > n || ch.votes > ch.answers {
            return Err(c.fail(
                "meta.agreement.choice",
                format!(
                    "{} votes of {} answers, in a run of {n} model results",
                    ch.votes, ch.answers
                ),
            ));
        }
        if !(0.0..=1.0).contains(&ch.share) {
            return Err(c.fail(
                "meta.agreement.choice.share",
                format!("{} is not 0 to 1", ch.share),
            ));
        }
    }
    if let Some(s) = &a.similarity {
        let k = s.results.len();
        c.positions("meta.agreement.similarity.results", &s.results, n)?;
        c.positions("meta.agreement.similarity.outliers", &s.outliers, n)?;
        if s.matrix.len() != k || s.mean.len() != k || s.matrix.iter().any(|row| row.len() != k) {
            return Err(c.fail(
                "meta.agreement.similarity.matrix",
                format!("not {k} by {k}, one row and one mean per answer compared"),
            ));
        }
    }
    if let Some(f) = &a.fields {
        c.positions("meta.agreement.fields.answers", &f.answers, n)?;
        c.positions("meta.agreement.fields.invalid", &f.invalid, n)?;
        for (i, row) in f.fields.iter().enumerate() {
            c.positions(
                format_args!("meta.agreement.fields.fields[{i}].missing"),
                &row.missing,
                n,
            )?;
            for (j, v) in row.values.iter().enumerate() {
                c.positions(
                    format_args!("meta.agreement.fields.fields[{i}].values[{j}].results"),
                    &v.results,
                    n,
                )?;
            }
        }
    }
    Ok(())
}

fn check_claims(c: &Check<'_>, m: &ClaimMatrix, n: usize) -> Result<()> {
    c.positions("meta.claims.results", &m.results, n)?;
    let k = m.results.len();
    if let Some(i) = m.claims.iter().position(|claim| claim.stances.len() != k) {
        return Err(c.fail(
            format_args!("meta.claims.claims[{i}].stances"),
            format!("not one stance for each of the {k} answers"),
        ));
    }
    Ok(())
}

/// Tags as tagging takes them; a vote and judgements that fit the run's
/// results, dated in range.
fn check_marks(c: &Check<'_>, marks: &RunMarks, indices: &HashSet<u32>) -> Result<()> {
    for (i, tag) in marks.tags.iter().enumerate() {
        check_tag(tag).map_err(|e| c.fail(format_args!("tags[{i}]"), e))?;
    }
    if let Some(vote) = &marks.verdicts.vote {
        check_ballot(&vote.ballot, indices).map_err(|e| c.fail("vote", e))?;
        c.time("vote.cast_at_ms", vote.cast_at_ms)?;
        if let Some(at) = vote.changed_at_ms {
            c.time("vote.changed_at_ms", at)?;
        }
    }
    for (i, j) in marks.verdicts.judgements.iter().enumerate() {
        let field = |name: &str| format!("judgements[{i}]{name}");
        if j.judge_model.trim().is_empty() {
            return Err(c.fail(field(".judge_model"), "empty"));
        }
        check_judgement(j, indices).map_err(|e| c.fail(field(""), e))?;
        c.cost(field(".cost"), j.cost)?;
        c.time(field(".judged_at_ms"), j.judged_at_ms)?;
    }
    Ok(())
}
