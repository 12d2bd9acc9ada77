//! [`ApiKey`]: a provider key that cannot be printed or serialised. It is unwrapped
//! only where a provider's HTTP auth header is built (`providers`).

use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(SecretString::from(key.into()))
    }

    /// The key itself, for building the auth header; nothing else calls this.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// `…` and the last four characters, for "which key is this" lists; nothing for
    /// short keys, where four characters would be too large a share.
    pub fn masked_suffix(&self) -> String {
        let key = self.expose();
        let n = key.chars().count();
        if n < 16 {
            "…".to_string()
        } else {
            let tail: String = key.chars().skip(n - 4).collect();
            format!("…{tail}")
        }
    }

    /// `text` with every occurrence of the key replaced by `<redacted>`: used on
    /// provider error bodies, which some servers echo the key back in.
    pub fn mask_in(&self, text: &str) -> String {
        let key = self.expose();
        if key.len() < 4 {
            return text.to_string();
        }
        text.replace(key, "<redacted>")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A key cannot be serialised into a response, a log record or a file.
    static_assertions::assert_not_impl_any!(ApiKey: serde::Serialize);

    #[test]
    fn never_prints_the_key() {
        let k = ApiKey::new("sk-test-1234567890abcdef");
        assert_eq!(format!("{k}"), "<redacted>");
        assert_eq!(format!("{k:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(k.clone())), "Some(<redacted>)");
        assert_eq!(k.masked_suffix(), "…cdef");
        assert_eq!(
            k.mask_in("bad key sk-test-1234567890abcdef given"),
            "bad key <redacted> given"
        );
        assert_eq!(ApiKey::new("short").masked_suffix(), "…");
    }
}
