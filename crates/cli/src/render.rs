//! Output for people: live progress on stderr (a spinner per model, with elapsed
//! time and tokens), then the answers on stdout. Colour only on a terminal, and
//! never with `NO_COLOR`.

use console::{Style, style};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use roundtable_app::ProviderStatus;
use roundtable_app::core::{ModelResult, Resolution, RoundtableResponse, RunEvent, RunStatus};
use roundtable_app::keys::KeySource;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

pub fn init_colours() {
    console::set_colors_enabled(!no_color() && std::io::stdout().is_terminal());
    console::set_colors_enabled_stderr(stderr_colours());
}

pub fn stderr_colours() -> bool {
    !no_color() && std::io::stderr().is_terminal()
}

pub fn error_label() -> console::StyledObject<&'static str> {
    style("error:").for_stderr().red().bold()
}

pub fn cost(c: f64) -> String {
    if c == 0.0 {
        "$0".into()
    } else if c < 0.01 {
        format!("${c:.5}")
    } else {
        format!("${c:.4}")
    }
}

pub fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

fn tokens(r: &ModelResult) -> String {
    format!("{}→{} tok", r.usage.input_tokens, r.usage.output_tokens)
}

/// The live progress of a run, fed by its events.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
}

impl Progress {
    pub fn spawn(mut rx: UnboundedReceiver<RunEvent>) -> Progress {
        let task = tokio::spawn(async move {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(12));
            let running =
                ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {elapsed:>4} {msg}")
                    .expect("template")
                    .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
            let mut bars: Vec<(ProgressBar, usize)> = Vec::new();
            let mut summary: Option<(ProgressBar, usize)> = None;
            while let Some(event) = rx.recv().await {
                match event {
                    RunEvent::RunStarted { models, .. } => {
                        let width = models.iter().map(|m| m.chars().count()).max().unwrap_or(0);
                        for m in models {
                            let bar = multi.add(ProgressBar::new_spinner());
                            bar.set_style(running.clone());
                            bar.set_prefix(format!("{m:width$}"));
                            bar.set_message(style("waiting").dim().to_string());
                            bar.enable_steady_tick(Duration::from_millis(100));
                            bars.push((bar, 0));
                        }
                    }
                    RunEvent::TextDelta { index, delta, .. } => {
                        if let Some((bar, chars)) = bars.get_mut(index) {
                            *chars += delta.chars().count();
                            bar.set_message(format!("streaming · ~{} tok", (*chars).div_ceil(4)));
                        }
                    }
                    RunEvent::ThinkingDelta { index, .. } => {
                        if let Some((bar, _)) = bars.get(index) {
                            bar.set_message(style("thinking…").dim().to_string());
                        }
                    }
                    RunEvent::ModelRetrying {
                        index,
                        attempt,
                        delay_ms,
                        reason,
                        ..
                    } => {
                        if let Some((bar, chars)) = bars.get_mut(index) {
                            *chars = 0;
                            bar.set_message(
                                style(format!(
                                    "retry {attempt} in {}: {reason}",
                                    seconds(delay_ms)
                                ))
                                .yellow()
                                .to_string(),
                            );
                        }
                    }
                    RunEvent::ModelFinished { result } => {
                        if let Some((bar, _)) = bars.get(result.index) {
                            bar.set_style(ProgressStyle::with_template("{msg}").expect("template"));
                            bar.finish_with_message(format!(
                                "{} {} {:>5} {} {}",
                                style("✓").green(),
                                style(bar.prefix()).bold(),
                                seconds(result.duration_ms),
                                tokens(&result),
                                style(cost(result.cost)).dim()
                            ));
                        }
                    }
                    RunEvent::ModelFailed { result } => {
                        if let Some((bar, _)) = bars.get(result.index) {
                            bar.set_style(ProgressStyle::with_template("{msg}").expect("template"));
                            bar.finish_with_message(format!(
                                "{} {} {:>5} {}",
                                style("✗").red(),
                                style(bar.prefix()).bold(),
                                seconds(result.duration_ms),
                                style(result.error.unwrap_or_default()).red()
                            ));
                        }
                    }
                    RunEvent::ConsolidationStarted { model } => {
                        let bar = multi.add(ProgressBar::new_spinner());
                        bar.set_style(running.clone());
                        bar.set_prefix(format!("summary by {model}"));
                        bar.set_message(style("consolidating").dim().to_string());
                        bar.enable_steady_tick(Duration::from_millis(100));
                        summary = Some((bar, 0));
                    }
                    RunEvent::ConsolidationDelta { delta, .. } => {
                        if let Some((bar, chars)) = summary.as_mut() {
                            *chars += delta.chars().count();
                            bar.set_message(format!("writing · ~{} tok", (*chars).div_ceil(4)));
                        }
                    }
                    RunEvent::Done { .. } => {
                        if let Some((bar, _)) = summary.take() {
                            bar.finish_and_clear();
                        }
                        for (bar, _) in &bars {
                            if !bar.is_finished() {
                                bar.abandon();
                            }
                        }
                    }
                    RunEvent::ModelStarted { .. } | RunEvent::ModelUsage { .. } => {}
                }
            }
            let _ = multi.clear();
        });
        Progress { task }
    }

    /// Waits for the last event to be drawn.
    pub async fn finish(self) {
        let _ = self.task.await;
    }
}

fn rule(title: &str, s: &Style) {
    println!("\n{}", s.apply_to(format!("── {title} ")));
}

/// A finished run, for people.
pub fn response(r: &RoundtableResponse, status: RunStatus) {
    let heading = Style::new().bold().cyan();
    for m in &r.model_results {
        let mut facts = vec![seconds(m.duration_ms), tokens(m), cost(m.cost)];
        if let Some(a) = m.attempts.filter(|&a| a > 1) {
            facts.push(format!("{a} attempts"));
        }
        if let Some(v) = &m.vote {
            facts.push(format!("vote: {v}"));
        }
        if let Some(valid) = m.schema_valid {
            facts.push(if valid {
                "schema ✓".into()
            } else {
                "schema ✗".into()
            });
        }
        rule(&format!("{} · {}", m.model, facts.join(" · ")), &heading);
        if let Some(e) = &m.error {
            println!("{}", style(format!("failed: {e}")).red());
            if !m.data.is_empty() {
                println!("{}", style("(partial answer)").dim());
            }
        }
        if !m.data.is_empty() {
            println!("{}", m.data.trim_end());
        }
        if let Some(e) = &m.schema_error {
            println!(
                "{}",
                style(format!("not valid against the schema: {e}")).yellow()
            );
        }
    }
    let resolved = Style::new().bold().green();
    match r.meta.resolution {
        Resolution::Fast => {}
        Resolution::MultipleChoice => {
            rule("Vote", &resolved);
            if let Some(votes) = &r.meta.votes {
                let total: u32 = votes.values().sum();
                for (choice, n) in votes {
                    let bar = "█".repeat(*n as usize);
                    println!("{choice:>20}  {bar} {n}");
                }
                let off = r
                    .model_results
                    .iter()
                    .filter(|m| m.succeeded() && m.vote.is_none())
                    .count();
                if off > 0 {
                    println!(
                        "{}",
                        style(format!(
                            "{off} answer(s) matched no choice and were not counted"
                        ))
                        .dim()
                    );
                }
                if total == 0 {
                    println!("{}", style("no answer matched a choice").yellow());
                }
            }
            if let Some(d) = r.data.as_deref().filter(|d| !d.is_empty()) {
                println!("{} {}", style("Winner:").bold(), d);
            }
        }
        Resolution::Summary => {
            let by = r.meta.summary_model.as_deref().unwrap_or("—");
            rule(&format!("Resolved answer · summary by {by}"), &resolved);
            if let Some(e) = &r.meta.summary_error {
                println!("{}", style(format!("the consolidation failed: {e}")).red());
            }
            if let Some(d) = r.data.as_deref().filter(|d| !d.is_empty()) {
                println!("{}", d.trim_end());
            }
        }
    }
    let ok = r.meta.models_used.len();
    let n = r.model_results.len();
    let mut line = format!(
        "{ok}/{n} models answered · {} · {} · {}",
        seconds(r.meta.total_duration_ms),
        cost(r.meta.total_cost),
        r.id
    );
    if status == RunStatus::Interrupted {
        line.push_str(" · cancelled");
    }
    println!("\n{}", style(line).dim());
}

pub fn providers(list: &[ProviderStatus], json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(list).expect("serialises")
        );
        return;
    }
    for p in list {
        let key = match p.key_source {
            KeySource::Keychain => {
                format!("key in keychain {}", p.key_hint.as_deref().unwrap_or(""))
            }
            KeySource::Environment => format!(
                "key from ${} {}",
                p.key_env.as_deref().unwrap_or(""),
                p.key_hint.as_deref().unwrap_or("")
            ),
            KeySource::NotNeeded => "local, no key needed".into(),
            KeySource::Missing => style("no key").yellow().to_string(),
        };
        println!(
            "{:<12} {:<10} {:<48} {}",
            style(&p.provider.id).bold(),
            format!("{:?}", p.provider.format).to_lowercase(),
            p.provider.base_url,
            key.trim_end()
        );
    }
    if let Some(e) = list.iter().find_map(|p| p.keychain_error.as_deref()) {
        println!("\n{}", style(format!("note: {e}")).yellow());
    }
}
