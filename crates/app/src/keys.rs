//! Where a provider's key comes from. Lookup order: the OS keychain, then the
//! environment (`<ID>_API_KEY`, the id upper-cased with `-` as `_`; Gemini also
//! `GOOGLE_API_KEY`). A local server needs none.

use roundtable_core::ApiKey;
use serde::Serialize;

/// The environment variables that may hold a provider's key, in order.
pub fn env_vars(provider: &str) -> Vec<String> {
    let mut vars = vec![format!(
        "{}_API_KEY",
        provider.to_ascii_uppercase().replace('-', "_")
    )];
    if provider == "gemini" {
        vars.push("GOOGLE_API_KEY".into());
    }
    vars
}

/// The key in the environment, and the variable it came from.
pub fn from_env(provider: &str) -> Option<(ApiKey, String)> {
    env_vars(provider).into_iter().find_map(|var| {
        std::env::var(&var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (ApiKey::new(v.trim()), var))
    })
}

/// How to give a provider a key, for error messages.
pub fn hint(provider: &str) -> String {
    format!(
        "run `roundtable keys set {provider}` or set {}",
        env_vars(provider).join(" or ")
    )
}

/// Where a key was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Keychain,
    Environment,
    /// A local server: no key needed.
    NotNeeded,
    Missing,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names() {
        assert_eq!(env_vars("openai"), ["OPENAI_API_KEY"]);
        assert_eq!(env_vars("my-llm"), ["MY_LLM_API_KEY"]);
        assert_eq!(env_vars("gemini"), ["GEMINI_API_KEY", "GOOGLE_API_KEY"]);
        assert!(hint("openai").contains("OPENAI_API_KEY"));
    }
}
