//! Keys live in the OS keychain and leak nowhere. These tests talk to a real
//! Secret Service: `make test` runs them inside `scripts/with-keyring.sh` (a
//! throwaway D-Bus session with an unlocked GNOME keyring) and sets
//! ROUNDTABLE_REQUIRE_KEYCHAIN=1, so a missing keychain fails them there.

use crate::common::Home;
use roundtable_testkit::{Behavior, FakeProvider, Fault, Script};
use serde_json::Value;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;

const KEY: &str = "sk-live-LEAKCHECK-0123456789abcdef";

async fn keychain_available(home: &Home) -> bool {
    let list = home.json(&["keys", "list", "--json"]).await;
    let usable = list[0].get("keychain_error").is_none();
    if !usable {
        assert!(
            std::env::var("ROUNDTABLE_REQUIRE_KEYCHAIN").as_deref() != Ok("1"),
            "the keychain is required here but unusable: {}",
            list[0]["keychain_error"]
        );
        eprintln!("skipped: no usable Secret Service (run under scripts/with-keyring.sh)");
    }
    usable
}

async fn set_key(home: &Home, provider: &str, key: &str) -> crate::common::Out {
    pipe_key(home.cmd(&["keys", "set", provider]), key).await
}

/// Runs `keys set` with the key on its stdin, as a script would.
async fn pipe_key(mut c: tokio::process::Command, key: &str) -> crate::common::Out {
    c.stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(key.as_bytes())
        .await
        .unwrap();
    let o = child.wait_with_output().await.unwrap();
    crate::common::Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
    }
}

fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[tokio::test]
async fn a_key_in_the_keychain_is_used_and_leaks_nowhere() {
    let fake = FakeProvider::start(
        Script::new()
            .require_key(KEY)
            .model("echo", Behavior::new().fault(Fault::EchoKey)),
    )
    .await
    .unwrap();
    let home = Home::with_config(
        &fake,
        &format!(
            "[providers.kc-leak]\nformat = \"openai\"\nbase_url = \"{}\"\nlocal = false\n",
            fake.openai_base_url()
        ),
    );
    if !keychain_available(&home).await {
        return;
    }
    let out = set_key(&home, "kc-leak", &format!("{KEY}\n")).await;
    assert_eq!(out.code, 0, "{}", out.stderr);

    let list = home.run(&["keys", "list", "--json"]).await;
    assert!(!list.stdout.contains(KEY));
    let list: Value = serde_json::from_str(&list.stdout).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "kc-leak")
        .unwrap();
    assert_eq!(entry["key_source"], "keychain");
    assert_eq!(entry["key_hint"], "…cdef");
    let human = home.run(&["keys", "list"]).await;
    assert!(human.stdout.contains("kc-leak") && !human.stdout.contains(KEY));

    // Real calls with the key, logging everything.
    let mut c = home.cmd(&[
        "run",
        "Hi",
        "-m",
        "kc-leak/ok",
        "-m",
        "kc-leak/echo",
        "--json",
    ]);
    c.env("RUST_LOG", "trace");
    let out = crate::common::run(c).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.lines().count() > 10, "trace logging is on");
    assert!(!out.stdout.contains(KEY), "no key in --json output");
    assert!(!out.stderr.contains(KEY), "no key in any log line");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["model_results"][0]["error"],
        Value::Null,
        "the keychain key was sent"
    );
    let echoed = v["model_results"][1]["error"].as_str().unwrap();
    assert!(
        echoed.contains("<redacted>"),
        "an echoed key is masked: {echoed}"
    );
    let id = v["id"].as_str().unwrap();

    for format in ["md", "json", "csv", "html"] {
        let out = home
            .run(&["export", id, "--format", format, "--output", "-"])
            .await;
        assert_eq!(out.code, 0);
        assert!(!out.stdout.contains(KEY), "no key in the {format} export");
    }
    let human = home.run(&["history", "show", id]).await;
    assert!(!human.stdout.contains(KEY));
    assert_eq!(
        files_containing(home.path(), KEY.as_bytes()),
        Vec::<String>::new(),
        "no key in any file"
    );

    let out = home.run(&["keys", "delete", "kc-leak"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = home.run(&["run", "Hi", "-m", "kc-leak/ok", "--json"]).await;
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains("no API key for provider 'kc-leak'"),
        "{}",
        v.stdout
    );
}

#[tokio::test]
async fn the_keychain_comes_before_the_environment() {
    let fake = FakeProvider::start(Script::new().require_key("sk-from-keychain-000000000000"))
        .await
        .unwrap();
    let home = Home::with_config(
        &fake,
        &format!(
            "[providers.kc-order]\nformat = \"openai\"\nbase_url = \"{}\"\n",
            fake.openai_base_url()
        ),
    );
    if !keychain_available(&home).await {
        return;
    }
    assert_eq!(
        set_key(&home, "kc-order", "sk-from-keychain-000000000000")
            .await
            .code,
        0
    );
    // A run of `kc-order/m` with a different key in the environment.
    let run_with_env_key = || {
        let mut c = home.cmd(&[
            "run",
            "Hi",
            "-m",
            "kc-order/m",
            "--resolution",
            "fast",
            "--json",
        ]);
        c.env("KC_ORDER_API_KEY", "sk-from-env-11111111111111");
        c
    };
    let out = crate::common::run(run_with_env_key()).await;
    assert_eq!(out.code, 0, "the keychain's key was used: {}", out.stdout);
    assert_eq!(home.run(&["keys", "delete", "kc-order"]).await.code, 0);
    // Now the environment's key is the one sent, and refused.
    assert_eq!(crate::common::run(run_with_env_key()).await.code, 1);
}

#[tokio::test]
async fn an_unknown_provider_is_refused_with_the_known_ones() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let home = Home::new(&fake);
    let out = set_key(&home, "nosuch", "sk-whatever").await;
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("unknown provider 'nosuch'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("openai") && out.stderr.contains("fake"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn without_a_keychain_the_message_says_what_to_do_and_env_keys_work() {
    let fake = FakeProvider::start(Script::new().require_key("sk-env-only-2222222222222222"))
        .await
        .unwrap();
    let home = Home::with_config(
        &fake,
        &format!(
            "[providers.kc-none]\nformat = \"openai\"\nbase_url = \"{}\"\nlocal = false\n",
            fake.openai_base_url()
        ),
    );
    let no_bus = |c: &mut tokio::process::Command| {
        c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    };
    let mut c = home.cmd(&["keys", "set", "kc-none"]);
    no_bus(&mut c);
    let out = pipe_key(c, "sk-env-only-2222222222222222").await;
    let stderr = out.stderr;
    assert_eq!(out.code, 1);
    assert!(
        stderr.contains("keychain") && stderr.contains("environment variables still work"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk-env-only"));

    let mut c = home.cmd(&[
        "run",
        "Hi",
        "-m",
        "kc-none/m",
        "--resolution",
        "fast",
        "--json",
    ]);
    no_bus(&mut c);
    c.env("KC_NONE_API_KEY", "sk-env-only-2222222222222222");
    let out = crate::common::run(c).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let mut c = home.cmd(&["keys", "list"]);
    no_bus(&mut c);
    let out = crate::common::run(c).await;
    assert!(
        out.stdout.contains("keychain") && out.stdout.contains("not available"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn a_key_that_could_not_be_sent_is_refused_before_the_keychain() {
    let fake = FakeProvider::start(Script::new()).await.unwrap();
    let home = Home::new(&fake);
    // A non-breaking space picked up when copying: it cannot go in a header.
    let out = set_key(&home, "fake", "sk-live-0123\u{a0}456789\n").await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("U+00A0") && out.stderr.contains("visible ASCII"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("sk-live"), "{}", out.stderr);
    // Nothing was stored: the provider still has no key from the keychain.
    let list = home.json(&["keys", "list", "--json"]).await;
    let fake_entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "fake")
        .unwrap();
    assert_ne!(fake_entry["key_source"], "keychain", "{fake_entry}");
}
