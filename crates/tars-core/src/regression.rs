//! Day-7 regression analysis (`tars regression-analyzer`): a robust trend
//! per KPI with a confidence interval, a changepoint, comparisons against
//! several baselines, and a severity that follows from effect and confidence.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::baseline::GaKpiSummary;
use crate::drift::{degradation, severity_for, DriftStatus, StabilitySummary};
use crate::facts::{Fact, Words};
use crate::model::{ArtifactMeta, Kpi, RollbackRecommendation, Severity};
use crate::stats;
use crate::thresholds::Thresholds;

/// How a regression behaves over the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// A step that began on `changepoint_day` and stayed.
    Step,
    /// A steady slope (a leak, growing load).
    Trend,
    /// Bad on some days, recovered by the last one.
    Transient,
    /// Nothing notable.
    Stable,
}

/// What the last day is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Reference {
    /// GA day.
    #[serde(rename = "ga")]
    Ga,
    /// Day 1.
    #[serde(rename = "day_1")]
    Day1,
    /// The day before the last.
    #[serde(rename = "previous_day")]
    PreviousDay,
}

/// How much a regression verdict can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// The last day's test and the week's trend both agree.
    High,
    /// One of the two.
    Medium,
    /// Neither.
    Low,
}

/// Degradation of the last day against one baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineComparison {
    pub baseline: Reference,
    pub baseline_value: f64,
    pub current_value: f64,
    /// Positive = worse, percent.
    pub degradation_percent: f64,
}

/// One KPI of one service over the week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KpiTrend {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    /// The KPI.
    pub kpi: Kpi,
    /// Unit of the KPI values.
    pub unit: String,
    /// Daily values, day 0 (GA) first; missing days are absent from `days`.
    pub days: Vec<u32>,
    pub values: Vec<f64>,
    /// Theil-Sen slope per day, in the KPI's unit.
    pub slope_per_day: f64,
    /// Confidence interval of the slope.
    pub slope_ci: [f64; 2],
    /// Slope as percent of the GA value per day (positive = worsening).
    pub worsening_pct_per_day: f64,
    /// The slope's interval excludes zero on the bad side.
    pub trend_significant: bool,
    /// First day of a detected step, if any.
    pub changepoint_day: Option<u32>,
    pub comparisons: Vec<BaselineComparison>,
    /// Days on which the daily test flagged drift (with its severity).
    pub flagged_days: BTreeMap<u32, Severity>,
    pub pattern: Pattern,
    /// critical, high or medium when this is a regression.
    pub severity: Option<Severity>,
    pub confidence: Confidence,
    /// Days until a configured limit is reached at the current slope (memory).
    pub days_to_limit: Option<f64>,
    pub explanation: String,
}

/// `regression/regression_summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegressionSummary {
    #[serde(flatten)]
    pub meta: ArtifactMeta,
    /// Days analysed (0 = GA).
    pub days_analyzed: Vec<u32>,
    /// KPIs that regressed (severity present), worst first.
    pub regressions: Vec<KpiTrend>,
    /// Problems seen on some days that had recovered by the last day.
    pub transient_issues: Vec<KpiTrend>,
    /// Every KPI of every service.
    pub trends: Vec<KpiTrend>,
    pub severity_counts: BTreeMap<Severity, usize>,
    pub rollback_recommendation: RollbackRecommendation,
}

fn value(summary: &crate::baseline::WindowSummary, service: &str, kpi: Kpi) -> Option<f64> {
    summary
        .service(service)
        .and_then(|s| s.kpis.get(&kpi).copied())
        .filter(|v| v.is_finite())
}

/// Analyses one KPI of one service.
pub fn analyse_kpi(
    service: &str,
    kpi: Kpi,
    ga: &GaKpiSummary,
    days: &[&StabilitySummary],
    t: &Thresholds,
    words: &dyn Words,
) -> Option<KpiTrend> {
    let v0 = value(&ga.summary, service, kpi)?;
    let (ds, vs, flagged) = daily_values(service, kpi, v0, days);
    if ds.len() < 3 {
        return None;
    }
    let x: Vec<f64> = ds.iter().map(|d| f64::from(*d)).collect();
    let fit = stats::theil_sen(&x, &vs, t.confidence)?;
    let last = *vs.last()?;
    let last_day = *ds.last()?;
    let bad_sign = match kpi.bad_direction() {
        crate::model::BadDirection::Increase => 1.0,
        crate::model::BadDirection::Decrease => -1.0,
    };
    let worsening = if v0.abs() > 1e-12 {
        bad_sign * fit.slope / v0.abs() * 100.0
    } else {
        0.0
    };
    let trend_significant = if bad_sign > 0.0 {
        fit.slope_low > 0.0
    } else {
        fit.slope_high < 0.0
    };
    // A step is reported only when two flat segments explain the days better
    // than the trend line does; a steady leak is a trend, not a step.
    let line_cost: f64 = x
        .iter()
        .zip(&vs)
        .map(|(d, v)| (v - (fit.intercept + fit.slope * d)).abs())
        .sum();
    let whole_cost: f64 = {
        let m = stats::median(&vs);
        vs.iter().map(|v| (v - m).abs()).sum()
    };
    let changepoint_day = stats::changepoint(&vs)
        .filter(|(_, gain)| *gain >= 0.5 && (1.0 - gain) * whole_cost < line_cost)
        .map(|(k, _)| ds[k]);
    let comparisons = comparisons_of(kpi, &ds, &vs);
    let deg_ga = comparisons[0].degradation_percent;
    let last_flag = flagged.get(&last_day).copied();
    let (severity, days_to_limit) = severity_ladder(
        kpi,
        Ladder {
            last_flag,
            trend_significant,
            deg_ga,
            last,
            slope: fit.slope,
            worsening,
        },
        t,
    );
    let pattern = if severity.is_some() {
        if changepoint_day.is_some() && !(trend_significant && kpi == Kpi::MemoryBytes) {
            Pattern::Step
        } else {
            Pattern::Trend
        }
    } else if flagged.values().any(|s| *s >= Severity::Medium) {
        Pattern::Transient
    } else {
        Pattern::Stable
    };
    let p_last = days
        .iter()
        .find(|d| d.day_number == last_day)
        .and_then(|d| {
            d.metrics_comparison
                .iter()
                .find(|c| c.service == service && c.kpi == kpi)
        })
        .and_then(|c| c.p_value);
    let confidence = match (p_last.is_some_and(|p| p < 0.001), trend_significant) {
        (true, true) => Confidence::High,
        (true, false) | (false, true) => Confidence::Medium,
        _ => Confidence::Low,
    };
    let explanation = words.word(&Fact::Trend {
        service: service.to_string(),
        kpi,
        ga_value: v0,
        last,
        last_day,
        slope: [fit.slope, fit.slope_low, fit.slope_high],
        changepoint_day,
        days_to_limit,
        memory_limit_bytes: t.memory_limit_bytes,
        severity,
        pattern,
        confidence,
        flagged_days: flagged.keys().copied().collect(),
    });
    Some(KpiTrend {
        service: service.to_string(),
        kpi,
        unit: kpi.unit().to_string(),
        days: ds,
        values: vs,
        slope_per_day: fit.slope,
        slope_ci: [fit.slope_low, fit.slope_high],
        worsening_pct_per_day: worsening,
        trend_significant,
        changepoint_day,
        comparisons,
        flagged_days: flagged,
        pattern,
        severity,
        confidence,
        days_to_limit,
        explanation,
    })
}

/// The day numbers and values of one KPI from GA on, and the days flagged by
/// a drift, a limit breach or a budget burn (with their severity).
fn daily_values(
    service: &str,
    kpi: Kpi,
    v0: f64,
    days: &[&StabilitySummary],
) -> (Vec<u32>, Vec<f64>, BTreeMap<u32, Severity>) {
    let mut ds = vec![0u32];
    let mut vs = vec![v0];
    let mut flagged = BTreeMap::new();
    for d in days {
        if let Some(v) = value(&d.summary, service, kpi) {
            ds.push(d.day_number);
            vs.push(v);
        }
        if let Some(c) = d
            .metrics_comparison
            .iter()
            .find(|c| c.service == service && c.kpi == kpi)
        {
            if let (Some(s), DriftStatus::Drift | DriftStatus::SloBreach) = (c.severity, c.status) {
                flagged.insert(d.day_number, s);
            }
        }
        // A burst too short to move the day's distribution still burns the
        // budget: the SLO finding flags the day for the SLI's KPI.
        let burn = d
            .slo
            .iter()
            .filter(|s| s.service == service)
            .flat_map(|s| s.findings.iter())
            .filter(|f| f.sli.kpi() == kpi)
            .map(|f| f.severity)
            .max();
        if let Some(b) = burn {
            let e = flagged.entry(d.day_number).or_insert(b);
            *e = (*e).max(b);
        }
    }
    (ds, vs, flagged)
}

/// The last day against GA, day 1 and the day before.
fn comparisons_of(kpi: Kpi, ds: &[u32], vs: &[f64]) -> Vec<BaselineComparison> {
    let (v0, last) = (vs[0], vs[vs.len() - 1]);
    let mut comparisons = vec![BaselineComparison {
        baseline: Reference::Ga,
        baseline_value: v0,
        current_value: last,
        degradation_percent: degradation(kpi, v0, last),
    }];
    if let Some(i) = ds.iter().position(|d| *d == 1) {
        comparisons.push(BaselineComparison {
            baseline: Reference::Day1,
            baseline_value: vs[i],
            current_value: last,
            degradation_percent: degradation(kpi, vs[i], last),
        });
    }
    if vs.len() >= 2 {
        let p = vs[vs.len() - 2];
        comparisons.push(BaselineComparison {
            baseline: Reference::PreviousDay,
            baseline_value: p,
            current_value: last,
            degradation_percent: degradation(kpi, p, last),
        });
    }
    comparisons
}

/// What the severity ladder reads.
struct Ladder {
    last_flag: Option<Severity>,
    trend_significant: bool,
    deg_ga: f64,
    last: f64,
    slope: f64,
    worsening: f64,
}

/// Severity from the last day's effect, escalated by a significant trend,
/// and a memory leak's projection to the limit (days left).
fn severity_ladder(kpi: Kpi, l: Ladder, t: &Thresholds) -> (Option<Severity>, Option<f64>) {
    let Ladder {
        last_flag,
        trend_significant,
        deg_ga,
        last,
        slope,
        worsening,
    } = l;
    // Severity: the last day's significant effect, escalated by a trend that is
    // itself significant; a low drift is not a regression.
    let mut severity = last_flag.filter(|s| *s >= Severity::Medium);
    if severity.is_none() && last_flag.is_some() && trend_significant {
        severity = Some(Severity::Medium);
    }
    if let Some(s) = severity {
        if trend_significant
            && s < Severity::High
            && severity_for(kpi, deg_ga, t).is_some_and(|x| x >= Severity::High)
        {
            severity = Some(Severity::High);
        }
    }
    // A leak: project the slope to the limit.
    let mut days_to_limit = None;
    if kpi == Kpi::MemoryBytes && slope > 0.0 && trend_significant {
        let left = (t.memory_limit_bytes - last) / slope;
        days_to_limit = Some(left.max(0.0));
        if left <= 7.0 {
            severity = Some(Severity::Critical);
        } else if left <= 30.0 {
            severity = severity.max(Some(Severity::High));
        } else if severity.is_none() && worsening >= 2.0 {
            severity = Some(Severity::Medium);
        }
    }
    (severity, days_to_limit)
}

/// Analyses every KPI of every service.
pub fn analyse(
    ga: &GaKpiSummary,
    days: &[StabilitySummary],
    meta: ArtifactMeta,
    t: &Thresholds,
    words: &dyn Words,
) -> RegressionSummary {
    let mut sorted: Vec<&StabilitySummary> = days.iter().collect();
    sorted.sort_by_key(|d| d.day_number);
    let mut trends = Vec::new();
    for s in &ga.summary.services {
        for kpi in Kpi::ALL {
            if let Some(tr) = analyse_kpi(&s.service, kpi, ga, &sorted, t, words) {
                trends.push(tr);
            }
        }
    }
    let mut regressions: Vec<KpiTrend> = trends
        .iter()
        .filter(|t| t.severity.is_some())
        .cloned()
        .collect();
    regressions.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(
            b.comparisons[0]
                .degradation_percent
                .total_cmp(&a.comparisons[0].degradation_percent),
        )
    });
    let transient_issues: Vec<KpiTrend> = trends
        .iter()
        .filter(|t| t.pattern == Pattern::Transient)
        .cloned()
        .collect();
    let mut severity_counts = BTreeMap::new();
    for r in &regressions {
        if let Some(s) = r.severity {
            *severity_counts.entry(s).or_insert(0) += 1;
        }
    }
    let mut fired: Vec<Fact> = regressions
        .iter()
        .filter(|r| r.severity == Some(Severity::Critical) && r.kpi.is_slo())
        .map(|r| Fact::CriticalSloRegression {
            explanation: r.explanation.clone(),
        })
        .collect();
    if let Some(last) = sorted.last() {
        fired.extend(
            last.rollback_recommendation
                .reasons
                .iter()
                .map(|r| Fact::LastDayRollback {
                    day: last.day_number,
                    reason: r.clone(),
                }),
        );
    }
    fired.dedup();
    let mut days_analyzed = vec![0];
    days_analyzed.extend(sorted.iter().map(|d| d.day_number));
    RegressionSummary {
        meta,
        days_analyzed,
        regressions,
        transient_issues,
        trends,
        severity_counts,
        rollback_recommendation: RollbackRecommendation::from_facts(&fired, words),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder(last_flag: Option<Severity>, trend: bool, deg_ga: f64) -> Ladder {
        Ladder {
            last_flag,
            trend_significant: trend,
            deg_ga,
            last: 0.0,
            slope: 0.0,
            worsening: 0.0,
        }
    }

    #[test]
    fn a_low_drift_alone_is_not_a_regression() {
        let t = Thresholds::default();
        let (s, _) = severity_ladder(
            Kpi::P99LatencyMs,
            ladder(Some(Severity::Low), false, 12.0),
            &t,
        );
        assert_eq!(s, None);
        // ... unless the trend itself is significant.
        let (s, _) = severity_ladder(
            Kpi::P99LatencyMs,
            ladder(Some(Severity::Low), true, 12.0),
            &t,
        );
        assert_eq!(s, Some(Severity::Medium));
    }

    #[test]
    fn a_significant_trend_with_a_high_effect_escalates_to_high() {
        let t = Thresholds::default();
        let (s, _) = severity_ladder(
            Kpi::P99LatencyMs,
            ladder(Some(Severity::Medium), true, 35.0),
            &t,
        );
        assert_eq!(s, Some(Severity::High));
        // Without the trend the last day's severity stands.
        let (s, _) = severity_ladder(
            Kpi::P99LatencyMs,
            ladder(Some(Severity::Medium), false, 35.0),
            &t,
        );
        assert_eq!(s, Some(Severity::Medium));
    }

    #[test]
    fn a_leak_is_graded_by_its_days_to_the_limit() {
        let t = Thresholds::default();
        let gib = 1024.0 * 1024.0 * 1024.0;
        let leak = |last: f64, slope: f64| Ladder {
            last_flag: None,
            trend_significant: true,
            deg_ga: 0.0,
            last,
            slope,
            worsening: 5.0,
        };
        // 4 GiB limit, 3 GiB used, +0.25 GiB/day: 4 days left.
        let (s, days) = severity_ladder(Kpi::MemoryBytes, leak(3.0 * gib, 0.25 * gib), &t);
        assert_eq!(s, Some(Severity::Critical));
        assert!((days.unwrap() - 4.0).abs() < 1e-9);
        // 20 days left: high.
        let (s, _) = severity_ladder(Kpi::MemoryBytes, leak(2.0 * gib, 0.1 * gib), &t);
        assert_eq!(s, Some(Severity::High));
        // 100 days left, growing 5 %/day: medium.
        let (s, _) = severity_ladder(Kpi::MemoryBytes, leak(1.0 * gib, 0.03 * gib), &t);
        assert_eq!(s, Some(Severity::Medium));
    }
}
