//! Shared vocabulary: KPIs, their units and bad directions, time windows and
//! the metadata every artifact carries.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of every artifact's JSON layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 2;

/// The tool version written into artifacts.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Name used for the fleet-wide aggregate in per-service tables.
pub const OVERALL: &str = "overall";

/// A key performance indicator tracked per service and overall.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    /// Share of requests not answered with a 5xx, in percent.
    Availability,
    /// Share of requests answered with a 5xx, in percent.
    ErrorRate,
    /// Median request latency, milliseconds.
    P50LatencyMs,
    /// 95th percentile request latency, milliseconds.
    P95LatencyMs,
    /// 99th percentile request latency, milliseconds.
    P99LatencyMs,
    /// Requests per second.
    ThroughputRps,
    /// CPU used, in cores.
    CpuCores,
    /// Resident memory, bytes.
    MemoryBytes,
}

/// Which way a KPI moves when things get worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BadDirection {
    Increase,
    Decrease,
}

impl Kpi {
    /// Every KPI, in report order.
    pub const ALL: [Kpi; 8] = [
        Kpi::Availability,
        Kpi::ErrorRate,
        Kpi::P50LatencyMs,
        Kpi::P95LatencyMs,
        Kpi::P99LatencyMs,
        Kpi::ThroughputRps,
        Kpi::CpuCores,
        Kpi::MemoryBytes,
    ];

    /// The snake_case name used in JSON and flags.
    pub fn name(self) -> &'static str {
        match self {
            Kpi::Availability => "availability",
            Kpi::ErrorRate => "error_rate",
            Kpi::P50LatencyMs => "p50_latency_ms",
            Kpi::P95LatencyMs => "p95_latency_ms",
            Kpi::P99LatencyMs => "p99_latency_ms",
            Kpi::ThroughputRps => "throughput_rps",
            Kpi::CpuCores => "cpu_cores",
            Kpi::MemoryBytes => "memory_bytes",
        }
    }

    /// Parses the snake_case name.
    pub fn from_name(name: &str) -> Option<Kpi> {
        Kpi::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Unit shown in reports.
    pub fn unit(self) -> &'static str {
        match self {
            Kpi::Availability | Kpi::ErrorRate => "%",
            Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs => "ms",
            Kpi::ThroughputRps => "req/s",
            Kpi::CpuCores => "cores",
            Kpi::MemoryBytes => "bytes",
        }
    }

    /// The direction in which a change is a degradation.
    pub fn bad_direction(self) -> BadDirection {
        match self {
            // Lost traffic after a release usually means clients fail before
            // reaching us, so a drop is the worrying direction.
            Kpi::Availability | Kpi::ThroughputRps => BadDirection::Decrease,
            _ => BadDirection::Increase,
        }
    }

    /// True for KPIs that an SLO is defined on (drift there is more serious).
    pub fn is_slo(self) -> bool {
        matches!(self, Kpi::Availability | Kpi::ErrorRate | Kpi::P99LatencyMs)
    }

    /// True for KPIs measured from requests (meaningless without traffic).
    pub fn needs_traffic(self) -> bool {
        !matches!(self, Kpi::CpuCores | Kpi::MemoryBytes)
    }

    /// Formats a value of this KPI for humans.
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return "n/a".to_string();
        }
        match self {
            Kpi::Availability => format!("{v:.3} %"),
            Kpi::ErrorRate => format!("{v:.3} %"),
            Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs => format!("{v:.1} ms"),
            Kpi::ThroughputRps => format!("{v:.1} req/s"),
            Kpi::CpuCores => format!("{v:.2} cores"),
            Kpi::MemoryBytes => format!("{:.0} MiB", v / (1024.0 * 1024.0)),
        }
    }
}

impl fmt::Display for Kpi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// KPI values of one service (or the fleet) over one window.
pub type KpiValues = BTreeMap<Kpi, f64>;

/// KPI sample vectors (e.g. 15-minute aggregates) of one service over a window.
pub type KpiSamples = BTreeMap<Kpi, Vec<f64>>;

/// The name an enum value is written under in JSON (its serde name), for
/// text: one derive names every enum, so text and JSON cannot disagree.
pub fn serde_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A half-open time window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    /// Start (inclusive).
    pub start: DateTime<Utc>,
    /// End (exclusive).
    pub end: DateTime<Utc>,
}

impl Window {
    /// Day `n` of the release: the 24 h starting at GA + n days.
    pub fn day(ga: DateTime<Utc>, n: u32) -> Window {
        let start = ga + Duration::days(i64::from(n));
        Window {
            start,
            end: start + Duration::days(1),
        }
    }

    pub fn start_secs(&self) -> i64 {
        self.start.timestamp()
    }

    pub fn end_secs(&self) -> i64 {
        self.end.timestamp()
    }

    pub fn duration_secs(&self) -> i64 {
        self.end_secs() - self.start_secs()
    }
}

/// A KPI time series of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    /// `(unix seconds, value)`, ascending; NaN marks a missing point.
    pub points: Vec<(i64, f64)>,
}

/// Metadata block at the top of every artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ArtifactMeta {
    /// Layout version of this artifact (see [`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Version of tars that wrote it.
    pub tool_version: String,
    /// What kind of artifact this is (e.g. `ga_kpi_summary`).
    pub kind: String,
    /// When it was computed (UTC). Fixed to the window end for simulated and
    /// replayed data so that reruns are byte-identical.
    pub generated_at: DateTime<Utc>,
    /// The metrics source (`prometheus:URL`, `sim:SCENARIO:SEED`, `file:DIR`) or `artifacts`.
    pub source: String,
    /// Files this artifact was computed from.
    pub inputs: Vec<String>,
    /// The time window the numbers describe.
    pub window: Window,
    /// True when the window had not ended when the artifact was computed
    /// (`--allow-partial`): `window.end` is then the time of the run, and the
    /// numbers cover only that part of the day.
    #[serde(default)]
    pub partial: bool,
}

impl ArtifactMeta {
    pub fn new(
        kind: &str,
        source: &str,
        inputs: Vec<String>,
        window: Window,
        now: DateTime<Utc>,
    ) -> Self {
        ArtifactMeta {
            schema_version: SCHEMA_VERSION,
            tool_version: TOOL_VERSION.to_string(),
            kind: kind.to_string(),
            generated_at: now,
            source: source.to_string(),
            inputs,
            window,
            partial: false,
        }
    }
}

/// `{"recommended": bool, "reasons": [...]}` wherever a rollback verdict appears.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RollbackRecommendation {
    /// True when at least one rollback rule fired.
    pub recommended: bool,
    /// One sentence per rule that fired, with the numbers that made it fire.
    pub reasons: Vec<String>,
}

/// How soon an action is due: P0 (now) .. P3 (when convenient).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Priority {
    P0,
    P1,
    P2,
    P3,
}

impl Priority {
    /// The priority of a finding of severity `s`: critical is P0, low P3.
    pub fn of(s: Severity) -> Priority {
        match s {
            Severity::Critical => Priority::P0,
            Severity::High => Priority::P1,
            Severity::Medium => Priority::P2,
            Severity::Low => Priority::P3,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_name(self))
    }
}

impl std::str::FromStr for Priority {
    type Err = String;
    /// `P0`..`P3`, case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(s.trim().to_uppercase()))
            .map_err(|_| format!("'{s}' is not P0, P1, P2 or P3"))
    }
}

impl RollbackRecommendation {
    /// The recommendation of the rules that fired, one sentence each.
    pub fn from_facts(fired: &[crate::facts::Fact], words: &dyn crate::facts::Words) -> Self {
        RollbackRecommendation {
            recommended: !fired.is_empty(),
            reasons: fired.iter().map(|f| words.word(f)).collect(),
        }
    }
}

pub use tars_detector::Severity;
