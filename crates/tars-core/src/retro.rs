//! The day-7 retrospective (`tars retro`): seven sections, each statement
//! backed by the numbers it rests on, prioritised action items and process
//! suggestions. Computed as a typed report, then rendered to Markdown.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::baseline::GaKpiSummary;
use crate::drift::{DriftStatus, StabilitySummary};
use crate::events::incident_count;
use crate::events::AnomalyEvent;
use crate::health::HealthReport;
use crate::model::{ArtifactMeta, Kpi, RollbackRecommendation, Severity, OVERALL};
use crate::regression::{Pattern, RegressionSummary};
use crate::slo::{week_budget_consumed, PostureEntry, SloConfig};
use crate::thresholds::Thresholds;

/// The week's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Healthy,
    Drifting,
    Rollback,
}

/// A statement and the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// What happened, in one sentence.
    pub statement: String,
    /// The numbers behind it.
    pub evidence: String,
}

/// A prioritised follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ActionItem {
    /// P0 (blocker) .. P3 (nice to have).
    pub priority: String,
    /// What to do or what was found.
    pub description: String,
    pub service: Option<String>,
    /// The numbers behind it.
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DayHealth {
    /// Release day.
    pub day: u32,
    /// Health score, 0-100.
    pub score: f64,
    /// Health band.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExecutiveSummary {
    /// healthy, drifting or rollback.
    pub verdict: Verdict,
    /// The verdict in one sentence with its main number.
    pub headline: String,
    pub health_scores: Vec<DayHealth>,
    pub average_health: Option<f64>,
    pub lowest_health: Option<f64>,
    pub regressions_by_severity: BTreeMap<Severity, usize>,
    pub anomaly_incidents: usize,
    /// Anomaly events explained by a process restart (not counted as incidents).
    #[serde(default)]
    pub restart_explained_events: usize,
    pub rollback_recommended: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceCost {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    pub ga_cost_per_day_usd: f64,
    pub last_cost_per_day_usd: f64,
    pub change_percent: f64,
    pub week_cost_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostAnalysis {
    pub ga_cost_per_day_usd: f64,
    pub last_cost_per_day_usd: f64,
    pub change_percent: f64,
    /// Estimated cost of days 0-7.
    pub week_cost_usd: f64,
    pub services: Vec<ServiceCost>,
    /// What happened, in one sentence.
    pub statement: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceSloWeek {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    pub days_availability_met: usize,
    pub days_latency_met: usize,
    pub days: usize,
    pub worst_availability: f64,
    /// Share of the 7-day error budget used over the days seen, percent.
    pub error_budget_consumed_pct: f64,
    pub budget_exhausted: bool,
    /// Every miss of this service was a pre-existing condition (see `posture`):
    /// the release caused no budget burn and no drift on its SLIs.
    #[serde(default)]
    pub misses_pre_existing: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SloCompliance {
    pub availability_slo_pct: f64,
    pub p99_latency_slo_ms: f64,
    pub services: Vec<ServiceSloWeek>,
    pub all_met: bool,
    /// What happened, in one sentence.
    pub statement: String,
    /// Conditions that stood before the release (at or past the objective on
    /// GA day, not made worse): the fleet's standing debt, not the release's.
    #[serde(default)]
    pub posture: Vec<PostureEntry>,
}

/// `output/GA_7DAY_RETROSPECTIVE.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Retrospective {
    #[serde(flatten)]
    pub meta: ArtifactMeta,
    pub ga_timestamp: DateTime<Utc>,
    pub days_covered: Vec<u32>,
    pub executive_summary: ExecutiveSummary,
    pub what_went_well: Vec<Finding>,
    pub what_could_be_improved: Vec<Finding>,
    pub unexpected_drifts: Vec<Finding>,
    pub cost_analysis: CostAnalysis,
    pub slo_compliance_summary: SloCompliance,
    pub recommendations: Vec<String>,
    pub action_items: Vec<ActionItem>,
    pub process_improvements: Vec<String>,
    pub rollback_recommendation: RollbackRecommendation,
}

/// Everything the retrospective reads.
pub struct RetroInputs<'a> {
    pub ga: &'a GaKpiSummary,
    pub days: &'a [StabilitySummary],
    pub health: &'a [HealthReport],
    pub events: &'a [AnomalyEvent],
    pub regression: &'a RegressionSummary,
    pub objectives: &'a SloConfig,
}

/// Builds the retrospective.
pub fn retrospective(inp: &RetroInputs<'_>, meta: ArtifactMeta, t: &Thresholds) -> Retrospective {
    let mut days: Vec<&StabilitySummary> = inp.days.iter().collect();
    days.sort_by_key(|d| d.day_number);
    let mut health: Vec<&HealthReport> = inp.health.iter().collect();
    health.sort_by_key(|h| h.day_number);
    // Events a restart explains are reported as restarts, not incidents.
    let unexplained: Vec<&AnomalyEvent> = inp
        .events
        .iter()
        .filter(|e| e.restart_at.is_none())
        .collect();
    let w = Week {
        inp,
        days,
        reg: inp.regression,
        t,
        unexplained,
    };
    let executive_summary = executive_summary(&w, &health);
    let what_went_well = went_well(&w, &executive_summary.health_scores);
    let unexpected_drifts = unexpected_drifts(&w);
    let cost_analysis = cost_analysis(&w);
    let slo_compliance_summary = slo_compliance(inp, &w.days);
    let action_items = action_items(&w, &cost_analysis, &unexpected_drifts);
    let recommendations = recommendations(&w, &slo_compliance_summary);
    let mut days_covered = vec![0];
    days_covered.extend(w.days.iter().map(|d| d.day_number));
    Retrospective {
        meta,
        ga_timestamp: inp.ga.ga_timestamp,
        days_covered,
        executive_summary,
        what_went_well,
        what_could_be_improved: could_be_improved(&w),
        unexpected_drifts,
        cost_analysis,
        slo_compliance_summary,
        recommendations,
        action_items,
        process_improvements: process_improvements(w.reg),
        rollback_recommendation: w.reg.rollback_recommendation.clone(),
    }
}

/// What every section reads: the inputs, sorted, with the events a restart
/// does not explain.
struct Week<'a> {
    inp: &'a RetroInputs<'a>,
    days: Vec<&'a StabilitySummary>,
    reg: &'a RegressionSummary,
    t: &'a Thresholds,
    unexplained: Vec<&'a AnomalyEvent>,
}

/// Verdict, headline and the daily scores.
fn executive_summary(w: &Week<'_>, health: &[&HealthReport]) -> ExecutiveSummary {
    let reg = w.reg;
    let t = w.t;
    let scores: Vec<DayHealth> = health
        .iter()
        .map(|h| DayHealth {
            day: h.day_number,
            score: h.health_score,
            status: crate::model::serde_name(&h.status),
        })
        .collect();
    let avg = (!scores.is_empty())
        .then(|| scores.iter().map(|s| s.score).sum::<f64>() / scores.len() as f64);
    let low = scores.iter().map(|s| s.score).reduce(f64::min);
    let rollback_recommended = reg.rollback_recommendation.recommended;
    let verdict = if rollback_recommended {
        Verdict::Rollback
    } else if !reg.regressions.is_empty() || low.is_some_and(|l| l < t.health_excellent) {
        Verdict::Drifting
    } else {
        Verdict::Healthy
    };
    let headline = match verdict {
        Verdict::Healthy => format!(
            "The release held its GA baseline for {} days: no regression, lowest health score {}.",
            w.days.len(),
            low.map_or("n/a".into(), |l| format!("{l:.1}"))
        ),
        Verdict::Drifting => format!(
            "The release is drifting: {} regression(s) ({}), lowest health score {}.",
            reg.regressions.len(),
            reg.severity_counts
                .iter()
                .rev()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", "),
            low.map_or("n/a".into(), |l| format!("{l:.1}"))
        ),
        Verdict::Rollback => format!(
            "Roll back: {}",
            reg.rollback_recommendation
                .reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "the regression analysis recommends it.".into())
        ),
    };

    ExecutiveSummary {
        verdict,
        headline,
        health_scores: scores,
        average_health: avg,
        lowest_health: low,
        regressions_by_severity: reg.severity_counts.clone(),
        anomaly_incidents: incident_count(w.unexplained.iter().copied()),
        restart_explained_events: w.inp.events.len() - w.unexplained.len(),
        rollback_recommended,
    }
}

/// Services that held their baseline, excellent days, a quiet detector.
fn went_well(w: &Week<'_>, scores: &[DayHealth]) -> Vec<Finding> {
    let days = &w.days;
    let mut well = Vec::new();
    for s in &w.inp.ga.summary.services {
        let regressed = w.reg.regressions.iter().any(|r| r.service == s.service);
        let flagged_days: usize = days
            .iter()
            .filter(|d| {
                d.metrics_comparison.iter().any(|c| {
                    c.service == s.service && c.severity.is_some_and(|x| x >= Severity::Medium)
                })
            })
            .count();
        if !regressed && flagged_days == 0 {
            let p99s: Vec<f64> = days
                .iter()
                .filter_map(|d| {
                    d.summary
                        .service(&s.service)
                        .and_then(|x| x.kpis.get(&Kpi::P99LatencyMs).copied())
                })
                .collect();
            let worst = p99s.iter().copied().fold(f64::NAN, f64::max);
            well.push(Finding {
                statement: format!("{} stayed at its GA baseline all week.", s.service),
                evidence: format!(
                    "no significant drift of medium severity or worse on any of {} days; p99 at GA {} and at worst {}.",
                    w.days.len(),
                    Kpi::P99LatencyMs.format(s.kpis.get(&Kpi::P99LatencyMs).copied().unwrap_or(f64::NAN)),
                    Kpi::P99LatencyMs.format(worst)
                ),
            });
        }
    }
    let excellent = scores
        .iter()
        .filter(|s| s.score >= w.t.health_excellent)
        .count();
    if excellent > 0 {
        well.push(Finding {
            statement: format!(
                "{excellent} of {} days scored excellent health.",
                scores.len()
            ),
            evidence: format!(
                "scores: {}.",
                scores
                    .iter()
                    .map(|s| format!("day {} {:.1}", s.day, s.score))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    if w.unexplained.is_empty() {
        well.push(Finding {
            statement: "The anomaly detector raised no incident.".into(),
            evidence: format!(
                "anomaly_events.json holds {} event(s), all explained by process restarts.",
                w.inp.events.len()
            ),
        });
    }

    well
}

/// Regressions, transient problems and noisy services.
fn could_be_improved(w: &Week<'_>) -> Vec<Finding> {
    let mut improve = Vec::new();
    for r in &w.reg.regressions {
        improve.push(Finding {
            statement: format!(
                "{} {} regressed ({}).",
                r.service,
                r.kpi,
                r.severity.map_or("", |s| s.name())
            ),
            evidence: r.explanation.clone(),
        });
    }
    for r in &w.reg.transient_issues {
        improve.push(Finding {
            statement: format!(
                "{} {} had a transient problem that recovered.",
                r.service, r.kpi
            ),
            evidence: r.explanation.clone(),
        });
    }
    let mut by_service: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &w.unexplained {
        by_service.entry(e.service.as_str()).or_default();
    }
    for n in by_service.iter_mut() {
        *n.1 = incident_count(w.unexplained.iter().copied().filter(|e| e.service == *n.0));
    }
    for (svc, n) in &by_service {
        if *n >= 5 {
            let worst = w
                .unexplained
                .iter()
                .filter(|e| e.service == *svc)
                .max_by(|a, b| a.score.total_cmp(&b.score));
            improve.push(Finding {
                statement: format!("{svc} raised {n} anomaly incidents."),
                evidence: worst.map_or(String::new(), |e| {
                    format!("the strongest: {}", e.explanation)
                }),
            });
        }
    }

    improve
}

/// Significant changes on the last day that are not regressions.
fn unexpected_drifts(w: &Week<'_>) -> Vec<Finding> {
    let reg = w.reg;
    let mut drifts = Vec::new();
    if let Some(last) = w.days.last() {
        for c in last
            .metrics_comparison
            .iter()
            .filter(|c| c.service != OVERALL)
        {
            let is_reg = reg
                .regressions
                .iter()
                .any(|r| r.service == c.service && r.kpi == c.kpi);
            if is_reg {
                continue;
            }
            if c.status == DriftStatus::Improved
                || (c.drift_percent.abs() >= w.t.drift_medium_pct
                    && c.p_value.is_some_and(|p| p < w.t.significance_alpha))
            {
                drifts.push(Finding {
                    statement: format!(
                        "{} {} moved {:+.1} % by day {} without counting as a regression.",
                        c.service, c.kpi, c.drift_percent, last.day_number
                    ),
                    evidence: c.explanation.clone(),
                });
            }
        }
    }

    drifts
}

/// Cost at GA, on the last day and over the week, per service.
fn cost_analysis(w: &Week<'_>) -> CostAnalysis {
    let (inp, days) = (w.inp, &w.days);
    let ga_cost = w.inp.ga.summary.cost_per_day_usd;
    let last_cost = w
        .days
        .last()
        .map_or(ga_cost, |d| d.summary.cost_per_day_usd);
    let week_cost = ga_cost
        + w.days
            .iter()
            .map(|d| d.summary.cost_per_day_usd)
            .sum::<f64>();
    let services: Vec<ServiceCost> = inp
        .ga
        .summary
        .services
        .iter()
        .map(|s| {
            let last = days
                .last()
                .and_then(|d| d.summary.service(&s.service))
                .map_or(s.cost_per_day_usd, |x| x.cost_per_day_usd);
            let week = s.cost_per_day_usd
                + days
                    .iter()
                    .filter_map(|d| d.summary.service(&s.service))
                    .map(|x| x.cost_per_day_usd)
                    .sum::<f64>();
            ServiceCost {
                service: s.service.clone(),
                ga_cost_per_day_usd: s.cost_per_day_usd,
                last_cost_per_day_usd: last,
                change_percent: crate::drift::relative_change(s.cost_per_day_usd, last),
                week_cost_usd: week,
            }
        })
        .collect();
    let change = crate::drift::relative_change(ga_cost, last_cost);
    let mover = services
        .iter()
        .max_by(|a, b| a.change_percent.abs().total_cmp(&b.change_percent.abs()));
    CostAnalysis {
        ga_cost_per_day_usd: ga_cost,
        last_cost_per_day_usd: last_cost,
        change_percent: change,
        week_cost_usd: week_cost,
        statement: format!(
            "Estimated cost went from ${ga_cost:.2}/day at GA to ${last_cost:.2}/day ({change:+.1} %), ${week_cost:.2} over the {} days{}.",
            w.days.len() + 1,
            mover.map_or(String::new(), |m| format!("; the largest change is {} ({:+.1} %)", m.service, m.change_percent))
        ),
        services,
    }
}

/// P0 to P3 items: rollback, one per service and cause, post-mortems, cost, drifts.
fn action_items(w: &Week<'_>, cost: &CostAnalysis, drifts: &[Finding]) -> Vec<ActionItem> {
    let reg = w.reg;
    let mut items = Vec::new();
    if reg.rollback_recommendation.recommended {
        items.push(ActionItem {
            priority: "P0".into(),
            description: "Roll the release back (or hold the rollout) until the critical regressions are fixed.".into(),
            service: None,
            evidence: reg.rollback_recommendation.reasons.join(" "),
        });
    }
    // One item per service and cause: p50/p95/p99 stepping together is one
    // latency regression, error rate and availability one error problem.
    let family = |k: Kpi| match k {
        Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs => 0,
        Kpi::ErrorRate | Kpi::Availability => 1,
        other => 2 + other as u8,
    };
    let mut covered: Vec<(&str, u8)> = Vec::new();
    for r in &reg.regressions {
        if covered.contains(&(r.service.as_str(), family(r.kpi))) {
            continue;
        }
        covered.push((r.service.as_str(), family(r.kpi)));
        let also: Vec<String> = reg
            .regressions
            .iter()
            .filter(|x| x.service == r.service && x.kpi != r.kpi && family(x.kpi) == family(r.kpi))
            .map(|x| x.kpi.to_string())
            .collect();
        let also = if also.is_empty() {
            String::new()
        } else {
            format!("; also {}", also.join(", "))
        };
        let sev = r.severity.unwrap_or(Severity::Medium);
        let what = match r.kpi {
            Kpi::MemoryBytes => "Find and fix the memory growth",
            Kpi::ErrorRate | Kpi::Availability => "Fix the source of the extra 5xx answers",
            Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs => {
                "Find and fix the latency regression"
            }
            Kpi::CpuCores => "Find the code path that costs more CPU",
            Kpi::ThroughputRps => "Find where the lost traffic goes",
        };
        items.push(ActionItem {
            priority: sev.priority().into(),
            description: format!(
                "{what} in {} ({} {}, {}{also}).",
                r.service,
                r.kpi,
                sev,
                crate::model::serde_name(&r.pattern)
            ),
            service: Some(r.service.clone()),
            evidence: r.explanation.clone(),
        });
    }
    for r in &reg.transient_issues {
        items.push(ActionItem {
            priority: "P2".into(),
            description: format!("Write a short post-mortem of the transient {} problem in {} and add a guard against a repeat.", r.kpi, r.service),
            service: Some(r.service.clone()),
            evidence: r.explanation.clone(),
        });
    }
    if cost.change_percent >= 10.0 {
        items.push(ActionItem {
            priority: "P2".into(),
            description: "Review the cost increase since GA and right-size the services that grew."
                .into(),
            service: None,
            evidence: cost.statement.clone(),
        });
    }
    for f in drifts {
        items.push(ActionItem {
            priority: "P3".into(),
            description: format!("Explain the unexpected drift: {}", f.statement),
            service: None,
            evidence: f.evidence.clone(),
        });
    }
    // Same priority: most severe evidence first, by regression order already.
    items.sort_by_key(|i| i.priority.clone());

    items
}

/// What to do next, from the regressions' patterns and the SLO week.
fn recommendations(w: &Week<'_>, slo: &SloCompliance) -> Vec<String> {
    let reg = w.reg;
    let mut recs: Vec<String> = Vec::new();
    if reg.rollback_recommendation.recommended {
        recs.push("Do not promote this release further until the P0 items are closed; re-run the watch on the fixed build.".into());
    }
    // One recommendation per service and step day, naming every KPI that stepped.
    let mut steps: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    for r in reg
        .regressions
        .iter()
        .filter(|r| r.pattern == Pattern::Step)
    {
        steps
            .entry((r.service.clone(), r.changepoint_day.unwrap_or(0)))
            .or_default()
            .push(r.kpi.name().to_string());
    }
    for ((svc, day), kpis) in steps {
        recs.push(format!("Bisect the changes deployed just before day {day} for {svc}: its {} stepped up then and stayed.", kpis.join(", ")));
    }
    for r in reg.regressions.iter().filter(|r| r.kpi == Kpi::MemoryBytes) {
        recs.push(format!(
            "Until {}'s leak is fixed, restart it before it reaches its memory limit{}.",
            r.service,
            r.days_to_limit.map_or(String::new(), |d| format!(
                " (about {d:.1} days away at the current slope)"
            ))
        ));
    }
    if !slo.all_met {
        recs.push("Add burn-rate alerts (1 h and 6 h windows) on the services that missed their SLO so the next incident pages before the budget is gone.".into());
    }
    if recs.is_empty() {
        recs.push("Keep the release; carry the GA baseline forward as the reference for the next release.".into());
    }

    recs
}

/// How to run the next watch better.
fn process_improvements(reg: &RegressionSummary) -> Vec<String> {
    let mut process = vec![
        "Run the GA-day collection at the end of day 0 so the baseline covers a full daily cycle.".to_string(),
        "Keep anomaly detection running continuously (the Deployment/systemd unit) rather than once a day, so incidents are caught within minutes.".to_string(),
    ];
    if !reg.transient_issues.is_empty() {
        process.push("Transient incidents recovered on their own but were only seen in daily summaries: route anomaly events of high severity to the on-call channel.".into());
    }
    if reg
        .regressions
        .iter()
        .any(|r| r.changepoint_day.is_some_and(|d| d > 1))
    {
        process.push("A regression began after day 1: record every deploy and config change during the watch so a changepoint can be matched to its cause.".into());
    }

    process
}

/// The week against each service's objectives, with pre-existing conditions
/// told apart from what the release caused.
fn slo_compliance(inp: &RetroInputs<'_>, days: &[&StabilitySummary]) -> SloCompliance {
    let mut posture: Vec<PostureEntry> = Vec::new();
    for p in days.iter().rev().flat_map(|d| d.slo_posture.iter()) {
        if !posture
            .iter()
            .any(|x| x.service == p.service && x.sli == p.sli)
        {
            posture.push(p.clone());
        }
    }
    posture.sort_by(|a, b| a.service.cmp(&b.service).then(a.sli.cmp(&b.sli)));
    let mut services = Vec::new();
    for s in &inp.ga.summary.services {
        let rows: Vec<_> = days
            .iter()
            .filter_map(|d| d.slo.iter().find(|x| x.service == s.service))
            .collect();
        let consumed = week_budget_consumed(
            &rows
                .iter()
                .map(|r| r.error_budget_consumed_pct)
                .collect::<Vec<_>>(),
        );
        let release_caused = rows.iter().any(|r| !r.findings.is_empty())
            || days.iter().any(|d| {
                d.metrics_comparison
                    .iter()
                    .any(|c| c.service == s.service && c.kpi.is_slo() && c.severity.is_some())
            });
        let has_posture = posture.iter().any(|p| p.service == s.service);
        services.push(ServiceSloWeek {
            service: s.service.clone(),
            days_availability_met: rows.iter().filter(|r| !r.availability_breached).count(),
            days_latency_met: rows.iter().filter(|r| !r.latency_breached).count(),
            days: rows.len(),
            worst_availability: rows
                .iter()
                .map(|r| r.availability)
                .fold(f64::INFINITY, f64::min),
            error_budget_consumed_pct: consumed,
            budget_exhausted: consumed >= 100.0,
            misses_pre_existing: has_posture && !release_caused,
        });
    }
    let missed =
        |s: &&ServiceSloWeek| s.days_availability_met < s.days || s.days_latency_met < s.days;
    let all_met = !services.iter().any(|s| missed(&s));
    let describe = |s: &ServiceSloWeek| {
        format!(
            "{} (availability met {}/{} days, worst {:.3} %; latency met {}/{} days; {:.0} % of the week's error budget used)",
            s.service, s.days_availability_met, s.days, s.worst_availability, s.days_latency_met, s.days, s.error_budget_consumed_pct
        )
    };
    let by_release: Vec<String> = services
        .iter()
        .filter(|s| missed(s) && !s.misses_pre_existing)
        .map(describe)
        .collect();
    let standing: Vec<String> = services
        .iter()
        .filter(|s| missed(s) && s.misses_pre_existing)
        .map(describe)
        .collect();
    let o = inp.objectives;
    let statement = if all_met {
        format!(
            "Every service met the {} % availability and {:.0} ms p{} objectives on every day.",
            o.availability_pct, o.latency_ms, o.latency_percentile
        )
    } else {
        let mut parts = Vec::new();
        if !by_release.is_empty() {
            parts.push(format!("SLOs were missed by: {}.", by_release.join("; ")))
        }
        if !standing.is_empty() {
            parts.push(format!(
                "Standing before the release and not made worse by it (see the posture table): {}.",
                standing.join("; ")
            ))
        }
        parts.join(" ")
    };
    SloCompliance {
        availability_slo_pct: o.availability_pct,
        p99_latency_slo_ms: o.latency_ms,
        services,
        all_met,
        statement,
        posture,
    }
}
