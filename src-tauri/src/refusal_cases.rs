//! The shared table of refusals (`tests/cases/refusals.json`) against the
//! app's own commands: each value is refused with the code and field the
//! table says, which the UI's fake backend is held to by vitest
//! (`ui/src/test/refusals.test.ts`).

use crate::ipc_test::{call, window};
use roundtable_app::keys::MemoryKeychain;
use roundtable_app::{App, AppOptions};
use serde_json::Value;
use std::sync::Arc;

#[test]
fn the_app_refuses_each_value_of_the_shared_table_as_it_says() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/refusals.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 8, "{path}: the table lost its cases");
    for case in cases {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("config.toml");
        std::fs::write(&config, "# mine\n").unwrap();
        let app = App::open(AppOptions {
            home: Some(home.path().to_path_buf()),
            keychain: Some(Arc::new(MemoryKeychain::default())),
        })
        .unwrap();
        let (_app, webview) = window(app);
        let name = case["name"].as_str().unwrap();
        let command = case["command"].as_str().unwrap();
        let error = call(&webview, command, case["args"].clone())
            .expect_err(&format!("{name}: {command} accepted it"));
        assert_eq!(error["code"], case["code"], "{name}: {error}");
        assert_eq!(error["field"], case["field"], "{name}: {error}");
        // A refused value leaves config.toml as it was.
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            "# mine\n",
            "{name}"
        );
    }
}
