//! Daily stability vs the GA baseline (`tars stability-monitor`).
//!
//! A KPI drifts only when the change is both *significant* (Mann-Whitney U on
//! the two days' 15-minute samples, autocorrelation-corrected) and *large*
//! (relative degradation at or above `drift_low_pct`, and above a small
//! absolute floor). Absolute SLO breaches are reported whatever the test says.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::baseline::{GaKpiSummary, ServiceKpis, WindowSummary};
use crate::model::{ArtifactMeta, BadDirection, Kpi, RollbackRecommendation, Severity, OVERALL};
use crate::slo::{self, Objective, PostureEntry, ServiceSlo, SloConfig};
use crate::stats;
use crate::thresholds::Thresholds;

/// Verdict of one KPI comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    /// No significant degradation.
    Ok,
    /// Significantly better than at GA.
    Improved,
    /// Significant and large degradation.
    Drift,
    /// Crossed a runbook limit (error rate, availability rollback limit)
    /// that it was within at GA, without a significant drift.
    SloBreach,
    /// At or past its objective or a runbook limit at GA already, and still:
    /// the service's standing condition, reported in `slo_posture`, not scored.
    PreExisting,
    /// Too little traffic or too few samples to judge.
    InsufficientData,
}

/// One KPI of one service (or `overall`) compared with the GA baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricComparison {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    /// The KPI.
    pub kpi: Kpi,
    /// Unit of the KPI values.
    pub unit: String,
    /// Which way is worse for this KPI.
    pub bad_direction: BadDirection,
    /// Value on GA day.
    pub baseline: f64,
    /// Value on this day.
    pub current: f64,
    /// Signed relative change `(current - baseline) / baseline`, percent.
    pub drift_percent: f64,
    /// Change in the bad direction, percent (negative = better).
    pub degradation_percent: f64,
    /// Two-sided Mann-Whitney p-value on 15-minute samples (absent for `overall`).
    pub p_value: Option<f64>,
    /// Hodges-Lehmann shift of the samples, in the KPI's unit.
    pub shift: Option<f64>,
    /// Confidence interval of the shift (level `confidence`).
    pub shift_ci: Option<[f64; 2]>,
    /// Degradation of the day's last 6 hours (median) vs the baseline median, percent.
    pub late_degradation_percent: Option<f64>,
    pub status: DriftStatus,
    /// Present when `status` is `drift` or `slo_breach`.
    pub severity: Option<Severity>,
    /// One sentence with the numbers behind the verdict.
    pub explanation: String,
}

/// Summary of the day's comparisons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DriftAnalysis {
    /// Per-service KPI comparisons made.
    pub total_metrics: usize,
    /// Comparisons with status `drift`.
    pub drifted_metrics: usize,
    /// Comparisons with status `insufficient_data`.
    pub insufficient_data_metrics: usize,
    /// Drifts and breaches per severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// The worst finding, in one sentence.
    pub worst: Option<String>,
    /// Likely causes inferred from which KPIs moved together.
    pub potential_causes: Vec<String>,
}

/// `stability/day_NN_summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StabilitySummary {
    #[serde(flatten)]
    pub meta: ArtifactMeta,
    /// Release day, 1-7 (day N is the 24 h from GA + N days).
    pub day_number: u32,
    pub ga_timestamp: DateTime<Utc>,
    #[serde(flatten)]
    pub summary: WindowSummary,
    pub metrics_comparison: Vec<MetricComparison>,
    pub drift_analysis: DriftAnalysis,
    /// Per-service SLO and error-budget status.
    pub slo: Vec<ServiceSlo>,
    /// Pre-existing conditions: SLIs at or past their objective since GA day
    /// and not made worse by the release (reported, never scored).
    #[serde(default)]
    pub slo_posture: Vec<PostureEntry>,
    pub rollback_recommendation: RollbackRecommendation,
}

/// Smallest absolute change worth reporting, so that a 10 % change of a tiny
/// number (0.2 ms, 3 MiB) is not called drift.
fn abs_floor(kpi: Kpi) -> f64 {
    match kpi {
        Kpi::Availability => 0.01,
        Kpi::ErrorRate => 0.005,
        Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs => 2.0,
        Kpi::ThroughputRps => 1.0,
        Kpi::CpuCores => 0.05,
        Kpi::MemoryBytes => 32.0 * 1024.0 * 1024.0,
    }
}

/// Signed relative change in percent, defined for a zero baseline.
pub fn relative_change(baseline: f64, current: f64) -> f64 {
    if baseline.abs() < 1e-12 {
        if current.abs() < 1e-12 {
            0.0
        } else {
            100.0 * current.signum()
        }
    } else {
        100.0 * (current - baseline) / baseline.abs()
    }
}

/// Degradation in percent: positive when `current` is worse than `baseline`.
pub fn degradation(kpi: Kpi, baseline: f64, current: f64) -> f64 {
    let d = relative_change(baseline, current);
    match kpi.bad_direction() {
        BadDirection::Increase => d,
        BadDirection::Decrease => -d,
    }
}

/// Severity of a relative degradation; SLO KPIs escalate one step earlier.
pub fn severity_for(kpi: Kpi, degradation_pct: f64, t: &Thresholds) -> Option<Severity> {
    let d = degradation_pct;
    if kpi.is_slo() {
        if d >= t.drift_critical_pct {
            Some(Severity::Critical)
        } else if d >= t.drift_high_pct {
            Some(Severity::High)
        } else if d >= t.drift_medium_pct {
            Some(Severity::Medium)
        } else if d >= t.drift_low_pct {
            Some(Severity::Low)
        } else {
            None
        }
    } else if d >= t.drift_critical_pct {
        Some(Severity::High)
    } else if d >= t.drift_high_pct {
        Some(Severity::Medium)
    } else if d >= t.drift_low_pct {
        Some(Severity::Low)
    } else {
        None
    }
}

/// A runbook limit that a KPI value is past, with its severity: the error
/// rate's high and rollback limits, and availability's rollback limit.
/// (The availability and latency objectives are judged by budget burn in
/// [`crate::slo`], not by one daily figure.)
fn past_limit(kpi: Kpi, v: f64, t: &Thresholds) -> Option<(Severity, f64)> {
    match kpi {
        Kpi::ErrorRate if v >= t.error_rate_critical_pct => {
            Some((Severity::Critical, t.error_rate_critical_pct))
        }
        Kpi::ErrorRate if v >= t.error_rate_high_pct => {
            Some((Severity::High, t.error_rate_high_pct))
        }
        Kpi::Availability if v < t.availability_rollback_pct => {
            Some((Severity::Critical, t.availability_rollback_pct))
        }
        _ => None,
    }
}

/// Severity implied by a runbook limit the day crossed, when GA was not
/// already past the same limit (then it is the service's standing condition).
fn absolute_severity(
    kpi: Kpi,
    baseline: f64,
    current: f64,
    t: &Thresholds,
) -> Option<(Severity, String)> {
    let (sev, limit) = past_limit(kpi, current, t)?;
    if past_limit(kpi, baseline, t).is_some_and(|(s, _)| s >= sev) {
        return None;
    }
    let what = match kpi {
        Kpi::Availability => {
            format!("availability {current:.3} % is under the {limit:.0} % rollback limit")
        }
        _ if sev == Severity::Critical => {
            format!("error rate {current:.2} % is at or above the {limit:.0} % rollback limit")
        }
        _ => format!("error rate {current:.2} % is at or above {limit:.0} %"),
    };
    Some((
        sev,
        format!("{what} (it was {} at GA)", kpi.format(baseline)),
    ))
}

/// The error rate's relative change read against the error budget: a day
/// whose extra errors add less than half the budget's pace is within the
/// day-to-day wander of a service at its objective (20-30 % is common), so it
/// stays low; less than the full pace, at most medium.
fn error_rate_cap(sev: Severity, baseline: f64, current: f64, o: &Objective) -> Severity {
    let budget = 100.0 * o.error_budget();
    let excess_burn = (current - baseline) / budget;
    if excess_burn < 0.5 {
        sev.min(Severity::Low)
    } else if excess_burn < 1.0 {
        sev.min(Severity::Medium)
    } else {
        sev
    }
}

/// True when the KPI already stood at or past its objective or a runbook
/// limit on GA day and still does: the fleet's standing condition.
fn pre_existing(kpi: Kpi, b: f64, c: f64, o: &Objective, t: &Thresholds) -> bool {
    let past = |v: f64| match kpi {
        Kpi::Availability => v <= o.availability_pct,
        Kpi::ErrorRate => v >= 100.0 - o.availability_pct || past_limit(kpi, v, t).is_some(),
        Kpi::P99LatencyMs => o.latency_percentile == 99.0 && v >= o.latency_ms,
        Kpi::P95LatencyMs => o.latency_percentile == 95.0 && v >= o.latency_ms,
        _ => false,
    };
    past(b) && past(c)
}

fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}

/// The test's numbers in words: shift, its interval and the p-value.
fn test_text(cmp: &MetricComparison) -> String {
    match (cmp.p_value, cmp.shift, cmp.shift_ci) {
        (Some(p), Some(s), Some([lo, hi])) => format!(
            "shift {s:+.3} {} [{lo:+.3}, {hi:+.3}], {}",
            cmp.kpi.unit(),
            fmt_p(p)
        ),
        _ => "no test".to_string(),
    }
}

/// Compares one KPI of one service.
pub fn compare_kpi(
    service: &str,
    kpi: Kpi,
    base: &ServiceKpis,
    cur: &ServiceKpis,
    o: &Objective,
    t: &Thresholds,
) -> Option<MetricComparison> {
    let b = *base.kpis.get(&kpi)?;
    let c = *cur.kpis.get(&kpi)?;
    let bs = base.samples.get(&kpi).map(Vec::as_slice).unwrap_or(&[]);
    let cs = cur.samples.get(&kpi).map(Vec::as_slice).unwrap_or(&[]);
    let requests = cur.kpis.get(&Kpi::ThroughputRps).copied().unwrap_or(0.0) * 86_400.0;
    let drift_percent = relative_change(b, c);
    let deg = degradation(kpi, b, c);
    let mut cmp = MetricComparison {
        service: service.to_string(),
        kpi,
        unit: kpi.unit().to_string(),
        bad_direction: kpi.bad_direction(),
        baseline: b,
        current: c,
        drift_percent,
        degradation_percent: deg,
        p_value: None,
        shift: None,
        shift_ci: None,
        late_degradation_percent: None,
        status: DriftStatus::Ok,
        severity: None,
        explanation: String::new(),
    };
    let what = format!(
        "{service} {kpi}: {} vs {} at GA ({drift_percent:+.1} %)",
        kpi.format(c),
        kpi.format(b)
    );
    if (kpi.needs_traffic() && requests < t.min_requests) || bs.len() < 8 || cs.len() < 8 {
        cmp.status = DriftStatus::InsufficientData;
        cmp.explanation = format!(
            "{what}; insufficient data to judge ({:.0} requests, {} baseline and {} current samples).",
            requests,
            bs.len(),
            cs.len()
        );
        return Some(cmp);
    }
    let test = stats::mann_whitney(bs, cs, t.confidence);
    if let Some(test) = test {
        cmp.p_value = Some(test.p_value);
        cmp.shift = Some(test.shift);
        cmp.shift_ci = Some([test.ci_low, test.ci_high]);
    }
    let late_n = (cs.len() / 4).max(1);
    let late = stats::median(&cs[cs.len() - late_n..]);
    let late_deg = degradation(kpi, stats::median(bs), late);
    if late_deg.is_finite() {
        cmp.late_degradation_percent = Some(late_deg);
    }
    let significant = test.is_some_and(|x| x.p_value < t.significance_alpha);
    let big_enough = (c - b).abs() >= abs_floor(kpi);
    let mut severity = None;
    let mut why = String::new();
    if significant && big_enough {
        if let Some(sev) = severity_for(kpi, deg, t) {
            let sev = if kpi == Kpi::ErrorRate {
                error_rate_cap(sev, b, c, o)
            } else {
                sev
            };
            // Availability is judged by its SLO, error rate carries the relative signal.
            if kpi != Kpi::Availability {
                severity = Some(sev);
                why = format!("{sev} drift");
            }
        } else if deg <= -t.drift_low_pct {
            cmp.status = DriftStatus::Improved;
        }
    }
    if let Some((abs_sev, reason)) = absolute_severity(kpi, b, c, t) {
        if severity.is_none_or(|s| abs_sev > s) {
            severity = Some(abs_sev);
            why = reason;
        }
    }
    let stat = test_text(&cmp);
    if let Some(sev) = severity {
        cmp.severity = Some(sev);
        cmp.status = if significant && deg > 0.0 {
            DriftStatus::Drift
        } else {
            DriftStatus::SloBreach
        };
        cmp.explanation = format!("{what}, {stat}: {why}.");
    } else {
        if cmp.status == DriftStatus::Ok && pre_existing(kpi, b, c, o, t) {
            cmp.status = DriftStatus::PreExisting;
        }
        let verdict = if cmp.status == DriftStatus::Improved {
            "significantly better"
        } else if cmp.status == DriftStatus::PreExisting {
            "at or past its objective at GA already and not worse by the drift threshold: a standing condition, not the release"
        } else if !significant {
            "not significant"
        } else {
            "significant but below the drift threshold"
        };
        cmp.explanation = format!("{what}, {stat}: {verdict}.");
    }
    Some(cmp)
}

/// Fleet-wide comparison: informative only (no samples, so no test);
/// degradations are attributed to services.
fn compare_overall(kpi: Kpi, base: &WindowSummary, cur: &WindowSummary) -> MetricComparison {
    let (b, c) = (base.overall(kpi), cur.overall(kpi));
    let d = relative_change(b, c);
    MetricComparison {
        service: OVERALL.to_string(),
        kpi,
        unit: kpi.unit().to_string(),
        bad_direction: kpi.bad_direction(),
        baseline: b,
        current: c,
        drift_percent: d,
        degradation_percent: degradation(kpi, b, c),
        p_value: None,
        shift: None,
        shift_ci: None,
        late_degradation_percent: None,
        status: DriftStatus::Ok,
        severity: None,
        explanation: format!(
            "fleet {kpi}: {} vs {} at GA ({d:+.1} %); see the per-service rows for significance.",
            kpi.format(c),
            kpi.format(b)
        ),
    }
}

/// Compares every KPI of every service of `cur` with `base`.
pub fn compare(
    base: &WindowSummary,
    cur: &WindowSummary,
    slo: &SloConfig,
    t: &Thresholds,
) -> Vec<MetricComparison> {
    let mut out: Vec<MetricComparison> = Kpi::ALL
        .iter()
        .map(|&k| compare_overall(k, base, cur))
        .collect();
    for s in &cur.services {
        let Some(b) = base.service(&s.service) else {
            continue;
        };
        for kpi in Kpi::ALL {
            if let Some(c) = compare_kpi(&s.service, kpi, b, s, &slo.objective(&s.service), t) {
                out.push(c);
            }
        }
    }
    out
}

/// Summarises the comparisons and guesses causes from co-moving KPIs.
pub fn analyse(cmps: &[MetricComparison]) -> DriftAnalysis {
    let flagged: Vec<&MetricComparison> = cmps.iter().filter(|c| c.severity.is_some()).collect();
    let mut by_severity = BTreeMap::new();
    for c in &flagged {
        if let Some(s) = c.severity {
            *by_severity.entry(s).or_insert(0) += 1;
        }
    }
    let worst = flagged
        .iter()
        .max_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(a.degradation_percent.total_cmp(&b.degradation_percent))
        })
        .map(|c| c.explanation.clone());
    let moved = |svc: &str, k: Kpi| flagged.iter().any(|c| c.service == svc && c.kpi == k);
    let mut causes = Vec::new();
    let mut services: Vec<&str> = flagged.iter().map(|c| c.service.as_str()).collect();
    services.dedup();
    for svc in services {
        let lat = moved(svc, Kpi::P99LatencyMs)
            || moved(svc, Kpi::P95LatencyMs)
            || moved(svc, Kpi::P50LatencyMs);
        let cpu = moved(svc, Kpi::CpuCores);
        let err = moved(svc, Kpi::ErrorRate) || moved(svc, Kpi::Availability);
        if lat && cpu {
            causes.push(format!("{svc}: latency and CPU rose together: saturation or a more expensive code path; check capacity and the release diff."));
        } else if lat {
            causes.push(format!("{svc}: latency rose without more CPU: waiting on a dependency, a lock or I/O; check downstream calls and connection pools."));
        }
        if err {
            causes.push(format!("{svc}: more 5xx answers: failing dependency, bad config or a code fault; read the error logs of the window."));
        }
        if moved(svc, Kpi::MemoryBytes) {
            causes.push(format!("{svc}: resident memory grew: a leak or a bigger cache; compare heap profiles and check the trend in the regression analysis."));
        }
        if moved(svc, Kpi::ThroughputRps) {
            causes.push(format!(
                "{svc}: traffic fell: clients failing upstream, routing or a dropped integration."
            ));
        }
    }
    DriftAnalysis {
        total_metrics: cmps.iter().filter(|c| c.service != OVERALL).count(),
        drifted_metrics: cmps
            .iter()
            .filter(|c| c.status == DriftStatus::Drift)
            .count(),
        insufficient_data_metrics: cmps
            .iter()
            .filter(|c| c.status == DriftStatus::InsufficientData)
            .count(),
        by_severity,
        worst,
        potential_causes: causes,
    }
}

/// The day-level rollback rules of the runbook.
pub fn rollback_rules(cmps: &[MetricComparison], t: &Thresholds) -> RollbackRecommendation {
    let mut reasons = Vec::new();
    for c in cmps.iter().filter(|c| c.service != OVERALL) {
        match c.kpi {
            Kpi::Availability
                if c.current < t.availability_rollback_pct
                    && c.baseline >= t.availability_rollback_pct =>
            {
                reasons.push(format!(
                "{}: availability {:.3} % over the day is under {:.0} %.",
                c.service, c.current, t.availability_rollback_pct
            ))
            }
            Kpi::ErrorRate
                if c.current > t.error_rate_critical_pct
                    && c.baseline <= t.error_rate_critical_pct =>
            {
                reasons.push(format!(
                    "{}: error rate {:.2} % over the day is above {:.0} %.",
                    c.service, c.current, t.error_rate_critical_pct
                ))
            }
            k if k.is_slo()
                && c.status == DriftStatus::Drift
                && c.severity == Some(Severity::Critical)
                && c.degradation_percent >= t.drift_critical_pct
                && c.late_degradation_percent.is_some_and(|l| l >= t.drift_critical_pct) =>
            {
                reasons.push(format!(
                    "{}: {} is {:+.1} % vs GA ({}) and still {:+.1} % in the last 6 hours: a critical regression on an SLO metric that has not recovered.",
                    c.service,
                    c.kpi,
                    c.degradation_percent,
                    c.p_value.map_or("no test".into(), fmt_p),
                    c.late_degradation_percent.unwrap_or(0.0)
                ))
            }
            _ => {}
        }
    }
    RollbackRecommendation {
        recommended: !reasons.is_empty(),
        reasons,
    }
}

/// Smallest day-on-day growth of a degradation, in percentage points, that
/// counts as "worsening" for the trend rule: noise moves a flat step by a
/// point or two.
const TREND_STEP_PCT: f64 = 5.0;

/// The runbook's "day 3+ with degradations and a degrading trend: roll back",
/// made precise: on day 3 or later, an SLO KPI (availability, error rate, p99)
/// of a service has drifted (medium or worse today) on each of the last three
/// days, and its degradation grew by at least [`TREND_STEP_PCT`] points each day.
/// Resource KPIs (memory, CPU) are left to the regression analyzer's projection:
/// they hurt users only when they reach a limit.
pub fn trend_rule(
    day: u32,
    cmps: &[MetricComparison],
    previous: &[&StabilitySummary],
) -> Vec<String> {
    if day < 3 {
        return Vec::new();
    }
    let find = |d: u32, svc: &str, kpi: Kpi| {
        previous
            .iter()
            .find(|s| s.day_number == d)
            .and_then(|s| {
                s.metrics_comparison
                    .iter()
                    .find(|c| c.service == svc && c.kpi == kpi)
            })
            .filter(|c| c.status == DriftStatus::Drift)
            .map(|c| c.degradation_percent)
    };
    let mut out = Vec::new();
    for c in cmps.iter().filter(|c| {
        c.service != OVERALL
            && c.kpi.is_slo()
            && c.status == DriftStatus::Drift
            && c.severity.is_some_and(|s| s >= Severity::Medium)
    }) {
        let (Some(d1), Some(d2)) = (
            find(day - 2, &c.service, c.kpi),
            find(day - 1, &c.service, c.kpi),
        ) else {
            continue;
        };
        let d3 = c.degradation_percent;
        if d2 - d1 >= TREND_STEP_PCT && d3 - d2 >= TREND_STEP_PCT {
            out.push(format!(
                "{}: {} has degraded three days running ({d1:+.1} %, {d2:+.1} %, {d3:+.1} % vs GA on days {}-{day}): day 3+ with a degrading trend.",
                c.service,
                c.kpi,
                day - 2
            ));
        }
    }
    out
}

/// Builds the day's stability summary. `previous` holds the earlier days'
/// summaries of the same release (for the trend rule); it may be empty.
pub fn stability_summary(
    ga: &GaKpiSummary,
    day: u32,
    current: WindowSummary,
    meta: ArtifactMeta,
    slo_cfg: &SloConfig,
    t: &Thresholds,
    previous: &[&StabilitySummary],
) -> StabilitySummary {
    let cmps = compare(&ga.summary, &current, slo_cfg, t);
    let analysis = analyse(&cmps);
    let mut rollback = rollback_rules(&cmps, t);
    rollback.reasons.extend(trend_rule(day, &cmps, previous));
    rollback.recommended = !rollback.reasons.is_empty();
    let window_secs = meta.window.duration_secs() as f64;
    let slo: Vec<ServiceSlo> = current
        .services
        .iter()
        .map(|s| {
            slo::service_slo(
                s,
                ga.summary.service(&s.service),
                &slo_cfg.objective(&s.service),
                window_secs,
            )
        })
        .collect();
    let slo_posture = slo.iter().flat_map(slo::posture).collect();
    StabilitySummary {
        meta,
        day_number: day,
        ga_timestamp: ga.ga_timestamp,
        summary: current,
        metrics_comparison: cmps,
        drift_analysis: analysis,
        slo,
        slo_posture,
        rollback_recommendation: rollback,
    }
}

#[cfg(test)]
#[path = "drift_tests.rs"]
pub(crate) mod tests;
