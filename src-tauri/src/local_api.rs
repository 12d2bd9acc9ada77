//! The local API (`roundtable-server`) started and stopped from the window, in
//! this process, on 127.0.0.1: the same server as `roundtable serve`, over the
//! same app, so its runs land in the same history and show up in the window.
//! Whether it runs, and its port, are kept in `config.toml` (`[desktop]
//! local_api`, `[server] port`) and applied at start-up.

use roundtable_app::Code;
use roundtable_app::api_token::TokenOrigin;
use roundtable_app::{App, AppError};
use roundtable_server::{ServeError, ServeOptions, ServerHandle};
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::sync::Mutex;

/// What Settings shows about the local API. The token is not in it: it crosses
/// only when asked for ([`LocalApi::token`]).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LocalApiStatus {
    pub running: bool,
    /// The port it listens on, or will.
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Where the token comes from (`ROUNDTABLE_API_TOKEN`, the keychain, the
    /// file that keeps it and its path, or this process only and why); `None`
    /// until the token is first needed (the server started, or it was asked for).
    pub token_origin: Option<TokenOrigin>,
    /// Why it is not running though it should (the port is taken…).
    pub error: Option<AppError>,
}

/// The server, when it runs, and why the last start failed.
#[derive(Default)]
pub struct LocalApi {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    server: Option<ServerHandle>,
    error: Option<AppError>,
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// A start's failure, for people: a taken port says so and what to do.
fn start_error(port: u16, e: ServeError) -> AppError {
    match e {
        ServeError::Bind { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
            AppError::new(
                Code::PortInUse,
                format!(
                    "port {port} is already in use on 127.0.0.1 (another program, or `roundtable serve`): choose another port, or stop that program"
                ),
            )
        }
        ServeError::Bind { source, .. }
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            AppError::new(
                Code::PortDenied,
                format!("port {port} needs privileges: choose a port above 1023"),
            )
        }
        other => AppError::new(Code::LocalApi, other.to_string()),
    }
}

impl LocalApi {
    /// Starts the server on `port` (stopping one already running elsewhere), and
    /// remembers the choice in `config.toml` once it listens.
    pub async fn start(&self, app: &Arc<App>, port: u16) -> Result<LocalApiStatus, AppError> {
        if port == 0 {
            return Err(AppError::new(
                Code::InvalidRequest,
                "port: must be between 1 and 65535",
            ));
        }
        let mut inner = self.inner.lock().await;
        if let Some(server) = &inner.server
            && server.addr().port() == port
        {
            return Ok(Self::status_of(app, &inner, port));
        }
        if let Some(old) = inner.server.take() {
            old.shutdown().await;
        }
        let options = ServeOptions {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            ..ServeOptions::default()
        };
        match roundtable_server::serve(app.clone(), options).await {
            Ok(server) => {
                tracing::info!(url = %server.url(), "local API started");
                inner.server = Some(server);
                inner.error = None;
                save_choice(app, true, port)?;
                Ok(Self::status_of(app, &inner, port))
            }
            Err(e) => {
                let error = start_error(port, e);
                inner.error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Stops the server (runs in flight are recorded as interrupted), and
    /// remembers that in `config.toml`.
    pub async fn stop(&self, app: &Arc<App>) -> Result<LocalApiStatus, AppError> {
        let mut inner = self.inner.lock().await;
        let port = match inner.server.take() {
            Some(server) => {
                let port = server.addr().port();
                server.shutdown().await;
                tracing::info!("local API stopped");
                port
            }
            None => app.prefs()?.local_api_port,
        };
        inner.error = None;
        save_choice(app, false, port)?;
        Ok(Self::status_of(app, &inner, port))
    }

    /// Starts the server when `config.toml` says so (at start-up); a failure is
    /// kept for Settings to show.
    pub async fn apply_saved(&self, app: &Arc<App>) {
        let Ok(prefs) = app.prefs() else { return };
        if prefs.local_api
            && let Err(e) = self.start(app, prefs.local_api_port).await
        {
            tracing::warn!(error = %e, "the local API could not start");
        }
    }

    pub async fn status(&self, app: &App) -> Result<LocalApiStatus, AppError> {
        let inner = self.inner.lock().await;
        let port = match &inner.server {
            Some(s) => s.addr().port(),
            None => app.prefs()?.local_api_port,
        };
        Ok(Self::status_of(app, &inner, port))
    }

    /// The bearer token requests must carry: the running server's, else the one
    /// it would use (`ROUNDTABLE_API_TOKEN`, else the keychain's).
    pub async fn token(&self, app: &App) -> String {
        let inner = self.inner.lock().await;
        match &inner.server {
            Some(s) => s.token().expose().to_string(),
            None => app.local_api_token().expose().to_string(),
        }
    }

    fn status_of(app: &App, inner: &Inner, port: u16) -> LocalApiStatus {
        let token_origin = match &inner.server {
            Some(s) => Some(s.token().origin().clone()),
            None => app.local_api_token_origin(),
        };
        LocalApiStatus {
            running: inner.server.is_some(),
            port,
            url: url(port),
            token_origin,
            error: inner.error.clone(),
        }
    }
}

/// Keeps whether the local API runs, and its port, in `config.toml`.
fn save_choice(app: &App, on: bool, port: u16) -> Result<(), AppError> {
    let mut prefs = app.prefs()?;
    if prefs.local_api != on || prefs.local_api_port != port {
        prefs.local_api = on;
        prefs.local_api_port = port;
        app.save_prefs(&prefs)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use roundtable_app::AppOptions;
    use roundtable_app::keys::MemoryKeychain;

    fn app(home: &std::path::Path) -> Arc<App> {
        Arc::new(
            App::open(AppOptions {
                home: Some(home.to_path_buf()),
                keychain: Some(Arc::new(MemoryKeychain::default())),
            })
            .unwrap(),
        )
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[tokio::test]
    async fn starts_stops_and_remembers_the_choice() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), "# mine\n").unwrap();
        let app = app(home.path());
        let api = LocalApi::default();
        let port = free_port();
        let on = api.start(&app, port).await.unwrap();
        assert!(on.running);
        assert_eq!(on.url, format!("http://127.0.0.1:{port}"));
        assert_eq!(on.token_origin, Some(TokenOrigin::Keychain));
        let health = reqwest::get(format!("{}/healthz", on.url)).await.unwrap();
        assert_eq!(health.status(), 200);
        let token = api.token(&app).await;
        assert_eq!(token.len(), 64);
        let prefs = app.prefs().unwrap();
        assert!(prefs.local_api);
        assert_eq!(prefs.local_api_port, port);

        // A second app on the same home sees the choice and finds the port taken.
        let other = LocalApi::default();
        other.apply_saved(&app).await;
        let status = other.status(&app).await.unwrap();
        assert!(!status.running);
        let e = status.error.unwrap();
        assert_eq!(e.code, Code::PortInUse);
        assert!(
            e.message
                .contains(&format!("port {port} is already in use")),
            "{e}"
        );

        let off = api.stop(&app).await.unwrap();
        assert!(!off.running);
        assert!(reqwest::get(format!("{}/healthz", on.url)).await.is_err());
        let prefs = app.prefs().unwrap();
        assert!(!prefs.local_api);
        assert_eq!(prefs.local_api_port, port);
        let text = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
        assert!(text.starts_with("# mine\n"), "{text}");
    }

    #[tokio::test]
    async fn says_where_the_token_comes_from_without_making_one() {
        if std::env::var_os(roundtable_app::api_token::ENV_VAR).is_some() {
            eprintln!("skipped: ROUNDTABLE_API_TOKEN is set, so the token comes from there");
            return;
        }
        // No keychain: the token is kept in a file of the home, and Settings names it.
        let home = tempfile::tempdir().unwrap();
        let app = Arc::new(
            App::open(AppOptions {
                home: Some(home.path().to_path_buf()),
                keychain: Some(Arc::new(roundtable_app::keys::NoKeychain)),
            })
            .unwrap(),
        );
        let api = LocalApi::default();
        let off = api.status(&app).await.unwrap();
        assert_eq!(
            off.token_origin, None,
            "asking for the status makes no token"
        );
        let file = home.path().join(roundtable_app::api_token::TOKEN_FILE);
        assert!(!file.exists());
        let token = api.token(&app).await;
        let origin = api.status(&app).await.unwrap().token_origin;
        assert_eq!(
            origin,
            Some(TokenOrigin::File {
                path: file.display().to_string()
            })
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token);
        // As the window gets it: tagged by kind.
        let json = serde_json::to_value(api.status(&app).await.unwrap()).unwrap();
        assert_eq!(json["token_origin"]["kind"], "file");
        assert_eq!(json["token_origin"]["path"], file.display().to_string());
    }
}
