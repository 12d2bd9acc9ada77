//! Prices in USD per token, and the cost of a call.
//!
//! The built-in table (`prices.json`, in the LiteLLM price-table format) covers the
//! built-in providers' current models. A user extends or overrides it with files
//! in the same format ([`PriceTable::merge_litellm_json`]). Lookup tries
//! `provider/model`, then `model`, then both without a trailing date
//! (`gpt-4.1-mini-2025-04-14` → `gpt-4.1-mini`).

use crate::contract::Usage;
use serde::Deserialize;
use std::collections::HashMap;

/// USD per token.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
    /// Cache reads; `input` when absent.
    pub cache_read: Option<f64>,
    /// Cache writes at the default (5-minute) lifetime; `input` when absent.
    pub cache_write: Option<f64>,
    /// Cache writes with a 1-hour lifetime; `cache_write` when absent.
    pub cache_write_1h: Option<f64>,
    /// Reasoning tokens, when billed apart from output; `output` when absent.
    pub reasoning: Option<f64>,
    /// The most output tokens the model writes in one call, when the table says.
    pub max_output_tokens: Option<u64>,
    /// The most input tokens the model takes (its context window for the
    /// prompt), when the table says.
    pub max_input_tokens: Option<u64>,
    /// Whether the model reads images (`supports_vision`), when the table says.
    pub supports_vision: Option<bool>,
    /// Whether the model reads PDFs (`supports_pdf_input`), when the table says.
    pub supports_pdf_input: Option<bool>,
}

impl ModelPrice {
    /// The cost of `usage`, in the contract's convention: cached and cache-write
    /// tokens are parts of `input_tokens`, reasoning tokens part of `output_tokens`.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cache_read_tokens;
        let write = usage.cache_creation_tokens;
        let write_1h = usage.cache_creation_1h_tokens;
        let plain_input = usage
            .input_tokens
            .saturating_sub(cached)
            .saturating_sub(write)
            .saturating_sub(write_1h);
        let reasoning = usage.reasoning_tokens.min(usage.output_tokens);
        let plain_output = usage.output_tokens - reasoning;
        let cache_write = self.cache_write.unwrap_or(self.input);
        plain_input as f64 * self.input
            + cached as f64 * self.cache_read.unwrap_or(self.input)
            + write as f64 * cache_write
            + write_1h as f64 * self.cache_write_1h.unwrap_or(cache_write)
            + plain_output as f64 * self.output
            + reasoning as f64 * self.reasoning.unwrap_or(self.output)
    }
}

/// One entry of a LiteLLM-format price table; other fields are ignored.
#[derive(Debug, Deserialize)]
struct LiteLlmEntry {
    input_cost_per_token: Option<f64>,
    output_cost_per_token: Option<f64>,
    cache_read_input_token_cost: Option<f64>,
    cache_creation_input_token_cost: Option<f64>,
    cache_creation_input_token_cost_above_1hr: Option<f64>,
    output_cost_per_reasoning_token: Option<f64>,
    max_output_tokens: Option<u64>,
    max_input_tokens: Option<u64>,
    supports_vision: Option<bool>,
    supports_pdf_input: Option<bool>,
    litellm_provider: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    prices: HashMap<String, ModelPrice>,
}

const BUILTIN: &str = include_str!("prices.json");

impl PriceTable {
    pub fn empty() -> Self {
        PriceTable::default()
    }

    /// The built-in table.
    pub fn builtin() -> Self {
        let mut t = PriceTable::default();
        t.merge_litellm_json(BUILTIN)
            .expect("the built-in price table is valid");
        t
    }

    pub fn len(&self) -> usize {
        self.prices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    pub fn insert(&mut self, name: impl Into<String>, price: ModelPrice) {
        self.prices.insert(name.into(), price);
    }

    /// Adds (or overrides) the entries of a LiteLLM-format table; returns how many
    /// were priced. Entries without token prices (images, audio, the sample
    /// spec) are skipped.
    pub fn merge_litellm_json(&mut self, json: &str) -> Result<usize, serde_json::Error> {
        let raw: HashMap<String, serde_json::Value> = serde_json::from_str(json)?;
        let mut n = 0;
        for (name, value) in raw {
            let Ok(e) = serde_json::from_value::<LiteLlmEntry>(value) else {
                continue;
            };
            let (Some(input), Some(output)) = (e.input_cost_per_token, e.output_cost_per_token)
            else {
                continue;
            };
            let price = ModelPrice {
                input,
                output,
                cache_read: e.cache_read_input_token_cost,
                cache_write: e.cache_creation_input_token_cost,
                cache_write_1h: e.cache_creation_input_token_cost_above_1hr,
                reasoning: e.output_cost_per_reasoning_token,
                max_output_tokens: e.max_output_tokens,
                max_input_tokens: e.max_input_tokens,
                supports_vision: e.supports_vision,
                supports_pdf_input: e.supports_pdf_input,
            };
            // LiteLLM names most models bare, with the provider beside them.
            if let Some(provider) = e.litellm_provider.as_deref()
                && !name.contains('/')
            {
                self.prices.insert(format!("{provider}/{name}"), price);
            }
            self.prices.insert(name, price);
            n += 1;
        }
        Ok(n)
    }

    /// The price of `provider/model`.
    pub fn lookup(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        let undated = strip_date(model);
        [
            format!("{provider}/{model}"),
            model.to_string(),
            format!("{provider}/{undated}"),
            undated.to_string(),
        ]
        .iter()
        .find_map(|k| self.prices.get(k).copied())
    }
}

/// `name-2025-04-14` or `name-20250414` → `name`.
fn strip_date(model: &str) -> &str {
    let bytes = model.as_bytes();
    let is_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if bytes.len() > 11 {
        let tail = &bytes[bytes.len() - 11..];
        if tail[0] == b'-'
            && is_digits(&tail[1..5])
            && tail[5] == b'-'
            && is_digits(&tail[6..8])
            && tail[8] == b'-'
            && is_digits(&tail[9..11])
        {
            return &model[..model.len() - 11];
        }
    }
    if bytes.len() > 9 {
        let tail = &bytes[bytes.len() - 9..];
        if tail[0] == b'-' && is_digits(&tail[1..]) {
            return &model[..model.len() - 9];
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_prices_current_models() {
        let t = PriceTable::builtin();
        let p = t.lookup("openai", "gpt-4.1-mini").unwrap();
        assert_eq!(p.input, 0.4e-6);
        assert!(t.lookup("openai", "gpt-4.1-mini-2025-04-14").is_some());
        assert!(
            t.lookup("anthropic", "claude-sonnet-4-5-20250929")
                .is_some()
        );
        assert!(t.lookup("gemini", "gemini-2.5-flash").is_some());
        assert!(t.lookup("openai", "no-such-model").is_none());
    }

    #[test]
    fn cost_counts_cached_and_reasoning_tokens_apart() {
        let p = ModelPrice {
            input: 2e-6,
            output: 8e-6,
            cache_read: Some(0.5e-6),
            cache_write: Some(2.5e-6),
            cache_write_1h: Some(4e-6),
            reasoning: None,
            max_output_tokens: None,
            ..Default::default()
        };
        let u = Usage {
            input_tokens: 1000,
            output_tokens: 500,
            cache_read_tokens: 400,
            cache_creation_tokens: 100,
            cache_creation_1h_tokens: 100,
            reasoning_tokens: 200,
            ..Default::default()
        };
        // 400 plain input, 400 cached, 100 + 100 written; 500 output (reasoning billed as output).
        let expected = 400.0 * 2e-6 + 400.0 * 0.5e-6 + 100.0 * 2.5e-6 + 100.0 * 4e-6 + 500.0 * 8e-6;
        assert!((p.cost(&u) - expected).abs() < 1e-12);
    }

    #[test]
    fn strips_dates() {
        assert_eq!(strip_date("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(strip_date("claude-3-5-haiku-20241022"), "claude-3-5-haiku");
        assert_eq!(strip_date("llama3.2"), "llama3.2");
    }
}
