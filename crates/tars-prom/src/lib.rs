//! Reading KPIs from a Prometheus-compatible HTTP API (Prometheus,
//! VictoriaMetrics, Thanos, Mimir, ...), recording the raw answers and
//! replaying them later without a server.
//!
//! The KPI catalogue is configuration: every KPI is a PromQL template (see
//! [`KpiQueries`]) so that deployments with other metric names only need a
//! `[prometheus.queries]` section, not code.

mod body;
mod client;
mod fast;
#[cfg(feature = "backfill")]
pub mod gen;
mod parse;
mod source;
mod split;
mod stream;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use tars_core::model::Kpi;
use tars_core::source::{MetricsSource, SourceError};

pub use parse::{query_range_from_bytes, read_query_range_file, read_query_range_file_grouped};
pub use stream::{analyse_query_range_file, Analysed, Analysis};

/// `[prometheus]` section of `tars.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromConfig {
    /// Label whose value names a service; `{group}` in the templates.
    pub group_label: String,
    /// Extra label matchers ANDed into every selector, e.g.
    /// `env="prod", job=~"shop-.*"`; `{selector}` in the templates.
    pub selector: String,
    /// Points per series the server accepts in one `query_range` answer
    /// (Prometheus refuses more than 11,000); longer ranges are split.
    pub max_points_per_request: u32,
    /// Smallest step ever sent to the server, seconds.
    pub min_step_secs: u32,
    /// Per-request timeout, seconds (`--query-timeout-secs` overrides).
    pub query_timeout_secs: u64,
    /// Timeout of one whole `window_kpis`/`kpi_series` call, seconds
    /// (`--total-timeout-secs` overrides).
    pub total_timeout_secs: u64,
    /// Requests in flight at once (`--max-concurrency` overrides).
    pub max_concurrency: usize,
    /// Extra attempts after a 5xx, a 429 or a connection error (not TLS).
    pub retries: u32,
    /// First retry delay, milliseconds; doubled on every further retry.
    pub retry_backoff_ms: u64,
    /// Range substituted for `{range}` by `tars kpi check` probes, seconds.
    pub check_range_secs: u64,
    /// Largest answer accepted (after decompression), bytes; a bigger one is
    /// an error, not retried.
    pub max_response_bytes: u64,
    /// Longest wait a 429/503's `Retry-After` can ask for, seconds.
    pub max_retry_after_secs: u64,
    /// The KPI catalogue.
    pub queries: KpiQueries,
}

impl Default for PromConfig {
    fn default() -> Self {
        PromConfig {
            group_label: "service".into(),
            selector: String::new(),
            max_points_per_request: 11_000,
            min_step_secs: 60,
            query_timeout_secs: 30,
            total_timeout_secs: 300,
            max_concurrency: 4,
            retries: 3,
            retry_backoff_ms: 250,
            check_range_secs: 3600,
            max_response_bytes: 256 << 20,
            max_retry_after_secs: 30,
            queries: KpiQueries::default(),
        }
    }
}

/// PromQL templates, one per KPI plus restarts. Placeholders:
/// `{group}` is the group label (removed, with an adjacent comma, for the
/// fleet-wide query), `{selector}` the extra matchers (removed with an
/// adjacent comma, or with its braces when written `{{selector}}`, when
/// empty), `{range}` the window or step as a duration such as `86400s`.
/// Each template must yield one series per service with the KPI in its unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpiQueries {
    pub availability: String,
    pub error_rate: String,
    pub p50_latency_ms: String,
    pub p95_latency_ms: String,
    pub p99_latency_ms: String,
    pub throughput_rps: String,
    pub cpu_cores: String,
    pub memory_bytes: String,
    /// Process restarts in the window (optional: an empty answer only warns).
    pub restarts: String,
}

const ERRORS: &str =
    r#"sum by ({group}) (increase(http_requests_total{code=~"5..",{selector}}[{range}]))"#;
const REQUESTS: &str = r#"sum by ({group}) (increase(http_requests_total{{selector}}[{range}]))"#;

fn error_share() -> String {
    // A service that never failed has no 5xx series at all; `or 0 * ...`
    // turns that into 0 % instead of dropping the service.
    format!("(({ERRORS}) or (0 * {REQUESTS})) / {REQUESTS}")
}

fn latency(q: &str) -> String {
    format!(
        "1000 * histogram_quantile({q}, sum by ({{group}}, le) \
         (rate(http_request_duration_seconds_bucket{{{{selector}}}}[{{range}}])))"
    )
}

impl Default for KpiQueries {
    fn default() -> Self {
        KpiQueries {
            availability: format!("100 * (1 - {})", error_share()),
            error_rate: format!("100 * {}", error_share()),
            p50_latency_ms: latency("0.5"),
            p95_latency_ms: latency("0.95"),
            p99_latency_ms: latency("0.99"),
            throughput_rps: "sum by ({group}) (rate(http_requests_total{{selector}}[{range}]))"
                .into(),
            cpu_cores: "sum by ({group}) (rate(process_cpu_seconds_total{{selector}}[{range}]))"
                .into(),
            memory_bytes:
                "sum by ({group}) (avg_over_time(process_resident_memory_bytes{{selector}}[{range}]))"
                    .into(),
            restarts:
                "sum by ({group}) (changes(process_start_time_seconds{{selector}}[{range}]))"
                    .into(),
        }
    }
}

impl KpiQueries {
    pub fn template(&self, kpi: Kpi) -> &str {
        match kpi {
            Kpi::Availability => &self.availability,
            Kpi::ErrorRate => &self.error_rate,
            Kpi::P50LatencyMs => &self.p50_latency_ms,
            Kpi::P95LatencyMs => &self.p95_latency_ms,
            Kpi::P99LatencyMs => &self.p99_latency_ms,
            Kpi::ThroughputRps => &self.throughput_rps,
            Kpi::CpuCores => &self.cpu_cores,
            Kpi::MemoryBytes => &self.memory_bytes,
        }
    }
}

/// Removes `placeholder` together with one adjacent comma (and, for
/// `{selector}`, the braces of an otherwise empty matcher list).
fn remove_placeholder(text: &str, placeholder: &str) -> String {
    let braced = format!("{{{placeholder}}}");
    let mut t = text.replace(&braced, "");
    for pat in [
        format!(", {placeholder}"),
        format!(",{placeholder}"),
        format!("{placeholder}, "),
        format!("{placeholder},"),
    ] {
        t = t.replace(&pat, "");
    }
    t.replace(placeholder, "")
}

impl PromConfig {
    /// The query for `template`, per service (`by_group`) or fleet-wide.
    pub fn expand(&self, template: &str, by_group: bool, range_secs: u64) -> String {
        let mut q = template.replace("{range}", &format!("{range_secs}s"));
        let sel = self.selector.trim().trim_matches(',').trim();
        q = if sel.is_empty() {
            remove_placeholder(&q, "{selector}")
        } else {
            q.replace("{selector}", sel)
        };
        if by_group {
            q.replace("{group}", &self.group_label)
        } else {
            remove_placeholder(&q, "{group}")
        }
    }
}

/// How to reach the server, beyond its URL. Secrets come from files or the
/// environment only, never from a value visible in `ps`; the command line
/// fills this from its flags.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Credentials, already loaded by the caller (files and environment are
    /// read at the edge, once).
    pub auth: Auth,
    /// PEM bundle of extra CA certificates to trust.
    pub ca_file: Option<PathBuf>,
    /// Extra request headers, `NAME: VALUE`.
    pub headers: Vec<String>,
    /// Save every query and its raw response under this directory.
    pub record: Option<PathBuf>,
}

/// How requests authenticate. `Debug` never shows the secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Bearer(String),
    Basic {
        user: String,
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

/// Overrides of `[prometheus]` given on the command line or in the environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    pub query_timeout_secs: Option<u64>,
    pub total_timeout_secs: Option<u64>,
    pub max_concurrency: Option<usize>,
}

/// The file's `[prometheus]` settings with the overrides applied: resolved
/// once, by the caller, so that the client's timeout and the `timeout=` the
/// server is asked to honour can never disagree.
pub fn resolve(o: &Overrides, cfg: &PromConfig) -> PromConfig {
    let mut c = cfg.clone();
    if let Some(t) = o.query_timeout_secs {
        c.query_timeout_secs = t;
    }
    if let Some(t) = o.total_timeout_secs {
        c.total_timeout_secs = t;
    }
    if let Some(n) = o.max_concurrency {
        c.max_concurrency = n;
    }
    c
}

/// A source reading from the server at `url` (records when `conn.record` is set).
pub fn connect(
    url: &str,
    conn: &Connection,
    cfg: &PromConfig,
) -> Result<Box<dyn MetricsSource>, SourceError> {
    let transport = client::Transport::live(url, conn, cfg)?;
    Ok(Box::new(source::PromSource::new(transport, cfg)?))
}

/// A source answering from responses recorded with `--record DIR`.
pub fn replay(dir: &Path, cfg: &PromConfig) -> Result<Box<dyn MetricsSource>, SourceError> {
    let transport = client::Transport::replay(dir)?;
    Ok(Box::new(source::PromSource::new(transport, cfg)?))
}

/// Validates every KPI template (PromQL syntax, then a probe query at the
/// server's current time) and returns a table saying whether data exists.
/// A template with a syntax error is an error; a KPI without data is not
/// (the table says so and the last line counts them).
pub fn kpi_check(url: &str, conn: &Connection, cfg: &PromConfig) -> Result<String, SourceError> {
    let transport = client::Transport::live(url, conn, cfg)?;
    let src = source::PromSource::new(transport, cfg)?;
    src.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_expand_and_vanish() {
        let mut cfg = PromConfig::default();
        let q = cfg.expand(&cfg.queries.p99_latency_ms, true, 86_400);
        assert_eq!(
            q,
            "1000 * histogram_quantile(0.99, sum by (service, le) \
             (rate(http_request_duration_seconds_bucket[86400s])))"
        );
        let q = cfg.expand(&cfg.queries.p99_latency_ms, false, 900);
        assert!(q.contains("sum by (le)"), "{q}");
        let q = cfg.expand(&cfg.queries.error_rate, false, 60);
        assert!(
            q.contains(r#"http_requests_total{code=~"5.."}[60s]"#),
            "{q}"
        );
        assert!(q.contains("sum by () ("), "{q}");
        cfg.selector = r#"env="prod""#.into();
        let q = cfg.expand(&cfg.queries.error_rate, true, 60);
        assert!(
            q.contains(r#"http_requests_total{code=~"5..",env="prod"}[60s]"#),
            "{q}"
        );
        assert!(q.contains(r#"http_requests_total{env="prod"}[60s]"#), "{q}");
        for kpi in Kpi::ALL {
            for by in [true, false] {
                let q = cfg.expand(cfg.queries.template(kpi), by, 60);
                promql_parser::parser::parse(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
            }
        }
    }

    #[test]
    fn config_rejects_unknown_keys() {
        let r: Result<PromConfig, _> = toml::from_str("group_lable = \"x\"");
        assert!(r.is_err());
        let c: PromConfig = toml::from_str("[queries]\ncpu_cores = \"up\"").unwrap();
        assert_eq!(c.queries.cpu_cores, "up");
        assert_eq!(c.group_label, "service");
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::*;

    #[test]
    fn flags_override_the_file_once_for_client_and_server() {
        let file = PromConfig {
            query_timeout_secs: 30,
            total_timeout_secs: 300,
            max_concurrency: 4,
            ..PromConfig::default()
        };
        let flags = Overrides {
            query_timeout_secs: Some(7),
            max_concurrency: Some(2),
            ..Overrides::default()
        };
        let c = resolve(&flags, &file);
        assert_eq!(c.query_timeout_secs, 7);
        assert_eq!(c.max_concurrency, 2);
        // Not given: the file's value stands.
        assert_eq!(c.total_timeout_secs, 300);
        assert_eq!(resolve(&Overrides::default(), &file), file);
    }
}
