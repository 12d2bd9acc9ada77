//! What the window and the desktop's logs get of a key: nothing. A key is set
//! through IPC as the Settings view sets it, the providers are listed as the
//! page lists them, and every line traced meanwhile (spans with their fields,
//! at every level) is read back.

use crate::ipc_test::window;
use roundtable_app::keys::MemoryKeychain;
use roundtable_app::{App, AppOptions};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};

const KEY: &str = "sk-proj-PAGECHECK-0123456789abcdefWXYZ";

/// Everything traced, in one buffer.
#[derive(Clone, Default)]
struct Traced(Arc<Mutex<Vec<u8>>>);

impl Write for Traced {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_key_set_from_the_window_reaches_neither_the_page_nor_the_logs() {
    let traced = Traced::default();
    let writer = traced.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global: the commands run on the async runtime's threads.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let home = tempfile::tempdir().unwrap();
    let keychain = Arc::new(MemoryKeychain::default());
    let app = App::open(AppOptions {
        home: Some(home.path().to_path_buf()),
        keychain: Some(keychain.clone()),
    })
    .unwrap();
    let (_app, webview) = window(app);
    let call = |cmd: &str, args: Value| {
        crate::ipc_test::call(&webview, cmd, args).unwrap_or_else(|e| panic!("{cmd}: {e}"))
    };

    assert_eq!(
        call("set_key", json!({"provider": "openai", "key": KEY})),
        Value::Null,
        "nothing of the key comes back"
    );
    let stored = roundtable_app::keys::SecretStore::get(&*keychain, "openai").unwrap();
    // The stored key is the one sent: masking it in the key itself changes it.
    assert_ne!(stored.unwrap().mask_in(KEY), KEY, "the key was stored");

    let providers = call("list_providers", json!({}));
    let openai = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "openai")
        .unwrap();
    assert_eq!(
        openai["key_source"], "keychain",
        "the page learns where it is"
    );
    for p in providers.as_array().unwrap() {
        assert_eq!(
            p["key_hint"],
            Value::Null,
            "{}: no hint reaches a page",
            p["id"]
        );
    }
    let page = providers.to_string();
    // Not the key, nor any piece of it a hint would show (its last 4 characters).
    assert!(!page.contains(&KEY[KEY.len() - 4..]), "{page}");

    let logs = String::from_utf8(traced.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("set_key"), "the command was traced: {logs}");
    assert!(!logs.contains("PAGECHECK"), "{logs}");
    assert!(!logs.contains(&KEY[KEY.len() - 4..]), "{logs}");
}
