//! The preferences the desktop app shows and changes, kept in `config.toml` so
//! the CLI and the local API share them: the default panel (`default_models`),
//! the default summary model, the theme and whether the local API starts with
//! the app (`[desktop]`), the local API's port (`[server] port`), and the
//! daily and monthly budget (`[budget]`, see [`crate::budget`]).
//!
//! Saving edits the file in place with `toml_edit`: the user's comments, layout
//! and every other entry are kept; a value that was already there keeps the
//! comment beside it. The edited text is checked as a whole `config.toml` before
//! it replaces the file (see `config/edit.rs`), so a save never leaves a
//! file the next start would refuse.

use crate::App;
use crate::AppError;
use crate::budget::BudgetConfig;
use crate::config::edit::{parse, remove, rewrite, set, table};
use crate::config::{Config, Theme, check_default_panel, check_port};
use roundtable_core::ValidationError;
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml_edit::{Array, Value};

/// What the desktop's Settings edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// `[budget]`; when saving, `None` leaves it as it is (a window that does
    /// not show the budget does not clear it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub budget: Option<BudgetConfig>,
}

impl From<&Config> for Prefs {
    fn from(c: &Config) -> Self {
        Prefs {
            default_models: c.default_models.clone(),
            default_summary_model: c.default_summary_model.clone(),
            theme: c.desktop.theme,
            local_api: c.desktop.local_api,
            local_api_port: c.server.port,
            budget: Some(c.budget),
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
        check_default_panel(
            &self.default_models,
            self.default_summary_model.as_deref(),
            is_known_provider,
        )?;
        check_port(self.local_api_port)?;
        if let Some(b) = &self.budget {
            b.check()?;
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
    if let Some(b) = &prefs.budget {
        let budget = table(root, "budget")?;
        for (key, v) in [("daily_usd", b.daily_usd), ("monthly_usd", b.monthly_usd)] {
            match v {
                Some(v) => set(budget, key, v.into()),
                None => remove(budget, key),
            }
        }
        set(budget, "soft", b.soft.into());
    }
    let out = doc.to_string();
    Config::parse(&out)?;
    Ok(out)
}

impl App {
    /// The preferences, read afresh from `config.toml` (the CLI may have changed it).
    pub fn prefs(&self) -> Result<Prefs, AppError> {
        read(&self.home.join("config.toml"))
    }

    /// Checks `prefs` and writes them into `config.toml`, keeping the rest of it;
    /// returns them as saved (read back, the budget included). The default summary model applies to this app's
    /// next run (the local API's too); the CLI reads them all at its next run.
    pub fn save_prefs(&self, prefs: &Prefs) -> Result<Prefs, AppError> {
        let prefs = prefs.normalized();
        prefs.validate(&|id| self.check_provider(id).is_ok())?;
        write(&self.home.join("config.toml"), &prefs)?;
        *self
            .default_summary_model
            .write()
            .unwrap_or_else(|e| e.into_inner()) = prefs.default_summary_model.clone();
        self.prefs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;
    use crate::testing::{USER_FILE, user_app};

    fn prefs() -> Prefs {
        Prefs {
            default_models: vec!["openai/gpt-4.1-mini".into(), "myllm/qwen3".into()],
            default_summary_model: Some("anthropic/claude-sonnet-4-5".into()),
            theme: Theme::Dark,
            local_api: true,
            local_api_port: 9100,
            budget: Some(BudgetConfig {
                daily_usd: Some(2.5),
                monthly_usd: None,
                soft: true,
            }),
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
        let e = bad(|p| {
            p.budget = Some(BudgetConfig {
                monthly_usd: Some(-3.0),
                ..BudgetConfig::default()
            })
        });
        assert_eq!(e.field, "budget.monthly_usd");
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
        assert_eq!(e.code, Code::InvalidRequest);
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
}
