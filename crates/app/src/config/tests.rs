//! `config.toml` as read: the built-ins, the user's providers and overrides, what is refused.

use super::*;
use roundtable_core::provider::is_loopback_url;

#[test]
fn user_providers_and_overrides() {
    let c: Config = toml::from_str(
        r#"
        [providers.myllm]
        format = "openai"
        base_url = "http://127.0.0.1:1234/v1"
        [providers.openai]
        base_url = "http://127.0.0.1:9/v1"
        "#,
    )
    .unwrap();
    c.check().unwrap();
    let ps = c.providers();
    let my = ps.iter().find(|p| p.id == "myllm").unwrap();
    assert!(my.local);
    assert_eq!(my.dialect, Dialect::Compatible);
    let openai = ps.iter().find(|p| p.id == "openai").unwrap();
    assert_eq!(openai.base_url, "http://127.0.0.1:9/v1");
    assert!(!openai.local);
    assert_eq!(ps.len(), builtins().len() + 1);
}

#[test]
fn header_values_are_never_serialised() {
    let c: Config = toml::from_str(
        r#"
        [providers.gateway]
        format = "openai"
        base_url = "https://gateway.example/v1"
        headers = { Authorization = "Bearer sk-gateway-secret", "X-Title" = "roundtable" }
        "#,
    )
    .unwrap();
    let gateway = c
        .providers()
        .into_iter()
        .find(|p| p.id == "gateway")
        .unwrap();
    assert_eq!(gateway.headers["Authorization"], "Bearer sk-gateway-secret");
    let json = serde_json::to_value(&gateway).unwrap();
    assert_eq!(
        json["header_names"],
        serde_json::json!(["Authorization", "X-Title"])
    );
    assert!(!json.to_string().contains("sk-gateway-secret"), "{json}");
}

#[test]
fn errors_name_the_field() {
    let c: Config = toml::from_str("[providers.x]\nbase_url = \"http://a\"").unwrap();
    assert!(c.check().unwrap_err().contains("providers.x.format"));
    let e = toml::from_str::<Config>("[providers.x]\nformat = \"soap\"").unwrap_err();
    assert!(e.to_string().contains("soap"), "{e}");
}

#[test]
fn loopback_urls() {
    assert!(is_loopback_url("http://127.0.0.1:1234/v1"));
    assert!(is_loopback_url("http://localhost/v1"));
    assert!(is_loopback_url("http://[::1]:8080"));
    assert!(!is_loopback_url("https://api.openai.com/v1"));
    assert!(!is_loopback_url("http://10.0.0.1:80"));
}

#[test]
fn concurrency_and_answer_limits_are_read_and_checked() {
    let c = Config::parse(
        "[providers.ollama]\nmax_concurrency = 2\n[limits]\nmax_answer_bytes = 65536\n",
    )
    .unwrap();
    let ollama = c
        .providers()
        .into_iter()
        .find(|p| p.id == "ollama")
        .unwrap();
    assert_eq!(ollama.max_concurrency, Some(2));
    assert_eq!(c.limits.max_answer_bytes, 65536);
    let e = Config::parse("[providers.ollama]\nmax_concurrency = 0\n").unwrap_err();
    assert!(e.contains("providers.ollama.max_concurrency"), "{e}");
    let e = Config::parse("[limits]\nmax_answer_bytes = 10\n").unwrap_err();
    assert!(e.contains("limits.max_answer_bytes"), "{e}");
}
