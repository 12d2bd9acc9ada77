#![allow(dead_code)]

use roundtable_core::providers::Dialect;
use roundtable_core::{
    ApiKey, Engine, ModelSpec, PriceTable, ProviderConfig, ProviderKey, RoundtableRequest,
    RunEvent, WireFormat,
};
use roundtable_testkit::FakeProvider;

pub fn provider(id: &str, base_url: String, key: ProviderKey) -> ProviderConfig {
    ProviderConfig {
        id: id.into(),
        format: WireFormat::Openai,
        base_url,
        dialect: Dialect::Compatible,
        key,
        headers: vec![],
        stream: true,
        local: false,
        max_concurrency: None,
    }
}

/// A provider speaking `format` natively at `base_url`, with `key`.
pub fn native_provider(
    id: &str,
    format: WireFormat,
    base_url: String,
    key: &str,
    stream: bool,
) -> ProviderConfig {
    ProviderConfig {
        id: id.into(),
        format,
        base_url,
        dialect: Dialect::Native,
        key: ProviderKey::Key(ApiKey::new(key)),
        headers: vec![],
        stream,
        local: false,
        max_concurrency: None,
    }
}

/// An engine with `fake` (no key), `keyed` (key `sk-test-key-0123456789`), and
/// `nokey` (missing key) providers, all pointing at the fake provider.
pub fn engine(fake: &FakeProvider) -> Engine {
    engine_with_prices(fake, PriceTable::builtin())
}

pub fn engine_with_prices(fake: &FakeProvider, prices: PriceTable) -> Engine {
    let mut keyed = provider(
        "keyed",
        fake.openai_base_url(),
        ProviderKey::Key(ApiKey::new("sk-test-key-0123456789")),
    );
    keyed.local = false;
    let mut nostream = provider("nostream", fake.openai_base_url(), ProviderKey::NotNeeded);
    nostream.stream = false;
    Engine::new(
        vec![
            provider("fake", fake.openai_base_url(), ProviderKey::NotNeeded),
            keyed,
            nostream,
            provider(
                "nokey",
                fake.openai_base_url(),
                ProviderKey::Missing {
                    hint: "run `roundtable keys set nokey` or set NOKEY_API_KEY".into(),
                },
            ),
        ],
        prices,
    )
}

pub fn request(input: &str, models: &[&str]) -> RoundtableRequest {
    RoundtableRequest {
        input: input.into(),
        models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
        ..Default::default()
    }
}

pub fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<RunEvent>) -> Vec<RunEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}
