//! Where a run's answers agree (`meta.agreement`), printed after its answers:
//! for structured answers each field's majority value, share and who differs,
//! then the consensus object; for free text the answers' similarity and the
//! outliers; for multiple choice the winner's share.

use crate::render::clean;
use console::style;
use roundtable_app::core::agreement::{Agreement, ChoiceShare, FieldTable, Similarity};
use roundtable_app::core::{Meta, Resolution};
use roundtable_app::store::export::Label;
use serde_json::Value;

/// A value shown in a table cell: compact JSON, cut at this many characters.
const CELL: usize = 32;

pub fn print(meta: &Meta, labels: &[Label]) {
    let Some(a) = meta.agreement.as_deref() else {
        return;
    };
    let name = |at: usize| {
        labels
            .get(at)
            .map_or_else(|| format!("#{at}"), Label::name_and_sample)
    };
    if let Some(c) = &a.choice {
        println!("{}", choice(c));
    }
    if let Some(t) = &a.fields {
        fields(t, a, &name);
    }
    if let Some(s) = &a.similarity
        && meta.resolution != Resolution::MultipleChoice
    {
        similarity(s, &name);
    }
}

/// `Paris 3/4, 75 %`.
pub fn choice(c: &ChoiceShare) -> String {
    let tied = if c.tied { " (tied)" } else { "" };
    format!(
        "{} {} {}/{}, {:.0} %{tied}",
        style("Agreement:").bold(),
        clean(&c.choice),
        c.votes,
        c.answers,
        c.share * 100.0
    )
}

fn fields(t: &FieldTable, a: &Agreement, name: &dyn Fn(usize) -> String) {
    println!(
        "\n{}",
        style(format!(
            "── Agreement · {} fields over {} answers ",
            t.fields.len(),
            t.answers.len()
        ))
        .bold()
    );
    if !t.invalid.is_empty() {
        let who: Vec<String> = t.invalid.iter().map(|&i| name(i)).collect();
        println!(
            "{}",
            style(format!("not valid JSON: {}", clean(&who.join(", ")))).yellow()
        );
    }
    if let Some(left) = &t.truncated {
        println!("{}", style(left).yellow());
    }
    let width = t
        .fields
        .iter()
        .map(|f| f.pointer.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, 40);
    for f in &t.fields {
        let shown = match &f.majority {
            Some(v) => cell(v),
            None => "(no majority)".into(),
        };
        let held = f.values.first().map_or(0, |v| v.results.len());
        let mut differs: Vec<String> = Vec::new();
        for (k, v) in f.values.iter().enumerate() {
            if k == 0 && f.majority.is_some() {
                continue;
            }
            let who: Vec<String> = v.results.iter().map(|&i| name(i)).collect();
            differs.push(format!("{} {}", who.join(", "), cell(&v.value)));
        }
        if !f.missing.is_empty() {
            let who: Vec<String> = f.missing.iter().map(|&i| name(i)).collect();
            differs.push(format!("{} (missing)", who.join(", ")));
        }
        let line = format!(
            "{:<width$}  {:<CELL$}  {}/{} {:>3.0} %",
            cut(&f.pointer, 40),
            shown,
            held,
            t.answers.len(),
            f.share * 100.0
        );
        let line = clean(&line).into_owned();
        if differs.is_empty() {
            println!("{line}");
        } else {
            println!(
                "{line}  {}",
                style(format!("differs: {}", clean(&differs.join("; ")))).dim()
            );
        }
    }
    if let Some(c) = &a.consensus {
        println!("{}", style("Consensus:").bold());
        let pretty = serde_json::to_string_pretty(&c.object).expect("JSON serialises");
        println!("{}", clean(&pretty));
        if !c.no_majority.is_empty() {
            println!(
                "{}",
                style(format!(
                    "no majority (left out): {}",
                    clean(&c.no_majority.join(", "))
                ))
                .yellow()
            );
        }
    }
}

fn similarity(s: &Similarity, name: &dyn Fn(usize) -> String) {
    println!(
        "\n{}",
        style("── Agreement · similarity of the answers ").bold()
    );
    let letters: Vec<String> = (0..s.results.len())
        .map(roundtable_app::core::resolution::label)
        .collect();
    print!("{:4}", "");
    for l in &letters {
        print!("{l:>6}");
    }
    println!("{:>8}", "mean");
    for (i, row) in s.matrix.iter().enumerate() {
        print!("{:>3} ", letters[i]);
        for (j, v) in row.iter().enumerate() {
            if i == j {
                print!("{:>6}", "—");
            } else {
                print!("{v:>6.2}");
            }
        }
        let outlier = s.outliers.contains(&s.results[i]);
        let mark = if outlier { "  ← outlier" } else { "" };
        println!(
            "{:>8.2}  {}{}",
            s.mean[i],
            clean(&name(s.results[i])),
            style(mark).yellow()
        );
    }
}

/// A value as compact JSON, cut to fit a cell.
fn cell(v: &Value) -> String {
    cut(&v.to_string(), CELL)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_long_values_and_says_the_winners_share() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cell(&serde_json::json!("x")), "\"x\"");
        console::set_colors_enabled(false);
        let c = ChoiceShare {
            choice: "Paris".into(),
            votes: 3,
            answers: 4,
            share: 0.75,
            tied: false,
        };
        assert_eq!(choice(&c), "Agreement: Paris 3/4, 75 %");
    }
}
