//! The bearer token of the local HTTP API (`roundtable serve`, and the one the
//! desktop app starts).
//!
//! Where it comes from, in order:
//!
//! 1. `ROUNDTABLE_API_TOKEN`, when set and not blank;
//! 2. the keychain entry [`KEYCHAIN_ENTRY`] (`@local-api-token`: the `@` cannot
//!    appear in a provider id, so it never collides with a provider's key);
//! 3. the file [`TOKEN_FILE`] in `ROUNDTABLE_HOME` (readable by its owner only),
//!    where a start without a keychain kept it;
//! 4. otherwise a new token (32 random bytes, hex) is generated and kept in the
//!    keychain, else in that file, so it stays the same from one start to the
//!    next;
//! 5. when neither can keep it, it lasts for this process
//!    ([`TokenOrigin::Process`] says why).
//!
//! An [`App`] loads it once and keeps it: the token Settings shows, its
//! `curl` example and the server's check agree for the life of the process.
//!
//! Unlike a provider key, the token is shown to the user (it is printed at start-up
//! so scripts can use it), hence plain text; its `Debug` still hides it.

use crate::App;
use crate::keys::SecretStore;
use rand::RngCore;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// The environment variable that sets the token.
pub const ENV_VAR: &str = "ROUNDTABLE_API_TOKEN";

/// The keychain entry (service `roundtable`) that keeps a generated token.
pub const KEYCHAIN_ENTRY: &str = "@local-api-token";

/// The file in `ROUNDTABLE_HOME` that keeps the token when the keychain cannot.
pub const TOKEN_FILE: &str = "local-api-token";

/// Where the token comes from, for Settings to show (`{"kind": "file", "path": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenOrigin {
    /// `ROUNDTABLE_API_TOKEN`.
    Environment,
    /// The OS keychain ([`KEYCHAIN_ENTRY`]); kept from one start to the next.
    Keychain,
    /// [`TOKEN_FILE`] in `ROUNDTABLE_HOME` (owner-only), used when the keychain
    /// is not available; kept from one start to the next.
    File { path: String },
    /// This process only: neither the keychain nor the file could keep it (why).
    Process { reason: String },
    /// Given by the host itself (a test, an embedding program).
    Given,
}

/// Where the token came from, as the first hosts told it apart. A token kept
/// in [`TOKEN_FILE`] is `Keychain` (or `Generated`) here, as one that lasts;
/// [`ApiToken::origin`] tells the two apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `ROUNDTABLE_API_TOKEN`.
    Environment,
    /// Kept by an earlier start.
    Keychain,
    /// Generated now and kept for the next starts.
    Generated,
    /// Generated for this process only (why).
    Ephemeral { reason: String },
    /// Given by the host itself (a test, an embedding program).
    Given,
}

/// The local API's token.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    value: String,
    source: TokenSource,
    origin: TokenOrigin,
}

impl ApiToken {
    pub fn new(value: impl Into<String>, source: TokenSource) -> Self {
        let origin = match &source {
            TokenSource::Environment => TokenOrigin::Environment,
            TokenSource::Keychain | TokenSource::Generated => TokenOrigin::Keychain,
            TokenSource::Ephemeral { reason } => TokenOrigin::Process {
                reason: reason.clone(),
            },
            TokenSource::Given => TokenOrigin::Given,
        };
        ApiToken {
            value: value.into(),
            source,
            origin,
        }
    }

    fn kept(value: String, origin: TokenOrigin, new: bool) -> Self {
        let source = match &origin {
            TokenOrigin::Environment => TokenSource::Environment,
            TokenOrigin::Keychain | TokenOrigin::File { .. } if new => TokenSource::Generated,
            TokenOrigin::Keychain | TokenOrigin::File { .. } => TokenSource::Keychain,
            TokenOrigin::Process { reason } => TokenSource::Ephemeral {
                reason: reason.clone(),
            },
            TokenOrigin::Given => TokenSource::Given,
        };
        ApiToken {
            value,
            source,
            origin,
        }
    }

    /// The token itself: to print it for the user and to check requests against it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// Where it comes from, for Settings.
    pub fn origin(&self) -> &TokenOrigin {
        &self.origin
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("value", &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

/// A new token: 32 random bytes from the OS-seeded CSPRNG, as 64 hex digits.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token kept in `path`, if there is one; a file others could read is made
/// the owner's only.
fn read_file(path: &Path) -> std::io::Result<Option<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path)?.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
}

/// Keeps `token` in `path` (owner-only, synced), unless another process got
/// there first: then theirs is the token, and is returned.
fn write_file(path: &Path, token: &str) -> std::io::Result<String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".local-api-token.")
        .tempfile_in(dir)?;
    tmp.write_all(token.as_bytes())?;
    tmp.as_file().sync_all()?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(token.to_string()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => read_file(path)?
            .ok_or_else(|| std::io::Error::other(format!("{} is empty", path.display()))),
        Err(e) => Err(e.error),
    }
}

/// The token, given the value of `ROUNDTABLE_API_TOKEN` (if any), the keychain
/// and `ROUNDTABLE_HOME` (for [`TOKEN_FILE`]).
pub fn load(from_env: Option<&str>, store: &dyn SecretStore, home: Option<&Path>) -> ApiToken {
    if let Some(v) = from_env.map(str::trim).filter(|v| !v.is_empty()) {
        return ApiToken::kept(v.to_string(), TokenOrigin::Environment, false);
    }
    let mut keychain_error = match store.get_app_secret(KEYCHAIN_ENTRY) {
        Ok(Some(v)) if !v.trim().is_empty() => {
            return ApiToken::kept(v.trim().to_string(), TokenOrigin::Keychain, false);
        }
        Ok(_) => None,
        Err(e) => Some(e.cause()),
    };
    let file = home.map(|h| h.join(TOKEN_FILE));
    let in_file = |path: &Path| TokenOrigin::File {
        path: path.display().to_string(),
    };
    let mut file_error = None;
    if let Some(path) = &file {
        match read_file(path) {
            Ok(Some(v)) => return ApiToken::kept(v, in_file(path), false),
            Ok(None) => {}
            Err(e) => file_error = Some(format!("{}: {e}", path.display())),
        }
    }
    let token = generate();
    if keychain_error.is_none() {
        match store.set(KEYCHAIN_ENTRY, &token) {
            Ok(()) => return ApiToken::kept(token, TokenOrigin::Keychain, true),
            Err(e) => keychain_error = Some(e.cause()),
        }
    }
    if let Some(path) = file.as_ref().filter(|_| file_error.is_none()) {
        match write_file(path, &token) {
            Ok(kept) => return ApiToken::kept(kept, in_file(path), true),
            Err(e) => file_error = Some(format!("{}: {e}", path.display())),
        }
    }
    let reason = [keychain_error, file_error]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
    ApiToken::kept(token, TokenOrigin::Process { reason }, true)
}

impl App {
    /// The local API's token: `ROUNDTABLE_API_TOKEN`, else the one kept in the
    /// keychain or in [`TOKEN_FILE`] (generated and kept on first use), else
    /// one for this process. Resolved once: the same for the life of this app.
    pub fn local_api_token(&self) -> ApiToken {
        self.api_token
            .get_or_init(|| {
                let env = std::env::var(ENV_VAR).ok();
                load(env.as_deref(), &*self.keychain, Some(&self.home))
            })
            .clone()
    }

    /// Where the local API's token comes from, once it has been loaded (by
    /// [`App::local_api_token`]); `None` before, so asking never creates one.
    pub fn local_api_token_origin(&self) -> Option<TokenOrigin> {
        self.api_token.get().map(|t| t.origin().clone())
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
        let t = load(Some(" from-env "), &store, None);
        assert_eq!(t.expose(), "from-env");
        assert_eq!(t.source(), &TokenSource::Environment);
        assert_eq!(
            load(Some("  "), &store, None).source(),
            &TokenSource::Keychain
        );
    }

    #[test]
    fn generated_once_then_kept_in_the_keychain() {
        let store = MemoryKeychain::default();
        let first = load(None, &store, None);
        assert_eq!(first.source(), &TokenSource::Generated);
        let again = load(None, &store, None);
        assert_eq!(again.source(), &TokenSource::Keychain);
        assert_eq!(first.expose(), again.expose());
        assert!(store.get_app_secret(KEYCHAIN_ENTRY).unwrap().is_some());
    }

    #[test]
    fn without_a_home_or_a_keychain_the_token_is_for_this_process_and_says_why() {
        let t = load(None, &NoKeychain, None);
        assert_eq!(t.expose().len(), 64);
        match t.origin() {
            // Why, without the advice about provider keys, which does not
            // apply to the token (`serve` prints this reason).
            TokenOrigin::Process { reason } => {
                assert!(reason.contains("OS keychain is not available"), "{reason}");
                assert!(!reason.contains("_API_KEY"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(t.source(), TokenSource::Ephemeral { .. }));
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn without_a_keychain_the_token_is_kept_in_an_owner_only_file() {
        let home = tempfile::tempdir().unwrap();
        let first = load(None, &NoKeychain, Some(home.path()));
        let path = home.path().join(TOKEN_FILE);
        let origin = TokenOrigin::File {
            path: path.display().to_string(),
        };
        assert_eq!(first.origin(), &origin);
        assert_eq!(first.source(), &TokenSource::Generated);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The next start reads it back.
        let next = load(None, &NoKeychain, Some(home.path()));
        assert_eq!((next.expose(), next.origin()), (first.expose(), &origin));
        assert_eq!(next.source(), &TokenSource::Keychain);
        // What Settings is given to show.
        let json = serde_json::to_value(next.origin()).unwrap();
        assert_eq!(json["kind"], "file");
        assert_eq!(json["path"], path.display().to_string());
        // A keychain that works keeps new tokens; the file's stays in use.
        let store = MemoryKeychain::default();
        assert_eq!(
            load(None, &store, Some(home.path())).expose(),
            first.expose()
        );
        let elsewhere = tempfile::tempdir().unwrap();
        let t = load(None, &store, Some(elsewhere.path()));
        assert_eq!(t.origin(), &TokenOrigin::Keychain);
        assert!(!elsewhere.path().join(TOKEN_FILE).exists());
    }

    #[test]
    fn the_app_keeps_one_token_for_its_life_when_nothing_can_keep_it() {
        let home = tempfile::tempdir().unwrap();
        // The token file's place is taken by a directory: neither read nor written.
        std::fs::create_dir(home.path().join(TOKEN_FILE)).unwrap();
        let app = App::open(crate::AppOptions {
            home: Some(home.path().to_path_buf()),
            keychain: Some(std::sync::Arc::new(NoKeychain)),
        })
        .unwrap();
        let first = app.local_api_token();
        match first.origin() {
            TokenOrigin::Process { reason } if std::env::var(ENV_VAR).is_err() => {
                assert!(
                    reason.contains("OS keychain is not available") && reason.contains(TOKEN_FILE),
                    "{reason}"
                )
            }
            _ => {}
        }
        for _ in 0..3 {
            assert_eq!(app.local_api_token(), first);
        }
    }
}
