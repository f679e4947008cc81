//! Read-only Docker Engine API proxy (`tars docker-api`).
//!
//! A small HTTP service that answers a fixed set of GET routes (container list,
//! per-container stats, engine info, aggregate stats) by calling the Docker
//! Engine over its Unix socket. Exposing this instead of the socket itself
//! means a dashboard or scraper never holds a credential that can start
//! containers: the engine socket is root-equivalent, this proxy is not.
//!
//! Layout follows the axum examples: [`app`] builds the [`axum::Router`] from
//! an [`AppState`], [`serve`] runs it on a listener until a shutdown future
//! resolves, and [`run`] is the blocking entry point. The crate depends on no
//! other crate of tars.

mod config;
mod conns;
mod engine;
mod error;
mod metrics;
mod middleware;
mod routes;
mod server;
mod stats;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

pub use config::{Config, Token, TOKEN_ENV};
pub use error::AppError;
pub use routes::{app, AppState};
pub use server::{serve, ConnLimits};
pub use stats::{
    compute_stats, ContainerStats, CpuStats, IoStats, MemoryStats, NetworkStats, StatsError,
};

/// Settings of the proxy, as resolved by the command line (`tars docker-api`
/// owns the flags and their environment variables; this crate knows no CLI).
///
/// The bearer token is read from `token_file` or, when that is absent, from
/// the `TARS_DOCKER_API_TOKEN` environment variable. There is deliberately no
/// token setting: a secret on the command line is visible in `ps`.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// Address to listen on (keep it on loopback unless a token is set).
    pub listen: String,
    /// Docker Engine socket, as `unix:///path` or a plain path.
    pub docker_host: String,
    /// File holding the bearer token required on /api/* (first line, trimmed).
    pub token_file: Option<PathBuf>,
    /// Deadline for a whole HTTP request; past it the client gets 504.
    pub request_timeout: Duration,
    /// Deadline for one call to the engine (including waiting for a free slot).
    pub engine_timeout: Duration,
    /// Per-container deadline inside /api/stats/aggregate.
    pub stats_timeout: Duration,
    /// How many containers /api/stats/aggregate samples at once.
    pub max_concurrency: u32,
    /// Cap on engine calls in flight across all requests.
    pub max_engine_calls: u32,
    /// Cap on HTTP requests in flight; beyond it requests get 503 at once.
    pub max_in_flight: u32,
    /// A request's headers must arrive within this long (also ends an idle
    /// keep-alive connection).
    pub header_read_timeout: Duration,
    /// A connection with no byte moving either way this long is closed; must
    /// exceed `request_timeout`.
    pub idle_timeout: Duration,
    /// Connections served at once; beyond them only `/health` and `/metrics`
    /// are answered.
    pub max_connections: u32,
    /// Access log format on stderr.
    pub log_format: LogFormat,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:3001".into(),
            docker_host: "unix:///var/run/docker.sock".into(),
            token_file: None,
            request_timeout: Duration::from_secs(15),
            engine_timeout: Duration::from_secs(5),
            stats_timeout: Duration::from_secs(4),
            max_concurrency: 16,
            max_engine_calls: 32,
            max_in_flight: 256,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            log_format: LogFormat::Text,
        }
    }
}

/// Format of the log lines written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable key=value lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Errors of the proxy.
#[derive(Debug, thiserror::Error)]
pub enum DockerApiError {
    /// `--listen` is not a socket address.
    #[error("invalid --listen address {addr:?}: {source}")]
    InvalidListen {
        addr: String,
        source: std::net::AddrParseError,
    },
    /// `--docker-host` is not a Unix socket address.
    #[error("unsupported --docker-host {0:?}: only unix:// sockets are supported")]
    UnsupportedDockerHost(String),
    /// A flag value is out of range or inconsistent with another.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The token file could not be read.
    #[error("cannot read token file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The token file or environment variable holds no usable token.
    #[error("empty token in {0}")]
    EmptyToken(String),
    /// Both a token file and the token environment variable were given.
    #[error("both --token-file and TARS_DOCKER_API_TOKEN are set; use one")]
    AmbiguousToken,
    /// The tokio runtime could not be built.
    #[error("cannot start async runtime: {0}")]
    Runtime(std::io::Error),
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// The HTTP server stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(std::io::Error),
    /// Installing the SIGTERM handler failed.
    #[error("cannot install signal handler: {0}")]
    Signal(std::io::Error),
}

impl DockerApiError {
    /// True when the settings themselves are wrong (a usage error for a CLI),
    /// as opposed to a failure while running.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            DockerApiError::InvalidListen { .. }
                | DockerApiError::UnsupportedDockerHost(_)
                | DockerApiError::InvalidConfig(_)
                | DockerApiError::EmptyToken(_)
                | DockerApiError::AmbiguousToken
        )
    }
}

/// Runs the proxy until SIGTERM/SIGINT, then drains in-flight requests.
pub fn run(args: ProxySettings) -> Result<(), DockerApiError> {
    let config = Config::from_args(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tars-docker-api")
        .build()
        .map_err(DockerApiError::Runtime)?;
    runtime.block_on(async move {
        let bind_error = |source| DockerApiError::Bind {
            addr: config.listen,
            source,
        };
        let listener = bind(config.listen).map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        // Only now: a run that fails on its flags should leave the embedding
        // program's logging alone.
        init_logging(args.log_format);
        let fd_limit = conns::raise_fd_limit();
        let state = AppState::new(&config);
        let shutdown = shutdown_signal()?;
        tracing::info!(
            listen = %local,
            fd_limit = ?fd_limit,
            docker_host = %config.docker_socket.display(),
            token = config.token.is_some(),
            "tars docker-api listening"
        );
        if let Some(warning) = exposure_warning(&config) {
            tracing::warn!("{warning}");
            // Also on stderr as is: a log filter must not hide it.
            eprintln!("tars docker-api: WARNING: {warning}");
        }
        serve(listener, state, shutdown).await
    })
}

/// Pending connections the kernel may queue before `accept` (capped by
/// `net.core.somaxconn`): a burst of connections past the default 1,024
/// would otherwise see SYNs dropped, and a probe among them wait a second
/// for its retransmission.
const LISTEN_BACKLOG: u32 = 4096;

fn bind(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restart must not wait out TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Said loudly at start when the container list is open to the network: bound
/// beyond loopback and no token asked for.
pub fn exposure_warning(config: &Config) -> Option<String> {
    if config.listen.ip().is_loopback() || config.token.is_some() {
        return None;
    }
    Some(format!(
        "listening on {} without a token: anyone who can reach this address can \
         list your containers and read their stats; set --token-file or {TOKEN_ENV}, \
         or listen on 127.0.0.1",
        config.listen
    ))
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed before
/// returning so a signal that arrives during startup is not lost.
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, DockerApiError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(DockerApiError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DockerApiError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
            _ = int.recv() => tracing::info!("SIGINT received, shutting down"),
        }
    })
}

/// Installs a stderr subscriber unless the embedding program already has one.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TARS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // An error here only means a global subscriber exists already; keep it.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
