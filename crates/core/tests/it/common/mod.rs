#![allow(dead_code)]

use roundtable_core::providers::Dialect;
use roundtable_core::{
    ApiKey, Engine, ModelSpec, PriceTable, Provider, ProviderKey, RoundtableRequest, RunEvent,
    WireFormat,
};
use roundtable_testkit::FakeProvider;

/// An OpenAI-compatible provider at `base_url`, treated as remote although
/// the fake listens on loopback.
pub fn provider(id: &str, base_url: String) -> Provider {
    Provider {
        local: false,
        ..Provider::new(id, WireFormat::Openai, base_url)
    }
}

/// A remote provider speaking `format` natively at `base_url`.
pub fn native_provider(id: &str, format: WireFormat, base_url: String, stream: bool) -> Provider {
    Provider {
        dialect: Dialect::Native,
        stream,
        local: false,
        ..Provider::new(id, format, base_url)
    }
}

/// `engine` with every one of its providers called with `key`.
pub fn with_key(engine: Engine, key: &str) -> Engine {
    let keys: Vec<(String, ProviderKey)> = engine
        .providers()
        .map(|p| (p.id.clone(), ProviderKey::Key(ApiKey::new(key))))
        .collect();
    engine.with_keys(keys)
}

/// An engine with `fake` (no key), `keyed` (key `sk-test-key-0123456789`), and
/// `nokey` (missing key) providers, all pointing at the fake provider.
pub fn engine(fake: &FakeProvider) -> Engine {
    engine_with_prices(fake, PriceTable::builtin())
}

pub fn engine_with_prices(fake: &FakeProvider, prices: PriceTable) -> Engine {
    let mut nostream = provider("nostream", fake.openai_base_url());
    nostream.stream = false;
    Engine::new(
        vec![
            provider("fake", fake.openai_base_url()),
            provider("keyed", fake.openai_base_url()),
            nostream,
            provider("nokey", fake.openai_base_url()),
        ],
        prices,
    )
    .with_keys([
        (
            "keyed".to_string(),
            ProviderKey::Key(ApiKey::new("sk-test-key-0123456789")),
        ),
        (
            "nokey".to_string(),
            ProviderKey::Missing {
                hint: "run `roundtable keys set nokey` or set NOKEY_API_KEY".into(),
            },
        ),
    ])
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
