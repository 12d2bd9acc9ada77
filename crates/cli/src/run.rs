//! `roundtable run`.

use crate::Failure;
use crate::progress::Progress;
use crate::render;
use clap::Args;
use roundtable_app::core::{
    ErrorBody, ErrorDetail, MAX_SAMPLES, ModelSpec, Resolution, RoundtableRequest, RunOutcome,
    RunStatus, expand_samples,
};
use roundtable_app::store::StoredRun;
use roundtable_app::{App, AppError, RunSink};
use std::io::Read;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  roundtable run \"Is P = NP?\" -m openai/gpt-4.1-mini -m anthropic/claude-sonnet-4-5
  roundtable run \"Capital of Australia?\" -m ollama/llama3.2 -m ollama/qwen3 \\
      --resolution multiple_choice --choices Sydney,Canberra,Melbourne
  roundtable run \"Capital of Australia?\" -m openai/gpt-4.1-mini*5 \\
      --resolution multiple_choice --choices Sydney,Canberra,Melbourne
  roundtable run \"What does the chart show?\" -a chart.png -a notes.md -m openai/gpt-4.1-mini
  echo '{\"input\": \"hi\", \"models\": [{\"name\": \"ollama/llama3.2\"}]}' | roundtable run --request - --json

Exit status: 0 when the run resolved; 1 when no model answered; 2 when the request
was invalid; 130 when cancelled with Ctrl-C (what had arrived is kept).")]
pub struct RunArgs {
    /// The question or prompt sent to every model
    #[arg(value_name = "PROMPT", required_unless_present = "request")]
    prompt: Option<String>,

    /// A model of the panel, as provider/model (repeat it; the same model may come more than once); provider/model*N asks it N times (samples)
    #[arg(short, long = "model", value_name = "MODEL")]
    models: Vec<String>,

    /// How the answers are resolved into one
    #[arg(short, long, value_name = "MODE", value_parser = ["summary", "fast", "multiple_choice"])]
    resolution: Option<String>,

    /// The options of a multiple_choice run, comma-separated
    #[arg(long, value_name = "A,B,…", value_delimiter = ',')]
    choices: Vec<String>,

    /// A file sent with the prompt to every model (repeat it): an image (PNG, JPEG,
    /// WebP, GIF), a PDF or a text file, at most [limits] max_attachment_bytes
    /// (20 MiB by default); with --request, added to the body's attachments
    #[arg(short = 'a', long = "attach", value_name = "FILE")]
    attach: Vec<PathBuf>,

    /// A JSON Schema file: every answer and the consolidation must be JSON valid against it
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,

    /// The model that writes the consolidation in summary mode
    #[arg(long, value_name = "MODEL")]
    summary_model: Option<String>,

    /// A system prompt shared by every model call
    #[arg(long, value_name = "TEXT")]
    instructions: Option<String>,

    /// Retries per model on transient errors (0 to 3) [default: 1]
    #[arg(long, value_name = "N")]
    max_retries: Option<u32>,

    /// Timeout per model in milliseconds, covering its retries [default: 120000]
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,

    /// Output token limit for every model
    #[arg(long, value_name = "N")]
    max_tokens: Option<u32>,

    /// Sampling temperature for every model (0 to 2)
    #[arg(long, value_name = "T")]
    temperature: Option<f64>,

    /// Reasoning effort for every model that reasons: low, medium, high or max
    #[arg(long, value_name = "LEVEL")]
    reasoning: Option<String>,

    /// Read a whole contract request body (JSON) from FILE, or stdin with `-`
    #[arg(long, value_name = "FILE", conflicts_with_all = ["prompt", "models", "resolution", "choices", "schema", "summary_model", "instructions"])]
    request: Option<String>,

    /// Print exactly the contract response as JSON on stdout, and nothing else
    #[arg(long)]
    json: bool,

    /// With summary: also list the claims the answers make and which answers
    /// support or contradict each (the summary model is asked through structured output)
    #[arg(long)]
    consensus: bool,

    /// Print what the run would cost (typical and worst case) and call no one
    #[arg(long)]
    estimate: bool,

    /// The most the run may cost (USD): refused when the worst case is over it
    /// (unless --yes), and the models still running are stopped when it is reached
    #[arg(long, value_name = "USD")]
    max_cost: Option<f64>,

    /// Start even when the worst case is over --max-cost
    #[arg(long, requires = "max_cost")]
    yes: bool,

    /// Once the run is done, have this model judge its answers (as `roundtable judge`)
    #[arg(long, value_name = "MODEL", conflicts_with = "json")]
    judge: Option<String>,

    /// Follow up the run RUN: each model is sent the conversation so far; the
    /// panel, resolution and instructions are RUN's unless given
    #[arg(long = "continue", value_name = "RUN", conflicts_with = "request")]
    continue_id: Option<String>,

    /// With --continue: carry on with this one model alone (resolved fast
    /// unless -r is given)
    #[arg(
        long,
        value_name = "MODEL",
        requires = "continue_id",
        conflicts_with = "models"
    )]
    with: Option<String>,

    /// With --continue: send each model its own earlier answers (own, the
    /// default) or the resolved ones (resolved)
    #[arg(long, value_name = "FROM", requires = "continue_id", value_parser = ["own", "resolved"])]
    context: Option<String>,
}

fn usage_error(message: String) -> Failure {
    Failure { code: 2, message }
}

/// A `-m` value: `provider/model`, or `provider/model*N` for N samples of it.
fn model_flag(value: &str) -> Result<ModelSpec, Failure> {
    let Some((name, n)) = value.rsplit_once('*') else {
        return Ok(ModelSpec::named(value));
    };
    match n.trim().parse::<u32>() {
        Ok(n @ 1..=MAX_SAMPLES) => Ok(ModelSpec {
            samples: (n > 1).then_some(n),
            ..ModelSpec::named(name)
        }),
        _ => Err(usage_error(format!(
            "--model {value}: '*{n}' is not a number of samples from 1 to {MAX_SAMPLES}"
        ))),
    }
}

impl RunArgs {
    fn to_request(&self, app: &App) -> Result<RoundtableRequest, Failure> {
        if let Some(src) = &self.request {
            let text = if src == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| usage_error(format!("--request: cannot read stdin: {e}")))?;
                s
            } else {
                std::fs::read_to_string(src)
                    .map_err(|e| usage_error(format!("--request: cannot read {src}: {e}")))?
            };
            let mut req: RoundtableRequest = serde_json::from_str(&text)
                .map_err(|e| usage_error(format!("--request: not a valid request body: {e}")))?;
            self.apply_overrides(&mut req);
            req.attachments.extend(app.attach_files(&self.attach)?);
            return Ok(req);
        }
        let previous = self.previous_run(app)?;
        let mut models = self
            .models
            .iter()
            .chain(&self.with)
            .map(|m| model_flag(m))
            .collect::<Result<Vec<_>, _>>()?;
        if let (true, Some(p)) = (models.is_empty(), &previous) {
            models = p.request.models.clone();
        }
        if models.is_empty() {
            models = app
                .config()
                .default_models
                .iter()
                .map(ModelSpec::named)
                .collect();
        }
        if models.is_empty() {
            return Err(usage_error(
                "models: give at least one with -m provider/model (or set default_models in config.toml)".into(),
            ));
        }
        let output_schema = match &self.schema {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    usage_error(format!("--schema: cannot read {}: {e}", path.display()))
                })?;
                Some(serde_json::from_str(&text).map_err(|e| {
                    usage_error(format!(
                        "output_schema: {} is not JSON: {e}",
                        path.display()
                    ))
                })?)
            }
            None => None,
        };
        let resolution = self
            .resolution
            .as_deref()
            .map(|r| r.parse::<Resolution>().map_err(usage_error))
            .transpose()?
            .or(match (&self.with, &previous) {
                (Some(_), _) => Some(Resolution::Fast),
                (None, Some(p)) => p.request.resolution,
                _ => None,
            });
        let carried = |f: fn(&RoundtableRequest) -> Option<String>| {
            previous.as_ref().and_then(|p| f(&p.request))
        };
        let mut req = RoundtableRequest {
            input: self.prompt.clone().unwrap_or_default(),
            models,
            instructions: self
                .instructions
                .clone()
                .or_else(|| carried(|r| r.instructions.clone())),
            resolution,
            summary_model: self
                .summary_model
                .clone()
                .or_else(|| carried(|r| r.summary_model.clone())),
            choices: if self.choices.is_empty() {
                previous.as_ref().and_then(|p| p.request.choices.clone())
            } else {
                Some(self.choices.iter().map(|c| c.trim().to_string()).collect())
            },
            previous_id: self.continue_id.clone(),
            context: self
                .context
                .as_deref()
                .map(|c| c.parse().map_err(usage_error))
                .transpose()?,
            output_schema,
            attachments: app.attach_files(&self.attach)?,
            ..Default::default()
        };
        self.apply_overrides(&mut req);
        Ok(req)
    }

    /// The run `--continue` names; one not in the history is a usage error
    /// naming it.
    fn previous_run(&self, app: &App) -> Result<Option<StoredRun>, Failure> {
        let Some(id) = &self.continue_id else {
            return Ok(None);
        };
        app.get_run(id)
            .map(Some)
            .map_err(|e| usage_error(format!("--continue {id}: {}", e.message)))
    }

    /// Flags that also apply to a `--request` body.
    fn apply_overrides(&self, req: &mut RoundtableRequest) {
        if self.max_retries.is_some() {
            req.max_retries = self.max_retries;
        }
        if self.timeout_ms.is_some() {
            req.timeout_ms = self.timeout_ms;
        }
        if self.consensus {
            req.consensus = Some(true);
        }
        if self.max_cost.is_some() {
            req.max_cost = self.max_cost;
        }
        if self.yes {
            req.confirm_cost = Some(true);
        }
        for m in &mut req.models {
            if self.max_tokens.is_some() {
                m.max_tokens = self.max_tokens;
            }
            if self.temperature.is_some() {
                m.temperature = self.temperature;
            }
            if self.reasoning.is_some() {
                m.reasoning = self.reasoning.clone();
            }
        }
    }
}

pub async fn run(app: App, args: RunArgs) -> Result<(), Failure> {
    let request = match args.to_request(&app) {
        Ok(r) => r,
        Err(f) => {
            if args.json {
                print_error_json("invalid_request", &f.message, None);
            }
            return Err(f);
        }
    };
    let files: Vec<String> = request.attachments.iter().map(|a| a.name.clone()).collect();
    let name_it = |e: AppError| name_the_file(args.name_the_flag(e), &files);
    if args.estimate {
        let estimate = app.estimate(&request).map_err(name_it)?;
        crate::estimate::print(&estimate, args.json);
        return Ok(());
    }
    crate::stats::warn_budget(&app);
    // The panel as the engine expands it: one label (`#n`) per sample.
    let panel = expand_samples(&request.models);
    let mut id = None;
    drive(args.json, panel, async |sink, cancel| {
        let outcome = app.run(request, sink, cancel).await;
        id = outcome.as_ref().ok().map(|o| o.response.id.clone());
        outcome.map_err(name_it)
    })
    .await?;
    match (&args.judge, id) {
        (Some(judge), Some(id)) => {
            println!();
            crate::verdicts::judge_run(&app, &id, judge, false).await
        }
        _ => Ok(()),
    }
}

impl RunArgs {
    /// A refused value that came from a flag is named by the flag the user
    /// typed (`--temperature`), not by the request field it filled
    /// (`models[0].temperature`); the JSON error keeps the field.
    fn name_the_flag(&self, mut e: AppError) -> AppError {
        let Some(field) = e.field.as_deref() else {
            return e;
        };
        let leaf = field.rsplit('.').next().unwrap_or(field);
        let flag = match leaf {
            "temperature" if self.temperature.is_some() => "--temperature",
            "max_tokens" if self.max_tokens.is_some() => "--max-tokens",
            "reasoning" if self.reasoning.is_some() => "--reasoning",
            "max_retries" if self.max_retries.is_some() => "--max-retries",
            "timeout_ms" if self.timeout_ms.is_some() => "--timeout-ms",
            "max_cost" if self.max_cost.is_some() => "--max-cost",
            _ => return e,
        };
        if let Some(rest) = e.message.strip_prefix(field) {
            e.message = format!("{flag}{rest}");
        }
        e
    }
}

/// A refused attachment is named by its file too: `attachments[1].data
/// (chart.png): …`.
fn name_the_file(mut e: AppError, files: &[String]) -> AppError {
    let Some(field) = e.field.as_deref() else {
        return e;
    };
    let index = field
        .strip_prefix("attachments[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, _)| i.parse::<usize>().ok());
    if let Some(name) = index.and_then(|i| files.get(i))
        && let Some(rest) = e.message.strip_prefix(field)
    {
        e.message = format!("{field} ({name}){rest}");
    }
    e
}

/// Runs something that produces a run (a new run, a re-run, a re-resolution)
/// with live progress (or none with `--json`), Ctrl-C to cancel, then prints the
/// outcome and turns it into the exit status. `panel` (the request's models)
/// labels the models with their options and `#n`.
pub async fn drive(
    json: bool,
    panel: Vec<ModelSpec>,
    start: impl AsyncFnOnce(&dyn RunSink, CancellationToken) -> Result<RunOutcome, AppError>,
) -> Result<(), Failure> {
    let cancel = CancellationToken::new();
    spawn_interrupt_handler(cancel.clone());
    let progress = (!json).then(|| Progress::new(&panel));
    let sink: &dyn RunSink = match &progress {
        Some(p) => p,
        None => &(),
    };
    let outcome = start(sink, cancel).await;
    if let Some(p) = progress {
        p.finish();
    }
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            if json {
                print_error_json(e.code.as_str(), &e.message, e.field.as_deref());
            }
            return Err(e.into());
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome.response).expect("a response serialises")
        );
    } else {
        render::response(&outcome.response, &panel, outcome.status);
    }
    match outcome.status {
        RunStatus::Completed => Ok(()),
        RunStatus::Interrupted => Err(Failure {
            code: 130,
            message: "cancelled: the answers that had arrived are shown, and kept in the history"
                .into(),
        }),
        RunStatus::Failed | RunStatus::Running => Err(Failure {
            code: 1,
            message: no_answer_reason(&outcome.response),
        }),
    }
}

/// "no model answered" and the first failure, on one line.
fn no_answer_reason(response: &roundtable_app::core::RoundtableResponse) -> String {
    let first = response
        .model_results
        .iter()
        .find_map(|r| r.error.as_deref().map(|e| format!("{}: {e}", r.model)));
    match first {
        Some(f) if response.model_results.len() > 1 => {
            format!("no model answered (first failure: {f})")
        }
        Some(f) => format!("no model answered ({f})"),
        None => "no model answered".into(),
    }
}

pub fn print_error_json(code: &str, message: &str, field: Option<&str>) {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: message.into(),
            details: field.map(|f| serde_json::json!({ "field": f })),
        },
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&body).expect("serialises")
    );
}

/// First Ctrl-C cancels the run (what arrived is kept); a second one quits.
fn spawn_interrupt_handler(cancel: CancellationToken) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
}
