//! The bearer token of the local HTTP API (`roundtable serve`).
//!
//! Where it comes from, in order:
//!
//! 1. `ROUNDTABLE_API_TOKEN`, when set and not blank;
//! 2. the keychain entry [`KEYCHAIN_ENTRY`] (`@local-api-token`: the `@` cannot
//!    appear in a provider id, so it never collides with a provider's key);
//! 3. otherwise a new token (32 random bytes, hex) is generated and stored there,
//!    so it stays the same from one start to the next;
//! 4. when the keychain cannot keep it, the new token lasts for this process only
//!    ([`TokenSource::Ephemeral`] says why).
//!
//! Unlike a provider key, the token is shown to the user (it is printed at start-up
//! so scripts can use it), hence plain text; its `Debug` still hides it.

use crate::App;
use crate::keys::SecretStore;
use rand::RngCore;

/// The environment variable that sets the token.
pub const ENV_VAR: &str = "ROUNDTABLE_API_TOKEN";

/// The keychain entry (service `roundtable`) that keeps a generated token.
pub const KEYCHAIN_ENTRY: &str = "@local-api-token";

/// Where the token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `ROUNDTABLE_API_TOKEN`.
    Environment,
    /// The keychain, where an earlier start had stored it.
    Keychain,
    /// Generated now and stored in the keychain for the next starts.
    Generated,
    /// Generated for this process only: the keychain could not keep it (why).
    Ephemeral { reason: String },
    /// Given by the host itself (a test, an embedding program).
    Given,
}

/// The local API's token.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    value: String,
    source: TokenSource,
}

impl ApiToken {
    pub fn new(value: impl Into<String>, source: TokenSource) -> Self {
        ApiToken {
            value: value.into(),
            source,
        }
    }

    /// The token itself: to print it for the user and to check requests against it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("value", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

/// A new token: 32 random bytes from the OS-seeded CSPRNG, as 64 hex digits.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token, given the value of `ROUNDTABLE_API_TOKEN` (if any) and the keychain.
pub fn resolve(from_env: Option<&str>, store: &dyn SecretStore) -> ApiToken {
    if let Some(v) = from_env.map(str::trim).filter(|v| !v.is_empty()) {
        return ApiToken::new(v, TokenSource::Environment);
    }
    match store.get_app_secret(KEYCHAIN_ENTRY) {
        Ok(Some(v)) if !v.trim().is_empty() => ApiToken::new(v.trim(), TokenSource::Keychain),
        Ok(_) => {
            let token = generate();
            match store.set(KEYCHAIN_ENTRY, &token) {
                Ok(()) => ApiToken::new(token, TokenSource::Generated),
                Err(e) => ApiToken::new(
                    token,
                    TokenSource::Ephemeral {
                        reason: e.to_string(),
                    },
                ),
            }
        }
        Err(e) => ApiToken::new(
            generate(),
            TokenSource::Ephemeral {
                reason: e.to_string(),
            },
        ),
    }
}

impl App {
    /// The local API's token: `ROUNDTABLE_API_TOKEN`, else the one kept in the
    /// keychain (generated and stored on first use), else one for this process.
    pub fn local_api_token(&self) -> ApiToken {
        let env = std::env::var(ENV_VAR).ok();
        resolve(env.as_deref(), &*self.keychain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{MemoryKeychain, NoKeychain};

    #[test]
    fn generated_tokens_are_64_hex_digits_and_differ() {
        let a = generate();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, generate());
    }

    #[test]
    fn the_environment_wins() {
        let store = MemoryKeychain::default();
        store.set(KEYCHAIN_ENTRY, "kept").unwrap();
        let t = resolve(Some(" from-env "), &store);
        assert_eq!(t.expose(), "from-env");
        assert_eq!(t.source(), &TokenSource::Environment);
        assert_eq!(resolve(Some("  "), &store).source(), &TokenSource::Keychain);
    }

    #[test]
    fn generated_once_then_kept_in_the_keychain() {
        let store = MemoryKeychain::default();
        let first = resolve(None, &store);
        assert_eq!(first.source(), &TokenSource::Generated);
        let again = resolve(None, &store);
        assert_eq!(again.source(), &TokenSource::Keychain);
        assert_eq!(first.expose(), again.expose());
        assert!(store.get_app_secret(KEYCHAIN_ENTRY).unwrap().is_some());
    }

    #[test]
    fn no_keychain_gives_an_ephemeral_token_and_says_why() {
        let t = resolve(None, &NoKeychain);
        assert_eq!(t.expose().len(), 64);
        match t.source() {
            TokenSource::Ephemeral { reason } => assert!(reason.contains("Secret Service")),
            other => panic!("{other:?}"),
        }
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
