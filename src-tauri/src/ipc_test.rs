//! For tests: the app behind a mock window, and a command called through IPC
//! as the page calls it (Tauri's mock runtime).

use crate::Desktop;
use roundtable_app::App;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponse};
use tauri::test::{INVOKE_KEY, MockRuntime};
use tauri::webview::InvokeRequest;

/// A window over `app`, with every command the real one has.
pub fn window(app: App) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    window_of(Desktop::with_app(Ok(Arc::new(app)), Instant::now()))
}

/// A window over `desktop` (an app set up further), with every command.
pub fn window_of(desktop: Desktop) -> (tauri::App<MockRuntime>, tauri::WebviewWindow<MockRuntime>) {
    let tauri_app = tauri::test::mock_builder()
        .manage(desktop)
        .invoke_handler(crate::invoke_handler())
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&tauri_app, "main", Default::default())
        .build()
        .unwrap();
    (tauri_app, webview)
}

/// `cmd` with `args`, as the page invokes it: its reply, or the error it sent.
pub fn call(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let (tx, rx) = std::sync::mpsc::channel();
    webview.as_ref().clone().on_message(
        request(cmd, args),
        Box::new(move |_, _, response, _, _| {
            let _ = tx.send(response);
        }),
    );
    match rx.recv_timeout(Duration::from_secs(20)).unwrap() {
        InvokeResponse::Ok(body) => Ok(body.deserialize::<Value>().unwrap()),
        InvokeResponse::Err(e) => Err(e.0),
    }
}

/// The IPC request the page sends for `cmd` with `args`.
pub fn request(cmd: &str, args: Value) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}
