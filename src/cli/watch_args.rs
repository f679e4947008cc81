//! `tars watch` flags, resolved into [`crate::watch::WatchSettings`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{ga_from, load_config, open_source, CommonArgs, SourceArgs};
use crate::error::{Error, Result};
use crate::watch::WatchSettings;

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  tars watch --ga-timestamp 2025-11-18T00:00:00Z \\\n    --prometheus-url http://prometheus:9090 --data-dir /data --listen 0.0.0.0:9464"
)]
pub struct WatchArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// GA instant, RFC 3339 (required).
    #[arg(long, env = "GA_TIMESTAMP")]
    pub ga_timestamp: Option<String>,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "TARS_LISTEN", default_value = "127.0.0.1:9464")]
    pub listen: String,
    /// Seconds between two passes (anomaly detection, then the stages due).
    #[arg(long, env = "TARS_WATCH_INTERVAL_SECS", default_value_t = 300)]
    pub interval_secs: u64,
    /// First retry delay of a failed stage, seconds; doubles on each failure.
    #[arg(long, default_value_t = 30)]
    pub retry_base_secs: u64,
    /// Longest retry delay, seconds.
    #[arg(long, default_value_t = 900)]
    pub retry_max_secs: u64,
    /// Post to Slack when a day turns poor, a rollback is newly recommended,
    /// and when the retrospective is written (once per change).
    #[arg(long)]
    pub notify_slack: bool,
    /// File holding the Slack webhook URL (else SLACK_WEBHOOK_URL).
    #[arg(long, value_name = "FILE")]
    pub slack_webhook_url_file: Option<PathBuf>,
    /// File one GitHub issue per action item of the retrospective in this
    /// repository (OWNER/NAME) once day 7 is done; open ones are not filed twice.
    #[arg(long, value_name = "OWNER/NAME")]
    pub notify_github: Option<String>,
    /// File holding the GitHub token (else GITHUB_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub github_token_file: Option<PathBuf>,
    /// GitHub REST API base (GitHub Enterprise: https://HOST/api/v3).
    #[arg(long, default_value = "https://api.github.com")]
    pub github_api_url: String,
    /// Lowest priority that gets an issue.
    #[arg(long, default_value = "P1", value_parser = ["P0", "P1", "P2", "P3"])]
    pub github_min_priority: String,
}

/// A secret that a flag made necessary.
fn needed_secret(
    file: Option<&std::path::Path>,
    env: &str,
    flag: &str,
    why: &str,
) -> Result<String> {
    crate::secret::load(file, env)
        .map_err(|e| Error::Usage(format!("{flag}: {e}")))?
        .ok_or_else(|| Error::Usage(format!("{why} needs {flag} or {env}")))
}

fn notify_settings(a: &WatchArgs) -> Result<crate::watch::changes::Notify> {
    let slack = a
        .notify_slack
        .then(|| {
            needed_secret(
                a.slack_webhook_url_file.as_deref(),
                "SLACK_WEBHOOK_URL",
                "--slack-webhook-url-file",
                "--notify-slack",
            )
        })
        .transpose()?;
    let github = match &a.notify_github {
        None => None,
        Some(repo) => {
            let valid = repo
                .split_once('/')
                .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'));
            if !valid {
                return Err(Error::Usage(format!(
                    "--notify-github: '{repo}' is not OWNER/NAME"
                )));
            }
            let token = needed_secret(
                a.github_token_file.as_deref(),
                "GITHUB_TOKEN",
                "--github-token-file",
                "--notify-github",
            )?;
            let min = a
                .github_min_priority
                .parse()
                .map_err(|e| Error::Usage(format!("--github-min-priority: {e}")))?;
            let target = crate::notify::GithubTarget {
                repo: repo.clone(),
                api_url: a.github_api_url.clone(),
                token,
                label: "tars".into(),
            };
            Some((target, min))
        }
    };
    Ok(crate::watch::changes::Notify { slack, github })
}

/// Resolves the flags and runs the watch until SIGTERM.
pub fn watch(a: WatchArgs) -> Result<()> {
    let cfg = load_config(a.common.config.as_deref())?;
    let ga = ga_from(a.ga_timestamp.as_deref())?;
    let listen: SocketAddr =
        a.listen.trim().parse().map_err(|e| {
            Error::Usage(format!("--listen '{}': {e} (expected HOST:PORT)", a.listen))
        })?;
    if a.interval_secs == 0 || a.retry_base_secs == 0 || a.retry_max_secs < a.retry_base_secs {
        return Err(Error::Usage(
            "--interval-secs and --retry-base-secs must be at least 1, and --retry-max-secs at least --retry-base-secs".into(),
        ));
    }
    let notify = notify_settings(&a)?;
    let source = open_source(&a.source, &cfg, ga)?;
    let settings = WatchSettings {
        ga,
        data_dir: PathBuf::from(&a.common.data_dir),
        listen,
        interval: Duration::from_secs(a.interval_secs),
        retry_base: Duration::from_secs(a.retry_base_secs),
        retry_max: Duration::from_secs(a.retry_max_secs),
        notify,
    };
    crate::watch::run(settings, source, cfg)
}

#[derive(Debug, Args)]
#[command(after_help = "Example (the image's HEALTHCHECK):\n  tars probe")]
pub struct ProbeArgs {
    /// URL to GET; default: /healthz of the watch at TARS_LISTEN.
    pub url: Option<String>,
    /// The watch's listen address, as given to `tars watch`.
    #[arg(long, env = "TARS_LISTEN", default_value = "127.0.0.1:9464")]
    pub listen: String,
}

/// Exits 0 when the URL answers 2xx within 5 s: a health check that needs
/// no curl in the image.
pub fn probe(a: ProbeArgs) -> Result<()> {
    let url = a.url.unwrap_or_else(|| {
        // A wildcard bind is reached on loopback.
        let l = a.listen.trim().replacen("0.0.0.0", "127.0.0.1", 1);
        format!("http://{l}/healthz")
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the I/O runtime: {e}")))?;
    let status = rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        client.get(&url).send().await.map(|r| r.status())
    });
    match status {
        Ok(s) if s.is_success() => Ok(()),
        Ok(s) => Err(Error::Probe(format!("{url}: HTTP {s}"))),
        Err(e) => Err(Error::Probe(format!("{url}: {e}"))),
    }
}
