//! Output for people: the answers on stdout, after the live progress on stderr
//! (`progress.rs`). Colour only on a terminal, and never with `NO_COLOR`.
//!
//! Everything printed for people that Roundtable did not write itself (answers,
//! thinking, provider errors, model and provider names, stored runs) goes
//! through [`clean`] first: a model's answer must not be able to write the
//! clipboard (OSC 52), clear the screen, move the cursor or fake a prompt.
//! `--json` output is left exact (JSON escapes control characters itself).

use console::{Style, style};
use roundtable_app::core::attachments::human_size;
use roundtable_app::core::{
    ModelResult, ModelSpec, Resolution, RoundtableResponse, RunStatus, VoteRead,
};
use roundtable_app::store::StoredRun;
use roundtable_app::store::export::{Label, model_labels};
use std::borrow::Cow;
use std::io::IsTerminal;

/// Whether `c` can reach a terminal as is: anything but a control character,
/// except a newline and a tab.
fn passes(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// `text` made safe to print on a terminal: escape sequences (CSI, OSC, DCS,
/// …) are removed whole by a terminal's own parser (`vte`, through
/// `strip-ansi-escapes`), carriage returns with them; any control character
/// left (C0, DEL, C1) is shown as `\u{..}` instead of acting. Newlines and tabs
/// are kept.
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().all(passes) {
        return Cow::Borrowed(text);
    }
    // Tabs are kept by stripping around them (the parser drops them).
    let stripped: Vec<String> = text
        .split('\t')
        .map(strip_ansi_escapes::strip_str)
        .collect();
    let mut out = String::with_capacity(text.len());
    for c in stripped.join("\t").chars() {
        if passes(c) {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// A failure's message on stderr, after `error:`.
pub fn failure(message: &str) {
    eprintln!("{} {}", error_label(), clean(message));
}

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

pub fn init_colours() {
    console::set_colors_enabled(!no_color() && std::io::stdout().is_terminal());
    console::set_colors_enabled_stderr(stderr_colours());
}

pub fn stderr_colours() -> bool {
    !no_color() && std::io::stderr().is_terminal()
}

pub fn error_label() -> console::StyledObject<&'static str> {
    style("error:").for_stderr().red().bold()
}

pub fn cost(c: f64) -> String {
    if c == 0.0 {
        "$0".into()
    } else if c < 0.01 {
        format!("${c:.5}")
    } else {
        format!("${c:.4}")
    }
}

pub fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

pub fn tokens(r: &ModelResult) -> String {
    // "~" marks counts estimated from the text: the provider reported none.
    let about = if r.usage.is_estimated() { "~" } else { "" };
    format!(
        "{about}{}→{about}{} tok",
        r.usage.input_tokens, r.usage.output_tokens
    )
}

/// How each model of `panel` is named, as the window's cards name it: `#2` when
/// it appears more than once, and its options (`temperature 0.2`, …).
pub fn panel_labels(panel: &[ModelSpec]) -> Vec<Label> {
    let slots: Vec<ModelResult> = panel
        .iter()
        .enumerate()
        .map(|(index, s)| ModelResult {
            index,
            model: s.name.clone(),
            ..Default::default()
        })
        .collect();
    model_labels(panel, &slots)
}

fn rule(title: &str, s: &Style) {
    println!("\n{}", s.apply_to(format!("── {title} ")));
}

/// A finished run, for people.
/// `panel` is the request's models, for each one's `#n` and options.
pub fn response(r: &RoundtableResponse, panel: &[ModelSpec], status: RunStatus) {
    let heading = Style::new().bold().cyan();
    let labels = model_labels(panel, &r.model_results);
    for (m, label) in r.model_results.iter().zip(&labels) {
        let mut facts = vec![seconds(m.duration_ms), tokens(m), cost(m.cost)];
        if let Some(a) = m.attempts.filter(|&a| a > 1) {
            facts.push(format!("{a} attempts"));
        }
        if let Some(v) = &m.vote {
            match m.vote_read {
                Some(VoteRead::Prose) => facts.push(format!("vote: {} (from prose)", clean(v))),
                _ => facts.push(format!("vote: {}", clean(v))),
            }
        }
        if let Some(valid) = m.schema_valid {
            facts.push(if valid {
                "schema ✓".into()
            } else {
                "schema ✗".into()
            });
        }
        if m.schema_fallback == Some(true) {
            facts.push("JSON mode (the server refused JSON Schema)".into());
        }
        if let Some(q) = m.queued_ms {
            facts.push(format!("waited {} for a slot", seconds(q)));
        }
        rule(
            &format!("{} · {}", clean(&label.full()), facts.join(" · ")),
            &heading,
        );
        if let Some(e) = &m.error {
            println!("{}", style(format!("failed: {}", clean(e))).red());
            if !m.data.is_empty() {
                println!("{}", style("(partial answer)").dim());
            }
        }
        if !m.data.is_empty() {
            println!("{}", clean(m.data.trim_end()));
        }
        if let Some(e) = &m.schema_error {
            println!(
                "{}",
                style(format!("not valid against the schema: {}", clean(e))).yellow()
            );
        }
    }
    let resolved = Style::new().bold().green();
    match r.meta.resolution {
        Resolution::Fast => {}
        Resolution::MultipleChoice => {
            rule("Vote", &resolved);
            if let Some(votes) = &r.meta.votes {
                let total: u32 = votes.values().sum();
                for (choice, n) in votes {
                    let bar = "█".repeat(*n as usize);
                    println!("{:>20}  {bar} {n}", clean(choice));
                }
                let off = r
                    .model_results
                    .iter()
                    .filter(|m| m.succeeded() && m.vote.is_none())
                    .count();
                if off > 0 {
                    println!(
                        "{}",
                        style(format!(
                            "{off} answer(s) matched no choice and were not counted"
                        ))
                        .dim()
                    );
                }
                if total == 0 {
                    println!("{}", style("no answer matched a choice").yellow());
                }
            }
            if let Some(d) = r.data.as_deref().filter(|d| !d.is_empty()) {
                println!("{} {}", style("Winner:").bold(), clean(d));
            }
        }
        Resolution::Summary => match (&r.meta.summary_model, r.data.as_deref()) {
            (None, _) => {
                let why = if status == RunStatus::Interrupted {
                    "No resolved answer: the run was cancelled."
                } else {
                    "No resolved answer: no model answered, so there was nothing to consolidate."
                };
                println!("\n{}", style(why).yellow());
            }
            (Some(by), data) => {
                rule(
                    &format!("Resolved answer · summary by {}", clean(by)),
                    &resolved,
                );
                let written = data.filter(|d| !d.is_empty());
                if let Some(e) = &r.meta.summary_error {
                    // Said as a note when another model wrote the summary.
                    let e = clean(e);
                    match written {
                        Some(_) => println!("{}", style(format!("note: {e}")).yellow()),
                        None => {
                            println!("{}", style(format!("the consolidation failed: {e}")).red())
                        }
                    }
                }
                if let Some(d) = written {
                    println!("{}", clean(d.trim_end()));
                }
                crate::claims::print(&r.meta, &labels);
            }
        },
    }
    crate::agreement::print(&r.meta, &labels);
    let ok = r.meta.models_used.len();
    let n = r.model_results.len();
    let mut line = format!(
        "{ok}/{n} models answered · {} · {} · {}",
        seconds(r.meta.total_duration_ms),
        cost(r.meta.total_cost),
        clean(&r.id)
    );
    if status == RunStatus::Interrupted {
        line.push_str(" · cancelled");
    }
    println!("\n{}", style(line).dim());
}

/// A stored run: its prompt, when and how it ran, the files attached to it,
/// then as [`response`].
pub fn stored_run(run: &StoredRun) {
    println!("{}", style(clean(&run.summary.input)).bold());
    println!(
        "{}",
        style(format!(
            "{} · {} · {}",
            clean(&run.summary.created_at),
            run.summary.status,
            run.summary.resolution
        ))
        .dim()
    );
    if !run.request.attachments.is_empty() {
        println!("Attachments:");
        for a in &run.request.attachments {
            let size = a.size.map(human_size).unwrap_or_default();
            println!(
                "  {} {}",
                clean(&a.name),
                style(format!("({}, {size})", clean(&a.media_type))).dim()
            );
        }
    }
    response(&run.response, &run.request.models, run.summary.status);
}

/// An export written to stdout: exact into a pipe or a file, [`clean`] on a
/// terminal (an answer's escapes would act there as in any other output).
pub fn document(text: &str) {
    if std::io::stdout().is_terminal() {
        print!("{}", clean(text));
    } else {
        print!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn escape_sequences_are_removed_whole() {
        for (hostile, shown) in [
            // OSC 52: write "evil" to the clipboard, with BEL and with ST.
            ("a\u{1b}]52;c;ZXZpbA==\u{7}b", "ab"),
            ("a\u{1b}]52;c;ZXZpbA==\u{1b}\\b", "ab"),
            // Clear the screen, home the cursor, colour, a hyperlink.
            ("\u{1b}[2J\u{1b}[Hnext", "next"),
            ("\u{1b}[31mred\u{1b}[0m", "red"),
            ("\u{1b}]8;;http://evil\u{7}link\u{1b}]8;;\u{7}", "link"),
            // A full reset, a DCS string, a carriage return that would overwrite a line.
            ("x\u{1b}cy", "xy"),
            ("x\u{1b}P1;2|secret\u{1b}\\y", "xy"),
            ("$ rm -rf ~\r$ ls", "$ rm -rf ~$ ls"),
        ] {
            assert_eq!(clean(hostile), shown, "{hostile:?}");
        }
    }

    #[test]
    fn other_control_characters_are_shown_not_acted_on() {
        // BEL alone, backspace, DEL, a C1 CSI (U+009B) and NEL (U+0085).
        // The parser drops those it knows (BEL, BS, C1); DEL is left to the
        // second pass, which shows it.
        let out = clean("ding\u{7} back\u{8} del\u{7f} csi\u{9b}2J nel\u{85}");
        assert!(out.chars().all(|c| !c.is_control()), "{out:?}");
        assert_eq!(out, "ding back del\\u{7f} csi2J nel");
    }

    #[test]
    fn plain_text_tabs_and_newlines_are_untouched() {
        let code = "fn main() {\n\tprintln!(\"héllo → 世界\");\n}\n";
        assert!(matches!(clean(code), std::borrow::Cow::Borrowed(_)));
        assert_eq!(clean(&format!("\u{1b}[1m{code}")), code);
        assert_eq!(clean("a\tb\u{1b}[2Kc\r\n"), "a\tbc\n");
    }
}
