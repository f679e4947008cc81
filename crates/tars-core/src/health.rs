//! The 0-100 daily health report (`tars health-report`): an itemised score,
//! the day's degradations and a mitigation plan.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::drift::{DriftStatus, StabilitySummary};
use crate::events::AnomalyEvent;
use crate::facts::{Fact, Words};
use crate::model::{ArtifactMeta, Kpi, Priority, RollbackRecommendation, Severity, OVERALL};
use crate::slo::{PostureEntry, ServiceSlo};
use crate::thresholds::Thresholds;

/// Health bands of the runbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Excellent,
    Good,
    Fair,
    Poor,
}

/// Where a finding or deduction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A significant drift against GA day.
    Drift,
    /// A runbook limit crossed or an error budget burned.
    Slo,
    /// Anomaly incidents.
    Anomalies,
    /// Process restarts.
    Restarts,
}

/// One line of the score's breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deduction {
    pub category: Category,
    /// What was deducted for (service and KPI, or a count).
    pub item: String,
    /// Points taken off the 100.
    pub points: f64,
    pub reason: String,
}

/// A degradation found on the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Degradation {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    pub kpi: String,
    /// Every KPI of this one cause (p50/p95/p99 stepping together; error rate
    /// and availability of one burst), `kpi` first.
    #[serde(default)]
    pub kpis: Vec<String>,
    /// critical, high, medium or low.
    pub severity: Severity,
    /// The other findings merged into this one (same service, same cause).
    #[serde(default)]
    pub related: Vec<String>,
    /// Where it was found.
    pub source: Category,
    /// What to do or what was found.
    pub description: String,
    /// Relative change vs GA, percent, where it applies.
    pub drift_percent: Option<f64>,
    pub p_value: Option<f64>,
}

/// A recommended action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Mitigation {
    pub priority: Priority,
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    pub action: String,
    pub reason: String,
}

/// Anomaly counts of the day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnomalySummary {
    /// Anomaly incidents (grouped signals of one service) that started on the day.
    pub total: usize,
    /// Individual (service, KPI) events behind those incidents.
    pub events: usize,
    /// Events a process restart explains (cold start, memory drop): not incidents.
    #[serde(default)]
    pub restart_explained: usize,
    /// Counts per severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Counts per service.
    pub by_service: BTreeMap<String, usize>,
}

/// `health/day_NN_HEALTH.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthReport {
    #[serde(flatten)]
    pub meta: ArtifactMeta,
    /// Release day, 1-7 (day N is the 24 h from GA + N days).
    pub day_number: u32,
    /// 100 minus the deductions in `breakdown`, floored at 0.
    pub health_score: f64,
    pub status: HealthStatus,
    /// Every deduction, so a reader sees why the score is what it is.
    pub breakdown: Vec<Deduction>,
    pub degradations: Vec<Degradation>,
    pub mitigation_plan: Vec<Mitigation>,
    pub anomaly_summary: AnomalySummary,
    pub slo: Vec<ServiceSlo>,
    /// Pre-existing SLO conditions (at or past the objective since GA day, not
    /// made worse by the release): reported, never scored.
    #[serde(default)]
    pub slo_posture: Vec<PostureEntry>,
    pub rollback_recommendation: RollbackRecommendation,
}

/// Points per severity for drift findings, and their cap.
fn drift_points(s: Severity) -> f64 {
    match s {
        Severity::Critical => 25.0,
        Severity::High => 12.0,
        Severity::Medium => 6.0,
        Severity::Low => 2.0,
    }
}
const DRIFT_CAP: f64 = 60.0;

fn anomaly_points(s: Severity) -> f64 {
    match s {
        Severity::Critical => 3.0,
        Severity::High => 2.0,
        Severity::Medium => 1.0,
        Severity::Low => 0.25,
    }
}
/// Anomalies alone (no SLO or drift impact) cannot take a day out of the
/// excellent band: they say something unusual happened, not that users suffered.
const ANOMALY_CAP: f64 = 10.0;

/// What one cause moves together: every latency quantile of a service, or its
/// error rate and availability; other KPIs stand alone.
fn cause_family(kpi: &str) -> &str {
    match Kpi::from_name(kpi) {
        Some(Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs) => "latency",
        Some(Kpi::ErrorRate | Kpi::Availability) => "errors",
        _ => kpi,
    }
}

/// One degradation per service and cause: the most severe finding leads,
/// the others' KPIs join `kpis` and their descriptions `related`.
pub fn group_causes(mut ds: Vec<Degradation>) -> Vec<Degradation> {
    ds.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.service.cmp(&b.service))
            .then(a.kpi.cmp(&b.kpi))
    });
    let mut out: Vec<Degradation> = Vec::new();
    for d in ds {
        let family = cause_family(&d.kpi);
        match out
            .iter_mut()
            .find(|o| o.service == d.service && cause_family(&o.kpi) == family)
        {
            Some(head) => {
                for k in d.kpis {
                    if !head.kpis.contains(&k) {
                        head.kpis.push(k);
                    }
                }
                head.related.push(d.description);
            }
            None => out.push(d),
        }
    }
    out
}

/// Points for a release-caused budget burn.
fn slo_points(s: Severity) -> f64 {
    match s {
        Severity::Critical => 15.0,
        Severity::High => 8.0,
        Severity::Medium => 4.0,
        Severity::Low => 1.0,
    }
}

/// Band of a score.
pub fn status_for(score: f64, t: &Thresholds) -> HealthStatus {
    if score >= t.health_excellent {
        HealthStatus::Excellent
    } else if score >= t.health_good {
        HealthStatus::Good
    } else if score >= t.health_fair {
        HealthStatus::Fair
    } else {
        HealthStatus::Poor
    }
}

fn mitigation_for(d: &Degradation, words: &dyn Words) -> Mitigation {
    Mitigation {
        priority: Priority::of(d.severity),
        service: d.service.clone(),
        action: words.word(&Fact::Mitigation {
            service: d.service.clone(),
            kpi: Kpi::from_name(&d.kpi),
        }),
        reason: d.description.clone(),
    }
}

/// Builds the day's health report.
pub fn health_report(
    day: &StabilitySummary,
    events: &[&AnomalyEvent],
    previous_score: Option<f64>,
    meta: ArtifactMeta,
    t: &Thresholds,
    words: &dyn Words,
) -> HealthReport {
    let mut found = Found::default();
    drift_findings(day, &mut found, words);
    slo_findings(day, &mut found, words);
    let summary = anomaly_findings(events, t, &mut found, words);
    restart_findings(day, &mut found, words);
    let Found {
        breakdown,
        degradations,
    } = found;
    let degradations = group_causes(degradations);
    let total: f64 = breakdown.iter().map(|d| d.points).sum();
    let score = ((100.0 - total).max(0.0) * 10.0).round() / 10.0;
    let plan = mitigation_plan(&degradations, words);
    let mut rollback = day.rollback_recommendation.clone();
    let fired = rollback_rules(score, previous_score, &plan, t);
    rollback.reasons.extend(fired.iter().map(|f| words.word(f)));
    rollback.recommended = !rollback.reasons.is_empty();
    HealthReport {
        meta,
        day_number: day.day_number,
        health_score: score,
        status: status_for(score, t),
        breakdown,
        degradations,
        mitigation_plan: plan,
        anomaly_summary: summary,
        slo: day.slo.clone(),
        slo_posture: day.slo_posture.clone(),
        rollback_recommendation: rollback,
    }
}

/// The score's deductions and the degradations found so far.
#[derive(Default)]
struct Found {
    breakdown: Vec<Deduction>,
    degradations: Vec<Degradation>,
}

/// Release-caused drifts and limit breaches of the day's comparisons.
fn drift_findings(day: &StabilitySummary, found: &mut Found, words: &dyn Words) {
    let Found {
        breakdown,
        degradations,
    } = found;
    let mut drift_total = 0.0;
    for c in day
        .metrics_comparison
        .iter()
        .filter(|c| c.service != OVERALL)
    {
        let Some(sev) = c.severity else { continue };
        let source = if c.status == DriftStatus::SloBreach {
            Category::Slo
        } else {
            Category::Drift
        };
        degradations.push(Degradation {
            service: c.service.clone(),
            kpi: c.kpi.name().to_string(),
            kpis: vec![c.kpi.name().to_string()],
            severity: sev,
            related: Vec::new(),
            source,
            description: c.explanation.clone(),
            drift_percent: Some(c.drift_percent),
            p_value: c.p_value,
        });
        let pts = drift_points(sev).min(DRIFT_CAP - drift_total);
        if pts > 0.0 {
            drift_total += pts;
            breakdown.push(Deduction {
                category: source,
                item: words.word(&Fact::ServiceKpi {
                    service: c.service.clone(),
                    kpi: c.kpi.name().to_string(),
                }),
                points: pts,
                reason: c.explanation.clone(),
            });
        }
    }
}

/// Release-caused budget burns.
fn slo_findings(day: &StabilitySummary, found: &mut Found, words: &dyn Words) {
    let Found {
        breakdown,
        degradations,
    } = found;
    // Only burns the release caused take points: a service that burned its
    // budget at the same pace on GA day is reported in `slo_posture` instead.
    for s in &day.slo {
        for f in &s.findings {
            let kpi = f.sli.kpi();
            let reason = words.word(&Fact::BudgetBurn {
                service: s.service.clone(),
                sli: f.sli,
                window: f.window,
                burn_rate: f.burn_rate,
                budget_spent_pct: f.budget_spent_pct,
                ga_burn_rate: f.ga_burn_rate,
            });
            breakdown.push(Deduction {
                category: Category::Slo,
                item: words.word(&Fact::BudgetItem {
                    service: s.service.clone(),
                    sli: f.sli,
                }),
                points: slo_points(f.severity),
                reason: reason.clone(),
            });
            degradations.push(Degradation {
                service: s.service.clone(),
                kpi: kpi.name().to_string(),
                kpis: vec![kpi.name().to_string()],
                severity: f.severity,
                related: Vec::new(),
                source: Category::Slo,
                description: reason,
                drift_percent: None,
                p_value: None,
            });
        }
    }
}

/// Anomaly incidents of the day: their summary, deduction and degradations.
fn anomaly_findings(
    events: &[&AnomalyEvent],
    t: &Thresholds,
    found: &mut Found,
    words: &dyn Words,
) -> AnomalySummary {
    let Found {
        breakdown,
        degradations,
    } = found;
    // Count incidents (events of one service grouped in time), not signals: a
    // restart that moves five KPIs is one thing that happened.
    // A restart's cold start is a restart, not an incident.
    let (explained, events): (Vec<&AnomalyEvent>, Vec<&AnomalyEvent>) =
        events.iter().copied().partition(|e| e.restart_at.is_some());
    let mut incidents: BTreeMap<&str, (&str, Severity, usize)> = BTreeMap::new();
    for e in &events {
        let entry =
            incidents
                .entry(e.incident_id.as_str())
                .or_insert((e.service.as_str(), e.severity, 0));
        entry.1 = entry.1.max(e.severity);
        entry.2 += 1;
    }
    let mut summary = AnomalySummary {
        total: incidents.len(),
        events: events.len(),
        restart_explained: explained.len(),
        ..Default::default()
    };
    let mut anomaly_total = 0.0;
    for (service, sev, _) in incidents.values() {
        *summary.by_severity.entry(*sev).or_insert(0) += 1;
        *summary.by_service.entry(service.to_string()).or_insert(0) += 1;
        anomaly_total += anomaly_points(*sev);
    }
    if anomaly_total > 0.0 {
        breakdown.push(Deduction {
            category: Category::Anomalies,
            item: words.word(&Fact::IncidentsItem {
                incidents: incidents.len(),
            }),
            points: anomaly_total.min(ANOMALY_CAP),
            reason: words.word(&Fact::AnomalyIncidents {
                incidents: incidents.len(),
                signals: events.len(),
                by_severity: summary.by_severity.iter().map(|(s, n)| (*s, *n)).collect(),
                cap: ANOMALY_CAP,
            }),
        });
    }
    // An anomaly shows that something unusual happened, not how much it hurt:
    // on its own it is at most a high degradation; critical needs SLO or drift evidence.
    for e in events.iter().filter(|e| e.severity >= Severity::High) {
        degradations.push(Degradation {
            service: e.service.clone(),
            kpi: e.kpi.clone(),
            kpis: vec![e.kpi.clone()],
            severity: e.severity.min(Severity::High),
            related: Vec::new(),
            source: Category::Anomalies,
            description: e.explanation.clone(),
            drift_percent: None,
            p_value: None,
        });
    }
    for (svc, n) in &summary.by_service {
        if *n >= t.anomalies_per_day_medium {
            degradations.push(Degradation {
                service: svc.clone(),
                kpi: "anomalies".into(),
                kpis: vec!["anomalies".into()],
                severity: Severity::Medium,
                related: Vec::new(),
                source: Category::Anomalies,
                description: words.word(&Fact::ManyAnomalies {
                    service: svc.clone(),
                    incidents: *n,
                    limit: t.anomalies_per_day_medium,
                }),
                drift_percent: None,
                p_value: None,
            });
        }
    }
    summary
}

/// Services that restarted more than twice in the day.
fn restart_findings(day: &StabilitySummary, found: &mut Found, words: &dyn Words) {
    let breakdown = &mut found.breakdown;
    for s in &day.summary.services {
        if s.restarts > 2 {
            breakdown.push(Deduction {
                category: Category::Restarts,
                item: s.service.clone(),
                points: 2.0,
                reason: words.word(&Fact::Restarts {
                    service: s.service.clone(),
                    restarts: s.restarts,
                }),
            });
        }
    }
}

/// One action per service and kind of action.
fn mitigation_plan(degradations: &[Degradation], words: &dyn Words) -> Vec<Mitigation> {
    let mut plan: Vec<Mitigation> = Vec::new();
    for d in degradations {
        let m = mitigation_for(d, words);
        // One action per service and kind of action is enough.
        if !plan
            .iter()
            .any(|p| p.service == m.service && p.action == m.action)
        {
            plan.push(m);
        }
    }

    plan
}

/// The score's own rollback rules (the day summary's come on top).
fn rollback_rules(
    score: f64,
    previous_score: Option<f64>,
    plan: &[Mitigation],
    t: &Thresholds,
) -> Vec<Fact> {
    let mut fired = Vec::new();
    if let Some(prev) = previous_score {
        if score < t.health_rollback && prev < t.health_rollback {
            fired.push(Fact::LowHealthTwoDays {
                score,
                previous: prev,
                limit: t.health_rollback,
            });
        }
    }
    if score < t.health_fair && plan.is_empty() {
        fired.push(Fact::LowHealthNoMitigation {
            score,
            limit: t.health_fair,
        });
    }
    fired
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(service: &str, kpi: &str, severity: Severity) -> Degradation {
        Degradation {
            service: service.into(),
            kpi: kpi.into(),
            kpis: vec![kpi.into()],
            severity,
            related: vec![],
            source: Category::Drift,
            description: format!("{service} {kpi}"),
            drift_percent: None,
            p_value: None,
        }
    }

    #[test]
    fn one_cause_is_one_degradation_led_by_its_worst_kpi() {
        let g = group_causes(vec![
            d("checkout", "p50_latency_ms", Severity::Medium),
            d("checkout", "p99_latency_ms", Severity::Critical),
            d("checkout", "p95_latency_ms", Severity::High),
            d("search", "error_rate", Severity::High),
            d("search", "availability", Severity::Medium),
            d("search", "memory_bytes", Severity::Low),
            d("auth", "p99_latency_ms", Severity::Medium),
        ]);
        assert_eq!(g.len(), 4, "{g:?}");
        assert_eq!(g[0].kpi, "p99_latency_ms");
        assert_eq!(
            g[0].kpis,
            ["p99_latency_ms", "p95_latency_ms", "p50_latency_ms"]
        );
        assert_eq!(g[0].related.len(), 2);
        let search: Vec<_> = g.iter().filter(|x| x.service == "search").collect();
        assert_eq!(search.len(), 2);
        assert_eq!(search[0].kpis, ["error_rate", "availability"]);
        // Another service's latency is another cause.
        assert!(g.iter().any(|x| x.service == "auth"));
    }

    #[test]
    fn drift_deductions_stop_at_their_cap() {
        let mut day = crate::drift::tests::day_with(3, 80.0, DriftStatus::Drift);
        let row = day.metrics_comparison[0].clone();
        day.metrics_comparison = ["checkout", "search", "auth"]
            .into_iter()
            .map(|svc| crate::drift::MetricComparison {
                service: svc.into(),
                severity: Some(Severity::Critical),
                ..row.clone()
            })
            .collect();
        let mut found = Found::default();
        drift_findings(&day, &mut found, &crate::facts::Plain);
        // Three criticals would be 75 points; the cap keeps drift at 60.
        let points: Vec<f64> = found.breakdown.iter().map(|d| d.points).collect();
        assert_eq!(points, [25.0, 25.0, 10.0]);
        assert_eq!(found.degradations.len(), 3);
    }

    #[test]
    fn anomalies_alone_never_leave_the_excellent_band() {
        assert!(100.0 - ANOMALY_CAP >= Thresholds::default().health_excellent);
    }

    #[test]
    fn bands_follow_the_thresholds() {
        let t = Thresholds::default();
        assert_eq!(status_for(90.0, &t), HealthStatus::Excellent);
        assert_eq!(status_for(89.9, &t), HealthStatus::Good);
        assert_eq!(status_for(50.0, &t), HealthStatus::Fair);
        assert_eq!(status_for(49.9, &t), HealthStatus::Poor);
    }
}
