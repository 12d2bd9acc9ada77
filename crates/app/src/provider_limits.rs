//! A provider's concurrency limit as Settings changes it: `max_concurrency`
//! under `[providers.ID]` in `config.toml`, for a built-in and a provider of
//! the user's own alike. Written with the `toml_edit` writer
//! (`config/edit.rs`) as the other preferences ([`crate::prefs`]):
//! comments and every other entry are kept.
//!
//! A change applies to the next run: the app's providers and engine are
//! swapped (see [`App::save_provider`]), and the new engine settles each
//! provider's slots afresh (`roundtable_core::slots`).

use crate::App;
use crate::AppError;
use crate::config::MAX_CONCURRENCY_LIMIT;
use crate::config::edit::{parse, rewrite, set, table};
use roundtable_core::ValidationError;
use roundtable_core::provider::builtin;
use toml_edit::Item;

/// The `config.toml` field of `id`'s limit, as errors name it.
pub fn field(id: &str) -> String {
    format!("providers.{id}.max_concurrency")
}

/// Reads a limit as typed in Settings: blank is none (the default), else a
/// whole number from 1 to [`MAX_CONCURRENCY_LIMIT`]; the error names the field.
pub fn parse_max_concurrency(id: &str, text: &str) -> Result<Option<usize>, ValidationError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let n: usize = text.parse().map_err(|_| {
        ValidationError::new(
            field(id),
            format!(
                "'{text}' is not a whole number: give the calls at once (1 or more), or leave it empty for the default"
            ),
        )
    })?;
    check_max_concurrency(id, Some(n))?;
    Ok(Some(n))
}

/// Refuses 0 and more than [`MAX_CONCURRENCY_LIMIT`].
pub fn check_max_concurrency(id: &str, limit: Option<usize>) -> Result<(), ValidationError> {
    match limit {
        Some(0) => Err(ValidationError::new(
            field(id),
            "must be at least 1 (leave it empty for the default)",
        )),
        Some(n) if n > MAX_CONCURRENCY_LIMIT => Err(ValidationError::new(
            field(id),
            format!("must be at most {MAX_CONCURRENCY_LIMIT}"),
        )),
        _ => Ok(()),
    }
}

/// The text of a `config.toml` with `[providers.ID] max_concurrency` set to
/// `limit`, or without it when `None` (a built-in's table left empty, with no
/// comment of its own, goes too); an error when the text is not valid TOML or
/// would not be a valid config afterwards.
pub fn edit_max_concurrency(text: &str, id: &str, limit: Option<usize>) -> Result<String, String> {
    let mut doc = parse(text)?;
    let root = doc.as_table_mut();
    match limit {
        Some(n) => {
            let new = !root.contains_key("providers");
            let providers = table(root, "providers")?;
            if new {
                // Only `[providers.ID]` is written, not an empty `[providers]`.
                providers.set_implicit(true);
            }
            let entry = table(providers, id)?;
            let n = i64::try_from(n).map_err(|_| format!("{}: too large", field(id)))?;
            set(entry, "max_concurrency", n.into());
        }
        None => {
            if let Some(providers) = root.get_mut("providers").and_then(Item::as_table_like_mut) {
                let emptied = match providers.get_mut(id) {
                    Some(Item::Table(entry)) => {
                        entry.remove("max_concurrency");
                        let commented = entry
                            .decor()
                            .prefix()
                            .and_then(|p| p.as_str())
                            .is_some_and(|p| p.contains('#'));
                        entry.is_empty() && !commented
                    }
                    Some(Item::Value(toml_edit::Value::InlineTable(entry))) => {
                        entry.remove("max_concurrency");
                        entry.is_empty()
                    }
                    _ => false,
                };
                if emptied && builtin(id).is_some() {
                    providers.remove(id);
                }
                if providers.is_empty() {
                    root.remove("providers");
                }
            }
        }
    }
    let out = doc.to_string();
    crate::config::Config::parse(&out)?;
    Ok(out)
}

impl App {
    /// Sets (or, with `None`, clears) how many calls `id` takes at once, in
    /// `config.toml`, keeping the rest of it; the next run (this app's, the
    /// local API's, the CLI's) waits its turn by it.
    pub fn set_max_concurrency(&self, id: &str, limit: Option<usize>) -> Result<(), AppError> {
        self.check_provider(id)?;
        check_max_concurrency(id, limit)?;
        rewrite(&self.home.join("config.toml"), |text| {
            edit_max_concurrency(text, id, limit)
        })?;
        self.reload_providers()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;
    use crate::{AppOptions, keys::MemoryKeychain};
    use roundtable_core::slots::LimitSource;
    use roundtable_testkit::{Behavior, FakeProvider, Identity, Script};
    use std::sync::Arc;

    const USER_FILE: &str = r#"# mine
default_models = ["ollama/llama3.2"]

[providers.lab]   # the box under my desk
format = "openai"
base_url = "http://127.0.0.1:1234/v1"
max_concurrency = 4   # it has four slots

[server]
port = 9000
"#;

    #[test]
    fn set_changed_and_cleared_keeping_comments() {
        let changed = edit_max_concurrency(USER_FILE, "lab", Some(2)).unwrap();
        assert_eq!(
            changed,
            USER_FILE.replace("max_concurrency = 4 ", "max_concurrency = 2 ")
        );
        let cleared = edit_max_concurrency(&changed, "lab", None).unwrap();
        assert_eq!(
            cleared,
            USER_FILE.replace("max_concurrency = 4   # it has four slots\n", "")
        );
        // A built-in gets a table of its own, which goes again once cleared.
        let ollama = edit_max_concurrency(USER_FILE, "ollama", Some(1)).unwrap();
        assert!(
            ollama.contains("[providers.ollama]\nmax_concurrency = 1\n"),
            "{ollama}"
        );
        assert!(ollama.contains("# the box under my desk"), "{ollama}");
        assert_eq!(
            edit_max_concurrency(&ollama, "ollama", None).unwrap(),
            USER_FILE
        );
        let only = edit_max_concurrency("", "ollama", Some(3)).unwrap();
        assert_eq!(only, "[providers.ollama]\nmax_concurrency = 3\n");
        assert_eq!(edit_max_concurrency(&only, "ollama", None).unwrap(), "");
        // A built-in's table with other keys or a comment stays.
        let kept = "# my ollama\n[providers.ollama]\nmax_concurrency = 3\n";
        assert_eq!(
            edit_max_concurrency(kept, "ollama", None).unwrap(),
            "# my ollama\n[providers.ollama]\n"
        );
    }

    #[test]
    fn what_is_typed_is_checked_naming_the_field() {
        assert_eq!(parse_max_concurrency("ollama", " 2 ").unwrap(), Some(2));
        assert_eq!(parse_max_concurrency("ollama", "  ").unwrap(), None);
        for (typed, says) in [
            ("0", "must be at least 1"),
            ("two", "'two' is not a whole number"),
            ("-1", "'-1' is not a whole number"),
            ("1.5", "'1.5' is not a whole number"),
            ("100000", "must be at most 1024"),
        ] {
            let e = parse_max_concurrency("ollama", typed).unwrap_err();
            assert_eq!(e.field, "providers.ollama.max_concurrency", "{typed}");
            assert!(
                e.to_string()
                    .starts_with("providers.ollama.max_concurrency: ")
                    && e.to_string().contains(says),
                "{typed}: {e}"
            );
        }
    }

    fn app_on(home: &std::path::Path) -> App {
        App::open(AppOptions {
            home: Some(home.to_path_buf()),
            keychain: Some(Arc::new(MemoryKeychain::default())),
        })
        .unwrap()
    }

    fn panel_of_three() -> roundtable_core::RoundtableRequest {
        serde_json::from_value(serde_json::json!({
            "input": "Hello?",
            "models": [{"name": "lab/m"}, {"name": "lab/m"}, {"name": "lab/m"}],
            "resolution": "fast",
            "max_retries": 0
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_limit_set_in_settings_applies_to_the_next_run() {
        // A one-slot server that aborts the call in flight when another comes,
        // and says nothing of itself.
        let fake = FakeProvider::start(
            Script::new()
                .identity(Identity::Unknown)
                .slots(1)
                .default_behavior(Behavior::answer("one at a time").chunks(5).chunk_delay(30)),
        )
        .await
        .unwrap();
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("config.toml");
        std::fs::write(
            &path,
            USER_FILE.replace("http://127.0.0.1:1234/v1", &fake.openai_base_url()),
        )
        .unwrap();
        let app = app_on(home.path());
        let run = || {
            app.run(
                panel_of_three(),
                &(),
                tokio_util::sync::CancellationToken::new(),
            )
        };
        // Four at once (as config.toml says) on a one-slot server: calls break
        // off, and nothing is learned over the limit the user set.
        let out = run().await.unwrap();
        let failed = |o: &roundtable_core::RunOutcome| {
            o.response
                .model_results
                .iter()
                .filter(|r| r.error.is_some())
                .count()
        };
        assert!(failed(&out) > 0, "{:?}", out.response.model_results);
        let servers = app.local_servers().await;
        let lab = servers.iter().find(|s| s.provider == "lab").unwrap();
        let c = lab.concurrency.as_ref().unwrap();
        assert_eq!((c.limit, c.source), (Some(4), LimitSource::Set));

        // Refused values leave the file alone.
        let before = std::fs::read_to_string(&path).unwrap();
        let e = app.set_max_concurrency("lab", Some(0)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("providers.lab.max_concurrency"));
        assert!(e.message.contains("at least 1"), "{e}");
        assert_eq!(e.code, Code::InvalidRequest);
        assert!(app.set_max_concurrency("nosuch", Some(1)).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);

        app.set_max_concurrency("lab", Some(1)).unwrap();
        let listed = |app: &App, id: &str| {
            app.providers()
                .into_iter()
                .find(|p| p.provider.id == id)
                .unwrap()
                .provider
                .max_concurrency
        };
        assert_eq!(listed(&app, "lab"), Some(1));
        let set = app.local_servers().await;
        let c = set.iter().find(|s| s.provider == "lab").unwrap();
        let c = c.concurrency.as_ref().unwrap();
        assert_eq!((c.limit, c.source), (Some(1), LimitSource::Set));
        let out = run().await.unwrap();
        assert_eq!(failed(&out), 0, "{:?}", out.response.model_results);
        let waited = out
            .response
            .model_results
            .iter()
            .filter(|r| r.queued_ms.is_some())
            .count();
        assert_eq!(waited, 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("max_concurrency = 1   # it has four slots"),
            "{text}"
        );

        // A built-in, set and cleared; the next start reads the same.
        app.set_max_concurrency("ollama", Some(2)).unwrap();
        assert_eq!(listed(&app_on(home.path()), "ollama"), Some(2));
        app.set_max_concurrency("ollama", None).unwrap();
        assert_eq!(listed(&app, "ollama"), None);
        assert!(
            !std::fs::read_to_string(&path)
                .unwrap()
                .contains("[providers.ollama]")
        );
    }
}
