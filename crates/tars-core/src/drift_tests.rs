//! Decision rules of the daily comparison on small hand-built days.

use super::*;
use crate::facts::Plain;
use crate::model::KpiSamples;

/// A service whose every KPI sits at `v(kpi)`, with 96 deterministic
/// wiggles of ±`spread` (relative) so that the rank test has ties to break.
fn service(v: impl Fn(Kpi) -> f64, spread: f64, phase: f64) -> ServiceKpis {
    let mut kpis = crate::model::KpiValues::new();
    let mut samples = KpiSamples::new();
    for k in Kpi::ALL {
        let x = v(k);
        kpis.insert(k, x);
        let s: Vec<f64> = (0..96)
            .map(|i| x * (1.0 + spread * ((i as f64) * 0.7 + phase).sin()))
            .collect();
        samples.insert(k, s);
    }
    ServiceKpis {
        service: "svc".into(),
        kpis,
        cost_per_day_usd: 0.0,
        restarts: 0,
        samples,
    }
}

fn base(k: Kpi) -> f64 {
    match k {
        Kpi::Availability => 99.897,
        Kpi::ErrorRate => 0.103,
        Kpi::P50LatencyMs => 80.0,
        Kpi::P95LatencyMs => 180.0,
        Kpi::P99LatencyMs => 300.0,
        Kpi::ThroughputRps => 100.0,
        Kpi::CpuCores => 1.0,
        Kpi::MemoryBytes => 512.0 * 1024.0 * 1024.0,
    }
}

fn cmp(kpi: Kpi, b: &ServiceKpis, c: &ServiceKpis) -> MetricComparison {
    let o = SloConfig::default().objective("svc");
    compare_kpi("svc", kpi, (b, c), &o, &Thresholds::default(), &Plain).unwrap()
}

#[test]
fn a_service_at_its_objective_before_and_after_ga_is_pre_existing() {
    let b = service(base, 0.0005, 0.0);
    let c = service(
        |k| base(k) * if k == Kpi::Availability { 1.0 } else { 1.002 },
        0.0005,
        1.0,
    );
    for kpi in [Kpi::Availability, Kpi::P99LatencyMs] {
        let x = cmp(kpi, &b, &c);
        assert_eq!(
            x.status,
            DriftStatus::PreExisting,
            "{kpi}: {}",
            x.explanation
        );
        assert_eq!(x.severity, None);
    }
    // p50 has no objective: an unchanged p50 is simply ok.
    assert_eq!(cmp(Kpi::P50LatencyMs, &b, &c).status, DriftStatus::Ok);
}

#[test]
fn a_significant_p99_step_over_the_objective_is_drift_not_posture() {
    let b = service(base, 0.02, 0.0);
    let c = service(
        |k| base(k) * if k == Kpi::P99LatencyMs { 1.6 } else { 1.0 },
        0.02,
        1.0,
    );
    let x = cmp(Kpi::P99LatencyMs, &b, &c);
    assert_eq!(x.status, DriftStatus::Drift, "{}", x.explanation);
    assert_eq!(x.severity, Some(Severity::Critical));
}

#[test]
fn crossing_the_error_rate_limit_counts_only_when_ga_was_inside_it() {
    let t = Thresholds::default();
    // 0.5 % at GA, 1.2 % now: crossed the 1 % high limit.
    assert_eq!(
        absolute_severity(Kpi::ErrorRate, 0.5, 1.2, &t).map(|x| x.0),
        Some(Severity::High)
    );
    // Already 1.5 % at GA: the limit says nothing about the release.
    assert_eq!(absolute_severity(Kpi::ErrorRate, 1.5, 1.6, &t), None);
    // 1.5 % at GA, 6 % now: crossed the rollback limit.
    assert_eq!(
        absolute_severity(Kpi::ErrorRate, 1.5, 6.0, &t).map(|x| x.0),
        Some(Severity::Critical)
    );
    assert_eq!(
        absolute_severity(Kpi::Availability, 99.5, 98.0, &t).map(|x| x.0),
        Some(Severity::Critical)
    );
    assert_eq!(absolute_severity(Kpi::Availability, 98.5, 98.4, &t), None);
}

#[test]
fn rollback_limits_skip_conditions_that_stood_at_ga() {
    let t = Thresholds::default();
    let row = |kpi: Kpi, baseline: f64, current: f64| MetricComparison {
        service: "svc".into(),
        kpi,
        unit: kpi.unit().into(),
        bad_direction: kpi.bad_direction(),
        baseline,
        current,
        drift_percent: relative_change(baseline, current),
        degradation_percent: degradation(kpi, baseline, current),
        p_value: None,
        shift: None,
        shift_ci: None,
        late_degradation_percent: None,
        status: DriftStatus::Ok,
        severity: None,
        explanation: String::new(),
    };
    // Past the limit at GA already: the standing condition, no rule fires.
    assert!(rollback_rules(&[row(Kpi::ErrorRate, 6.0, 6.1)], &t).is_empty());
    assert_eq!(
        rollback_rules(&[row(Kpi::ErrorRate, 0.1, 6.1)], &t),
        [Fact::ErrorRateOverLimit {
            service: "svc".into(),
            current: 6.1,
            limit: t.error_rate_critical_pct
        }]
    );
    assert!(rollback_rules(&[row(Kpi::Availability, 98.0, 98.1)], &t).is_empty());
    assert_eq!(
        rollback_rules(&[row(Kpi::Availability, 99.9, 98.1)], &t),
        [Fact::AvailabilityUnderLimit {
            service: "svc".into(),
            current: 98.1,
            limit: t.availability_rollback_pct
        }]
    );
}

/// A day whose only comparison is checkout p99 at `deg` % with `status`.
pub(crate) fn day_with(day: u32, deg: f64, status: DriftStatus) -> StabilitySummary {
    let ga: DateTime<Utc> = "2025-11-18T00:00:00Z".parse().unwrap();
    let window = crate::model::Window::day(ga, day);
    let kpi = Kpi::P99LatencyMs;
    StabilitySummary {
        meta: ArtifactMeta::new("stability_summary", "sim", vec![], window, window.end),
        day_number: day,
        ga_timestamp: ga,
        summary: WindowSummary {
            overall_availability: 99.9,
            error_rate: 0.1,
            p50_latency_ms: 1.0,
            p95_latency_ms: 1.0,
            p99_latency_ms: 1.0,
            throughput_rps: 1.0,
            cpu_cores: 1.0,
            memory_bytes: 1.0,
            cost_per_day_usd: 0.0,
            services: vec![],
            warnings: vec![],
        },
        metrics_comparison: vec![MetricComparison {
            service: "checkout".into(),
            kpi,
            unit: kpi.unit().into(),
            bad_direction: kpi.bad_direction(),
            baseline: 100.0,
            current: 100.0 + deg,
            drift_percent: deg,
            degradation_percent: deg,
            p_value: Some(0.0001),
            shift: None,
            shift_ci: None,
            late_degradation_percent: None,
            status,
            severity: Some(Severity::Medium),
            explanation: String::new(),
        }],
        drift_analysis: analyse(&[], &Plain),
        slo: vec![],
        slo_posture: vec![],
        rollback_recommendation: RollbackRecommendation::default(),
    }
}

#[test]
fn trend_rule_needs_three_drifting_days_each_worse_by_five_points() {
    let d1 = day_with(1, 12.0, DriftStatus::Drift);
    let d2 = day_with(2, 20.0, DriftStatus::Drift);
    let d3 = day_with(3, 27.0, DriftStatus::Drift);
    let r = trend_rule(3, &d3.metrics_comparison, &[&d1, &d2]);
    assert_eq!(
        r,
        [Fact::DegradingTrend {
            service: "checkout".into(),
            kpi: Kpi::P99LatencyMs,
            degradations: [12.0, 20.0, 27.0],
            day: 3
        }]
    );
    // Flat (a step that stays): no trend.
    let flat = day_with(3, 21.0, DriftStatus::Drift);
    assert!(trend_rule(3, &flat.metrics_comparison, &[&d1, &d2]).is_empty());
    // Day 2 is too early; a day without drift breaks the run.
    assert!(trend_rule(2, &d2.metrics_comparison, &[&d1]).is_empty());
    let ok2 = day_with(2, 20.0, DriftStatus::Ok);
    assert!(trend_rule(3, &d3.metrics_comparison, &[&d1, &ok2]).is_empty());
}

#[test]
fn error_rate_drift_is_read_against_the_budget() {
    let o = SloConfig::default().objective("svc");
    // 0.10 % -> 0.13 %: +30 % but a third of the budget's pace: low.
    assert_eq!(
        error_rate_cap(Severity::High, 0.10, 0.13, &o),
        Severity::Low
    );
    // 0.10 % -> 0.17 %: most of the pace again: at most medium.
    assert_eq!(
        error_rate_cap(Severity::Critical, 0.10, 0.17, &o),
        Severity::Medium
    );
    // 0.10 % -> 0.25 %: one and a half times the pace added: as the drift says.
    assert_eq!(
        error_rate_cap(Severity::Critical, 0.10, 0.25, &o),
        Severity::Critical
    );
}
