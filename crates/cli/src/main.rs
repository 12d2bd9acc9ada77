//! `roundtable`: ask several LLMs the same question at once, from a terminal.
//! Each subcommand is a thin layer over `roundtable-app`; output for people goes
//! through [`render`], machine output (`--json`) is the contract's JSON.

mod agreement;
mod claims;
mod estimate;
mod history;
mod keys;
mod listing;
mod progress;
mod render;
mod run;
mod serve;
mod stats;
mod verdicts;

use clap::{Parser, Subcommand};
use roundtable_app::{App, AppError, AppOptions, Code};
use std::path::PathBuf;
use std::process::ExitCode;

/// Ask several LLMs the same question at once and resolve their answers into one.
///
/// Models are named provider/model: openai/gpt-4.1-mini, anthropic/claude-sonnet-4-5,
/// gemini/gemini-2.5-flash, ollama/llama3.2, or a provider you add in
/// $ROUNDTABLE_HOME/config.toml. Keys come from the OS keychain
/// (`roundtable keys set PROVIDER`), then from <PROVIDER>_API_KEY variables.
#[derive(Debug, Parser)]
#[command(
    name = "roundtable",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// Where config.toml and the history live [default: $ROUNDTABLE_HOME, else the platform's data directory]
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ask a panel of models one question and resolve their answers
    Run(Box<run::RunArgs>),
    /// Browse, search, star, tag and delete past runs
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Run a stored run's request again, as a new run
    Rerun {
        id: String,
        /// Print exactly the contract response as JSON
        #[arg(long)]
        json: bool,
    },
    /// Resolve a stored run again from its stored answers, without calling the panel again
    Resolve(history::ResolveArgs),
    /// Vote on a stored run's answers: the best, a ranking, or all bad (or withdraw the vote)
    Vote(verdicts::VoteArgs),
    /// Have a judge model rank a stored run's answers, anonymised and shuffled, with reasons
    Judge(verdicts::JudgeArgs),
    /// Which model is best for your questions: ratings from your votes (or judges'), with cost and latency
    Leaderboard(verdicts::LeaderboardArgs),
    /// Where the money and the time went: cost, calls, tokens and latency by provider, model, day, week or month
    Stats(stats::StatsArgs),
    /// What was spent today and this month against the budget ([budget] in config.toml)
    Budget {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Export runs as a comparison: md, json, csv or a self-contained html page
    Export(history::ExportArgs),
    /// Load runs from a JSON export into the history
    Import {
        /// A file written by `roundtable export --format json`
        file: PathBuf,
    },
    /// Update the price table from a LiteLLM-format file (runs stored before keep their cost)
    #[command(subcommand)]
    Prices(PricesCommand),
    /// Manage API keys in the OS keychain
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Serve the local HTTP API (the hosted roundtable contract) on this machine
    Serve(serve::ServeArgs),
    /// List the configured providers, where each one's key comes from, and
    /// whether each local server is running (with its models)
    Providers {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PricesCommand {
    /// Keep FILE (LiteLLM's model_prices_and_context_window.json format) and
    /// price the next runs with it; a file of the same name is replaced
    Import { file: PathBuf },
}

/// How the process ends: the code, and a one-line reason for stderr.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        let code = if e.code == Code::InvalidRequest { 2 } else { 1 };
        Failure {
            code,
            message: e.message,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    render::init_colours();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(render::stderr_colours())
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                render::failure(&f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let options = AppOptions {
        home: cli.home,
        ..Default::default()
    };
    let app = App::open(options)?;
    match cli.command {
        Command::Run(args) => run::run(app, *args).await,
        Command::History(cmd) => history::history(&app, cmd),
        Command::Rerun { id, json } => history::rerun(&app, id, json).await,
        Command::Resolve(args) => history::reresolve(&app, args).await,
        Command::Vote(args) => verdicts::vote(&app, args),
        Command::Judge(args) => verdicts::judge(&app, args).await,
        Command::Leaderboard(args) => verdicts::leaderboard(&app, args),
        Command::Stats(args) => stats::stats(&app, args),
        Command::Budget { json } => stats::budget(&app, json),
        Command::Export(args) => history::export(&app, args),
        Command::Import { file } => history::import(&app, file),
        Command::Prices(PricesCommand::Import { file }) => {
            let done = app.import_prices(&file)?;
            eprintln!(
                "{} models priced by {}, kept as {} and listed in config.toml's price_files; runs stored before keep the cost they had",
                done.priced,
                file.display(),
                done.file
            );
            Ok(())
        }
        Command::Keys(cmd) => keys::keys(&app, cmd),
        Command::Serve(args) => serve::serve(app, args).await,
        Command::Providers { json } => {
            let list = app.providers();
            let servers = app.local_servers().await;
            listing::providers(&list, Some(&servers), json);
            Ok(())
        }
    }
}
