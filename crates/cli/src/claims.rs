//! The claims matrix of a `--consensus` run, printed under the resolved answer:
//! the claims grouped as unanimous, majority, minority and contested, each with
//! every answer's stance (✓ supports, ✗ contradicts, · silent), and the run's
//! agreement rate.

use crate::render::clean;
use console::style;
use roundtable_app::core::Meta;
use roundtable_app::core::resolution::claims::{ClaimKind, Stance};
use roundtable_app::store::export::Label;

pub fn print(meta: &Meta, labels: &[Label]) {
    if let Some(e) = &meta.claims_error {
        println!(
            "{}",
            style(format!("no claims matrix: {}", clean(e))).yellow()
        );
    }
    let Some(m) = &meta.claims else {
        return;
    };
    println!(
        "\n{}",
        style(format!(
            "Claims · agreement {:.0} % ({} of {} uncontested)",
            m.agreement_rate * 100.0,
            m.claims
                .iter()
                .filter(|c| c.kind != ClaimKind::Contested)
                .count(),
            m.claims.len()
        ))
        .bold()
        .green()
    );
    let names: Vec<String> = m
        .results
        .iter()
        .map(|&i| {
            labels
                .get(i)
                .map(Label::name_and_sample)
                .unwrap_or_else(|| format!("#{i}"))
        })
        .collect();
    println!(
        "{}",
        style(format!("  answers: {}", clean(&names.join(", ")))).dim()
    );
    for (kind, title) in [
        (ClaimKind::Unanimous, "unanimous"),
        (ClaimKind::Majority, "majority"),
        (ClaimKind::Minority, "minority"),
        (ClaimKind::Contested, "contested"),
    ] {
        let claims: Vec<_> = m.claims.iter().filter(|c| c.kind == kind).collect();
        if claims.is_empty() {
            continue;
        }
        println!("  {}", style(title).underlined());
        for c in claims {
            let marks: String = c
                .stances
                .iter()
                .map(|s| match s {
                    Stance::Supports => '✓',
                    Stance::Contradicts => '✗',
                    Stance::Silent => '·',
                })
                .collect();
            println!("  {marks}  {}", clean(&c.text));
        }
    }
}
