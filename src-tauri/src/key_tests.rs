//! What the window and the desktop's logs get of a key: nothing. A key is set
//! through IPC as the Settings view sets it, the providers are listed as the
//! page lists them, and every line traced meanwhile (spans with their fields,
//! at every level) is read back.

use crate::Desktop;
use roundtable_app::keys::MemoryKeychain;
use roundtable_app::{App, AppOptions};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponse};
use tauri::test::{INVOKE_KEY, MockRuntime};
use tauri::webview::InvokeRequest;

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

fn call(webview: &tauri::WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Value {
    let (tx, rx) = std::sync::mpsc::channel();
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    webview.as_ref().clone().on_message(
        request,
        Box::new(move |_, _, response, _, _| {
            let _ = tx.send(response);
        }),
    );
    match rx.recv_timeout(Duration::from_secs(20)).unwrap() {
        InvokeResponse::Ok(body) => body.deserialize::<Value>().unwrap(),
        InvokeResponse::Err(e) => panic!("{cmd}: {:?}", e.0),
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
    let desktop = Desktop::with_app(Ok(Arc::new(app)), Instant::now());
    let tauri_app = tauri::test::mock_builder()
        .manage(desktop)
        .invoke_handler(crate::invoke_handler())
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&tauri_app, "main", Default::default())
        .build()
        .unwrap();

    assert_eq!(
        call(
            &webview,
            "set_key",
            json!({"provider": "openai", "key": KEY})
        ),
        Value::Null,
        "nothing of the key comes back"
    );
    let stored = roundtable_app::keys::SecretStore::get(&*keychain, "openai").unwrap();
    // The stored key is the one sent: masking it in the key itself changes it.
    assert_ne!(stored.unwrap().mask_in(KEY), KEY, "the key was stored");

    let providers = call(&webview, "list_providers", json!({}));
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
