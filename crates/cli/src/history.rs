//! `roundtable history …`, `rerun`, `resolve`, `export` and `import`.

use crate::run::drive;
use crate::{Failure, listing, render};
use clap::{Args, Subcommand};
use roundtable_app::core::{ModelSpec, Resolution, RunStatus};
use roundtable_app::store::{ListQuery, RunSummary, StoredRun};
use roundtable_app::{App, ExportFormat, Reresolve};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// The latest runs, newest first
    List {
        /// How many runs
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        filters: Filters,
        /// Print a JSON array (id, created_at, status, input, resolution, models, total_cost, …)
        #[arg(long)]
        json: bool,
    },
    /// Full-text search over prompts, instructions, answers and resolved answers, best match first
    Search {
        /// Words to look for (a trailing * matches a prefix)
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        filters: Filters,
        #[arg(long)]
        json: bool,
    },
    /// One run with every answer
    Show {
        id: String,
        /// Print the contract response plus `status` (with --thread, an array of them)
        #[arg(long)]
        json: bool,
        /// The whole conversation through this run, turn by turn (its branch)
        #[arg(long)]
        thread: bool,
    },
    /// Delete a run
    Delete {
        id: String,
        /// Also every turn that follows it in its conversation
        #[arg(long, conflicts_with = "thread")]
        after: bool,
        /// The whole conversation it is a turn of
        #[arg(long)]
        thread: bool,
    },
    /// Star a run (or unstar it with --off)
    Star {
        id: String,
        #[arg(long)]
        off: bool,
    },
    /// Tag a run (or remove the tag with --remove)
    Tag {
        id: String,
        tag: String,
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Debug, Args)]
pub struct Filters {
    /// Only runs with this status: running, completed, failed, interrupted
    #[arg(long)]
    status: Option<String>,
    /// Only starred runs
    #[arg(long)]
    starred: bool,
    /// Only runs whose panel has a model whose name contains this
    #[arg(long)]
    model: Option<String>,
    /// Only runs with this tag
    #[arg(long)]
    tag: Option<String>,
    /// One line per conversation: its latest turn, with its number of turns
    #[arg(long)]
    threads: bool,
}

impl Filters {
    fn query(&self, limit: usize) -> Result<ListQuery, Failure> {
        Ok(ListQuery {
            limit,
            status: self
                .status
                .as_deref()
                .map(|s| {
                    s.parse().map_err(|m| Failure {
                        code: 2,
                        message: format!("--status: {m}"),
                    })
                })
                .transpose()?,
            starred: self.starred.then_some(true),
            model: self.model.clone(),
            tag: self.tag.clone(),
            threads: self.threads,
            ..ListQuery::default()
        })
    }
}

/// A stored run as `history show --json` prints it: the contract response
/// plus its `status`.
fn shown_json(run: &StoredRun) -> serde_json::Value {
    let mut v = serde_json::to_value(&run.response).expect("serialises");
    v["status"] = serde_json::to_value(run.summary.status).expect("serialises");
    v
}

pub fn history(app: &App, cmd: HistoryCommand) -> Result<(), Failure> {
    match cmd {
        HistoryCommand::List {
            limit,
            filters,
            json,
        } => {
            listing::runs(
                &app.list_runs(&filters.query(limit)?)?,
                json,
                "No runs yet: start one with `roundtable run`.",
                |r| answered(app, r),
            );
        }
        HistoryCommand::Search {
            query,
            limit,
            filters,
            json,
        } => {
            listing::runs(
                &app.search_runs(&query, &filters.query(limit)?)?,
                json,
                "No run matches.",
                |r| answered(app, r),
            );
        }
        HistoryCommand::Show {
            id,
            json,
            thread: true,
        } => {
            let turns = app
                .branch_of(&id)?
                .iter()
                .map(|id| app.view_run(id))
                .collect::<Result<Vec<_>, _>>()?;
            if json {
                let all: Vec<serde_json::Value> = turns.iter().map(shown_json).collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&all).expect("serialises")
                );
            } else {
                for (i, run) in turns.iter().enumerate() {
                    if i > 0 {
                        println!();
                    }
                    println!("── Turn {} of {} ──", i + 1, turns.len());
                    render::stored_run(run);
                }
            }
        }
        HistoryCommand::Show { id, json, .. } => {
            let run = app.view_run(&id)?;
            if json {
                let v = shown_json(&run);
                println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
            } else {
                render::stored_run(&run);
            }
        }
        HistoryCommand::Delete { id, after, thread } => {
            let n = if thread {
                app.delete_thread(&id)?
            } else if after {
                app.delete_turn_and_after(&id)?
            } else {
                app.delete_run(&id).map(|()| 1)?
            };
            match n {
                1 => eprintln!("deleted {id}"),
                n => eprintln!("deleted {n} runs ({id} and the turns with it)"),
            }
        }
        HistoryCommand::Star { id, off } => app.set_starred(&id, !off)?,
        HistoryCommand::Tag { id, tag, remove } => {
            if remove {
                app.remove_tag(&id, &tag)?
            } else {
                app.add_tag(&id, &tag)?
            }
        }
    }
    Ok(())
}

/// How many of a completed run's panel answered, of how many.
fn answered(app: &App, r: &RunSummary) -> Option<(usize, usize)> {
    if r.status != RunStatus::Completed {
        return None;
    }
    let results = app.get_run(&r.id).ok()?.response.model_results;
    Some((
        results.iter().filter(|m| m.succeeded()).count(),
        results.len(),
    ))
}

/// The panel of a stored run, to label its models (none when it is not found:
/// the command itself then says so).
fn panel_of(app: &App, id: &str) -> Vec<ModelSpec> {
    app.get_run(id)
        .map(|r| r.request.models)
        .unwrap_or_default()
}

pub async fn rerun(app: &App, id: String, json: bool) -> Result<(), Failure> {
    let panel = panel_of(app, &id);
    drive(json, panel, async |sink, cancel| {
        app.rerun(&id, sink, cancel).await
    })
    .await
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The run whose answers are resolved again
    id: String,
    /// How to resolve them
    #[arg(short, long, value_parser = ["summary", "fast", "multiple_choice"])]
    resolution: String,
    /// The model that writes the consolidation in summary mode
    #[arg(long)]
    summary_model: Option<String>,
    /// The options of a multiple_choice resolution, comma-separated
    #[arg(long, value_delimiter = ',')]
    choices: Vec<String>,
    /// With summary: also list the claims the answers make and where they agree
    #[arg(long)]
    consensus: bool,
    #[arg(long)]
    json: bool,
}

pub async fn reresolve(app: &App, args: ResolveArgs) -> Result<(), Failure> {
    let how = Reresolve {
        resolution: args.resolution.parse::<Resolution>().map_err(|m| Failure {
            code: 2,
            message: m,
        })?,
        summary_model: args.summary_model,
        choices: (!args.choices.is_empty()).then_some(args.choices),
        consensus: args.consensus.then_some(true),
    };
    let panel = panel_of(app, &args.id);
    drive(args.json, panel, async |sink, cancel| {
        app.reresolve(&args.id, how, sink, cancel).await
    })
    .await
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The runs to export
    #[arg(required = true)]
    ids: Vec<String>,
    /// md (answers under each model's name), json (the contract responses, for
    /// `roundtable import`), csv (a row per model result), html (one self-contained page)
    #[arg(short, long)]
    format: ExportFormat,
    /// The file to write; `-` for stdout
    #[arg(short, long)]
    output: PathBuf,
}

pub fn export(app: &App, args: ExportArgs) -> Result<(), Failure> {
    let text = app.export(&args.ids, args.format)?;
    if args.output.as_os_str() == "-" {
        render::document(&text);
        return Ok(());
    }
    std::fs::write(&args.output, text).map_err(|e| Failure {
        code: 1,
        message: format!("cannot write {}: {e}", args.output.display()),
    })?;
    eprintln!(
        "wrote {} run(s) to {}",
        args.ids.len(),
        args.output.display()
    );
    Ok(())
}

pub fn import(app: &App, file: PathBuf) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&file).map_err(|e| Failure {
        code: 1,
        message: format!("cannot read {}: {e}", file.display()),
    })?;
    let ids = app.import(&text)?;
    eprintln!("imported {} run(s)", ids.len());
    for id in ids {
        println!("{id}");
    }
    Ok(())
}
