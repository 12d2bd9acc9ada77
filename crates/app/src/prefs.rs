//! The preferences the desktop app shows and changes, kept in `config.toml` so
//! the CLI and the local API share them: the default panel (`default_models`),
//! the default summary model, the theme and whether the local API starts with
//! the app (`[desktop]`), and the local API's port (`[server] port`).
//!
//! Saving edits the file in place with `toml_edit`: the user's comments, layout
//! and every other entry are kept; a value that was already there keeps the
//! comment beside it. The edited text is checked as a whole `config.toml` before
//! it replaces the file (see [`crate::config_file`]), so a save never leaves a
//! file the next start would refuse.

use crate::App;
use crate::AppError;
use crate::config::{Config, Theme, builtin, check_provider_id};
use roundtable_core::ValidationError;
use roundtable_core::WireFormat;
use roundtable_core::validate::split_model_name;
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml_edit::{Array, DocumentMut, Item, Table, Value};

/// What the desktop's Settings edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Prefs {
    /// The panel when none is given (`default_models`).
    pub default_models: Vec<String>,
    /// `default_summary_model`; `None`: the first model that answered.
    pub default_summary_model: Option<String>,
    /// `[desktop] theme`.
    pub theme: Theme,
    /// `[desktop] local_api`: start the local API with the app.
    pub local_api: bool,
    /// `[server] port`: the local API's port (also `roundtable serve`'s default).
    pub local_api_port: u16,
}

impl From<&Config> for Prefs {
    fn from(c: &Config) -> Self {
        Prefs {
            default_models: c.default_models.clone(),
            default_summary_model: c.default_summary_model.clone(),
            theme: c.desktop.theme,
            local_api: c.desktop.local_api,
            local_api_port: c.server.port,
        }
    }
}

impl Prefs {
    /// Trims the model names and drops empty ones (an empty summary model is none).
    pub fn normalized(&self) -> Prefs {
        Prefs {
            default_models: self
                .default_models
                .iter()
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect(),
            default_summary_model: self
                .default_summary_model
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string),
            ..self.clone()
        }
    }

    /// Checks every value; the error names the `config.toml` field.
    /// `is_known_provider` tells whether a provider id is configured.
    pub fn validate(
        &self,
        is_known_provider: &dyn Fn(&str) -> bool,
    ) -> Result<(), ValidationError> {
        let check_model = |field: String, name: &str| -> Result<(), ValidationError> {
            let Some((provider, _)) = split_model_name(name) else {
                return Err(ValidationError::new(
                    field,
                    format!("'{name}' is not provider/model (e.g. openai/gpt-4.1-mini)"),
                ));
            };
            if !is_known_provider(provider) {
                return Err(ValidationError::new(
                    field,
                    format!(
                        "unknown provider '{provider}' in '{name}' (add it under [providers.{provider}] in config.toml)"
                    ),
                ));
            }
            Ok(())
        };
        for (i, name) in self.default_models.iter().enumerate() {
            check_model(format!("default_models[{i}]"), name)?;
        }
        if let Some(name) = &self.default_summary_model {
            check_model("default_summary_model".into(), name)?;
        }
        if self.local_api_port == 0 {
            return Err(ValidationError::new(
                "server.port",
                "must be between 1 and 65535",
            ));
        }
        Ok(())
    }
}

/// Reads the preferences from `config.toml` (a missing file gives the defaults).
pub fn read(path: &Path) -> Result<Prefs, AppError> {
    Ok(Prefs::from(&Config::load(path)?))
}

/// Writes `prefs` into the `config.toml` at `path` (created when missing),
/// keeping everything else in it. `prefs` must be valid ([`Prefs::validate`]).
pub fn write(path: &Path, prefs: &Prefs) -> Result<(), AppError> {
    rewrite(path, |text| edit(text, prefs))
}

/// Replaces the `config.toml` at `path` (created when missing) with what
/// `change` makes of its text (see [`crate::config_file::replace`]: its mode
/// and a symlink kept, a unique temp file, synced).
pub(crate) fn rewrite(
    path: &Path,
    change: impl FnOnce(&str) -> Result<String, String>,
) -> Result<(), AppError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(AppError::new(
                "config",
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    let edited = change(&text).map_err(|message| {
        AppError::new(
            "config",
            format!(
                "{}: {message}; fix the file by hand, then save again",
                path.display()
            ),
        )
    })?;
    crate::config_file::replace(path, &edited)
        .map_err(|e| AppError::new("config", format!("cannot write {}: {e}", path.display())))
}

/// The text of a `config.toml` with `prefs` written into it; an error when the
/// text is not valid TOML, or would not be a valid config afterwards.
pub fn edit(text: &str, prefs: &Prefs) -> Result<String, String> {
    let mut doc = parse(text)?;
    let root = doc.as_table_mut();
    if prefs.default_models.is_empty() {
        remove(root, "default_models");
    } else {
        let models: Array = prefs.default_models.iter().map(String::as_str).collect();
        set(root, "default_models", Value::Array(models));
    }
    match &prefs.default_summary_model {
        Some(m) => set(root, "default_summary_model", m.as_str().into()),
        None => remove(root, "default_summary_model"),
    }
    let desktop = table(root, "desktop")?;
    set(desktop, "theme", prefs.theme.as_str().into());
    set(desktop, "local_api", prefs.local_api.into());
    let server = table(root, "server")?;
    set(server, "port", i64::from(prefs.local_api_port).into());
    let out = doc.to_string();
    Config::parse(&out)?;
    Ok(out)
}

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

pub(crate) fn parse(text: &str) -> Result<DocumentMut, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e| format!("not valid TOML: {e}"))?;
    // A file of comments only: they are the document's trailing text, which is
    // written after everything; keep them on top instead.
    if doc.as_table().is_empty() {
        let trailing = doc.trailing().as_str().unwrap_or("").to_string();
        if !trailing.trim().is_empty() {
            doc.set_trailing("");
            doc.as_table_mut().decor_mut().set_prefix(trailing);
        }
    }
    Ok(doc)
}

/// The table `key` of `root`, created (as a `[key]` section) when missing.
pub(crate) fn table<'a>(root: &'a mut Table, key: &str) -> Result<&'a mut Table, String> {
    let item = root.entry(key).or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(false);
        Item::Table(t)
    });
    if let Item::Value(Value::InlineTable(inline)) = item {
        // `server = { port = 1 }`: made a section to add keys to it plainly.
        let t = std::mem::take(inline).into_table();
        *item = Item::Table(t);
    }
    item.as_table_mut()
        .ok_or_else(|| format!("{key} must be a table ([{key}])"))
}

/// Removes the top-level `key`; the comment lines above it move to what follows.
fn remove(root: &mut Table, key: &str) {
    let above = root
        .key(key)
        .and_then(|k| k.leaf_decor().prefix())
        .and_then(|p| p.as_str())
        .filter(|p| p.contains('#'))
        .map(str::to_string);
    let Some(at) = root.iter().position(|(k, _)| k == key) else {
        return;
    };
    root.remove(key);
    let Some(above) = above else { return };
    let prepend = |old: Option<&str>| format!("{above}{}", old.unwrap_or(""));
    // The next plain entry, in order, else the first section.
    if let Some((mut k, _)) = root.iter_mut().skip(at).find(|(_, item)| item.is_value()) {
        let old = k
            .leaf_decor()
            .prefix()
            .and_then(|p| p.as_str())
            .map(str::to_string);
        k.leaf_decor_mut().set_prefix(prepend(old.as_deref()));
        return;
    }
    let first = root
        .iter_mut()
        .filter_map(|(_, item)| item.as_table_mut())
        .min_by_key(|t| t.position());
    if let Some(t) = first {
        let old = t
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .map(str::to_string);
        t.decor_mut().set_prefix(prepend(old.as_deref()));
    }
}

/// Sets `key` to `value`, keeping the comments around a value already there.
pub(crate) fn set(table: &mut Table, key: &str, mut value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

impl App {
    /// The preferences, read afresh from `config.toml` (the CLI may have changed it).
    pub fn prefs(&self) -> Result<Prefs, AppError> {
        read(&self.home.join("config.toml"))
    }

    /// Checks `prefs` and writes them into `config.toml`, keeping the rest of it;
    /// returns them as saved. The default summary model applies to this app's
    /// next run (the local API's too); the CLI reads them all at its next run.
    pub fn save_prefs(&self, prefs: &Prefs) -> Result<Prefs, AppError> {
        let prefs = prefs.normalized();
        prefs.validate(&|id| self.check_provider(id).is_ok())?;
        write(&self.home.join("config.toml"), &prefs)?;
        *self
            .default_summary_model
            .write()
            .unwrap_or_else(|e| e.into_inner()) = prefs.default_summary_model.clone();
        Ok(prefs)
    }

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

    const USER_FILE: &str = r#"# My roundtable settings
default_models = ["ollama/llama3.2"]   # local first

price_files = ["my-prices.json"]

[providers.myllm]   # the box under my desk
format = "openai"
base_url = "http://127.0.0.1:1234/v1"

[server]
port = 9000   # 8787 is taken here
max_models = 10
"#;

    fn prefs() -> Prefs {
        Prefs {
            default_models: vec!["openai/gpt-4.1-mini".into(), "myllm/qwen3".into()],
            default_summary_model: Some("anthropic/claude-sonnet-4-5".into()),
            theme: Theme::Dark,
            local_api: true,
            local_api_port: 9100,
        }
    }

    fn known(id: &str) -> bool {
        ["openai", "anthropic", "myllm", "ollama"].contains(&id)
    }

    #[test]
    fn a_round_trip_keeps_comments_and_other_entries() {
        let out = edit(USER_FILE, &prefs()).unwrap();
        for kept in [
            "# My roundtable settings",
            "# local first",
            "price_files = [\"my-prices.json\"]",
            "[providers.myllm]   # the box under my desk",
            "# 8787 is taken here",
            "max_models = 10",
        ] {
            assert!(out.contains(kept), "lost {kept:?} in:\n{out}");
        }
        let config = Config::parse(&out).unwrap();
        assert_eq!(Prefs::from(&config), prefs());
        assert_eq!(config.server.max_models, 10);
        assert_eq!(config.price_files.len(), 1);
        assert!(config.providers.contains_key("myllm"));
        // Saving the same again changes nothing.
        assert_eq!(edit(&out, &prefs()).unwrap(), out);
    }

    #[test]
    fn clearing_removes_the_keys_and_a_new_file_is_made() {
        let cleared = Prefs {
            default_models: vec![],
            default_summary_model: None,
            ..prefs()
        };
        let out = edit(USER_FILE, &cleared).unwrap();
        assert!(!out.contains("default_models"), "{out}");
        assert!(!out.contains("default_summary_model"), "{out}");
        assert!(out.contains("# My roundtable settings"));

        let only_comments = edit("# mine\n\n# more\n", &prefs()).unwrap();
        assert!(
            only_comments.starts_with("# mine\n\n# more\n"),
            "{only_comments}"
        );
        let cleared_again = edit(&only_comments, &cleared).unwrap();
        assert!(cleared_again.starts_with("# mine\n"), "{cleared_again}");

        let fresh = edit("", &prefs()).unwrap();
        let config = Config::parse(&fresh).unwrap();
        assert_eq!(Prefs::from(&config), prefs());
        assert!(fresh.contains("[desktop]"), "{fresh}");
    }

    #[test]
    fn an_inline_server_table_is_edited_too() {
        let out = edit("server = { port = 1, max_models = 3 }\n", &prefs()).unwrap();
        let config = Config::parse(&out).unwrap();
        assert_eq!(config.server.port, 9100);
        assert_eq!(config.server.max_models, 3);
    }

    #[test]
    fn invalid_values_are_rejected_naming_the_field() {
        let bad = |f: fn(&mut Prefs)| {
            let mut p = prefs();
            f(&mut p);
            p.normalized().validate(&known).unwrap_err()
        };
        let e = bad(|p| p.default_models[1] = "gpt-4".into());
        assert_eq!(e.field, "default_models[1]");
        assert!(e.to_string().contains("not provider/model"), "{e}");
        let e = bad(|p| p.default_models.push("nosuch/model".into()));
        assert_eq!(e.field, "default_models[2]");
        assert!(e.to_string().contains("unknown provider 'nosuch'"), "{e}");
        let e = bad(|p| p.default_summary_model = Some("openai/".into()));
        assert_eq!(e.field, "default_summary_model");
        let e = bad(|p| p.local_api_port = 0);
        assert_eq!(e.field, "server.port");
        assert!(e.to_string().starts_with("server.port: "), "{e}");
        // Blank entries are dropped, not errors.
        let mut p = prefs();
        p.default_models.push("  ".into());
        p.default_summary_model = Some(" ".into());
        let n = p.normalized();
        assert!(n.validate(&known).is_ok());
        assert_eq!(n.default_models.len(), 2);
        assert_eq!(n.default_summary_model, None);
    }

    #[test]
    fn a_file_that_is_not_valid_is_left_alone() {
        let e = edit("default_models = [\"a\"\n", &prefs()).unwrap_err();
        assert!(e.contains("not valid TOML"), "{e}");
        let e = edit("server = 3\n", &prefs()).unwrap_err();
        assert!(e.contains("server must be a table"), "{e}");
        // Another entry the config would refuse: the edit is refused too.
        let e = edit("[desktop]\ncolour = \"red\"\n", &prefs()).unwrap_err();
        assert!(e.contains("colour"), "{e}");
        let e = Config::parse("[desktop]\ntheme = \"purple\"\n").unwrap_err();
        assert!(e.contains("purple") && e.contains("theme"), "{e}");
    }

    /// The app over a home holding the user's file (without its price file).
    fn user_app() -> (tempfile::TempDir, App) {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            USER_FILE.replace("price_files = [\"my-prices.json\"]\n", ""),
        )
        .unwrap();
        let app = App::open(crate::AppOptions {
            home: Some(home.path().to_path_buf()),
            keychain: Some(std::sync::Arc::new(crate::keys::MemoryKeychain::default())),
        })
        .unwrap();
        (home, app)
    }

    #[test]
    fn the_app_saves_and_the_next_open_sees_them() {
        let (home, app) = user_app();
        let path = home.path().join("config.toml");
        let saved = app.save_prefs(&prefs()).unwrap();
        assert_eq!(app.prefs().unwrap(), saved);
        let e = app
            .save_prefs(&Prefs {
                default_models: vec!["nosuch/x".into()],
                ..prefs()
            })
            .unwrap_err();
        assert_eq!(e.code, "invalid_request");
        assert_eq!(e.field.as_deref(), Some("default_models[0]"));
        // The refused save left the file as it was.
        assert_eq!(app.prefs().unwrap(), saved);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# the box under my desk"));
        assert!(!home.path().join("config.toml.saving").exists());
        let reopened = App::open(crate::AppOptions {
            home: Some(home.path().to_path_buf()),
            keychain: Some(std::sync::Arc::new(crate::keys::MemoryKeychain::default())),
        })
        .unwrap();
        assert_eq!(
            reopened.config().default_summary_model.as_deref(),
            Some("anthropic/claude-sonnet-4-5")
        );
        assert_eq!(reopened.config().server.port, 9100);
    }

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
            .run(request, None, tokio_util::sync::CancellationToken::new())
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
