//! Keys and where they come from: a provider's key is looked up in the
//! keychain, then the environment (a local server needs none), and shown to
//! people only as its source and a hint (`…abcd`), never the key. Keys found in
//! the keychain are kept until this app changes them; a miss is asked again
//! after [`NEGATIVE_KEY_TTL`]. What a key must be, and the keychains
//! themselves, are in [`crate::keys`].

use crate::Code;
use crate::keys::{self, KeySource, KeychainError};
use crate::{App, AppError};
use roundtable_core::{ApiKey, Provider, ProviderKey};
use serde::Serialize;
use std::time::{Duration, Instant};

/// A provider as the user sees it, with where its key comes from (never the key).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProviderStatus {
    #[serde(flatten)]
    pub provider: Provider,
    pub key_source: KeySource,
    /// The environment variable the key came from, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// `…abcd`, for keys long enough that four characters give nothing away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_hint: Option<String>,
    /// Why the keychain could not be asked, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keychain_error: Option<String>,
}

/// A key looked up in the keychain, or the lack of one, remembered for a while.
pub(crate) struct CachedKey {
    found: Result<Option<ApiKey>, KeychainError>,
    at: Instant,
}

/// How long "no key in the keychain" (or "no keychain") is remembered before the
/// keychain is asked again; a key found is kept until this app changes it.
pub const NEGATIVE_KEY_TTL: Duration = Duration::from_secs(10);

impl App {
    fn keychain_key(&self, provider: &str) -> Result<Option<ApiKey>, KeychainError> {
        let mut cache = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(provider) {
            let fresh = matches!(c.found, Ok(Some(_))) || c.at.elapsed() < NEGATIVE_KEY_TTL;
            if fresh {
                return c.found.clone();
            }
        }
        let found = self.keychain.get(provider);
        cache.insert(
            provider.to_string(),
            CachedKey {
                found: found.clone(),
                at: Instant::now(),
            },
        );
        found
    }

    /// A provider's key and where it came from: the keychain, then the
    /// environment; a local server needs none.
    pub(crate) fn lookup_key(&self, p: &Provider) -> (ProviderKey, ProviderStatus) {
        let mut status = ProviderStatus {
            provider: p.clone(),
            key_source: KeySource::Missing,
            key_env: None,
            key_hint: None,
            keychain_error: None,
        };
        let hint = |k: &ApiKey| Some(k.masked_suffix()).filter(|h| h != "…");
        match self.keychain_key(&p.id) {
            Ok(Some(key)) => {
                status.key_source = KeySource::Keychain;
                status.key_hint = hint(&key);
                return (ProviderKey::Key(key), status);
            }
            Ok(None) => {}
            Err(e) => status.keychain_error = Some(e.to_string()),
        }
        if let Some((key, var)) = keys::from_env(&p.id) {
            status.key_source = KeySource::Environment;
            status.key_env = Some(var);
            status.key_hint = hint(&key);
            return (ProviderKey::Key(key), status);
        }
        if p.local {
            status.key_source = KeySource::NotNeeded;
            return (ProviderKey::NotNeeded, status);
        }
        let mut hint = keys::hint(&p.id);
        if let Some(e) = &status.keychain_error {
            hint.push_str(&format!(" ({e})"));
        }
        (ProviderKey::Missing { hint }, status)
    }

    /// Every provider, with where its key comes from (never the key).
    pub fn providers(&self) -> Vec<ProviderStatus> {
        self.providers_now()
            .list
            .iter()
            .map(|p| self.lookup_key(p).1)
            .collect()
    }

    /// Every provider, with where its key comes from and not even its hint:
    /// what a window (a web page) is shown.
    pub fn providers_without_hints(&self) -> Vec<ProviderStatus> {
        let mut providers = self.providers();
        for p in &mut providers {
            p.key_hint = None;
        }
        providers
    }

    /// Stores a provider's key in the keychain; refuses one that could not be
    /// sent (see [`keys::key_problem`]), before the keychain is asked.
    pub fn set_key(&self, provider: &str, key: &str) -> Result<(), AppError> {
        self.check_provider(provider)?;
        let key = key.trim();
        if let Some(problem) = keys::key_problem(key) {
            return Err(AppError {
                field: Some("key".into()),
                ..AppError::new(Code::InvalidRequest, problem)
            });
        }
        self.keychain.set(provider, key)?;
        self.forget_key(provider);
        Ok(())
    }

    /// Deletes a provider's key from the keychain; whether there was one.
    pub fn delete_key(&self, provider: &str) -> Result<bool, AppError> {
        self.check_provider(provider)?;
        let deleted = self.keychain.delete(provider)?;
        self.forget_key(provider);
        Ok(deleted)
    }

    fn forget_key(&self, provider: &str) {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(provider);
    }
}
