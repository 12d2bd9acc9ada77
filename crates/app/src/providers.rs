//! The providers `config.toml` describes, and the engine over them: which
//! provider ids are known, the engine a run gets (with the keys of the
//! providers it uses, looked up then), and swapping both when Settings changes
//! the file, so the next run sees the change and a run keeps the set it
//! started with. The list and the engine hold the same [`Provider`]s, as
//! `Config::providers` resolved them.

use crate::Code;
use crate::config::Config;
use crate::{App, AppError};
use roundtable_core::validate::split_model_name;
use roundtable_core::{Engine, Provider, ProviderKey, RoundtableRequest};
use std::sync::Arc;

/// The providers as `config.toml` last described them, and an engine over them.
pub(crate) struct Providers {
    pub(crate) list: Vec<Provider>,
    pub(crate) engine: Engine,
}

impl Providers {
    pub(crate) fn find(&self, id: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.id == id)
    }
}

impl App {
    pub(crate) fn providers_now(&self) -> Arc<Providers> {
        self.providers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Prices the next runs with `prices` (a price file imported).
    pub(crate) fn replace_prices(&self, prices: roundtable_core::PriceTable) {
        let mut providers = self.providers.write().unwrap_or_else(|e| e.into_inner());
        let engine = providers.engine.with_prices(prices);
        *providers = Arc::new(Providers {
            list: providers.list.clone(),
            engine,
        });
    }

    /// Reads the providers of `config.toml` again: those added or removed since
    /// serve the next run.
    pub(crate) fn reload_providers(&self) -> Result<(), AppError> {
        let list = Config::load(&self.home.join("config.toml"))?.providers();
        let mut providers = self.providers.write().unwrap_or_else(|e| e.into_inner());
        let engine = providers.engine.with_providers(list.clone());
        *providers = Arc::new(Providers { list, engine });
        Ok(())
    }

    /// Whether `id` is a configured provider; the error lists the known ones.
    pub fn check_provider(&self, id: &str) -> Result<(), AppError> {
        let providers = self.providers_now();
        if providers.find(id).is_some() {
            return Ok(());
        }
        let known: Vec<&str> = providers.list.iter().map(|p| p.id.as_str()).collect();
        Err(AppError::new(
            Code::UnknownProvider,
            format!(
                "unknown provider '{id}': known providers are {} (add others under [providers.ID] in config.toml)",
                known.join(", ")
            ),
        ))
    }

    /// The engine with the keys of the providers `request` uses, and the
    /// current default summary model.
    pub(crate) fn engine_for(&self, request: &RoundtableRequest) -> Engine {
        let default_summary_model = self.default_summary_model();
        let mut ids: Vec<&str> = request
            .models
            .iter()
            .map(|m| m.name.as_str())
            .chain(request.summary_model.as_deref())
            .chain(default_summary_model.as_deref())
            .filter_map(|name| split_model_name(name).map(|(p, _)| p))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let providers = self.providers_now();
        let keys: Vec<(String, ProviderKey)> = ids
            .into_iter()
            .filter_map(|id| providers.find(id))
            .map(|p| (p.id.clone(), self.lookup_key(p).0))
            .collect();
        providers
            .engine
            .with_keys(keys)
            .with_default_summary_model(default_summary_model)
    }
}
