//! Providers of the user's own, as Settings adds, changes and removes them:
//! `[providers.ID]` in `config.toml` with a wire format and a base URL,
//! written with the `toml_edit` writer (`config/edit.rs`), so comments
//! and every other entry are kept. The next run (this app's, the local API's,
//! the CLI's) uses them: the app's providers are swapped after each change.

use crate::config::edit::{parse, remove, rewrite, set, table};
use crate::config::{Config, check_provider_id};
use crate::{App, AppError};
use roundtable_core::provider::builtin;
use roundtable_core::{ValidationError, WireFormat};
use serde::Deserialize;
use toml_edit::Item;

/// A provider of the user's own, as Settings adds it to `config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomProvider {
    pub id: String,
    pub format: WireFormat,
    pub base_url: String,
}

/// The text of a `config.toml` with `[providers.ID]` given `provider`'s format
/// and base URL (its other keys, such as `headers`, kept), or without that
/// table when `provider` is `None`; an error as for [`edit`].
pub fn edit_provider(
    text: &str,
    id: &str,
    provider: Option<&CustomProvider>,
) -> Result<String, String> {
    let mut doc = parse(text)?;
    let root = doc.as_table_mut();
    match provider {
        Some(p) => {
            let new = !root.contains_key("providers");
            let providers = table(root, "providers")?;
            if new {
                // Only `[providers.ID]` is written, not an empty `[providers]`.
                providers.set_implicit(true);
            }
            let entry = table(providers, id)?;
            set(entry, "format", p.format.as_str().into());
            set(entry, "base_url", p.base_url.as_str().into());
        }
        None => {
            if let Some(providers) = root.get_mut("providers").and_then(Item::as_table_like_mut) {
                providers.remove(id);
                if providers.is_empty() {
                    remove(root, "providers");
                }
            }
        }
    }
    let out = doc.to_string();
    Config::parse(&out)?;
    Ok(out)
}

impl App {
    /// Adds a provider of the user's own to `config.toml` (or changes its
    /// format and base URL), keeping the rest of the file; the next run can use
    /// it, in this app and the CLI alike.
    pub fn save_provider(&self, provider: &CustomProvider) -> Result<(), AppError> {
        let provider = CustomProvider {
            id: provider.id.trim().to_string(),
            format: provider.format,
            base_url: provider.base_url.trim().trim_end_matches('/').to_string(),
        };
        let id = provider.id.as_str();
        if builtin(id).is_some() {
            return Err(ValidationError::new(
                "id",
                format!("'{id}' is a built-in provider: pick another id"),
            )
            .into());
        }
        let known = self.providers_now();
        check_provider_id(id, known.list.iter().map(|p| p.id.as_str()))
            .map_err(|message| ValidationError::new("id", message))?;
        let url = url::Url::parse(&provider.base_url).map_err(|e| {
            ValidationError::new(
                "base_url",
                format!("'{}' is not a URL: {e}", provider.base_url),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ValidationError::new(
                "base_url",
                "an http:// or https:// URL, e.g. http://127.0.0.1:8080/v1",
            )
            .into());
        }
        rewrite(&self.home.join("config.toml"), |text| {
            edit_provider(text, id, Some(&provider))
        })?;
        self.reload_providers()
    }

    /// Removes a provider of the user's own from `config.toml`.
    pub fn remove_provider(&self, id: &str) -> Result<(), AppError> {
        if builtin(id).is_some() {
            return Err(ValidationError::new(
                "id",
                format!("'{id}' is a built-in provider and cannot be removed"),
            )
            .into());
        }
        self.check_provider(id)?;
        rewrite(&self.home.join("config.toml"), |text| {
            edit_provider(text, id, None)
        })?;
        self.reload_providers()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{USER_FILE, user_app};

    #[test]
    fn a_provider_is_added_changed_and_removed_keeping_the_rest() {
        let mine = |url: &str| CustomProvider {
            id: "lab".into(),
            format: WireFormat::Openai,
            base_url: url.into(),
        };
        let added =
            edit_provider(USER_FILE, "lab", Some(&mine("http://10.0.0.5:8000/v1"))).unwrap();
        // Beside the other provider, every comment kept.
        assert!(
            added.contains("base_url = \"http://127.0.0.1:1234/v1\"\n\n[providers.lab]"),
            "{added}"
        );
        assert!(
            added.contains("# the box under my desk") && added.contains("# 8787 is taken here")
        );
        assert!(
            added.contains(
                "[providers.lab]\nformat = \"openai\"\nbase_url = \"http://10.0.0.5:8000/v1\""
            ),
            "{added}"
        );
        assert!(!added.contains("[providers]\n"), "{added}");
        // Changed: its other keys stay.
        let with_headers = added.replace(
            "[providers.lab]\n",
            "[providers.lab]\nheaders = { X-Team = \"ml\" }\n",
        );
        let changed =
            edit_provider(&with_headers, "lab", Some(&mine("http://10.0.0.6:8000/v1"))).unwrap();
        assert!(
            changed.contains("X-Team")
                && changed.contains("10.0.0.6")
                && !changed.contains("10.0.0.5"),
            "{changed}"
        );
        let removed = edit_provider(&changed, "lab", None).unwrap();
        assert_eq!(removed.trim_end(), USER_FILE.trim_end());
        // Into an empty file, then out of it: no `[providers]` left behind.
        let only = edit_provider("", "lab", Some(&mine("http://127.0.0.1:8000/v1"))).unwrap();
        assert_eq!(
            only,
            "[providers.lab]\nformat = \"openai\"\nbase_url = \"http://127.0.0.1:8000/v1\"\n"
        );
        assert_eq!(edit_provider(&only, "lab", None).unwrap().trim(), "");
    }

    #[tokio::test]
    async fn a_provider_added_in_settings_answers_the_next_run() {
        use roundtable_testkit::{Behavior, FakeProvider, Script};
        let fake =
            FakeProvider::start(Script::new().default_behavior(Behavior::answer("from the lab")))
                .await
                .unwrap();
        let (home, app) = user_app();
        assert!(app.check_provider("lab").is_err());
        let bad = |id: &str, url: &str| {
            app.save_provider(&CustomProvider {
                id: id.into(),
                format: WireFormat::Openai,
                base_url: url.into(),
            })
            .unwrap_err()
        };
        for (id, url, field) in [
            ("openai", "http://127.0.0.1:1/v1", "id"),
            ("my lab", "http://127.0.0.1:1/v1", "id"),
            ("OpenAI", "http://127.0.0.1:1/v1", "id"),
            ("MyLLM", "http://127.0.0.1:1/v1", "id"),
            ("lab", "127.0.0.1:1/v1", "base_url"),
            ("lab", "ftp://127.0.0.1/v1", "base_url"),
        ] {
            assert_eq!(bad(id, url).field.as_deref(), Some(field), "{id} {url}");
        }
        let e = bad("OpenAI", "http://127.0.0.1:1/v1").message;
        assert!(
            e.contains("the built-in provider 'openai'") && e.contains("OPENAI_API_KEY"),
            "{e}"
        );
        let e = bad("MYLLM", "http://127.0.0.1:1/v1").message;
        assert!(e.contains("the provider 'myllm'"), "{e}");
        assert!(
            app.check_provider("lab").is_err(),
            "a refused provider is not added"
        );

        app.save_provider(&CustomProvider {
            id: " lab ".into(),
            format: WireFormat::Openai,
            base_url: format!("{}/", fake.openai_base_url()),
        })
        .unwrap();
        let listed = app
            .providers()
            .into_iter()
            .find(|p| p.provider.id == "lab")
            .unwrap();
        assert_eq!(listed.provider.base_url, fake.openai_base_url());
        assert!(!listed.provider.builtin);
        let request: roundtable_core::RoundtableRequest =
            serde_json::from_value(serde_json::json!({
                "input": "Hello?", "models": [{"name": "lab/m"}], "resolution": "fast"
            }))
            .unwrap();
        let outcome = app
            .run(request, &(), tokio_util::sync::CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(outcome.response.model_results[0].data, "from the lab");
        assert_eq!(fake.calls_for("m"), 1);

        assert_eq!(
            app.remove_provider("openai").unwrap_err().field.as_deref(),
            Some("id")
        );
        app.remove_provider("lab").unwrap();
        assert!(app.check_provider("lab").is_err());
        let text = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
        assert!(
            !text.contains("lab") && text.contains("# the box under my desk"),
            "{text}"
        );
    }
}
