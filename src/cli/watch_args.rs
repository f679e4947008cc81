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
    let slack = if a.notify_slack {
        let url = crate::secret::load(a.slack_webhook_url_file.as_deref(), "SLACK_WEBHOOK_URL")
            .map_err(|e| Error::Usage(format!("--slack-webhook-url-file: {e}")))?
            .ok_or_else(|| {
                Error::Usage(
                    "--notify-slack needs --slack-webhook-url-file or SLACK_WEBHOOK_URL".into(),
                )
            })?;
        Some(crate::watch::changes::Slack { webhook: url })
    } else {
        None
    };
    let source = open_source(&a.source, &cfg, ga)?;
    let settings = WatchSettings {
        ga,
        data_dir: PathBuf::from(&a.common.data_dir),
        listen,
        interval: Duration::from_secs(a.interval_secs),
        retry_base: Duration::from_secs(a.retry_base_secs),
        retry_max: Duration::from_secs(a.retry_max_secs),
        slack,
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
