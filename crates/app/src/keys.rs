//! API keys: in the OS keychain and nowhere else we write. Lookup order: the
//! keychain (service `roundtable`, one entry per provider id), then the
//! environment (`<ID>_API_KEY`, the id upper-cased with `-` as `_`; Gemini also
//! `GOOGLE_API_KEY`). A local server needs none.
//!
//! Only this module touches the keychain; a key leaves it as an [`ApiKey`], which
//! cannot be printed or serialised.

use roundtable_core::ApiKey;
use serde::Serialize;

/// The keychain service name.
pub const SERVICE: &str = "roundtable";

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

/// Why `key` cannot be an API key, if it cannot. A key travels in an HTTP
/// header, which carries visible ASCII only (`!` to `~`): a key with anything
/// else (a space, a control character, a non-breaking space or zero-width
/// character picked up when copying) would not be sent at all, so the request
/// would go out without it. The reason names the character by position and
/// code point, never the key itself.
pub fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("the key is empty".into());
    }
    let (at, c) = key
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_graphic())?;
    let what = match c {
        ' ' => "a space".to_string(),
        c if c.is_control() => format!("a control character (U+{:04X})", c as u32),
        c => format!("U+{:04X}, not visible ASCII", c as u32),
    };
    Some(format!(
        "the key has {what} at character {}: an API key is visible ASCII only (it is sent in an HTTP header); paste it again without it",
        at + 1
    ))
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Keychain,
    Environment,
    /// A local server: no key needed.
    NotNeeded,
    Missing,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum KeychainError {
    /// No keychain service to talk to (on Linux: no Secret Service on the session bus).
    #[error(
        "the OS keychain is not available ({0}). On Linux, start a Secret Service (GNOME Keyring or KWallet) in your session; keys in <PROVIDER>_API_KEY environment variables still work"
    )]
    Unavailable(String),
    /// The keychain is there but locked, or access was refused.
    #[error(
        "the OS keychain is locked or refused access ({0}): unlock it (log in to your desktop session, or run `gnome-keyring-daemon --unlock`) and try again; keys in <PROVIDER>_API_KEY environment variables still work"
    )]
    Locked(String),
    #[error("the OS keychain failed: {0}")]
    Other(String),
}

impl KeychainError {
    /// What went wrong, without the advice about provider keys in
    /// `<PROVIDER>_API_KEY` variables: for a secret that is not a provider key
    /// (the local API's token).
    pub fn cause(&self) -> String {
        match self {
            KeychainError::Unavailable(e) => format!("the OS keychain is not available ({e})"),
            KeychainError::Locked(e) => {
                format!("the OS keychain is locked or refused access ({e})")
            }
            KeychainError::Other(e) => format!("the OS keychain failed: {e}"),
        }
    }
}

/// Where keys are kept. The OS keychain in the product; an in-memory one in
/// tests of other parts.
pub trait SecretStore: Send + Sync {
    fn get(&self, provider: &str) -> Result<Option<ApiKey>, KeychainError>;
    fn set(&self, provider: &str, key: &str) -> Result<(), KeychainError>;
    /// Whether there was a key to delete.
    fn delete(&self, provider: &str) -> Result<bool, KeychainError>;

    /// A secret of Roundtable itself under `name` (not a provider key, so it
    /// leaves as plain text: e.g. the local API token, which is shown to the
    /// user). Written with [`SecretStore::set`]. A store that cannot read such
    /// secrets says it is unavailable.
    fn get_app_secret(&self, name: &str) -> Result<Option<String>, KeychainError> {
        let _ = name;
        Err(KeychainError::Unavailable(
            "this key store keeps no app secrets".into(),
        ))
    }
}

/// The OS keychain through the `keyring` crate: Secret Service on Linux,
/// Keychain on macOS, Credential Manager on Windows.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeychain;

fn keychain_error(e: keyring::Error) -> KeychainError {
    // keyring's messages never carry the secret.
    let (text, no_storage) = match e {
        keyring::Error::NoStorageAccess(inner) => (inner.to_string(), true),
        keyring::Error::PlatformFailure(inner) => (inner.to_string(), false),
        other => return KeychainError::Other(other.to_string()),
    };
    let lower = text.to_lowercase();
    if lower.contains("locked") || lower.contains("dismissed") {
        KeychainError::Locked(text)
    } else if no_storage
        || ["dbus", "d-bus", "secrets", "serviceunknown", "socket"]
            .iter()
            .any(|w| lower.contains(w))
    {
        KeychainError::Unavailable(text)
    } else {
        KeychainError::Other(text)
    }
}

impl OsKeychain {
    fn entry(provider: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(SERVICE, provider).map_err(keychain_error)
    }
}

impl SecretStore for OsKeychain {
    fn get(&self, provider: &str) -> Result<Option<ApiKey>, KeychainError> {
        match Self::entry(provider)?.get_password() {
            Ok(k) => Ok(Some(ApiKey::new(k))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn set(&self, provider: &str, key: &str) -> Result<(), KeychainError> {
        Self::entry(provider)?
            .set_password(key)
            .map_err(keychain_error)
    }

    fn delete(&self, provider: &str) -> Result<bool, KeychainError> {
        match Self::entry(provider)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn get_app_secret(&self, name: &str) -> Result<Option<String>, KeychainError> {
        match Self::entry(name)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

/// A keychain in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryKeychain {
    keys: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl SecretStore for MemoryKeychain {
    fn get(&self, provider: &str) -> Result<Option<ApiKey>, KeychainError> {
        let keys = self.keys.lock().expect("not poisoned");
        Ok(keys.get(provider).map(|k| ApiKey::new(k.clone())))
    }

    fn set(&self, provider: &str, key: &str) -> Result<(), KeychainError> {
        let mut keys = self.keys.lock().expect("not poisoned");
        keys.insert(provider.to_string(), key.to_string());
        Ok(())
    }

    fn delete(&self, provider: &str) -> Result<bool, KeychainError> {
        let mut keys = self.keys.lock().expect("not poisoned");
        Ok(keys.remove(provider).is_some())
    }

    fn get_app_secret(&self, name: &str) -> Result<Option<String>, KeychainError> {
        let keys = self.keys.lock().expect("not poisoned");
        Ok(keys.get(name).cloned())
    }
}

/// A keychain that is not there, for tests of the fallback to the environment.
#[derive(Debug, Default)]
pub struct NoKeychain;

impl SecretStore for NoKeychain {
    fn get(&self, _: &str) -> Result<Option<ApiKey>, KeychainError> {
        Err(KeychainError::Unavailable(
            "no Secret Service on the session bus".into(),
        ))
    }
    fn set(&self, provider: &str, _: &str) -> Result<(), KeychainError> {
        self.get(provider).map(|_| ())
    }
    fn delete(&self, provider: &str) -> Result<bool, KeychainError> {
        self.get(provider).map(|_| false)
    }
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

    #[test]
    fn keys_outside_visible_ascii_are_named_without_the_key() {
        assert_eq!(key_problem("sk-abc_DEF.123~!"), None);
        for (key, says) in [
            ("", "empty"),
            ("sk-ab cd", "a space at character 6"),
            ("sk-ab\tcd", "a control character (U+0009)"),
            ("sk-\u{1b}[2J", "U+001B"),
            ("sk-ab\u{a0}cd", "U+00A0, not visible ASCII"),
            ("sk-ab\u{200b}cd", "U+200B"),
            ("sk-é", "U+00E9"),
        ] {
            let problem = key_problem(key).unwrap_or_else(|| panic!("{key:?} accepted"));
            assert!(problem.contains(says), "{key:?}: {problem}");
            assert!(key.is_empty() || !problem.contains(key), "{problem}");
        }
    }

    #[test]
    fn settings_refuse_a_key_that_could_not_be_sent_and_keep_none() {
        let home = tempfile::tempdir().unwrap();
        let keychain = std::sync::Arc::new(MemoryKeychain::default());
        let app = crate::App::open(crate::AppOptions {
            home: Some(home.path().to_path_buf()),
            keychain: Some(keychain.clone()),
        })
        .unwrap();
        let e = app
            .set_key("openai", "sk-live\u{200b}0123456789")
            .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (crate::Code::InvalidRequest, Some("key"))
        );
        assert!(
            e.message.contains("U+200B") && e.message.contains("visible ASCII"),
            "{e}"
        );
        assert!(keychain.get("openai").unwrap().is_none());
        // Spaces and the newline a paste or a pipe adds around a key are trimmed.
        app.set_key("openai", " sk-live-0123456789\n").unwrap();
        assert!(keychain.get("openai").unwrap().is_some());
    }

    #[test]
    fn keychain_errors_say_what_to_do() {
        let e = NoKeychain.get("openai").unwrap_err().to_string();
        assert!(
            e.contains("Secret Service") && e.contains("environment variables still work"),
            "{e}"
        );
    }
}
