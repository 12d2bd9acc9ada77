//! What a run will cost, before it starts: per model, the input tokens (counted
//! with OpenAI's own tokenizer for OpenAI's models, `tiktoken-rs`; else about
//! four characters a token, said to be an estimate), the output tokens as a
//! range (typical: the model's median in the user's history, else
//! [`DEFAULT_TYPICAL_OUTPUT`] or `max_tokens` when lower; worst: `max_tokens`,
//! else the price table's `max_output_tokens`, else [`DEFAULT_WORST_OUTPUT`]),
//! and their cost; then the summary call, which reads every answer (and the
//! claims call, `consensus`, counted as much again). A model
//! with no known price counts 0 and is listed in `unpriced`.
//!
//! Attachments: a text file is counted as the text it is sent as; an image as
//! [`IMAGE_TOKENS`] and a PDF as [`PDF_TOKENS_PER_50_KB`] (providers count them
//! by pixels and pages, which are not read here), so the input is then an
//! estimate.

use super::{Engine, PreparedRun};
use crate::attachments::{Kind, Part, fenced};
use crate::contract::{ModelSpec, Resolution, RoundtableRequest};
use crate::resolution::vote;
use crate::thread;
use crate::validate::{ValidationError, split_model_name};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Typical output of a model with no history here, in tokens.
pub const DEFAULT_TYPICAL_OUTPUT: u64 = 500;
/// Worst-case output of a call without `max_tokens` nor a known limit.
pub const DEFAULT_WORST_OUTPUT: u64 = 8_192;
/// What the consolidation prompt adds around the question and the answers.
const SUMMARY_PROMPT_TOKENS: u64 = 200;
/// An attached image, in input tokens: about what Anthropic and OpenAI (high
/// detail) count for a picture of a megapixel or so, at the high end.
pub const IMAGE_TOKENS: u64 = 1_600;
/// An attached PDF, in input tokens per 50 KB of file (about a page of text
/// and its rendering, as Anthropic counts a page).
pub const PDF_TOKENS_PER_50_KB: u64 = 2_000;

/// The input tokens of a run's images and PDFs (text files are counted as text).
fn binary_tokens(parts: &[Part]) -> u64 {
    parts
        .iter()
        .map(|p| match p.kind {
            Kind::Image => IMAGE_TOKENS,
            Kind::Pdf => p.size.div_ceil(50 * 1024).max(1) * PDF_TOKENS_PER_50_KB,
            Kind::Text => 0,
        })
        .sum()
}

/// The input tokens of every file in `parts`: a text file as its text, about
/// four characters a token (its size when the text was not read: an
/// earlier turn's file counted by its stored size), an image or a PDF as
/// [`binary_tokens`] counts it. A follow-up sends every earlier turn's files
/// again: they are counted here, in the estimate and in the running cost.
pub(super) fn file_tokens(parts: &[Part]) -> u64 {
    let text: u64 = parts
        .iter()
        .filter(|p| p.kind == Kind::Text)
        .map(|p| match &p.text {
            Some(t) => t.chars().count().div_ceil(4) as u64,
            None => p.size.div_ceil(4),
        })
        .sum();
    text + binary_tokens(parts)
}

/// One call's estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallEstimate {
    pub model: String,
    pub input_tokens: u64,
    /// Counted with the model's own tokenizer (else about 4 characters a token).
    pub input_exact: bool,
    pub output_typical: u64,
    pub output_worst: u64,
    /// `output_typical` is the model's median in the history.
    pub output_from_history: bool,
    pub cost_typical: f64,
    pub cost_worst: f64,
    /// The model has a known price (else its cost counts 0).
    pub priced: bool,
    /// The most input tokens the model takes (the price table's
    /// `max_input_tokens`), when known.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub context_window: Option<u64>,
    /// `input_tokens` is over `context_window`: the provider would refuse the
    /// call (a long conversation, a large attachment).
    pub over_context: bool,
}

/// A run's estimate: each panel call, the summary call, and the totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Estimate {
    pub calls: Vec<CallEstimate>,
    pub summary: Option<CallEstimate>,
    pub typical_cost: f64,
    pub worst_cost: f64,
    /// Models whose price is not known (counted as free).
    pub unpriced: Vec<String>,
}

/// Input tokens of `text` for `provider/model`: exact with OpenAI's tokenizer
/// for the models it knows, else (and when the tokenizer cannot split the
/// text) about four characters a token.
pub fn count_tokens(provider: &str, model: &str, text: &str) -> (u64, bool) {
    if provider == "openai"
        && tiktoken_rs::tokenizer::get_tokenizer(model).is_some()
        && let Ok(bpe) = tiktoken_rs::bpe_for_model(model)
        // `encode`, which says when its regex gives up (about a million
        // blanks before a word exhaust its backtracking stack), not
        // `encode_with_special_tokens`, which unwraps that into a panic.
        && let Ok((tokens, _)) = bpe.encode(text, &bpe.special_tokens())
    {
        return (tokens.len() as u64, true);
    }
    (text.chars().count().div_ceil(4) as u64, false)
}

impl Engine {
    /// The estimate of `request`, without calling anyone. `typical_output` is
    /// each model's median output tokens in the history, where known.
    pub fn estimate(
        &self,
        request: &RoundtableRequest,
        typical_output: &HashMap<String, u64>,
    ) -> Result<Estimate, ValidationError> {
        Ok(self.estimate_run(&self.prepare(request.clone())?, typical_output))
    }

    /// The estimate of a prepared run; a follow-up's earlier turns
    /// ([`PreparedRun::with_thread`]) count in each model's input.
    pub fn estimate_run(
        &self,
        run: &PreparedRun,
        typical_output: &HashMap<String, u64>,
    ) -> Estimate {
        let (req, files) = (&run.request, &run.attachments);
        let instructions = match (req.resolution(), &req.choices) {
            (Resolution::MultipleChoice, Some(choices)) => format!(
                "{}\n\n{}",
                req.instructions.as_deref().unwrap_or(""),
                vote::choice_instructions(choices)
            ),
            _ => req.instructions.clone().unwrap_or_default(),
        };
        let mut prompt = format!("{instructions}\n");
        for part in files.iter().filter(|p| p.kind == Kind::Text) {
            prompt.push_str(&fenced(
                &part.name,
                part.text.as_deref().unwrap_or_default(),
            ));
            prompt.push_str("\n\n");
        }
        prompt.push_str(&req.input);
        let binary = binary_tokens(files);
        let context = req.context.unwrap_or_default();
        let calls: Vec<CallEstimate> = req
            .models
            .iter()
            .map(|spec| {
                let (history, _) =
                    thread::messages_for(&spec.name, spec.sample, &run.thread, context);
                let mut text = String::new();
                let mut earlier_files = 0;
                for m in &history {
                    text.push_str(&m.text);
                    text.push('\n');
                    earlier_files += file_tokens(&m.attachments);
                }
                text.push_str(&prompt);
                self.call_estimate(spec, &text, binary + earlier_files, typical_output)
            })
            .collect();
        let summary = (req.resolution() == Resolution::Summary)
            .then(|| {
                // Who the run would ask first (the panel stands in for "those
                // that answered").
                let panel: Vec<String> = req.models.iter().map(|m| m.name.clone()).collect();
                let model = self.summary_candidates(req, &panel).into_iter().next()?;
                let typical: u64 = calls.iter().map(|c| c.output_typical).sum();
                let worst: u64 = calls.iter().map(|c| c.output_worst).sum();
                let mut e = self.call_estimate(
                    &ModelSpec::named(model),
                    &format!(
                        "{}{}",
                        crate::resolution::conversation(&run.thread).unwrap_or_default(),
                        req.input
                    ),
                    SUMMARY_PROMPT_TOKENS + typical,
                    typical_output,
                );
                // The summary reads every answer: at worst, every worst answer.
                if let Some(price) =
                    split_model_name(&e.model).and_then(|(p, id)| self.prices.lookup(p, id))
                {
                    e.cost_worst += (worst - typical) as f64 * price.input;
                }
                Some(e)
            })
            .flatten();
        let all = || calls.iter().chain(summary.as_ref());
        let mut unpriced: Vec<String> = all()
            .filter(|c| !c.priced)
            .map(|c| c.model.clone())
            .collect();
        unpriced.dedup();
        // The claims call (`consensus`) reads every answer too: as much again.
        let claims = summary
            .as_ref()
            .filter(|_| req.consensus == Some(true))
            .map_or((0.0, 0.0), |s| (s.cost_typical, s.cost_worst));
        Estimate {
            typical_cost: all().map(|c| c.cost_typical).sum::<f64>() + claims.0,
            worst_cost: all().map(|c| c.cost_worst).sum::<f64>() + claims.1,
            calls,
            summary,
            unpriced,
        }
    }

    fn call_estimate(
        &self,
        spec: &ModelSpec,
        prompt: &str,
        extra_input: u64,
        typical_output: &HashMap<String, u64>,
    ) -> CallEstimate {
        let (provider, id) = split_model_name(&spec.name).unwrap_or(("", &spec.name));
        let (counted, exact) = count_tokens(provider, id, prompt);
        // What is added to the counted prompt is itself an estimate.
        let input_exact = exact && extra_input == 0;
        let input_tokens = counted + extra_input;
        let price = self.prices.lookup(provider, id);
        let history = typical_output.get(&spec.name).copied();
        let cap = spec.max_tokens.map(u64::from);
        let output_worst = cap
            .or(price.and_then(|p| p.max_output_tokens))
            .unwrap_or(DEFAULT_WORST_OUTPUT);
        let output_typical = history.unwrap_or(DEFAULT_TYPICAL_OUTPUT).min(output_worst);
        let cost = |output: u64| {
            price.map_or(0.0, |p| {
                input_tokens as f64 * p.input + output as f64 * p.output
            })
        };
        CallEstimate {
            model: spec.name.clone(),
            input_tokens,
            input_exact,
            output_typical,
            output_worst,
            output_from_history: history.is_some(),
            cost_typical: cost(output_typical),
            cost_worst: cost(output_worst),
            priced: price.is_some(),
            context_window: price.and_then(|p| p.max_input_tokens),
            over_context: price
                .and_then(|p| p.max_input_tokens)
                .is_some_and(|window| input_tokens > window),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_models_are_counted_with_their_tokenizer() {
        // "hello world" is two tokens in o200k_base (and in cl100k_base).
        assert_eq!(
            count_tokens("openai", "gpt-4.1-mini", "hello world"),
            (2, true)
        );
        assert_eq!(count_tokens("openai", "gpt-4", "hello world"), (2, true));
        // Others: about four characters a token, and said to be an estimate.
        assert_eq!(
            count_tokens("anthropic", "claude-sonnet-4-5", "hello world"),
            (3, false)
        );
        assert_eq!(
            count_tokens("ollama", "gpt-4.1-mini", "hello world"),
            (3, false)
        );
    }

    #[test]
    fn text_the_tokenizer_cannot_split_falls_back_to_the_estimate() {
        // About 1 MB of blanks before a word exhaust the tokenizer's regex
        // backtracking stack: its encode_with_special_tokens panicked.
        for blanks in [" ", "\t"] {
            let text = format!("{}word", blanks.repeat(1 << 20));
            let (n, exact) = count_tokens("openai", "gpt-4.1-mini", &text);
            assert_eq!((n, exact), (text.chars().count().div_ceil(4) as u64, false));
        }
        // Through a run's estimate (`--estimate`, `--max-cost`, `dry_run`).
        let engine = Engine::new(
            vec![crate::Provider::new(
                "openai",
                crate::WireFormat::Openai,
                "http://127.0.0.1:9/v1",
            )],
            crate::PriceTable::builtin(),
        );
        let request = RoundtableRequest {
            input: format!("{}word", " ".repeat(1 << 20)),
            models: vec![ModelSpec::named("openai/gpt-4.1-mini")],
            resolution: Some(Resolution::Fast),
            ..Default::default()
        };
        let e = engine.estimate(&request, &HashMap::new()).unwrap();
        assert!(!e.calls[0].input_exact);
        assert!(e.calls[0].input_tokens > (1 << 18), "{e:?}");
        assert!(e.worst_cost > 0.0, "priced: {e:?}");
        // Blanks the tokenizer takes are still counted exactly.
        let (_, exact) = count_tokens(
            "openai",
            "gpt-4.1-mini",
            &format!("{}word", " ".repeat(1000)),
        );
        assert!(exact);
    }
}
