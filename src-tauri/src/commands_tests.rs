//! The window's commands called through IPC (Tauri's mock runtime) while the
//! keychain or the history is held: each call must return at once, its work
//! waiting elsewhere. A synchronous command would run inside the call, which in
//! the real app is the GTK main thread, and freeze the window.

use crate::Desktop;
use roundtable_app::core::ApiKey;
use roundtable_app::keys::{KeychainError, SecretStore};
use roundtable_app::{App, AppOptions};
use serde_json::{Value, json};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponse};
use tauri::test::{INVOKE_KEY, MockRuntime};
use tauri::webview::InvokeRequest;

/// A keychain that waits while it is closed, as a locked keychain's prompt does.
#[derive(Default)]
struct Gate {
    closed: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn set(&self, closed: bool) {
        *self.closed.lock().unwrap() = closed;
        self.opened.notify_all();
    }
    fn pass(&self) {
        let mut closed = self.closed.lock().unwrap();
        while *closed {
            closed = self.opened.wait(closed).unwrap();
        }
    }
}

struct GatedKeychain(Arc<Gate>);

impl SecretStore for GatedKeychain {
    fn get(&self, _: &str) -> Result<Option<ApiKey>, KeychainError> {
        self.0.pass();
        Ok(None)
    }
    fn set(&self, _: &str, _: &str) -> Result<(), KeychainError> {
        self.0.pass();
        Ok(())
    }
    fn delete(&self, _: &str) -> Result<bool, KeychainError> {
        self.0.pass();
        Ok(false)
    }
}

/// Calls `cmd` from another thread, the way the main thread receives IPC; the
/// call itself must return within a second. Returns the response, waited for
/// once `release` has run.
fn call_while_held(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
    release: impl FnOnce(),
) -> Result<Value, Value> {
    let (response_tx, response_rx) = mpsc::channel();
    let (returned_tx, returned_rx) = mpsc::channel();
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    let webview = webview.as_ref().clone();
    std::thread::spawn(move || {
        webview.on_message(
            request,
            Box::new(move |_, _, response, _, _| {
                let _ = response_tx.send(response);
            }),
        );
        let _ = returned_tx.send(());
    });
    let start = Instant::now();
    let returned = returned_rx.recv_timeout(Duration::from_secs(1));
    release();
    assert!(
        returned.is_ok(),
        "`{cmd}` held the calling thread for {:?}: it must be async and do its work off the main thread",
        start.elapsed()
    );
    match response_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("a response")
    {
        InvokeResponse::Ok(body) => Ok(body.deserialize::<Value>().unwrap()),
        InvokeResponse::Err(e) => Err(e.0),
    }
}

#[test]
fn commands_touching_the_keychain_or_the_history_do_not_hold_the_main_thread() {
    let home = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate::default());
    let app = App::open(AppOptions {
        home: Some(home.path().to_path_buf()),
        keychain: Some(Arc::new(GatedKeychain(gate.clone()))),
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

    // The keychain waits (a locked keychain asking for its password).
    for (cmd, args) in [
        (
            "set_key",
            json!({"provider": "openai", "key": "sk-test-0123456789"}),
        ),
        ("delete_key", json!({"provider": "openai"})),
        ("list_providers", json!({})),
    ] {
        gate.set(true);
        let response = call_while_held(&webview, cmd, args, || gate.set(false));
        assert!(response.is_ok(), "{cmd}: {response:?}");
    }

    // The history is busy: another process holds its write lock.
    for (cmd, args) in [
        ("delete_run", json!({"id": "rt_x"})),
        ("set_starred", json!({"id": "rt_x", "starred": true})),
        ("add_tag", json!({"id": "rt_x", "tag": "t"})),
        ("remove_tag", json!({"id": "rt_x", "tag": "t"})),
    ] {
        let db = rusqlite::Connection::open(home.path().join("history.db")).unwrap();
        db.execute_batch("BEGIN IMMEDIATE").unwrap();
        let response = call_while_held(&webview, cmd, args, || {
            db.execute_batch("ROLLBACK").unwrap();
        });
        let code = response.unwrap_err()["code"].clone();
        assert_eq!(code, "not_found", "{cmd}");
    }
}
