//! `roundtable-core`: the roundtable contract types, the provider adapters, the
//! ensemble engine, the resolutions and the price table.
//!
//! It does no I/O but the HTTP calls to providers and knows nothing of hosts,
//! storage or keys: a key reaches it as an [`ApiKey`] value that cannot be printed.
//!
//! Extending it:
//! - a new wire format is a module in [`providers`] with a pure request builder and
//!   pure response/stream parsers, plus a variant of [`providers::WireFormat`];
//! - a new built-in provider is a row of the table in `provider/builtin.rs`
//!   ([`provider::builtins`]); every host lists it and the engine can call it;
//! - a new resolution is a variant of [`Resolution`] and a module in [`resolution`];
//! - a new event for hosts is a variant of [`RunEvent`];
//! - a new view of where the answers agree is a module in [`agreement`].

pub mod agreement;
pub mod attachments;
pub mod contract;
pub mod engine;
pub mod events;
pub mod prices;
pub mod provider;
pub mod providers;
pub mod resolution;
pub mod secret;
pub mod slots;
pub mod thread;
pub mod validate;

pub use contract::*;
pub use engine::{CallEstimate, Engine, Estimate, RunOutcome};
pub use events::RunEvent;
pub use prices::{ModelPrice, PriceTable};
pub use provider::{Provider, ProviderKey};
pub use providers::WireFormat;
pub use secret::ApiKey;
pub use validate::{ValidationError, validate_request};

/// A new run id: `rt_` plus a time-ordered unique suffix.
pub fn new_run_id() -> String {
    format!("rt_{}", uuid::Uuid::now_v7().simple())
}
