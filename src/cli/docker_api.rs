//! Flags of `tars docker-api`, resolved into the proxy's plain settings.

use std::path::PathBuf;
use std::time::Duration;

use tars_docker_api::{LogFormat, ProxySettings};

/// Past this many connections a host runs out of ports and memory long
/// before the proxy does; a larger value is a typo.
const MAX_CONNECTIONS: i64 = 1 << 20;

/// Flags of `tars docker-api`.
///
/// The bearer token is read from `--token-file` or, when that is absent, from
/// the `TARS_DOCKER_API_TOKEN` environment variable. There is deliberately no
/// `--token` flag: a secret on the command line is visible in `ps`.
#[derive(Debug, Clone, clap::Args)]
pub struct DockerApiArgs {
    /// Address to listen on (keep it on loopback unless a token is set).
    #[arg(
        long,
        env = "TARS_DOCKER_API_LISTEN",
        default_value = "127.0.0.1:3001",
        value_name = "ADDR"
    )]
    pub listen: String,

    /// Docker Engine socket, as `unix:///path` or a plain path.
    #[arg(
        long,
        env = "DOCKER_HOST",
        default_value = "unix:///var/run/docker.sock",
        value_name = "SOCKET"
    )]
    pub docker_host: String,

    /// File holding the bearer token required on /api/* (first line, trimmed).
    /// Without it, the TARS_DOCKER_API_TOKEN environment variable is used; with
    /// neither, the API is open (bind to loopback then).
    #[arg(long, env = "TARS_DOCKER_API_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Deadline for a whole HTTP request; past it the client gets 504.
    #[arg(long, env = "TARS_DOCKER_API_REQUEST_TIMEOUT", default_value = "15s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Deadline for one call to the engine (including waiting for a free slot).
    #[arg(long, env = "TARS_DOCKER_API_ENGINE_TIMEOUT", default_value = "5s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub engine_timeout: Duration,

    /// Per-container deadline inside /api/stats/aggregate; a container that
    /// misses it is listed under `missing` instead of stalling the response.
    #[arg(long, env = "TARS_DOCKER_API_STATS_TIMEOUT", default_value = "4s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub stats_timeout: Duration,

    /// How many containers /api/stats/aggregate samples at once.
    #[arg(long, env = "TARS_DOCKER_API_MAX_CONCURRENCY", default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_concurrency: u32,

    /// Cap on engine calls in flight across all requests.
    #[arg(long, env = "TARS_DOCKER_API_MAX_ENGINE_CALLS", default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_engine_calls: u32,

    /// Cap on HTTP requests in flight; beyond it requests get 503 at once.
    #[arg(long, env = "TARS_DOCKER_API_MAX_IN_FLIGHT", default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_in_flight: u32,

    /// Connections served at once; beyond them a connection gets one request
    /// where only /health and /metrics are answered (503 overloaded
    /// otherwise), and the oldest of those is closed when more arrive.
    #[arg(long, env = "TARS_DOCKER_API_MAX_CONNECTIONS", default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_CONNECTIONS))]
    pub max_connections: u32,

    /// A request's headers must arrive within this long of the connection
    /// being ready for one; also ends an idle keep-alive connection.
    #[arg(long, env = "TARS_DOCKER_API_HEADER_READ_TIMEOUT", default_value = "10s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,

    /// A connection with no byte moving either way this long is closed (a
    /// client that stops reading its answer); must exceed --request-timeout.
    #[arg(long, env = "TARS_DOCKER_API_IDLE_TIMEOUT", default_value = "60s", value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,

    /// Access log format on stderr.
    #[arg(long, env = "TARS_DOCKER_API_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Text)]
    pub log_format: LogFormatArg,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    /// Human-readable key=value lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the proxy's log subscriber, with escape codes only where
/// `--color` and NO_COLOR allow them on stderr: logs redirected to a file or
/// a collector must stay plain text. The proxy keeps a subscriber that is
/// already installed. JSON lines never carry colour, so that format is left
/// to the proxy's own setup.
pub fn init_logging(format: LogFormatArg, ansi: bool) {
    if format == LogFormatArg::Json {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("TARS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // An error only means a subscriber exists already; it stays.
    let _ = tracing_subscriber::fmt()
        .with_ansi(ansi)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

impl From<DockerApiArgs> for ProxySettings {
    fn from(a: DockerApiArgs) -> Self {
        ProxySettings {
            listen: a.listen,
            docker_host: a.docker_host,
            token_file: a.token_file,
            request_timeout: a.request_timeout,
            engine_timeout: a.engine_timeout,
            stats_timeout: a.stats_timeout,
            max_concurrency: a.max_concurrency,
            max_engine_calls: a.max_engine_calls,
            max_in_flight: a.max_in_flight,
            max_connections: a.max_connections,
            header_read_timeout: a.header_read_timeout,
            idle_timeout: a.idle_timeout,
            log_format: match a.log_format {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: DockerApiArgs,
    }

    #[test]
    fn flag_defaults_are_the_proxys_defaults() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        let from_flags = ProxySettings::from(cli.args);
        let d = ProxySettings::default();
        assert_eq!(from_flags.listen, d.listen);
        assert_eq!(from_flags.docker_host, d.docker_host);
        assert_eq!(from_flags.request_timeout, d.request_timeout);
        assert_eq!(from_flags.engine_timeout, d.engine_timeout);
        assert_eq!(from_flags.stats_timeout, d.stats_timeout);
        assert_eq!(from_flags.max_concurrency, d.max_concurrency);
        assert_eq!(from_flags.max_engine_calls, d.max_engine_calls);
        assert_eq!(from_flags.max_in_flight, d.max_in_flight);
        assert_eq!(from_flags.max_connections, d.max_connections);
        assert_eq!(from_flags.header_read_timeout, d.header_read_timeout);
        assert_eq!(from_flags.idle_timeout, d.idle_timeout);
        assert_eq!(from_flags.log_format, d.log_format);
    }
}
