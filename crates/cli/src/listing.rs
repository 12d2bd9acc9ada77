//! Lists for people: the providers (with whether each local server is up, and
//! its models) and the history's runs.

use crate::render::{clean, cost};
use console::style;
use roundtable_app::ProviderStatus;
use roundtable_app::core::RunStatus;
use roundtable_app::keys::KeySource;
use roundtable_app::local_servers::LocalServer;
use roundtable_app::store::RunSummary;

/// `1 model`, `3 models`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How many models a local server's line names before "and N more".
const MODELS_SHOWN: usize = 6;

/// What a probed local server says: running with its models, or not running.
fn local_state(s: &LocalServer) -> String {
    if !s.reachable {
        let why = clean(s.error.as_deref().unwrap_or("no answer")).into_owned();
        let said = if why.starts_with("not running") {
            format!("local, {why}")
        } else {
            format!("local, not reachable: {why}")
        };
        return style(said).yellow().to_string();
    }
    if let Some(e) = &s.error {
        return style(format!("local, up but {}", clean(e)))
            .yellow()
            .to_string();
    }
    // What the server is and how many calls it takes at once, and why.
    let at_once = s
        .concurrency_note
        .as_deref()
        .map(|c| format!("; {}", clean(c)))
        .unwrap_or_default();
    if s.models.is_empty() {
        return format!("local, running, no model loaded{at_once}");
    }
    let mut names: Vec<String> = s
        .models
        .iter()
        .take(MODELS_SHOWN)
        .map(|m| clean(m).into_owned())
        .collect();
    if s.models.len() > MODELS_SHOWN {
        names.push(format!("and {} more", s.models.len() - MODELS_SHOWN));
    }
    format!(
        "local, running: {}: {}{at_once}",
        count(s.models.len(), "model", "models"),
        names.join(", ")
    )
}

/// The providers and where each one's key comes from; with `servers` (the local
/// ones probed), whether each local server is running and its models.
pub fn providers(list: &[ProviderStatus], servers: Option<&[LocalServer]>, json: bool) {
    let server = |p: &ProviderStatus| {
        servers
            .unwrap_or_default()
            .iter()
            .find(|s| s.provider == p.provider.id)
    };
    if json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|p| {
                let mut v = serde_json::to_value(p).expect("serialises");
                if let Some(s) = server(p) {
                    v["server"] = serde_json::to_value(s).expect("serialises");
                }
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("serialises")
        );
        return;
    }
    for p in list {
        let key = match p.key_source {
            KeySource::Keychain => {
                format!(
                    "key in keychain {}",
                    clean(p.key_hint.as_deref().unwrap_or(""))
                )
            }
            KeySource::Environment => format!(
                "key from ${} {}",
                p.key_env.as_deref().unwrap_or(""),
                clean(p.key_hint.as_deref().unwrap_or(""))
            ),
            KeySource::NotNeeded => match server(p) {
                Some(s) => local_state(s),
                None => "local, no key needed".into(),
            },
            KeySource::Missing => style("no key").yellow().to_string(),
        };
        println!(
            "{:<12} {:<10} {:<48} {}",
            style(&p.provider.id).bold(),
            format!("{:?}", p.provider.format).to_lowercase(),
            clean(&p.provider.base_url),
            key.trim_end()
        );
    }
    if let Some(e) = list.iter().find_map(|p| p.keychain_error.as_deref()) {
        println!("\n{}", style(format!("note: {}", clean(e))).yellow());
    }
}

/// A run's status as listed: `completed`, or `1/3 answered` when only some of
/// its panel answered.
fn status(r: &RunSummary, answered: Option<(usize, usize)>) -> String {
    match answered {
        Some((ok, n)) if r.status == RunStatus::Completed && ok < n => format!("{ok}/{n} answered"),
        _ => r.status.to_string(),
    }
}

/// A list of runs, one line each (or JSON, exact); `empty` when there is none.
/// `answered` tells, for a run, how many of its panel answered.
pub fn runs(
    runs: &[RunSummary],
    json: bool,
    empty: &str,
    answered: impl Fn(&RunSummary) -> Option<(usize, usize)>,
) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(runs).expect("serialises")
        );
        return;
    }
    if runs.is_empty() {
        eprintln!("{empty}");
        return;
    }
    for r in runs {
        let star = if r.starred { "★ " } else { "" };
        let input: String = r.input.chars().take(60).collect();
        let ellipsis = if r.input.chars().count() > 60 {
            "…"
        } else {
            ""
        };
        println!(
            "{}  {}  {:<11} {}{}{}  {}",
            style(clean(&r.id)).cyan(),
            clean(&r.created_at.chars().take(16).collect::<String>()),
            status(r, answered(r)),
            star,
            clean(&input.replace('\n', " ")),
            ellipsis,
            style(format!(
                "{}{} · {}",
                if r.turns > 1 {
                    format!("{} · ", count(r.turns as usize, "turn", "turns"))
                } else {
                    String::new()
                },
                count(r.models.len(), "model", "models"),
                cost(r.total_cost)
            ))
            .dim()
        );
    }
}
