//! Markdown export.

use super::facts::{self, Ending, Label};
use super::inert::{is_inert, one_line, push_block};
use super::{fmt_cost, fmt_duration};
use crate::StoredRun;
use std::fmt::Write as _;

/// The runs as one Markdown document: per run its prompt (and the names, types
/// and sizes of its attached files), each model's answer under
/// its name with time, tokens and cost (a failed one with its error), then the
/// resolved answer. Answers keep their Markdown, but HTML outside code is escaped
/// (`<` as `&lt;`), so nothing from a model is live HTML when the file is rendered.
pub fn to_markdown(runs: &[StoredRun]) -> String {
    let doc = document(runs, false);
    if is_inert(&doc) {
        return doc;
    }
    // Belt and braces: should the pieces combine into something live, escape
    // everything, code included.
    document(runs, true)
}

fn document(runs: &[StoredRun], escape_all: bool) -> String {
    let mut out = String::from("# Roundtable export\n\n");
    for run in runs {
        write_run(&mut out, run, escape_all);
    }
    out
}

fn write_run(out: &mut String, run: &StoredRun, escape_all: bool) {
    let push_block = |out: &mut String, text: &str| push_block(out, text, escape_all);
    let s = &run.summary;
    let r = &run.response;
    let _ = writeln!(out, "## Run {}\n", one_line(&s.id));
    let mut lines = vec![
        format!("**Date:** {}", s.created_at),
        format!("**Status:** {}", s.status),
        format!("**Resolution:** {}", s.resolution),
        format!("**Cost:** {}", fmt_cost(s.total_cost)),
    ];
    if let Some(ms) = s.duration_ms {
        lines.push(format!("**Time:** {}", fmt_duration(ms)));
    }
    if !s.tags.is_empty() {
        lines.push(format!("**Tags:** {}", one_line(&s.tags.join(", "))));
    }
    if let Some(p) = &s.parent_id {
        let kind = s.parent_kind.map(|k| k.as_str()).unwrap_or("from");
        lines.push(format!("**{kind}:** {}", one_line(p)));
    }
    for f in lines {
        let _ = writeln!(out, "- {f}");
    }
    out.push('\n');

    let _ = writeln!(out, "### Prompt\n");
    push_block(out, &run.request.input);
    if let Some(i) = run
        .request
        .instructions
        .as_deref()
        .filter(|i| !i.is_empty())
    {
        let _ = writeln!(out, "### Instructions\n");
        push_block(out, i);
    }
    let attached = facts::attachments(run);
    if !attached.is_empty() {
        let _ = writeln!(out, "### Attachments\n");
        for a in attached {
            let _ = writeln!(out, "- {}", one_line(&a));
        }
        out.push('\n');
    }

    let labels = facts::labels(run);
    let _ = writeln!(out, "### Answers\n");
    if r.model_results.is_empty() {
        out.push_str("_No answer was recorded._\n\n");
    }
    for (m, label) in r.model_results.iter().zip(&labels) {
        let ending = facts::ending(m);
        let mut stats = vec![facts::time(m)];
        stats.extend(facts::tokens(&m.usage, ending != Ending::Failed));
        stats.push(fmt_cost(m.cost));
        let status = match ending {
            Ending::Answered => String::new(),
            _ => format!(" ({})", facts::status_word(m)),
        };
        let _ = writeln!(
            out,
            "#### {}{status} — {}\n",
            one_line(&label.name_and_sample()),
            stats.join(" · ")
        );
        let mut marks = Vec::new();
        if !label.options.is_empty() {
            marks.push(format!(
                "**Options:** {}",
                one_line(&label.options.join(", "))
            ));
        }
        match facts::ballot(run, m) {
            Some(Ok(v)) => marks.push(format!("**Vote:** {}", one_line(&v))),
            Some(Err(why)) => marks.push(format!("**Vote:** none ({why})")),
            None => {}
        }
        match facts::schema_mark(m) {
            Some(Ok(())) => marks.push("**Schema:** valid".to_string()),
            Some(Err(e)) => marks.push(format!("**Schema:** invalid: {}", one_line(&e))),
            None => {}
        }
        if let Some(e) = &m.error {
            marks.push(format!("**Error:** {}", one_line(e)));
        }
        if ending == Ending::Partial {
            marks.push(format!("_{}_", facts::partial_note(m)));
        }
        if !marks.is_empty() {
            out.push_str(&marks.join("\\\n"));
            out.push_str("\n\n");
        }
        if ending != Ending::Failed {
            push_block(out, &m.data);
        }
    }

    if let Some(votes) = facts::votes(run) {
        let _ = writeln!(out, "### Votes\n");
        for (choice, n, won) in votes {
            let won = if won { " **(chosen)**" } else { "" };
            let _ = writeln!(out, "- {}: {n}{won}", one_line(&choice));
        }
        out.push('\n');
    }

    let _ = writeln!(out, "### Resolved answer\n");
    if let Some(f) = facts::summary_figures(run) {
        let _ = writeln!(
            out,
            "_By {} ({}) — {}_\n",
            one_line(&f.model),
            f.status,
            facts::summary_stats(&f)
        );
    }
    if let Some(note) = facts::resolved_note(run) {
        let _ = writeln!(out, "_Note: {}_\n", one_line(&note));
    }
    if run.response.meta.schema_valid == Some(false) {
        out.push_str("**Schema:** invalid\n\n");
    } else if run.response.meta.schema_valid == Some(true) {
        out.push_str("**Schema:** valid\n\n");
    }
    match facts::no_resolved_answer(run) {
        Some(why) => {
            let _ = writeln!(out, "_{}_\n", one_line(&facts::none_because(&why)));
        }
        None => push_block(out, r.data.as_deref().unwrap_or_default()),
    }
    super::agreement::markdown(out, run, &labels, escape_all);
    super::claims::markdown(out, run, &labels);
    per_model_table(out, run, &labels);
    out.push_str("---\n\n");
}

/// Time, tokens and cost per model, and the summary's, as a table.
fn per_model_table(out: &mut String, run: &StoredRun, labels: &[Label]) {
    let r = &run.response;
    if r.model_results.is_empty() {
        return;
    }
    let cell = |s: &str| one_line(s).replace('|', "\\|");
    out.push_str(
        "### Per model\n\n| Model | Status | Time | Input tokens | Output tokens | Cost |\n",
    );
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for (m, label) in r.model_results.iter().zip(labels) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&label.full()),
            facts::status_word(m),
            facts::time(m),
            facts::token_cell(&m.usage, m.usage.input_tokens),
            facts::token_cell(&m.usage, m.usage.output_tokens),
            fmt_cost(m.cost)
        );
    }
    if let Some(f) = facts::summary_figures(run) {
        let _ = writeln!(
            out,
            "| {} (summary) | {} | {} | {} | {} | {} |",
            cell(&f.model),
            f.status,
            f.approx_ms
                .map(|ms| format!("~{}", fmt_duration(ms)))
                .unwrap_or_default(),
            facts::token_cell(&f.usage, f.usage.input_tokens),
            facts::token_cell(&f.usage, f.usage.output_tokens),
            fmt_cost(f.cost)
        );
    }
    let s = &run.summary;
    let _ = writeln!(
        out,
        "| **Total** | | {} | | | {} |\n",
        s.duration_ms.map(fmt_duration).unwrap_or_default(),
        fmt_cost(s.total_cost)
    );
}
