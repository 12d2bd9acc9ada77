//! `roundtable run --estimate`: what a run would cost, printed without calling
//! anyone: each call's tokens in and out (typical–worst) and cost, the summary
//! call, the totals, the models whose price is not known, and those whose
//! input would pass their context window.

use crate::render::{self, clean};
use console::style;
use roundtable_app::core::{CallEstimate, Estimate};

pub fn print(e: &Estimate, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(e).expect("serialises"));
        return;
    }
    println!(
        "{}",
        style(format!(
            "{:<40} {:>9} {:>15} {:>21}",
            "call", "in", "out", "cost"
        ))
        .dim()
    );
    let line = |name: &str, c: &CallEstimate| {
        let input = if c.input_exact {
            c.input_tokens.to_string()
        } else {
            format!("~{}", c.input_tokens)
        };
        let typical = if c.output_from_history {
            format!("{}*", c.output_typical)
        } else {
            c.output_typical.to_string()
        };
        println!(
            "{:<40} {:>9} {:>15} {:>21}",
            clean(name),
            input,
            format!("{typical}–{}", c.output_worst),
            format!(
                "{}–{}",
                render::cost(c.cost_typical),
                render::cost(c.cost_worst)
            ),
        );
    };
    for c in &e.calls {
        line(&c.model, c);
    }
    if let Some(s) = &e.summary {
        line(&format!("summary by {}", s.model), s);
    }
    println!(
        "{} typically {}, at worst {}",
        style("Estimate:").bold(),
        render::cost(e.typical_cost),
        render::cost(e.worst_cost)
    );
    println!(
        "{}",
        style(
            "in: ~ is about 4 characters a token (exact with OpenAI's tokenizer); \
             out: typical (* the model's median here) – worst (max_tokens or the model's limit)"
        )
        .dim()
    );
    for c in e.calls.iter().chain(&e.summary).filter(|c| c.over_context) {
        println!(
            "{}",
            style(format!(
                "{}: about {} tokens in, over its context window of {}: the provider \
                 would refuse it (start a new conversation, or carry on with a model \
                 that takes more)",
                clean(&c.model),
                c.input_tokens,
                c.context_window.unwrap_or_default()
            ))
            .yellow()
        );
    }
    if !e.unpriced.is_empty() {
        println!(
            "{}",
            style(format!(
                "no known price (counted as free): {}",
                clean(&e.unpriced.join(", "))
            ))
            .yellow()
        );
    }
}
