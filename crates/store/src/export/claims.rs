//! The claims matrix of a `consensus` run (`meta.claims`) in the Markdown and
//! HTML exports: the run's agreement rate, then each claim with its kind and
//! every answer's stance (✓ supports, ✗ contradicts, · silent); or why there is
//! none (`meta.claims_error`). Claims come from a model: every format escapes
//! them as it writes them.

use super::agreement::name;
use super::facts::Label;
use super::html::esc;
use super::inert::one_line;
use crate::StoredRun;
use roundtable_core::resolution::claims::{ClaimKind, ClaimMatrix, Stance};
use std::fmt::Write as _;

fn mark(s: Stance) -> &'static str {
    match s {
        Stance::Supports => "✓",
        Stance::Contradicts => "✗",
        Stance::Silent => "·",
    }
}

fn kind(k: ClaimKind) -> &'static str {
    match k {
        ClaimKind::Unanimous => "unanimous",
        ClaimKind::Majority => "majority",
        ClaimKind::Minority => "minority",
        ClaimKind::Contested => "contested",
    }
}

fn heading(m: &ClaimMatrix) -> String {
    let uncontested = m
        .claims
        .iter()
        .filter(|c| c.kind != ClaimKind::Contested)
        .count();
    format!(
        "Claims: agreement {:.0} % ({uncontested} of {} uncontested)",
        m.agreement_rate * 100.0,
        m.claims.len()
    )
}

/// The Markdown section, `### Claims`.
pub(super) fn markdown(out: &mut String, run: &StoredRun, labels: &[Label]) {
    let meta = &run.response.meta;
    if let Some(e) = &meta.claims_error {
        let _ = writeln!(out, "_No claims matrix: {}_\n", one_line(e));
    }
    let Some(m) = meta.claims.as_deref() else {
        return;
    };
    let cell = |s: &str| one_line(s).replace('|', "\\|");
    let _ = writeln!(out, "### {}\n", heading(m));
    let names: Vec<String> = m.results.iter().map(|&i| cell(&name(labels, i))).collect();
    let _ = writeln!(out, "| Claim | Kind | {} |", names.join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(names.len() + 2));
    for c in &m.claims {
        let marks: Vec<&str> = c.stances.iter().map(|s| mark(*s)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&c.text),
            kind(c.kind),
            marks.join(" | ")
        );
    }
    out.push('\n');
}

/// The HTML section: a heading and a table, every value escaped.
pub(super) fn html(out: &mut String, run: &StoredRun, labels: &[Label]) {
    let meta = &run.response.meta;
    if let Some(e) = &meta.claims_error {
        let _ = writeln!(out, "<p class=\"note\">No claims matrix: {}</p>", esc(e));
    }
    let Some(m) = meta.claims.as_deref() else {
        return;
    };
    let _ = writeln!(
        out,
        "<h3>{}</h3>\n<table class=\"claims\">\n<thead><tr><th>Claim</th><th>Kind</th>",
        esc(&heading(m))
    );
    for &i in &m.results {
        let _ = write!(out, "<th class=\"n\">{}</th>", esc(&name(labels, i)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for c in &m.claims {
        let class = if c.kind == ClaimKind::Contested {
            " class=\"split\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr{class}><td>{}</td><td>{}</td>",
            esc(&c.text),
            kind(c.kind)
        );
        for s in &c.stances {
            let _ = write!(out, "<td class=\"n\">{}</td>", mark(*s));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The CSV cells of the result at `at`: how many claims it supports and
/// contradicts (empty without a matrix, or when it is not among its answers).
pub(super) fn csv_cells(run: &StoredRun, at: usize) -> [String; 2] {
    let Some(m) = run.response.meta.claims.as_deref() else {
        return Default::default();
    };
    let Some(k) = m.results.iter().position(|&r| r == at) else {
        return Default::default();
    };
    let count = |s: Stance| {
        m.claims
            .iter()
            .filter(|c| c.stances.get(k) == Some(&s))
            .count()
            .to_string()
    };
    [count(Stance::Supports), count(Stance::Contradicts)]
}
