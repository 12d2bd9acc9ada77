//! Keys with the in-memory keychain: a key set is used for the provider's
//! calls and shown only as where it comes from and a hint; a key that could not
//! be sent is refused; no error (the app's, or a provider's that echoes the
//! key) carries the key.

use crate::common::Fixture;
use roundtable_app::Code;
use roundtable_app::core::{ModelOutcome, RunStatus};
use roundtable_app::keys::KeySource;
use roundtable_testkit::{Behavior, Fault, Script};

const KEY: &str = "sk-test-0123456789abcdef";

/// The fake as provider `lab`, a remote API as far as the app knows (it needs
/// a key), which answers only calls with [`KEY`]; `echo` answers 401 with the
/// key it was sent in the message.
async fn lab() -> Fixture {
    let script = Script::new()
        .model("a", Behavior::answer("Paris"))
        .model("echo", Behavior::new().fault(Fault::EchoKey))
        .require_key(KEY);
    Fixture::with_config(script, |base_url| {
        format!("[providers.lab]\nformat = \"openai\"\nbase_url = \"{base_url}\"\nlocal = false\n")
    })
    .await
}

fn status(fx: &Fixture) -> roundtable_app::ProviderStatus {
    fx.app
        .providers()
        .into_iter()
        .find(|p| p.provider.id == "lab")
        .unwrap()
}

#[tokio::test]
async fn a_key_set_is_used_for_the_calls_and_shown_only_as_a_hint() {
    let fx = lab().await;
    assert_eq!(status(&fx).key_source, KeySource::Missing);
    // Without a key the model fails before any call, saying how to set one.
    let (out, _) = fx.fast(&["lab/a"]).await;
    let out = out.unwrap();
    assert_eq!(out.status, RunStatus::Failed);
    let result = &out.response.model_results[0];
    assert_eq!(result.outcome, Some(ModelOutcome::MissingKey));
    assert!(result.error.as_deref().unwrap().contains("keys set lab"));
    assert!(fx.fake.requests().is_empty());

    fx.app.set_key("lab", &format!("  {KEY}\n")).unwrap();
    let lab = status(&fx);
    assert_eq!(lab.key_source, KeySource::Keychain);
    assert_eq!(lab.key_hint.as_deref(), Some("…cdef"));
    let shown = serde_json::to_string(&fx.app.providers()).unwrap();
    assert!(!shown.contains(KEY), "{shown}");
    // The window is not shown even the hint.
    let window = fx.app.providers_without_hints();
    assert!(window.iter().all(|p| p.key_hint.is_none()));
    let lab_in_window = window.iter().find(|p| p.provider.id == "lab").unwrap();
    assert_eq!(lab_in_window.key_source, KeySource::Keychain);

    // The key (trimmed) goes with the call.
    let (out, _) = fx.fast(&["lab/a"]).await;
    let out = out.unwrap();
    assert_eq!(out.status, RunStatus::Completed);
    assert_eq!(out.response.model_results[0].data, "Paris");
    let sent = fx.fake.requests();
    assert_eq!(
        sent.last().unwrap().header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );

    // Deleted: missing again, and only the first delete found one.
    assert!(fx.app.delete_key("lab").unwrap());
    assert!(!fx.app.delete_key("lab").unwrap());
    assert_eq!(status(&fx).key_source, KeySource::Missing);
}

#[tokio::test]
async fn a_key_that_could_not_be_sent_is_refused_without_being_repeated() {
    let fx = lab().await;
    let bad = "sk-secret part";
    let e = fx.app.set_key("lab", bad).unwrap_err();
    assert_eq!(e.code, Code::InvalidRequest);
    assert_eq!(e.field.as_deref(), Some("key"));
    assert!(e.message.contains("a space at character 10"), "{e}");
    assert!(!e.message.contains("secret"), "{e}");
    assert!(!format!("{e:?}").contains("secret"));
    assert_eq!(status(&fx).key_source, KeySource::Missing);

    let e = fx.app.set_key("nosuch", KEY).unwrap_err();
    assert!(!e.message.contains(KEY), "{e}");
    assert!(fx.app.delete_key("nosuch").is_err());
}

#[tokio::test]
async fn a_provider_error_that_echoes_the_key_does_not_carry_it_to_the_host_or_the_history() {
    let fx = lab().await;
    fx.app.set_key("lab", KEY).unwrap();
    let (out, events) = fx.fast(&["lab/echo"]).await;
    let out = out.unwrap();
    assert_eq!(out.status, RunStatus::Failed);
    assert!(out.response.model_results[0].error.is_some());
    // The provider did get the key, and answered with it.
    assert!(!fx.fake.requests().is_empty());
    let everywhere = [
        serde_json::to_string(&out).unwrap(),
        serde_json::to_string(&events.all()).unwrap(),
        serde_json::to_string(&fx.app.get_run(&out.response.id).unwrap().response).unwrap(),
    ];
    for text in everywhere {
        assert!(!text.contains(KEY), "{text}");
        assert!(!text.contains("0123456789abcdef"), "{text}");
    }
}
