//! `roundtable-fake-provider`: serves a scripted fake LLM provider on loopback until
//! Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use roundtable_testkit::{FakeProvider, Script};

/// Serve a fake LLM provider (OpenAI, Anthropic and Gemini wire formats) on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "roundtable-fake-provider", version)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Script file (JSON, or TOML when it ends in .toml); without it every model
    /// gets the default behaviour.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let script = match &args.script {
        Some(path) => match Script::load(path) {
            Ok(script) => script,
            Err(error) => {
                eprintln!("roundtable-fake-provider: {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => Script::default(),
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let provider = match FakeProvider::start_on(addr, script).await {
        Ok(provider) => provider,
        Err(error) => {
            eprintln!("roundtable-fake-provider: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    // Listen for the stop signals before saying we are up, so a signal sent
    // right after the line is never missed.
    let stop = stop_signal();
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not stop the server; the line is only a convenience.
    let _ = writeln!(stdout, "listening on {}", provider.url()).and_then(|()| stdout.flush());
    drop(stdout);

    stop.await;
    provider.shutdown().await;
    ExitCode::SUCCESS
}

/// A future that completes on Ctrl-C or SIGTERM; the handlers are installed when
/// this is called, not when it is first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        let mut interrupt = signal(SignalKind::interrupt()).expect("a SIGINT handler");
        async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
