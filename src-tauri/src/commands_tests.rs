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
use tauri::ipc::InvokeResponse;
use tauri::test::MockRuntime;

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

/// A call on its way: whether `on_message` returned, and the response.
struct Pending {
    cmd: String,
    returned: mpsc::Receiver<()>,
    response: mpsc::Receiver<InvokeResponse>,
}

/// Sends `cmd` from a thread of its own, as the main thread receives IPC.
fn send(webview: &tauri::WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Pending {
    let (response_tx, response) = mpsc::channel();
    let (returned_tx, returned) = mpsc::channel();
    let request = crate::ipc_test::request(cmd, args);
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
    Pending {
        cmd: cmd.into(),
        returned,
        response,
    }
}

/// How long an async command may take to hand its work off and return while
/// what it needs is held: a generous window on a loaded 2-core machine, yet
/// well under the history's 5 s busy timeout, which a command doing the work
/// on the calling thread would wait out (the keychain and the FIFO are held for
/// good).
const RETURNS_WITHIN: Duration = Duration::from_secs(3);

/// Sends every call while what they need is held; each `on_message` must
/// return within [`RETURNS_WITHIN`] all the same. Then `release` runs, and the responses
/// are collected.
fn call_while_held(
    webview: &tauri::WebviewWindow<MockRuntime>,
    calls: Vec<(&str, Value)>,
    release: impl FnOnce(),
) -> Vec<(String, Result<Value, Value>)> {
    let pending: Vec<Pending> = calls
        .into_iter()
        .map(|(cmd, args)| send(webview, cmd, args))
        .collect();
    let deadline = Instant::now() + RETURNS_WITHIN;
    let held: Vec<&str> = pending
        .iter()
        .filter(|p| {
            let left = deadline.saturating_duration_since(Instant::now());
            p.returned.recv_timeout(left).is_err()
        })
        .map(|p| p.cmd.as_str())
        .collect();
    release();
    assert!(
        held.is_empty(),
        "{held:?} held the calling thread: a command touching the keychain, the history or a file must be async and do that work off the main thread"
    );
    pending
        .iter()
        .map(|p| {
            let response = match p
                .response
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no response to {}", p.cmd))
            {
                InvokeResponse::Ok(body) => Ok(body.deserialize::<Value>().unwrap()),
                InvokeResponse::Err(e) => Err(e.0),
            };
            (p.cmd.clone(), response)
        })
        .collect()
}

#[test]
fn commands_touching_the_keychain_the_history_or_a_file_do_not_hold_the_main_thread() {
    let home = tempfile::tempdir().unwrap();
    let gate = Arc::new(Gate::default());
    let app = App::open(AppOptions {
        home: Some(home.path().to_path_buf()),
        keychain: Some(Arc::new(GatedKeychain(gate.clone()))),
    })
    .unwrap();
    let desktop = Desktop::with_app(Ok(Arc::new(app)), Instant::now())
        .with_e2e_export_dir(home.path().to_path_buf());
    let (_tauri_app, webview) = crate::ipc_test::window_of(desktop);

    // The keychain waits (a locked keychain asking for its password).
    gate.set(true);
    let keychain = vec![
        (
            "set_key",
            json!({"provider": "openai", "key": "sk-test-0123456789"}),
        ),
        ("delete_key", json!({"provider": "openai"})),
        ("list_providers", json!({})),
    ];
    for (cmd, response) in call_while_held(&webview, keychain, || gate.set(false)) {
        assert!(response.is_ok(), "{cmd}: {response:?}");
    }

    // The history is busy: another process holds its write lock, and a write of
    // this window waits for it, holding the app's own handle on the history.
    let db = rusqlite::Connection::open(home.path().join("history.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let first = send(&webview, "delete_run", json!({"id": "rt_x"}));
    std::thread::sleep(Duration::from_millis(300));
    let history = vec![
        ("set_starred", json!({"id": "rt_x", "starred": true})),
        ("add_tag", json!({"id": "rt_x", "tag": "t"})),
        ("remove_tag", json!({"id": "rt_x", "tag": "t"})),
        ("list_runs", json!({"query": {}})),
        ("get_run", json!({"id": "rt_x"})),
        ("thread", json!({"id": "rt_x"})),
        ("branch_of", json!({"id": "rt_x"})),
        ("delete_turn_and_after", json!({"id": "rt_x"})),
        ("delete_thread", json!({"id": "rt_x"})),
        ("export_thread", json!({"id": "rt_x", "format": "md"})),
        ("attachment_data", json!({"sha256": "ab".repeat(32)})),
        ("history_version", json!({})),
        ("export_runs", json!({"ids": ["rt_x"], "format": "md"})),
        ("leaderboard", json!({"query": {}})),
        ("export_leaderboard", json!({"query": {"source": "votes"}})),
        ("spend_stats", json!({"query": {"utc_offset_minutes": 60}})),
        ("budget_status", json!({})),
    ];
    let responses = call_while_held(&webview, history, || {
        db.execute_batch("ROLLBACK").unwrap();
    });
    assert!(first.returned.recv_timeout(RETURNS_WITHIN).is_ok());
    for (cmd, response) in responses {
        match cmd.as_str() {
            "list_runs" | "history_version" | "leaderboard" | "export_leaderboard"
            | "spend_stats" | "budget_status" => {
                assert!(response.is_ok(), "{cmd}: {response:?}")
            }
            _ => assert_eq!(response.unwrap_err()["code"], "not_found", "{cmd}"),
        }
    }

    // config.toml is a pipe nobody writes to yet: reading it waits.
    let config = home.path().join("config.toml");
    let _ = std::fs::remove_file(&config);
    let made = std::process::Command::new("mkfifo").arg(&config).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let files = vec![
        ("get_prefs", json!({})),
        ("remove_provider", json!({"id": "mine"})),
    ];
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let responses = call_while_held(&webview, files, || {
        // A writer that opens and closes at once, until every reader has its
        // (empty) file: opened read-write, a pipe never blocks on Linux.
        let (stop, config) = (stop.clone(), config.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                drop(
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(&config),
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        });
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(responses.len(), 2);
}
