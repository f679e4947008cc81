//! What an artifact read back must mean, beyond parsing: its `kind`, its day,
//! numbers that are finite and in range, sane times, and whether it fits the
//! baseline and the week it is read with. Also the checks of the thresholds
//! and prices a configuration sets.
//!
//! Pure rules over the typed artifacts: each returns the first [`Violation`]
//! it finds, naming the field path (`services[2].kpis.p99_latency_ms`) and
//! the rule. The reading edge (the `tars` crate's `io` and `pipeline`) adds
//! the file and turns it into one line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::baseline::{GaKpiSummary, WindowSummary};
use crate::drift::StabilitySummary;
use crate::events::{AnomalyEvent, AnomalyRun};
use crate::health::HealthReport;
use crate::model::{ArtifactMeta, Kpi, Window, OVERALL};
use crate::regression::RegressionSummary;
use crate::retro::Retrospective;
use crate::thresholds::{Pricing, Thresholds};

/// One broken rule: the field it is about and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field in the artifact, e.g. `services[2].kpis.p99_latency_ms`.
    pub field: String,
    /// What is wrong, with the value found and the rule, e.g. `1e308 is out of range ...`.
    pub rule: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Violation {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.rule)
    }
}

impl std::error::Error for Violation {}

/// The outcome of a rule.
pub type Checked = Result<(), Violation>;

/// The `kind` each artifact carries.
pub mod kind {
    pub const GA: &str = "ga_kpi_summary";
    pub const STABILITY: &str = "stability_summary";
    pub const HEALTH: &str = "health_report";
    pub const REGRESSION: &str = "regression_summary";
    pub const RETRO: &str = "retrospective";
    pub const ANOMALY_RUN: &str = "anomaly_run";

    /// What a kind is called in a message, and which command writes it.
    pub fn describe(kind: &str) -> Option<&'static str> {
        Some(match kind {
            GA => "a GA KPI summary, written by tars ga-kpi",
            STABILITY => "a day's stability summary, written by tars stability-monitor",
            HEALTH => "a health report, written by tars health-report",
            REGRESSION => "a regression summary, written by tars regression-analyzer",
            RETRO => "a retrospective, written by tars retro",
            ANOMALY_RUN => "an anomaly run record, written by tars anomaly-detector",
            _ => return None,
        })
    }
}

/// An artifact whose meaning can be checked once it has parsed.
pub trait Artifact {
    /// The `kind` it must carry.
    const KIND: &'static str;
    /// Every rule that needs nothing but the artifact and the time now.
    fn check(&self, now: DateTime<Utc>) -> Checked;
}

/// `kind` is the one expected.
pub fn check_kind(found: &str, expected: &str) -> Checked {
    if found == expected {
        return Ok(());
    }
    let what = match kind::describe(found) {
        Some(d) => format!(" (this is {d})"),
        None => String::new(),
    };
    Err(Violation::new(
        "kind",
        format!("is {found:?}, expected {expected:?}{what}"),
    ))
}

/// Earliest instant an artifact may mention: nothing tars watched happened
/// before 2000.
pub fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or_default()
}

/// How far past now a time may lie: a day of clock skew between hosts.
pub fn future_slack() -> Duration {
    Duration::days(1)
}

/// `t` is after 2000 and at most a day after `now`.
pub fn check_time(field: &str, t: DateTime<Utc>, now: DateTime<Utc>) -> Checked {
    if t < earliest() {
        return Err(Violation::new(
            field,
            format!("{} is before 2000-01-01", t.to_rfc3339()),
        ));
    }
    if t > now + future_slack() {
        return Err(Violation::new(
            field,
            format!(
                "{} is in the future (now is {}; at most a day of clock skew is allowed)",
                t.to_rfc3339(),
                now.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

/// A window whose ends are sane and in order.
pub fn check_window(field: &str, w: &Window, now: DateTime<Utc>) -> Checked {
    check_time(&format!("{field}.start"), w.start, now)?;
    check_time(&format!("{field}.end"), w.end, now)?;
    if w.end < w.start {
        return Err(Violation::new(
            format!("{field}.end"),
            format!("{} is before the window's start {}", w.end, w.start),
        ));
    }
    Ok(())
}

/// The metadata block: kind, window and when it was written.
pub fn check_meta(meta: &ArtifactMeta, expected_kind: &str, now: DateTime<Utc>) -> Checked {
    check_kind(&meta.kind, expected_kind)?;
    check_window("window", &meta.window, now)?;
    check_time("generated_at", meta.generated_at, now)?;
    if meta.source.trim().is_empty() {
        return Err(Violation::new(
            "source",
            "is empty (expected where the metrics came from)",
        ));
    }
    Ok(())
}

/// The values a KPI can take, in its unit: percentages within 0-100, and
/// everything else at least 0 and below a bound no real fleet reaches (a
/// day in milliseconds, a billion requests a second, an exabyte).
pub fn kpi_range(kpi: Kpi) -> (f64, f64) {
    match kpi {
        Kpi::Availability | Kpi::ErrorRate => (0.0, 100.0),
        Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs => (0.0, 86_400_000.0),
        Kpi::ThroughputRps => (0.0, 1e9),
        Kpi::CpuCores => (0.0, 1e7),
        Kpi::MemoryBytes => (0.0, 1e18),
    }
}

/// Upper bound of an estimated daily cost, USD.
const MAX_COST_USD: f64 = 1e12;

/// `v` as a message shows it: `1e308` rather than 309 digits.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if a.is_finite() && a != 0.0 && !(1e-4..1e9).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `v` is finite and within `lo..=hi`.
pub fn check_range(field: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Checked {
    if !v.is_finite() {
        return Err(Violation::new(field, format!("{v} is not a finite number")));
    }
    if v < lo || v > hi {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        return Err(Violation::new(
            field,
            format!(
                "{} is out of range (must be {} to {}{unit})",
                num(v),
                num(lo),
                num(hi)
            ),
        ));
    }
    Ok(())
}

/// `v` is a finite number at least 0.
pub fn check_non_negative(field: &str, v: f64) -> Checked {
    check_finite(field, v)?;
    if v < 0.0 {
        return Err(Violation::new(
            field,
            format!("{} is negative (must be at least 0)", num(v)),
        ));
    }
    Ok(())
}

/// A value of `kpi`.
pub fn check_kpi(field: &str, kpi: Kpi, v: f64) -> Checked {
    let (lo, hi) = kpi_range(kpi);
    check_range(field, v, lo, hi, kpi.unit())
}

/// A finite number (ratios and slopes, which may be negative).
pub fn check_finite(field: &str, v: f64) -> Checked {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Violation::new(field, format!("{v} is not a finite number")))
    }
}

/// The KPI body of a baseline or a day: fleet values, each service's values
/// and samples, costs, and service names that are set and unique.
pub fn check_window_summary(s: &WindowSummary) -> Checked {
    for kpi in Kpi::ALL {
        check_kpi(kpi.name(), kpi, s.overall(kpi))?;
    }
    check_range(
        "cost_per_day_usd",
        s.cost_per_day_usd,
        0.0,
        MAX_COST_USD,
        "USD",
    )?;
    let mut seen = BTreeSet::new();
    for (i, svc) in s.services.iter().enumerate() {
        let at = format!("services[{i}]");
        if svc.service.trim().is_empty() || svc.service == OVERALL {
            return Err(Violation::new(
                format!("{at}.service"),
                format!("{:?} is not a service name", svc.service),
            ));
        }
        if !seen.insert(svc.service.as_str()) {
            return Err(Violation::new(
                format!("{at}.service"),
                format!("{:?} appears twice", svc.service),
            ));
        }
        for (kpi, v) in &svc.kpis {
            check_kpi(&format!("{at}.kpis.{kpi}"), *kpi, *v)?;
        }
        for (kpi, samples) in &svc.samples {
            for (j, v) in samples.iter().enumerate() {
                check_kpi(&format!("{at}.samples.{kpi}[{j}]"), *kpi, *v)?;
            }
        }
        let cost = format!("{at}.cost_per_day_usd");
        check_range(&cost, svc.cost_per_day_usd, 0.0, MAX_COST_USD, "USD")?;
    }
    Ok(())
}

impl Artifact for GaKpiSummary {
    const KIND: &'static str = kind::GA;

    fn check(&self, now: DateTime<Utc>) -> Checked {
        check_meta(&self.meta, Self::KIND, now)?;
        check_time("ga_timestamp", self.ga_timestamp, now)?;
        if self.meta.window.start != self.ga_timestamp {
            return Err(Violation::new(
                "window.start",
                format!(
                    "{} is not the GA instant {} (the baseline is GA day, day 0)",
                    self.meta.window.start, self.ga_timestamp
                ),
            ));
        }
        check_window_summary(&self.summary)
    }
}

/// A day number of the release week.
pub fn check_day_number(field: &str, day: u32) -> Checked {
    if (1..=7).contains(&day) {
        Ok(())
    } else {
        Err(Violation::new(
            field,
            format!("{day} is not a day of the release week (1-7)"),
        ))
    }
}

/// The artifact of `day` as its file name says: day `named`.
pub fn check_named_day(day: u32, named: u32) -> Checked {
    if day == named {
        Ok(())
    } else {
        Err(Violation::new(
            "day_number",
            format!("is {day} but the file is named for day {named}"),
        ))
    }
}

impl Artifact for StabilitySummary {
    const KIND: &'static str = kind::STABILITY;

    fn check(&self, now: DateTime<Utc>) -> Checked {
        check_meta(&self.meta, Self::KIND, now)?;
        check_day_number("day_number", self.day_number)?;
        check_time("ga_timestamp", self.ga_timestamp, now)?;
        check_window_summary(&self.summary)?;
        for (i, c) in self.metrics_comparison.iter().enumerate() {
            let at = format!("metrics_comparison[{i}]");
            check_kpi(&format!("{at}.baseline"), c.kpi, c.baseline)?;
            check_kpi(&format!("{at}.current"), c.kpi, c.current)?;
            check_finite(&format!("{at}.drift_percent"), c.drift_percent)?;
            check_finite(&format!("{at}.degradation_percent"), c.degradation_percent)?;
            if let Some(p) = c.p_value {
                check_range(&format!("{at}.p_value"), p, 0.0, 1.0, "")?;
            }
        }
        Ok(())
    }
}

impl Artifact for HealthReport {
    const KIND: &'static str = kind::HEALTH;

    fn check(&self, now: DateTime<Utc>) -> Checked {
        check_meta(&self.meta, Self::KIND, now)?;
        check_day_number("day_number", self.day_number)?;
        check_range("health_score", self.health_score, 0.0, 100.0, "points")?;
        for (i, d) in self.breakdown.iter().enumerate() {
            check_range(
                &format!("breakdown[{i}].points"),
                d.points,
                0.0,
                100.0,
                "points",
            )?;
        }
        Ok(())
    }
}

impl Artifact for RegressionSummary {
    const KIND: &'static str = kind::REGRESSION;

    fn check(&self, now: DateTime<Utc>) -> Checked {
        check_meta(&self.meta, Self::KIND, now)?;
        for (i, d) in self.days_analyzed.iter().enumerate() {
            if *d > 7 {
                return Err(Violation::new(
                    format!("days_analyzed[{i}]"),
                    format!("{d} is not a day of the release week (0-7)"),
                ));
            }
        }
        for (i, t) in self.trends.iter().enumerate() {
            for (j, v) in t.values.iter().enumerate() {
                check_kpi(&format!("trends[{i}].values[{j}]"), t.kpi, *v)?;
            }
            check_finite(&format!("trends[{i}].slope_per_day"), t.slope_per_day)?;
        }
        Ok(())
    }
}

impl Artifact for Retrospective {
    const KIND: &'static str = kind::RETRO;

    fn check(&self, now: DateTime<Utc>) -> Checked {
        check_meta(&self.meta, Self::KIND, now)?;
        check_time("ga_timestamp", self.ga_timestamp, now)
    }
}

impl Artifact for AnomalyRun {
    const KIND: &'static str = kind::ANOMALY_RUN;

    fn check(&self, now: DateTime<Utc>) -> Checked {
        check_meta(&self.meta, Self::KIND, now)
    }
}

/// One anomaly event: sane times in order, a finite value, a score in [0, 1].
pub fn check_event(at: &str, e: &AnomalyEvent, now: DateTime<Utc>) -> Checked {
    check_time(&format!("{at}.timestamp"), e.timestamp, now)?;
    check_window(
        at,
        &Window {
            start: e.start,
            end: e.end,
        },
        now,
    )?;
    check_finite(&format!("{at}.observed"), e.observed)?;
    check_range(&format!("{at}.score"), e.score, 0.0, 1.0, "")?;
    if e.service.trim().is_empty() {
        return Err(Violation::new(format!("{at}.service"), "is empty"));
    }
    Ok(())
}

/// Every event of an events file.
pub fn check_events(events: &[AnomalyEvent], now: DateTime<Utc>) -> Checked {
    for (i, e) in events.iter().enumerate() {
        check_event(&format!("[{i}]"), e, now)?;
    }
    Ok(())
}

/// `events` without repeats of one (service, KPI, timestamp): the first of
/// each is kept, in order. Returns how many were dropped.
pub fn dedup_events(events: &mut Vec<AnomalyEvent>) -> usize {
    let before = events.len();
    let mut seen = BTreeSet::new();
    events.retain(|e| seen.insert((e.service.clone(), e.kpi.clone(), e.timestamp)));
    before - events.len()
}

/// The services of a window and the KPIs any of them has.
fn shape(s: &WindowSummary) -> (BTreeSet<&str>, BTreeSet<Kpi>) {
    let services = s.services.iter().map(|s| s.service.as_str()).collect();
    let kpis = s
        .services
        .iter()
        .flat_map(|s| s.kpis.keys().copied())
        .collect();
    (services, kpis)
}

fn list<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A day has the baseline's services and KPIs: a renamed service label or a
/// changed KPI catalogue makes the comparison meaningless.
pub fn check_same_shape(day: &WindowSummary, baseline: &WindowSummary) -> Checked {
    let (day_svc, day_kpi) = shape(day);
    let (ga_svc, ga_kpi) = shape(baseline);
    if day_svc != ga_svc {
        let missing = list(ga_svc.difference(&day_svc));
        let extra = list(day_svc.difference(&ga_svc));
        return Err(Violation::new(
            "services",
            format!(
                "do not match the baseline's: missing [{missing}], not in the baseline [{extra}] (a renamed service label? re-run tars ga-kpi if the services changed)"
            ),
        ));
    }
    if day_kpi != ga_kpi {
        let missing = list(ga_kpi.difference(&day_kpi));
        let extra = list(day_kpi.difference(&ga_kpi));
        return Err(Violation::new(
            "services[].kpis",
            format!(
                "KPIs do not match the baseline's: missing [{missing}], not in the baseline [{extra}] (was the KPI catalogue changed?)"
            ),
        ));
    }
    Ok(())
}

/// What is wrong with a week's set of day files: each entry is the day its
/// file name says and the day its content says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeekGaps {
    /// Days 1-7 with no file.
    pub missing: Vec<u32>,
    /// Days with more than one file (`day_03_...` and `day_3_...`).
    pub duplicated: Vec<u32>,
}

/// The missing and duplicated days among `named` (the day each file is
/// named for).
pub fn week_gaps(named: &[u32]) -> WeekGaps {
    let mut count: BTreeMap<u32, usize> = BTreeMap::new();
    for d in named {
        *count.entry(*d).or_default() += 1;
    }
    WeekGaps {
        missing: (1..=7).filter(|d| !count.contains_key(d)).collect(),
        duplicated: count
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(d, _)| d)
            .collect(),
    }
}

/// The rules of the thresholds a configuration sets: every one a finite
/// number at least 0, levels and probabilities in their ranges.
pub fn check_thresholds(t: &Thresholds) -> Checked {
    let non_negative = [
        ("drift_low_pct", t.drift_low_pct),
        ("drift_medium_pct", t.drift_medium_pct),
        ("drift_high_pct", t.drift_high_pct),
        ("drift_critical_pct", t.drift_critical_pct),
        ("min_requests", t.min_requests),
        ("memory_limit_bytes", t.memory_limit_bytes),
    ];
    for (name, v) in non_negative {
        check_non_negative(&format!("thresholds.{name}"), v)?;
    }
    let percent = [
        ("availability_rollback_pct", t.availability_rollback_pct),
        ("error_rate_high_pct", t.error_rate_high_pct),
        ("error_rate_critical_pct", t.error_rate_critical_pct),
        ("health_excellent", t.health_excellent),
        ("health_good", t.health_good),
        ("health_fair", t.health_fair),
        ("health_rollback", t.health_rollback),
    ];
    for (name, v) in percent {
        check_range(&format!("thresholds.{name}"), v, 0.0, 100.0, "")?;
    }
    for (name, v) in [
        ("significance_alpha", t.significance_alpha),
        ("confidence", t.confidence),
    ] {
        if !(v > 0.0 && v < 1.0) {
            return Err(Violation::new(
                format!("thresholds.{name}"),
                format!("{v} must be between 0 and 1 (exclusive)"),
            ));
        }
    }
    Ok(())
}

/// Prices: finite and at least 0.
pub fn check_pricing(p: &Pricing) -> Checked {
    for (name, v) in [
        ("cpu_core_hour_usd", p.cpu_core_hour_usd),
        ("memory_gib_hour_usd", p.memory_gib_hour_usd),
        ("million_requests_usd", p.million_requests_usd),
    ] {
        check_non_negative(&format!("pricing.{name}"), v)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
