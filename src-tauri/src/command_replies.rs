//! What the window's commands answer, through IPC as the page calls them: each
//! reply is what the app holds (found by `make mutants`, which replaced these
//! commands' bodies with constant replies and no test noticed).

use crate::ipc_test::{call, window};
use roundtable_app::core::{Meta, ModelResult, RoundtableResponse, RunStatus};
use roundtable_app::keys::MemoryKeychain;
use roundtable_app::store::Store;
use roundtable_app::{App, AppOptions};
use serde_json::{Value, json};
use std::sync::Arc;

/// A run recorded by another process (the CLI), as the history has it.
fn recorded_elsewhere(home: &std::path::Path, id: &str) {
    let store = Store::open(&home.join("history.db")).unwrap();
    let response = RoundtableResponse {
        id: id.into(),
        data: Some("an answer".into()),
        meta: Meta {
            total_cost: 0.5,
            ..Meta::default()
        },
        model_results: vec![ModelResult {
            index: 0,
            model: "openai/gpt-4.1-mini".into(),
            data: "an answer".into(),
            ..Default::default()
        }],
    };
    store
        .import_response(None, &response, RunStatus::Completed, None)
        .unwrap();
}

#[test]
fn each_command_answers_with_what_the_app_holds() {
    let home = tempfile::tempdir().unwrap();
    let app = App::open(AppOptions {
        home: Some(home.path().to_path_buf()),
        keychain: Some(Arc::new(MemoryKeychain::default())),
    })
    .unwrap();
    let token = app.local_api_token().expose().to_string();
    let (_app, webview) = window(app);
    let ok =
        |cmd: &str, args: Value| call(&webview, cmd, args).unwrap_or_else(|e| panic!("{cmd}: {e}"));

    // Keys: deleting one there is says so, once.
    ok(
        "set_key",
        json!({"provider": "openai", "key": "sk-test-0123456789abcdef"}),
    );
    assert_eq!(ok("delete_key", json!({"provider": "openai"})), true);
    assert_eq!(ok("delete_key", json!({"provider": "openai"})), false);

    // A provider of the user's own comes and goes.
    let ids = |list: Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    let provider = json!({"id": "lab", "format": "openai", "base_url": "http://127.0.0.1:9/v1"});
    ok("save_provider", json!({"provider": provider}));
    assert!(ids(ok("list_providers", json!({}))).contains(&"lab".to_string()));
    ok("remove_provider", json!({"id": "lab"}));
    assert!(!ids(ok("list_providers", json!({}))).contains(&"lab".to_string()));

    // The local API's token is the app's.
    assert_eq!(ok("local_api_token", json!({})), json!(token));

    // A run another process recorded: listed, counted, its history's version
    // moved on; a vote on it withdrawn once; deleted, gone.
    let before = ok("history_version", json!({}));
    recorded_elsewhere(home.path(), "rt_elsewhere");
    let after = ok("history_version", json!({}));
    assert_ne!(before, after, "the history changed");
    let listed = ok("list_runs", json!({"query": {}}));
    assert_eq!(listed[0]["id"], "rt_elsewhere", "{listed}");
    let stats = ok("spend_stats", json!({"query": {"utc_offset_minutes": 0}}));
    assert_eq!(stats["totals"]["runs"], 1, "{stats}");
    ok(
        "cast_vote",
        json!({"id": "rt_elsewhere", "ballot": {"kind": "all_bad", "ranking": [], "blind": false}}),
    );
    assert_eq!(ok("withdraw_vote", json!({"id": "rt_elsewhere"})), true);
    assert_eq!(ok("withdraw_vote", json!({"id": "rt_elsewhere"})), false);
    ok("delete_run", json!({"id": "rt_elsewhere"}));
    let gone = call(&webview, "get_run", json!({"id": "rt_elsewhere"})).unwrap_err();
    assert_eq!(gone["code"], "not_found", "{gone}");

    // Cancelling a run that is not going cancels nothing.
    assert_eq!(ok("cancel_run", json!({"handle": "no-such-run"})), false);
}
