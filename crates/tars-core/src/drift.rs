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
use crate::facts::{CauseKind, CompVerdict, Fact, LimitKind, TestNumbers, Words};
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
) -> Option<(Severity, CompVerdict)> {
    let (sev, limit) = past_limit(kpi, current, t)?;
    if past_limit(kpi, baseline, t).is_some_and(|(s, _)| s >= sev) {
        return None;
    }
    let kind = match kpi {
        Kpi::Availability => LimitKind::AvailabilityRollback,
        _ if sev == Severity::Critical => LimitKind::ErrorRateRollback,
        _ => LimitKind::ErrorRateHigh,
    };
    Some((sev, CompVerdict::Limit { kind, limit }))
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

/// Compares one KPI of one service.
pub fn compare_kpi(
    service: &str,
    kpi: Kpi,
    (base, cur): (&ServiceKpis, &ServiceKpis),
    o: &Objective,
    t: &Thresholds,
    words: &dyn Words,
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
    let verdict = judge(&mut cmp, (bs, cs), requests, o, t);
    let test = match (cmp.p_value, cmp.shift, cmp.shift_ci) {
        (Some(p_value), Some(shift), Some(ci)) => Some(TestNumbers { p_value, shift, ci }),
        _ => None,
    };
    cmp.explanation = words.word(&Fact::Comparison {
        service: service.to_string(),
        kpi,
        baseline: b,
        current: c,
        drift_percent,
        test,
        verdict,
    });
    Some(cmp)
}

/// Sets the comparison's test numbers, status and severity; returns why.
fn judge(
    cmp: &mut MetricComparison,
    (bs, cs): (&[f64], &[f64]),
    requests: f64,
    o: &Objective,
    t: &Thresholds,
) -> CompVerdict {
    let (kpi, b, c, deg) = (cmp.kpi, cmp.baseline, cmp.current, cmp.degradation_percent);
    if (kpi.needs_traffic() && requests < t.min_requests) || bs.len() < 8 || cs.len() < 8 {
        cmp.status = DriftStatus::InsufficientData;
        return CompVerdict::InsufficientData {
            requests,
            baseline_samples: bs.len(),
            current_samples: cs.len(),
        };
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
    let mut found: Option<(Severity, CompVerdict)> = None;
    if significant && big_enough {
        if let Some(sev) = severity_for(kpi, deg, t) {
            let sev = if kpi == Kpi::ErrorRate {
                error_rate_cap(sev, b, c, o)
            } else {
                sev
            };
            // Availability is judged by its SLO, error rate carries the relative signal.
            if kpi != Kpi::Availability {
                found = Some((sev, CompVerdict::Drift(sev)));
            }
        } else if deg <= -t.drift_low_pct {
            cmp.status = DriftStatus::Improved;
        }
    }
    if let Some((abs_sev, why)) = absolute_severity(kpi, b, c, t) {
        if found.is_none_or(|(s, _)| abs_sev > s) {
            found = Some((abs_sev, why));
        }
    }
    if let Some((sev, why)) = found {
        cmp.severity = Some(sev);
        cmp.status = if significant && deg > 0.0 {
            DriftStatus::Drift
        } else {
            DriftStatus::SloBreach
        };
        return why;
    }
    if cmp.status == DriftStatus::Ok && pre_existing(kpi, b, c, o, t) {
        cmp.status = DriftStatus::PreExisting;
    }
    match cmp.status {
        DriftStatus::Improved => CompVerdict::Improved,
        DriftStatus::PreExisting => CompVerdict::PreExisting,
        _ if !significant => CompVerdict::NotSignificant,
        _ => CompVerdict::BelowThreshold,
    }
}

/// Fleet-wide comparison: informative only (no samples, so no test);
/// degradations are attributed to services.
fn compare_overall(
    kpi: Kpi,
    base: &WindowSummary,
    cur: &WindowSummary,
    words: &dyn Words,
) -> MetricComparison {
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
        explanation: words.word(&Fact::FleetComparison {
            kpi,
            baseline: b,
            current: c,
            drift_percent: d,
        }),
    }
}

/// The limits, objectives and wording every daily rule reads.
#[derive(Clone, Copy)]
pub struct Policy<'a> {
    pub thresholds: &'a Thresholds,
    pub slo: &'a SloConfig,
    pub words: &'a dyn Words,
}

/// Compares every KPI of every service of `cur` with `base`.
pub fn compare(base: &WindowSummary, cur: &WindowSummary, p: &Policy<'_>) -> Vec<MetricComparison> {
    let mut out: Vec<MetricComparison> = Kpi::ALL
        .iter()
        .map(|&k| compare_overall(k, base, cur, p.words))
        .collect();
    for s in &cur.services {
        let Some(b) = base.service(&s.service) else {
            continue;
        };
        for kpi in Kpi::ALL {
            let o = p.slo.objective(&s.service);
            if let Some(c) = compare_kpi(&s.service, kpi, (b, s), &o, p.thresholds, p.words) {
                out.push(c);
            }
        }
    }
    out
}

/// What each flagged service's co-moving KPIs suggest, in service order.
pub fn causes(flagged: &[&MetricComparison]) -> Vec<(String, CauseKind)> {
    let moved = |svc: &str, k: Kpi| flagged.iter().any(|c| c.service == svc && c.kpi == k);
    let mut out = Vec::new();
    let mut services: Vec<&str> = flagged.iter().map(|c| c.service.as_str()).collect();
    services.dedup();
    for svc in services {
        let lat = moved(svc, Kpi::P99LatencyMs)
            || moved(svc, Kpi::P95LatencyMs)
            || moved(svc, Kpi::P50LatencyMs);
        let mut kinds = Vec::new();
        if lat && moved(svc, Kpi::CpuCores) {
            kinds.push(CauseKind::Saturation);
        } else if lat {
            kinds.push(CauseKind::Waiting);
        }
        if moved(svc, Kpi::ErrorRate) || moved(svc, Kpi::Availability) {
            kinds.push(CauseKind::Errors);
        }
        if moved(svc, Kpi::MemoryBytes) {
            kinds.push(CauseKind::Memory);
        }
        if moved(svc, Kpi::ThroughputRps) {
            kinds.push(CauseKind::TrafficLoss);
        }
        out.extend(kinds.into_iter().map(|k| (svc.to_string(), k)));
    }
    out
}

/// Summarises the comparisons and guesses causes from co-moving KPIs.
pub fn analyse(cmps: &[MetricComparison], words: &dyn Words) -> DriftAnalysis {
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
    let potential_causes = causes(&flagged)
        .into_iter()
        .map(|(service, kind)| words.word(&Fact::Cause { service, kind }))
        .collect();
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
        potential_causes,
    }
}

/// The day-level rollback rules of the runbook: the facts that fired.
pub fn rollback_rules(cmps: &[MetricComparison], t: &Thresholds) -> Vec<Fact> {
    let mut fired = Vec::new();
    for c in cmps.iter().filter(|c| c.service != OVERALL) {
        let service = c.service.clone();
        match c.kpi {
            Kpi::Availability
                if c.current < t.availability_rollback_pct
                    && c.baseline >= t.availability_rollback_pct =>
            {
                fired.push(Fact::AvailabilityUnderLimit {
                    service,
                    current: c.current,
                    limit: t.availability_rollback_pct,
                })
            }
            Kpi::ErrorRate
                if c.current > t.error_rate_critical_pct
                    && c.baseline <= t.error_rate_critical_pct =>
            {
                fired.push(Fact::ErrorRateOverLimit {
                    service,
                    current: c.current,
                    limit: t.error_rate_critical_pct,
                })
            }
            k if k.is_slo()
                && c.status == DriftStatus::Drift
                && c.severity == Some(Severity::Critical)
                && c.degradation_percent >= t.drift_critical_pct
                && c.late_degradation_percent
                    .is_some_and(|l| l >= t.drift_critical_pct) =>
            {
                fired.push(Fact::UnrecoveredSloRegression {
                    service,
                    kpi: k,
                    degradation: c.degradation_percent,
                    p_value: c.p_value,
                    late_degradation: c.late_degradation_percent.unwrap_or(0.0),
                })
            }
            _ => {}
        }
    }
    fired
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
) -> Vec<Fact> {
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
            out.push(Fact::DegradingTrend {
                service: c.service.clone(),
                kpi: c.kpi,
                degradations: [d1, d2, d3],
                day,
            });
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
    p: &Policy<'_>,
    previous: &[&StabilitySummary],
) -> StabilitySummary {
    let slo_cfg = p.slo;
    let cmps = compare(&ga.summary, &current, p);
    let analysis = analyse(&cmps, p.words);
    let mut fired = rollback_rules(&cmps, p.thresholds);
    fired.extend(trend_rule(day, &cmps, previous));
    let rollback = RollbackRecommendation::from_facts(&fired, p.words);
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
