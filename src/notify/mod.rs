//! Integrations: post a summary to Slack, file GitHub issues for action items.
//!
//! Secrets (webhook URL, token) come only from files or environment variables,
//! never from flags, so they do not show up in `ps`; they are never printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

mod github;
mod slack;

pub use github::{file_issues, issue_title, GithubTarget, IssuePlan};
pub use slack::{health_payload, retro_payload};

/// `tars notify ...`
#[derive(Debug, Args)]
pub struct NotifyArgs {
    #[command(subcommand)]
    pub target: NotifyTarget,
}

#[derive(Debug, Subcommand)]
pub enum NotifyTarget {
    /// Post the retrospective or a day's health report to a Slack incoming webhook.
    Slack(SlackArgs),
    /// Open one GitHub issue per retrospective action item (idempotent).
    Github(GithubArgs),
}

/// Which artifact the Slack message summarises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    Retro,
    Health,
}

#[derive(Debug, Args)]
pub struct SlackArgs {
    /// File holding the webhook URL (else the SLACK_WEBHOOK_URL environment variable).
    #[arg(long)]
    pub webhook_url_file: Option<PathBuf>,
    /// Base of the data layout.
    #[arg(long, env = "TARS_DATA_DIR", default_value = "/data")]
    pub data_dir: PathBuf,
    /// Summarise the retrospective or one day's health report.
    #[arg(long, value_enum, default_value = "retro")]
    pub what: What,
    /// Day of the health report (with --what health), 1-7.
    #[arg(long, env = "DAY_NUMBER")]
    pub day_number: Option<u32>,
    /// Print the JSON payload instead of posting it.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct GithubArgs {
    /// Target repository, OWNER/NAME.
    #[arg(long)]
    pub repo: String,
    /// File holding the token (else the GITHUB_TOKEN environment variable).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// GitHub REST API base (GitHub Enterprise: https://HOST/api/v3).
    #[arg(long, default_value = "https://api.github.com")]
    pub api_url: String,
    /// Lowest priority that gets an issue (P0 highest .. P3).
    #[arg(long, default_value = "P1")]
    pub min_priority: String,
    /// Label put on every issue; also how earlier issues are found.
    #[arg(long, default_value = "tars")]
    pub label: String,
    /// Base of the data layout.
    #[arg(long, env = "TARS_DATA_DIR", default_value = "/data")]
    pub data_dir: PathBuf,
    /// Print the issues that would be created; needs no token and no network.
    #[arg(long)]
    pub dry_run: bool,
}

/// Errors of the integrations; each names the file, URL or repository and status.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An input artifact is missing, unreadable or malformed.
    #[error("{0}")]
    Artifact(String),
    #[error("{0}")]
    Usage(String),
    #[error("Slack webhook {url}: {detail}")]
    Slack { url: String, detail: String },
    #[error("GitHub {repo}: {method} {path}: {detail}")]
    GitHub {
        repo: String,
        method: String,
        path: String,
        detail: String,
    },
}

/// Posts a Slack message (a payload of [`health_payload`] or
/// [`retro_payload`]) to the incoming webhook `url`, blocking until done.
pub fn post_slack(url: &str, payload: &serde_json::Value) -> Result<(), NotifyError> {
    slack::post(url, payload)
}

/// Runs `tars notify ...`, blocking until done.
pub fn run(args: NotifyArgs) -> Result<(), NotifyError> {
    match args.target {
        NotifyTarget::Slack(a) => slack::run(a),
        NotifyTarget::Github(a) => github::run(a),
    }
}

/// An artifact read by the stages' own checked reader (`inputs::read_*`:
/// schema version, kind, day against the file's name, values in range), so a
/// message never reports what a stage would refuse.
fn artifact<T>(read: crate::error::Result<T>) -> Result<T, NotifyError> {
    read.map_err(|e| NotifyError::Artifact(e.to_string()))
}

/// A secret from a file, else from an environment variable; trimmed, never empty.
fn secret(file: Option<&Path>, env: &str, what: &str) -> Result<String, NotifyError> {
    use crate::secret::{load, SecretError};
    match load(file, env) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(NotifyError::Usage(format!(
            "{what}: give a file with the flag or set {env}"
        ))),
        Err(SecretError::Read { path, source }) => Err(NotifyError::Read { path, source }),
        Err(e @ SecretError::Empty(_)) => Err(NotifyError::Usage(format!("{what}: {e}"))),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, NotifyError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| NotifyError::Usage(format!("cannot start the I/O runtime: {e}")))
}

fn client() -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .user_agent(concat!("tars/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| NotifyError::Usage(format!("cannot build the HTTP client: {e}")))
}
