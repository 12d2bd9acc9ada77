//! What the suites share: an app over a temporary home whose `config.toml`
//! points the provider `fake` at a running fake provider, a sink that keeps
//! the events it is given, and requests for the fake's models.

#![allow(dead_code)]

use roundtable_app::core::{
    Meta, ModelSpec, Resolution, RoundtableRequest, RoundtableResponse, RunEvent, RunOutcome,
    RunStatus,
};
use roundtable_app::keys::MemoryKeychain;
use roundtable_app::{App, AppError, AppOptions, RunSink};
use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// An app over a temporary home, and the fake provider it calls.
pub struct Fixture {
    pub fake: FakeProvider,
    pub home: tempfile::TempDir,
    pub app: App,
}

impl Fixture {
    /// The fake as provider `fake` (a loopback server: no key needed).
    pub async fn start(script: Script) -> Fixture {
        Fixture::with_config(script, |base_url| {
            format!("[providers.fake]\nformat = \"openai\"\nbase_url = \"{base_url}\"\n")
        })
        .await
    }

    /// `config` is the whole `config.toml`, given the fake's OpenAI base URL.
    pub async fn with_config(script: Script, config: impl Fn(&str) -> String) -> Fixture {
        let fake = FakeProvider::start(script).await.unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            config(&fake.openai_base_url()),
        )
        .unwrap();
        let app = open(home.path());
        Fixture { fake, home, app }
    }

    pub fn config_path(&self) -> std::path::PathBuf {
        self.home.path().join("config.toml")
    }

    /// "Capital?" asked of `models`, resolved fast, to its end.
    pub async fn fast(&self, models: &[&str]) -> (Result<RunOutcome, AppError>, Events) {
        self.run(request("Capital?", models, Resolution::Fast))
            .await
    }

    /// Runs `request` to its end, keeping its events.
    pub async fn run(&self, request: RoundtableRequest) -> (Result<RunOutcome, AppError>, Events) {
        let events = Events::default();
        let out = self
            .app
            .run(request, &events, CancellationToken::new())
            .await;
        (out, events)
    }
}

/// The app at `home`, with a keychain of its own in memory.
/// A run of `usd` recorded by another process (another host), dated `at`
/// (unix ms; now when `None`).
pub fn spent_at(fx: &Fixture, id: &str, usd: f64, at: Option<i64>) {
    let store = roundtable_app::store::Store::open(&fx.home.path().join("history.db")).unwrap();
    let response = RoundtableResponse {
        id: id.into(),
        data: Some("x".into()),
        meta: Meta {
            total_cost: usd,
            ..Meta::default()
        },
        model_results: vec![],
    };
    store
        .import_response(None, &response, RunStatus::Completed, at)
        .unwrap();
}

/// A run of `usd` recorded now by another process.
pub fn spent_elsewhere(fx: &Fixture, id: &str, usd: f64) {
    spent_at(fx, id, usd, None);
}

pub fn open(home: &std::path::Path) -> App {
    App::open(AppOptions {
        home: Some(home.to_path_buf()),
        keychain: Some(Arc::new(MemoryKeychain::default())),
    })
    .unwrap()
}

/// `a` answers Paris, `b` London (in three chunks each, a little apart), `down`
/// always fails with HTTP 500, `slow` answers after ten seconds.
pub fn script() -> Script {
    Script::new()
        .model("a", Behavior::answer("Paris").chunks(3).chunk_delay(5))
        .model("b", Behavior::answer("London").chunks(3).chunk_delay(5))
        .model(
            "down",
            Behavior::new().faults((0..4).map(|_| Fault::status(500, "exploded").retry_after("0"))),
        )
        .model("slow", Behavior::answer("Late").latency(10_000))
}

/// A request for `models` (names as `provider/model`), resolved `resolution`.
pub fn request(input: &str, models: &[&str], resolution: Resolution) -> RoundtableRequest {
    RoundtableRequest {
        input: input.into(),
        models: models.iter().map(|m| ModelSpec::named(*m)).collect(),
        resolution: Some(resolution),
        ..Default::default()
    }
}

/// A sink that keeps every event, in the order it was given them.
#[derive(Default, Clone)]
pub struct Events(Arc<Mutex<Vec<RunEvent>>>);

impl RunSink for Events {
    fn event(&self, event: RunEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Events {
    pub fn all(&self) -> Vec<RunEvent> {
        self.0.lock().unwrap().clone()
    }

    /// Each event's `type`, as it crosses to the hosts.
    pub fn kinds(&self) -> Vec<String> {
        self.all().iter().map(kind).collect()
    }

    /// The text model `index` streamed.
    pub fn text_of(&self, index: usize) -> String {
        self.all()
            .iter()
            .filter_map(|e| match e {
                RunEvent::TextDelta {
                    index: i, delta, ..
                } if *i == index => Some(delta.as_str()),
                _ => None,
            })
            .collect()
    }
}

pub fn kind(event: &RunEvent) -> String {
    serde_json::to_value(event).unwrap()["type"]
        .as_str()
        .unwrap()
        .to_string()
}
