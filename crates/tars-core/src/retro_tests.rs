//! The retrospective's rules on small hand-built weeks. Words are `Plain`
//! (each fact's debug form), so the tests check which fact was stated.

use super::*;
use crate::baseline::ServiceKpis;
use crate::drift::tests::day_with;
use crate::facts::Plain;
use crate::health::{AnomalySummary, HealthStatus};
use crate::model::Window;
use crate::regression::{BaselineComparison, KpiTrend};

fn ga() -> GaKpiSummary {
    let day = day_with(1, 0.0, DriftStatus::Ok);
    let mut summary = day.summary.clone();
    summary.services = vec![ServiceKpis {
        service: "checkout".into(),
        kpis: [(Kpi::P99LatencyMs, 100.0)].into_iter().collect(),
        cost_per_day_usd: 1.0,
        restarts: 0,
        samples: Default::default(),
    }];
    GaKpiSummary {
        meta: day.meta.clone(),
        ga_timestamp: day.ga_timestamp,
        summary,
    }
}

pub(crate) fn health(day: u32, score: f64) -> HealthReport {
    let d = day_with(day, 0.0, DriftStatus::Ok);
    HealthReport {
        meta: d.meta,
        day_number: day,
        health_score: score,
        status: HealthStatus::Good,
        breakdown: vec![],
        degradations: vec![],
        mitigation_plan: vec![],
        anomaly_summary: AnomalySummary::default(),
        slo: vec![],
        slo_posture: vec![],
        rollback_recommendation: RollbackRecommendation::default(),
    }
}

fn trend(kpi: Kpi, severity: Option<Severity>, pattern: Pattern, step: Option<u32>) -> KpiTrend {
    KpiTrend {
        service: "checkout".into(),
        kpi,
        unit: kpi.unit().into(),
        days: vec![0, 7],
        values: vec![100.0, 150.0],
        slope_per_day: 7.0,
        slope_ci: [5.0, 9.0],
        worsening_pct_per_day: 7.0,
        trend_significant: true,
        changepoint_day: step,
        comparisons: vec![BaselineComparison {
            baseline: crate::regression::Reference::Ga,
            baseline_value: 100.0,
            current_value: 150.0,
            degradation_percent: 50.0,
        }],
        flagged_days: Default::default(),
        pattern,
        severity,
        confidence: crate::regression::Confidence::High,
        days_to_limit: None,
        explanation: "trend".into(),
    }
}

fn regression(trends: Vec<KpiTrend>, rollback: bool) -> RegressionSummary {
    let mut severity_counts = BTreeMap::new();
    for t in &trends {
        if let Some(s) = t.severity {
            *severity_counts.entry(s).or_insert(0) += 1;
        }
    }
    let meta = ArtifactMeta::new(
        "regression_summary",
        "sim",
        vec![],
        Window::day(ga().ga_timestamp, 7),
        ga().ga_timestamp,
    );
    RegressionSummary {
        meta,
        days_analyzed: vec![0, 7],
        regressions: trends
            .iter()
            .filter(|t| t.severity.is_some())
            .cloned()
            .collect(),
        transient_issues: trends
            .iter()
            .filter(|t| t.pattern == Pattern::Transient)
            .cloned()
            .collect(),
        trends,
        severity_counts,
        rollback_recommendation: RollbackRecommendation {
            recommended: rollback,
            reasons: if rollback { vec!["why".into()] } else { vec![] },
        },
    }
}

/// The retrospective of a week whose health scores are `scores`.
fn retro(reg: &RegressionSummary, scores: &[f64]) -> Retrospective {
    let ga = ga();
    let days: Vec<StabilitySummary> = (1..=scores.len() as u32)
        .map(|d| day_with(d, 0.0, DriftStatus::Ok))
        .collect();
    let health: Vec<HealthReport> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| health(i as u32 + 1, *s))
        .collect();
    let objectives = SloConfig::default();
    let inp = RetroInputs {
        ga: &ga,
        days: &days,
        health: &health,
        events: &[],
        regression: reg,
        objectives: &objectives,
    };
    let meta = reg.meta.clone();
    retrospective(&inp, meta, &Thresholds::default(), &Plain)
}

#[test]
fn a_quiet_week_is_healthy_and_keeps_the_release() {
    let r = retro(&regression(vec![], false), &[95.0, 99.0, 100.0]);
    assert_eq!(r.executive_summary.verdict, Verdict::Healthy);
    assert_eq!(r.executive_summary.lowest_health, Some(95.0));
    assert_eq!(r.executive_summary.average_health, Some(98.0));
    assert_eq!(r.recommendations, ["KeepRelease"]);
    assert!(r.action_items.is_empty());
    // Three excellent days are a finding with the scores as evidence.
    assert!(r
        .what_went_well
        .iter()
        .any(|f| f.statement == "ExcellentDays { excellent: 3, days: 3 }"));
}

#[test]
fn one_day_under_the_excellent_band_is_drifting_even_without_regression() {
    let r = retro(&regression(vec![], false), &[95.0, 89.9]);
    assert_eq!(r.executive_summary.verdict, Verdict::Drifting);
}

#[test]
fn a_regression_is_drifting_and_its_family_is_one_action_item() {
    let reg = regression(
        vec![
            trend(
                Kpi::P99LatencyMs,
                Some(Severity::High),
                Pattern::Step,
                Some(3),
            ),
            trend(
                Kpi::P95LatencyMs,
                Some(Severity::Medium),
                Pattern::Step,
                Some(3),
            ),
        ],
        false,
    );
    let r = retro(&reg, &[95.0]);
    assert_eq!(r.executive_summary.verdict, Verdict::Drifting);
    // p99 and p95 stepping together are one latency problem.
    assert_eq!(r.action_items.len(), 1, "{:?}", r.action_items);
    let item = &r.action_items[0];
    assert_eq!(item.priority, Priority::P1);
    assert!(
        item.description.contains("also: [P95LatencyMs]"),
        "{}",
        item.description
    );
    // One bisect per service and step day, naming both KPIs; a step after
    // day 1 asks to record deploys.
    assert!(r
        .recommendations
        .iter()
        .any(|x| x.contains("Bisect") && x.contains("day: 3") && x.contains("P95LatencyMs")));
    assert!(r.process_improvements.iter().any(|x| x == "RecordDeploys"));
}

#[test]
fn a_rollback_leads_with_p0_and_holds_promotion() {
    let reg = regression(
        vec![trend(
            Kpi::ErrorRate,
            Some(Severity::Critical),
            Pattern::Trend,
            None,
        )],
        true,
    );
    let r = retro(&reg, &[95.0]);
    assert_eq!(r.executive_summary.verdict, Verdict::Rollback);
    assert!(r.executive_summary.rollback_recommended);
    assert_eq!(r.action_items[0].priority, Priority::P0);
    assert_eq!(r.action_items[0].description, "RollBackAction");
    assert_eq!(r.action_items[0].evidence, "why");
    assert_eq!(r.recommendations[0], "HoldPromotion");
    assert!(r.executive_summary.headline.contains("\"why\""));
    // A trend without a step is not bisected, and asks for no deploy log.
    assert!(!r.recommendations.iter().any(|x| x.contains("Bisect")));
    assert!(!r.process_improvements.iter().any(|x| x == "RecordDeploys"));
}

#[test]
fn a_transient_problem_gets_a_p2_post_mortem() {
    let reg = regression(
        vec![trend(Kpi::CpuCores, None, Pattern::Transient, None)],
        false,
    );
    let r = retro(&reg, &[95.0]);
    assert_eq!(r.action_items.len(), 1);
    assert_eq!(r.action_items[0].priority, Priority::P2);
    assert!(r.action_items[0].description.starts_with("PostMortem"));
    assert!(r
        .process_improvements
        .iter()
        .any(|x| x == "RouteTransients"));
}
