//! Where a run's answers agree (`meta.agreement`), in the Markdown and HTML
//! exports: the field table and consensus object of structured answers, the
//! similarity matrix of free-text answers, the winner's share of a
//! multiple-choice run. A run stored without an agreement gets it computed
//! here (the JSON export carries `meta.agreement` as stored; the history's
//! export fills it first, see `App::view_run`).
//!
//! The rows are worded once, as plain unescaped text (values come from
//! models): each format escapes them as it writes them.

use super::facts::Label;
use super::html::esc;
use super::inert::{one_line, push_block};
use crate::StoredRun;
use roundtable_core::agreement::{self, Agreement, Consensus};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The run's agreement: as stored, else computed from its answers.
pub fn of(run: &StoredRun) -> Option<Cow<'_, Agreement>> {
    match run.response.meta.agreement.as_deref() {
        Some(a) => Some(Cow::Borrowed(a)),
        None => agreement::compute(&run.request, &run.response).map(Cow::Owned),
    }
}

/// One field of the table: pointer, majority value (or `no majority`), share,
/// who gives another value or none.
struct FieldRow {
    pointer: String,
    majority: String,
    share: String,
    differs: String,
}

fn field_rows(a: &Agreement, labels: &[Label]) -> Vec<FieldRow> {
    let Some(t) = &a.fields else {
        return Vec::new();
    };
    let names = |ats: &[usize]| -> String {
        ats.iter()
            .map(|&i| name(labels, i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    t.fields
        .iter()
        .map(|f| {
            let held = f.values.first().map_or(0, |v| v.results.len());
            let mut differs: Vec<String> = f
                .values
                .iter()
                .skip(usize::from(f.majority.is_some()))
                .map(|v| format!("{}: {}", names(&v.results), v.value))
                .collect();
            if !f.missing.is_empty() {
                differs.push(format!("{}: missing", names(&f.missing)));
            }
            FieldRow {
                pointer: f.pointer.clone(),
                majority: f
                    .majority
                    .as_ref()
                    .map_or_else(|| "no majority".to_string(), |v| v.to_string()),
                share: format!("{held}/{} ({:.0} %)", t.answers.len(), f.share * 100.0),
                differs: differs.join("; "),
            }
        })
        .collect()
}

/// How the result at `at` is named (`name #2`), `#at` without a label.
pub(super) fn name(labels: &[Label], at: usize) -> String {
    labels
        .get(at)
        .map_or_else(|| format!("#{at}"), Label::name_and_sample)
}

/// `Paris: 3 of 4 answers (75 %)`.
fn choice_line(a: &Agreement) -> Option<String> {
    let c = a.choice.as_ref()?;
    let tied = if c.tied { ", tied" } else { "" };
    Some(format!(
        "{}: {} of {} answers ({:.0} %{tied})",
        c.choice,
        c.votes,
        c.answers,
        c.share * 100.0
    ))
}

/// After "Consensus object": the fields left out (or nothing), and the object
/// as pretty JSON.
fn consensus_parts(c: &Consensus) -> (String, String) {
    let left_out = if c.no_majority.is_empty() {
        String::new()
    } else {
        format!(" (no majority, left out: {})", c.no_majority.join(", "))
    };
    let pretty = serde_json::to_string_pretty(&c.object).expect("JSON serialises");
    (left_out, pretty)
}

/// A fence of backticks longer than any run of them in `text`.
fn fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// The Markdown section, `### Agreement`.
pub(super) fn markdown(out: &mut String, run: &StoredRun, labels: &[Label], escape_all: bool) {
    let Some(a) = of(run) else {
        return;
    };
    let _ = writeln!(out, "### Agreement\n");
    if let Some(line) = choice_line(&a) {
        let _ = writeln!(out, "**Winner's share:** {}\n", one_line(&line));
    }
    let cell = |s: &str| one_line(s).replace('|', "\\|");
    if let Some(t) = &a.fields {
        if !t.invalid.is_empty() {
            let who: Vec<String> = t.invalid.iter().map(|&i| name(labels, i)).collect();
            let _ = writeln!(out, "_Not valid JSON: {}_\n", cell(&who.join(", ")));
        }
        if let Some(left) = &t.truncated {
            let _ = writeln!(out, "_{left}_\n");
        }
        out.push_str("| Field | Majority value | Share | Differs |\n| --- | --- | --- | --- |\n");
        for r in field_rows(&a, labels) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&r.pointer),
                cell(&r.majority),
                r.share,
                cell(&r.differs)
            );
        }
        out.push('\n');
    }
    if let Some(c) = &a.consensus {
        let (left_out, pretty) = consensus_parts(c);
        let _ = write!(out, "**Consensus object**{}\n\n", cell(&left_out));
        let f = fence(&pretty);
        push_block(out, &format!("{f}json\n{pretty}\n{f}"), escape_all);
    }
    if let Some(s) = &a.similarity {
        out.push_str("Similarity of the answers (0 to 1):\n\n| | ");
        let header: Vec<String> = (0..s.results.len())
            .map(roundtable_core::resolution::label)
            .collect();
        let _ = writeln!(out, "{} | Mean |", header.join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(header.len() + 2));
        for (i, row) in s.matrix.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:.2}")).collect();
            let outlier = if s.outliers.contains(&s.results[i]) {
                " (outlier)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| {} {}{outlier} | {} | {:.2} |",
                header[i],
                cell(&name(labels, s.results[i])),
                cells.join(" | "),
                s.mean[i]
            );
        }
        out.push('\n');
    }
}

/// The HTML section: a heading and tables, every value escaped.
pub(super) fn html(out: &mut String, run: &StoredRun, labels: &[Label]) {
    let Some(a) = of(run) else {
        return;
    };
    out.push_str("<h3>Agreement</h3>\n");
    if let Some(line) = choice_line(&a) {
        let _ = writeln!(out, "<p class=\"marks\">Winner's share: {}</p>", esc(&line));
    }
    if let Some(t) = &a.fields {
        if !t.invalid.is_empty() {
            let who: Vec<String> = t.invalid.iter().map(|&i| name(labels, i)).collect();
            let _ = writeln!(
                out,
                "<p class=\"note\">Not valid JSON: {}</p>",
                esc(&who.join(", "))
            );
        }
        if let Some(left) = &t.truncated {
            let _ = writeln!(out, "<p class=\"note\">{left}</p>");
        }
        out.push_str(
            "<table class=\"fields\">\n<thead><tr><th>Field</th><th>Majority value</th>\
             <th class=\"n\">Share</th><th>Differs</th></tr></thead>\n<tbody>\n",
        );
        for r in field_rows(&a, labels) {
            let class = if r.majority == "no majority" {
                " class=\"split\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "<tr{class}><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td>\
                 <td>{}</td></tr>",
                esc(&r.pointer),
                esc(&r.majority),
                esc(&r.share),
                esc(&r.differs)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    if let Some(c) = &a.consensus {
        let (left_out, pretty) = consensus_parts(c);
        let _ = writeln!(
            out,
            "<p class=\"stats\">Consensus object{}</p>\n<pre><code>{}</code></pre>",
            esc(&left_out),
            esc(&pretty)
        );
    }
    if let Some(s) = &a.similarity {
        out.push_str(
            "<table class=\"similarity\">\n<caption>Similarity of the answers (0 to 1)</caption>\n\
             <thead><tr><th></th>",
        );
        let header: Vec<String> = (0..s.results.len())
            .map(roundtable_core::resolution::label)
            .collect();
        for h in &header {
            let _ = write!(out, "<th class=\"n\">{h}</th>");
        }
        out.push_str("<th class=\"n\">Mean</th></tr></thead>\n<tbody>\n");
        for (i, row) in s.matrix.iter().enumerate() {
            let outlier = s.outliers.contains(&s.results[i]);
            let _ = write!(
                out,
                "<tr{}><th>{} {}{}</th>",
                if outlier { " class=\"split\"" } else { "" },
                header[i],
                esc(&name(labels, s.results[i])),
                if outlier { " (outlier)" } else { "" }
            );
            for (j, v) in row.iter().enumerate() {
                // The shade of a cell (`sim0` to `sim4`) says how alike the two
                // answers are.
                let shade = if i == j {
                    0
                } else {
                    ((v * 5.0) as usize).min(4)
                };
                let _ = write!(out, "<td class=\"n sim{shade}\">{v:.2}</td>");
            }
            let _ = writeln!(out, "<td class=\"n\">{:.2}</td></tr>", s.mean[i]);
        }
        out.push_str("</tbody>\n</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::fence;

    #[test]
    fn a_fence_outruns_the_backticks_inside() {
        assert_eq!(fence("{}"), "```");
        assert_eq!(fence("\"a ```` b\""), "`````");
    }
}
