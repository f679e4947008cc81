//! Flags of the Prometheus connection, shared by the commands that read
//! metrics, resolved into the adapter's plain settings.

use std::path::PathBuf;

use tars_prom::{Auth, Connection, Overrides};

use crate::error::{Error, Result};

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
    /// How to reach the server, with its credentials loaded.
    pub fn connection(&self) -> Result<Connection> {
        Ok(Connection {
            auth: self.auth()?,
            ca_file: self.ca_file.clone(),
            headers: self.headers.clone(),
            record: self.record.clone(),
        })
    }

    /// Basic auth when a user is given (its password from the file or
    /// `$PROMETHEUS_BASIC_AUTH_PASSWORD`), else a bearer token when one is
    /// given, else none. A named file that cannot be read is a usage error.
    fn auth(&self) -> Result<Auth> {
        let load = |file: Option<&std::path::Path>, env: &str, flag: &str| {
            crate::secret::load(file, env).map_err(|e| Error::Usage(format!("{flag}: {e}")))
        };
        if let Some(user) = &self.basic_auth_user {
            let password = load(
                self.basic_auth_password_file.as_deref(),
                "PROMETHEUS_BASIC_AUTH_PASSWORD",
                "--basic-auth-password-file",
            )?
            .ok_or_else(|| {
                Error::Usage(
                    "--basic-auth-user needs --basic-auth-password-file or $PROMETHEUS_BASIC_AUTH_PASSWORD".into(),
                )
            })?;
            return Ok(Auth::Basic {
                user: user.clone(),
                password,
            });
        }
        Ok(load(
            self.bearer_token_file.as_deref(),
            "PROMETHEUS_BEARER_TOKEN",
            "--bearer-token-file",
        )?
        .map_or(Auth::None, Auth::Bearer))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_wins_over_a_bearer_token_and_reads_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let (pw, tok) = (dir.path().join("pw"), dir.path().join("tok"));
        std::fs::write(&pw, "s3cret\n").unwrap();
        std::fs::write(&tok, "t0ken\n").unwrap();
        let mut a = PromArgs {
            bearer_token_file: Some(tok),
            ..PromArgs::default()
        };
        assert_eq!(a.connection().unwrap().auth, Auth::Bearer("t0ken".into()));
        a.basic_auth_user = Some("tars".into());
        a.basic_auth_password_file = Some(pw);
        assert_eq!(
            a.connection().unwrap().auth,
            Auth::Basic {
                user: "tars".into(),
                password: "s3cret".into()
            }
        );
    }
}
