//! `roundtable serve`: the local HTTP API (`roundtable-server`) in the foreground.

use crate::Failure;
use clap::Args;
use roundtable_app::App;
use roundtable_app::api_token::{ENV_VAR, KEYCHAIN_ENTRY, TokenOrigin, TokenSource};
use roundtable_server::ServeOptions;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Args)]
#[command(
    after_help = "The API speaks the hosted roundtable contract: POST /v3/roundtable (also
/v3/beta/roundtable) with `Authorization: Bearer <token>`, and GET /healthz. Every
call is a run in the history, like one from `roundtable run`.

The token is ROUNDTABLE_API_TOKEN when set, else one generated once and kept in the
OS keychain (entry @local-api-token), or without a keychain in the file
local-api-token in the home directory (readable by you only); it is printed at start-up.

The first line on stdout is `listening on http://HOST:PORT`, the second `token: …`.
Ctrl-C (or SIGTERM) stops the server: runs in flight are cancelled and recorded as
interrupted.

  roundtable serve
  curl -s http://127.0.0.1:8787/v3/roundtable -H \"Authorization: Bearer $TOKEN\" \\
       -H 'Content-Type: application/json' \\
       -d '{\"input\": \"hi\", \"models\": [{\"name\": \"ollama/llama3.2\"}]}'"
)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one [default: server.port in config.toml, else 8787]
    #[arg(long, value_name = "N")]
    port: Option<u16>,

    /// Address to listen on: a loopback address unless --allow-remote is given
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    host: String,

    /// Allow an address other than loopback (other machines could then call the API, with the token)
    #[arg(long)]
    allow_remote: bool,

    /// Largest request body accepted, in bytes [default: server.max_body_bytes, else 2 MiB]
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<usize>,

    /// Most models accepted in one request [default: server.max_models, else 64]
    #[arg(long, value_name = "N")]
    max_models: Option<usize>,
}

fn usage(message: String) -> Failure {
    Failure { code: 2, message }
}

fn parse_host(host: &str) -> Result<IpAddr, Failure> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| {
            usage(format!(
                "--host: '{host}' is not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0)"
            ))
        })
}

/// Waits for Ctrl-C or SIGTERM; the handlers are installed when this is called.
fn stop_signal() -> Result<impl std::future::Future<Output = &'static str>, Failure> {
    let failed = |e: std::io::Error| Failure {
        code: 1,
        message: format!("cannot install the signal handlers: {e}"),
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).map_err(failed)?;
        let mut term = signal(SignalKind::terminate()).map_err(failed)?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            }
        })
    }
    #[cfg(not(unix))]
    {
        let _ = failed;
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

pub async fn serve(app: App, args: ServeArgs) -> Result<(), Failure> {
    let ip = parse_host(&args.host)?;
    if !ip.is_loopback() {
        if !args.allow_remote {
            return Err(usage(format!(
                "--host {ip} is not a loopback address: add --allow-remote to listen there (any machine that can reach it could then spend your API keys, given the token)"
            )));
        }
        eprintln!(
            "warning: listening on {ip}, not loopback (--allow-remote): other machines can reach this API; anyone with the token can spend your API keys"
        );
    }
    let port = args.port.unwrap_or(app.config().server.port);
    let app = Arc::new(app);
    let token = app.local_api_token();
    let stop = stop_signal()?;
    let handle = roundtable_server::serve(
        Arc::clone(&app),
        ServeOptions {
            addr: SocketAddr::new(ip, port),
            allow_remote: args.allow_remote,
            token: Some(token.expose().to_string()),
            max_body_bytes: args.max_body_bytes,
            max_models: args.max_models,
        },
    )
    .await
    .map_err(|e| Failure {
        code: 1,
        message: e.to_string(),
    })?;

    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}", handle.url());
    let _ = match token.source() {
        TokenSource::Environment => writeln!(out, "token: (from {ENV_VAR})"),
        _ => writeln!(out, "token: {}", token.expose()),
    };
    let _ = out.flush();
    drop(out);
    let new = token.source() == &TokenSource::Generated;
    match token.origin() {
        TokenOrigin::Keychain if new => eprintln!(
            "A new API token was generated and kept in the OS keychain ({KEYCHAIN_ENTRY}); set {ENV_VAR} to choose your own."
        ),
        TokenOrigin::File { path } if new => eprintln!(
            "A new API token was generated and kept in {path} (readable by you only; the OS keychain is not available); set {ENV_VAR} to choose your own."
        ),
        TokenOrigin::Process { reason } => eprintln!(
            "warning: neither the keychain nor a file can keep the API token ({reason}); this one lasts until the server stops. Set {ENV_VAR} for a fixed one."
        ),
        _ => {}
    }
    eprintln!(
        "POST {}/v3/roundtable with `Authorization: Bearer <token>`; Ctrl-C stops.",
        handle.url()
    );

    let signal = stop.await;
    let in_flight = handle.runs_in_flight();
    eprintln!(
        "{signal}: stopping{}",
        match in_flight {
            0 => String::new(),
            1 => "; cancelling the run in flight (kept in the history as interrupted)".into(),
            n => format!("; cancelling {n} runs in flight (kept in the history as interrupted)"),
        }
    );
    handle.shutdown().await;
    Ok(())
}
