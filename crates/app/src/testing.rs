//! What the crate's tests share: a user's `config.toml` with comments and
//! entries of their own, and an app opened over it with an in-memory keychain.

use crate::App;

/// A user's file: comments, a provider of their own, a price file, a port.
pub(crate) const USER_FILE: &str = r#"# My roundtable settings
default_models = ["ollama/llama3.2"]   # local first

price_files = ["my-prices.json"]

[providers.myllm]   # the box under my desk
format = "openai"
base_url = "http://127.0.0.1:1234/v1"

[server]
port = 9000   # 8787 is taken here
max_models = 10
"#;

/// The app over a home holding the user's file (without its price file).
pub(crate) fn user_app() -> (tempfile::TempDir, App) {
    app_with_config(&USER_FILE.replace("price_files = [\"my-prices.json\"]\n", ""))
}

/// The app over a home whose `config.toml` is `config`, with the in-memory
/// keychain.
pub(crate) fn app_with_config(config: &str) -> (tempfile::TempDir, App) {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let app = App::open(crate::AppOptions {
        home: Some(home.path().to_path_buf()),
        keychain: Some(std::sync::Arc::new(crate::keys::MemoryKeychain::default())),
    })
    .unwrap();
    (home, app)
}
