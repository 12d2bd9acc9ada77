//! The built-in providers: the one table of their ids, names, wire formats,
//! dialects and base URLs. The adapters take a base URL from here (they have
//! none of their own), hosts list these first and let their configuration
//! override any setting but the id.
//!
//! Extending it: a new built-in is a row below. A built-in is local (no key,
//! free) exactly when its base URL is a loopback address, as for a provider of
//! the user's own.

use super::Provider;
use crate::providers::{Dialect, WireFormat};
use std::sync::LazyLock;

/// Id, name, wire format, dialect, base URL.
type Row = (
    &'static str,
    &'static str,
    WireFormat,
    Dialect,
    &'static str,
);

// One row a line, as a table reads.
#[rustfmt::skip]
const TABLE: [Row; 10] = {
    use Dialect::{Compatible, Native};
    use WireFormat::{Anthropic, Gemini, Openai};
    [
        ("openai",     "OpenAI",        Openai,    Native,     "https://api.openai.com/v1"),
        ("anthropic",  "Anthropic",     Anthropic, Native,     "https://api.anthropic.com"),
        ("gemini",     "Google Gemini", Gemini,    Native,     "https://generativelanguage.googleapis.com/v1beta"),
        ("ollama",     "Ollama",        Openai,    Compatible, "http://127.0.0.1:11434/v1"),
        ("lmstudio",   "LM Studio",     Openai,    Compatible, "http://127.0.0.1:1234/v1"),
        ("openrouter", "OpenRouter",    Openai,    Compatible, "https://openrouter.ai/api/v1"),
        ("groq",       "Groq",          Openai,    Compatible, "https://api.groq.com/openai/v1"),
        ("mistral",    "Mistral",       Openai,    Compatible, "https://api.mistral.ai/v1"),
        ("deepseek",   "DeepSeek",      Openai,    Compatible, "https://api.deepseek.com/v1"),
        ("xai",        "xAI",           Openai,    Compatible, "https://api.x.ai/v1"),
    ]
};

static BUILTINS: LazyLock<Vec<Provider>> = LazyLock::new(|| {
    TABLE
        .iter()
        .map(|&(id, name, format, dialect, base_url)| Provider {
            name: name.into(),
            dialect,
            builtin: true,
            ..Provider::new(id, format, base_url)
        })
        .collect()
});

/// Every built-in provider, in the order they are listed.
pub fn builtins() -> &'static [Provider] {
    &BUILTINS
}

/// The built-in provider `id`, if there is one.
pub fn builtin(id: &str) -> Option<&'static Provider> {
    builtins().iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_on_this_machine_are_local() {
        let local: Vec<&str> = builtins()
            .iter()
            .filter(|p| p.local)
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(local, ["ollama", "lmstudio"]);
        assert!(builtins().iter().all(|p| p.builtin && p.stream));
        assert_eq!(builtin("gemini").unwrap().name, "Google Gemini");
        assert!(builtin("nosuch").is_none());
    }
}
