//! Flags of the Prometheus connection, shared by the commands that read
//! metrics, resolved into the adapter's plain settings.

use std::path::PathBuf;

use tars_prom::{Connection, Overrides};

/// Connection flags for a Prometheus-compatible server. Secrets come from
/// files or the environment only, never from a flag value visible in `ps`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Prometheus connection")]
pub struct PromArgs {
    /// File holding a bearer token (else $PROMETHEUS_BEARER_TOKEN is used).
    #[arg(long, env = "PROMETHEUS_BEARER_TOKEN_FILE", value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// User for HTTP basic auth; the password comes from
    /// --basic-auth-password-file or $PROMETHEUS_BASIC_AUTH_PASSWORD.
    #[arg(long, env = "PROMETHEUS_BASIC_AUTH_USER", value_name = "USER")]
    pub basic_auth_user: Option<String>,
    /// File holding the basic-auth password.
    #[arg(long, env = "PROMETHEUS_BASIC_AUTH_PASSWORD_FILE", value_name = "FILE")]
    pub basic_auth_password_file: Option<PathBuf>,
    /// PEM bundle of extra CA certificates to trust.
    #[arg(long, env = "PROMETHEUS_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Extra request header, e.g. 'X-Scope-OrgID: team-a' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,
    /// Timeout of one HTTP request, seconds [default: from tars.toml, 30].
    #[arg(long, env = "PROMETHEUS_QUERY_TIMEOUT_SECS", value_name = "SECS")]
    pub query_timeout_secs: Option<u64>,
    /// Timeout of all the queries one step makes, seconds [default: 300].
    #[arg(long, env = "PROMETHEUS_TOTAL_TIMEOUT_SECS", value_name = "SECS")]
    pub total_timeout_secs: Option<u64>,
    /// Queries in flight at once [default: 4].
    #[arg(long, env = "PROMETHEUS_MAX_CONCURRENCY", value_name = "N")]
    pub max_concurrency: Option<usize>,
    /// Save every query and its raw response under DIR (replay with
    /// `--source file:DIR`).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
}

impl PromArgs {
    /// How to reach the server.
    pub fn connection(&self) -> Connection {
        Connection {
            bearer_token_file: self.bearer_token_file.clone(),
            basic_auth_user: self.basic_auth_user.clone(),
            basic_auth_password_file: self.basic_auth_password_file.clone(),
            ca_file: self.ca_file.clone(),
            headers: self.headers.clone(),
            record: self.record.clone(),
        }
    }

    /// What the flags change of `[prometheus]`.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            query_timeout_secs: self.query_timeout_secs,
            total_timeout_secs: self.total_timeout_secs,
            max_concurrency: self.max_concurrency,
        }
    }
}
