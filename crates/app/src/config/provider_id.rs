//! The one rule for a provider id. An id names the provider's keychain entry and
//! its environment variable (`<ID>_API_KEY`), so two ids that read the same
//! variable would give one provider the other's key.

use roundtable_core::provider::builtin;

/// A provider id is lowercase letters, digits, `-` and `_`: one spelling per
/// provider, since the id also names its keychain entry and its environment
/// variable (`<ID>_API_KEY`, see [`crate::keys::env_vars`]).
pub fn is_valid_provider_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Checks `id` as a provider's id beside `others` (the other providers' ids):
/// the error says why it is refused. Two ids that differ only in case or in
/// `-` vs `_` (`OpenAI`, `my-llm` and `my_llm`) would read the same
/// environment variable, so the second one's requests would carry the first
/// one's key: such an id is refused, naming the provider it clashes with.
pub fn check_provider_id<'a>(
    id: &str,
    others: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let charset = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if id.is_empty() || !id.chars().all(charset) {
        return Err(format!(
            "'{id}' is not a provider id: a provider id is lowercase letters, digits, '-' and '_' (e.g. myllm)"
        ));
    }
    let vars = crate::keys::env_vars(id);
    for other in others.into_iter().filter(|o| *o != id) {
        let Some(shared) = crate::keys::env_vars(other)
            .into_iter()
            .find(|v| vars.contains(v))
        else {
            continue;
        };
        let whose = match builtin(other) {
            Some(b) => format!("the built-in provider '{other}' ({})", b.name),
            None => format!("the provider '{other}'"),
        };
        return Err(format!(
            "'{id}' clashes with {whose}: both would take their key from {shared}; pick an id that differs by more than case or '-' and '_'"
        ));
    }
    if !is_valid_provider_id(id) {
        return Err(format!(
            "'{id}' is not a provider id: provider ids are lowercase ('{}')",
            id.to_ascii_lowercase()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn ids_that_would_share_a_key_are_refused_naming_the_other() {
        let config = |ids: &[&str]| {
            let text: String = ids
                .iter()
                .map(|id| {
                    format!("[providers.\"{id}\"]\nformat = \"openai\"\nbase_url = \"http://a\"\n")
                })
                .collect();
            Config::parse(&text)
        };
        for (ids, named, var) in [
            (
                &["OpenAI"][..],
                "built-in provider 'openai'",
                "OPENAI_API_KEY",
            ),
            (&["Groq"], "built-in provider 'groq'", "GROQ_API_KEY"),
            (&["google"], "built-in provider 'gemini'", "GOOGLE_API_KEY"),
            (&["my-llm", "my_llm"], "provider 'my_llm'", "MY_LLM_API_KEY"),
            (&["lab", "LAB"], "provider 'lab'", "LAB_API_KEY"),
        ] {
            let e = config(ids).unwrap_err();
            assert!(e.contains(named) && e.contains(var), "{ids:?}: {e}");
        }
        let e = config(&["MyLLM"]).unwrap_err();
        assert!(
            e.contains("providers.MyLLM") && e.contains("lowercase ('myllm')"),
            "{e}"
        );
        let e = config(&["my.llm"]).unwrap_err();
        assert!(e.contains("lowercase letters, digits"), "{e}");
        // Distinct ids, and a built-in's own override, stay fine.
        config(&["my-llm", "my-llm2", "open_ai", "openai"]).unwrap();
    }
}
