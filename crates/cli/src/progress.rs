//! The live progress of a run on stderr: a spinner per model, with elapsed
//! time and tokens, and one for the summary while it is written. It is the
//! run's sink: each event is drawn as it happens, on the run's task.

use crate::render::{clean, cost, panel_labels, seconds, tokens};
use console::style;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use roundtable_app::RunSink;
use roundtable_app::core::{ModelSpec, RunEvent};
use roundtable_app::store::export::Label;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The live progress of a run, fed by its events.
pub struct Progress {
    multi: MultiProgress,
    running: ProgressStyle,
    /// How each model of the panel is named (`#2`, its options).
    labels: Vec<Label>,
    bars: Mutex<Bars>,
}

/// A spinner per model and the characters it has streamed; the summary's.
#[derive(Default)]
struct Bars {
    models: Vec<(ProgressBar, usize)>,
    summary: Option<(ProgressBar, usize)>,
}

impl Progress {
    /// `panel` (the request's models) labels the models with their options and `#n`.
    pub fn new(panel: &[ModelSpec]) -> Progress {
        Progress {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(12)),
            running: ProgressStyle::with_template(
                "{spinner:.cyan} {prefix:.bold} {elapsed:>4} {msg}",
            )
            .expect("template")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
            labels: panel_labels(panel),
            bars: Mutex::default(),
        }
    }

    /// Clears the spinners once the run is over.
    pub fn finish(self) {
        let _ = self.multi.clear();
    }

    fn bars(&self) -> MutexGuard<'_, Bars> {
        self.bars.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spinner(&self, prefix: String, message: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(self.running.clone());
        bar.set_prefix(prefix);
        bar.set_message(style(message).dim().to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    fn started(&self, models: &[String]) {
        let names: Vec<String> = models
            .iter()
            .enumerate()
            .map(|(i, m)| match self.labels.get(i).filter(|l| &l.name == m) {
                Some(l) => clean(&l.full()).into_owned(),
                None => clean(m).into_owned(),
            })
            .collect();
        let width = names.iter().map(|m| m.chars().count()).max().unwrap_or(0);
        let bars: Vec<_> = names
            .into_iter()
            .map(|m| (self.spinner(format!("{m:width$}"), "waiting"), 0))
            .collect();
        self.bars().models.extend(bars);
    }
}

/// A finished bar: `mark`, its name, then `facts`.
fn finish_bar(bar: &ProgressBar, mark: console::StyledObject<&str>, facts: String) {
    bar.set_style(ProgressStyle::with_template("{msg}").expect("template"));
    bar.finish_with_message(format!("{mark} {} {facts}", style(bar.prefix()).bold()));
}

impl RunSink for Progress {
    fn event(&self, event: RunEvent) {
        if let RunEvent::RunStarted { models, .. } = &event {
            return self.started(models);
        }
        let mut bars = self.bars();
        match event {
            RunEvent::RunStarted { .. } | RunEvent::ModelUsage { .. } => {}
            RunEvent::TextDelta { index, delta, .. } => {
                if let Some((bar, chars)) = bars.models.get_mut(index) {
                    *chars += delta.chars().count();
                    bar.set_message(format!("streaming · ~{} tok", (*chars).div_ceil(4)));
                }
            }
            RunEvent::ThinkingDelta { index, .. } => {
                if let Some((bar, _)) = bars.models.get(index) {
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
                if let Some((bar, chars)) = bars.models.get_mut(index) {
                    *chars = 0;
                    bar.set_message(
                        style(format!(
                            "retry {attempt} in {}: {}",
                            seconds(delay_ms),
                            clean(&reason)
                        ))
                        .yellow()
                        .to_string(),
                    );
                }
            }
            RunEvent::ModelFinished { result } => {
                if let Some((bar, _)) = bars.models.get(result.index) {
                    let facts = format!(
                        "{:>5} {} {}",
                        seconds(result.duration_ms),
                        tokens(&result),
                        style(cost(result.cost)).dim()
                    );
                    finish_bar(bar, style("✓").green(), facts);
                }
            }
            RunEvent::ModelFailed { result } => {
                if let Some((bar, _)) = bars.models.get(result.index) {
                    let facts = format!(
                        "{:>5} {}",
                        seconds(result.duration_ms),
                        style(clean(result.error.as_deref().unwrap_or_default())).red()
                    );
                    finish_bar(bar, style("✗").red(), facts);
                }
            }
            RunEvent::ConsolidationStarted { model } => {
                // A summary model that failed gives way to the next one.
                if let Some((bar, _)) = bars.summary.take() {
                    bar.finish_and_clear();
                }
                let bar = self.spinner(format!("summary by {}", clean(&model)), "consolidating");
                bars.summary = Some((bar, 0));
            }
            RunEvent::ConsolidationDelta { delta, .. } => {
                if let Some((bar, chars)) = bars.summary.as_mut() {
                    *chars += delta.chars().count();
                    bar.set_message(format!("writing · ~{} tok", (*chars).div_ceil(4)));
                }
            }
            RunEvent::Done { .. } => {
                if let Some((bar, _)) = bars.summary.take() {
                    bar.finish_and_clear();
                }
                for (bar, _) in &bars.models {
                    if !bar.is_finished() {
                        bar.abandon();
                    }
                }
            }
            RunEvent::ModelQueued { index, .. } => {
                if let Some((bar, _)) = bars.models.get(index) {
                    bar.set_message(
                        style("queued · waiting for a free slot of its server")
                            .dim()
                            .to_string(),
                    );
                }
            }
            RunEvent::ModelStarted { index, .. } => {
                if let Some((bar, _)) = bars.models.get(index) {
                    bar.reset_elapsed();
                    bar.set_message(style("connecting").dim().to_string());
                }
            }
        }
    }
}
