//! The thin HTTP server: axum routes over the store and the pure crates.
//!
//! `app(state)` builds the router, so tests drive it with `tower::ServiceExt::oneshot`
//! without a socket; `serve` binds and runs it with graceful shutdown.

mod certificates;
mod cmi5;
mod error;
mod extract;
mod routes;
mod schedule;
mod scorm;
mod xapi;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use lms_package::archive::ArchiveLimits;
use lms_store::Store;

pub use error::{ApiError, ApiResult};
pub use schedule::{LogDelivery, NotificationDelivery, OutboxRound, ScheduleSettings, run_outbox_round};
pub use scorm::{content_app, serve_content};
pub use lms_xapi::XapiVersion;

/// Settings the routes need.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest accepted upload body in bytes (the zip as sent). Default 2 GiB.
    pub max_upload_bytes: u64,
    /// Limits applied to uploaded archives.
    pub archive_limits: ArchiveLimits,
    /// Where uploads are spooled while they arrive (inside the data folder).
    pub spool_dir: PathBuf,
    /// Blended learning: booking policy, iCalendar identity, background task interval.
    pub schedule: schedule::ScheduleSettings,
    /// The SCORM content origin as the browser reaches it (`http://host:port`, no trailing
    /// slash), served by [`serve_content`]. `None`: content frame URLs are relative (tests).
    pub content_origin: Option<String>,
    /// The xAPI version the LRS announces when a request has no valid version header.
    pub xapi_version: lms_xapi::XapiVersion,
    /// The LMS's public URL (`http(s)://host[:port]`, no trailing slash): the `homePage` of
    /// learner accounts and the base of activity IRIs in the statements the LMS writes; cmi5
    /// launch URLs name the LRS endpoint (`<public_url>/xapi`) and fetch URL under it.
    pub public_url: String,
}

impl ServerConfig {
    pub fn new(data_dir: &std::path::Path) -> Self {
        ServerConfig {
            max_upload_bytes: 2 * 1024 * 1024 * 1024,
            archive_limits: ArchiveLimits::default(),
            spool_dir: data_dir.join("spool"),
            schedule: schedule::ScheduleSettings::default(),
            content_origin: None,
            xapi_version: lms_xapi::XapiVersion::V2_0_0,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// Shared by every request. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    /// Delivers the notification outbox (log-only unless replaced).
    pub notifier: Arc<dyn schedule::NotificationDelivery>,
    /// The LRS's statement writer and credential cache.
    pub(crate) xapi: xapi::XapiState,
    /// The SCORM commit writer (group commit), started on first use.
    pub(crate) scorm_writer: Arc<std::sync::OnceLock<lms_store::ScormCommitWriter>>,
    /// Parsed cmi5 courses.
    pub(crate) cmi5: cmi5::Cmi5State,
}

impl AppState {
    pub fn new(store: Store, config: ServerConfig) -> std::io::Result<AppState> {
        std::fs::create_dir_all(&config.spool_dir)?;
        Ok(AppState {
            store,
            config: Arc::new(config),
            notifier: Arc::new(schedule::LogDelivery),
            xapi: xapi::XapiState::default(),
            scorm_writer: Arc::default(),
            cmi5: cmi5::Cmi5State::default(),
        })
    }
}

/// The whole HTTP API.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Binds `addr` and serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let store = state.store.clone();
    let outbox = tokio::spawn(schedule::outbox_task(state.clone()));
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown_signal()).await?;
    outbox.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
