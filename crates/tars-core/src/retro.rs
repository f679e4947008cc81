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
use crate::facts::{Fact, Words};
use crate::health::{HealthReport, HealthStatus};
use crate::model::{ArtifactMeta, Kpi, Priority, RollbackRecommendation, Severity, OVERALL};
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
    pub priority: Priority,
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
    pub status: HealthStatus,
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
pub fn retrospective(
    inp: &RetroInputs<'_>,
    meta: ArtifactMeta,
    t: &Thresholds,
    words: &dyn Words,
) -> Retrospective {
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
        words,
    };
    let executive_summary = executive_summary(&w, &health);
    let what_went_well = went_well(&w, &executive_summary.health_scores);
    let unexpected_drifts = unexpected_drifts(&w);
    let cost_analysis = cost_analysis(&w);
    let slo_compliance_summary = slo_compliance(inp, &w.days, words);
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
        process_improvements: process_improvements(w.reg)
            .iter()
            .map(|f| words.word(f))
            .collect(),
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
    words: &'a dyn Words,
}

impl Week<'_> {
    fn finding(&self, statement: Fact, evidence: Fact) -> Finding {
        Finding {
            statement: self.words.word(&statement),
            evidence: self.words.word(&evidence),
        }
    }
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
            status: h.status,
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
    let headline = w.words.word(&match verdict {
        Verdict::Healthy => Fact::HeadlineHealthy {
            days: w.days.len(),
            lowest: low,
        },
        Verdict::Drifting => Fact::HeadlineDrifting {
            regressions: reg.regressions.len(),
            worst_first: reg
                .severity_counts
                .iter()
                .rev()
                .map(|(s, n)| (*s, *n))
                .collect(),
            lowest: low,
        },
        Verdict::Rollback => Fact::HeadlineRollback {
            first_reason: reg.rollback_recommendation.reasons.first().cloned(),
        },
    });

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
            well.push(w.finding(
                Fact::AtBaseline {
                    service: s.service.clone(),
                },
                Fact::AtBaselineEvidence {
                    days: w.days.len(),
                    p99_ga: s.kpis.get(&Kpi::P99LatencyMs).copied().unwrap_or(f64::NAN),
                    p99_worst: worst,
                },
            ));
        }
    }
    let excellent = scores
        .iter()
        .filter(|s| s.score >= w.t.health_excellent)
        .count();
    if excellent > 0 {
        well.push(w.finding(
            Fact::ExcellentDays {
                excellent,
                days: scores.len(),
            },
            Fact::Scores {
                scores: scores.iter().map(|s| (s.day, s.score)).collect(),
            },
        ));
    }
    if w.unexplained.is_empty() {
        well.push(w.finding(
            Fact::NoIncidents,
            Fact::AllRestartExplained {
                events: w.inp.events.len(),
            },
        ));
    }

    well
}

/// Regressions, transient problems and noisy services.
fn could_be_improved(w: &Week<'_>) -> Vec<Finding> {
    let mut improve = Vec::new();
    for r in &w.reg.regressions {
        improve.push(Finding {
            statement: w.words.word(&Fact::Regressed {
                service: r.service.clone(),
                kpi: r.kpi,
                severity: r.severity,
            }),
            evidence: r.explanation.clone(),
        });
    }
    for r in &w.reg.transient_issues {
        improve.push(Finding {
            statement: w.words.word(&Fact::TransientProblem {
                service: r.service.clone(),
                kpi: r.kpi,
            }),
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
                statement: w.words.word(&Fact::NoisyService {
                    service: svc.to_string(),
                    incidents: *n,
                }),
                evidence: worst.map_or(String::new(), |e| {
                    w.words.word(&Fact::StrongestAnomaly {
                        explanation: e.explanation.clone(),
                    })
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
                    statement: w.words.word(&Fact::UnexpectedDrift {
                        service: c.service.clone(),
                        kpi: c.kpi,
                        drift_percent: c.drift_percent,
                        day: last.day_number,
                    }),
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
        statement: w.words.word(&Fact::Cost {
            ga_per_day: ga_cost,
            last_per_day: last_cost,
            change_percent: change,
            week: week_cost,
            days: w.days.len() + 1,
            largest_mover: mover.map(|m| (m.service.clone(), m.change_percent)),
        }),
        services,
    }
}

/// P0 to P3 items: rollback, one per service and cause, post-mortems, cost, drifts.
fn action_items(w: &Week<'_>, cost: &CostAnalysis, drifts: &[Finding]) -> Vec<ActionItem> {
    let reg = w.reg;
    let mut items = Vec::new();
    if reg.rollback_recommendation.recommended {
        items.push(ActionItem {
            priority: Priority::P0,
            description: w.words.word(&Fact::RollBackAction),
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
        let also: Vec<Kpi> = reg
            .regressions
            .iter()
            .filter(|x| x.service == r.service && x.kpi != r.kpi && family(x.kpi) == family(r.kpi))
            .map(|x| x.kpi)
            .collect();
        let sev = r.severity.unwrap_or(Severity::Medium);
        items.push(ActionItem {
            priority: Priority::of(sev),
            description: w.words.word(&Fact::FixRegression {
                service: r.service.clone(),
                kpi: r.kpi,
                severity: sev,
                pattern: r.pattern,
                also,
            }),
            service: Some(r.service.clone()),
            evidence: r.explanation.clone(),
        });
    }
    for r in &reg.transient_issues {
        items.push(ActionItem {
            priority: Priority::P2,
            description: w.words.word(&Fact::PostMortem {
                service: r.service.clone(),
                kpi: r.kpi,
            }),
            service: Some(r.service.clone()),
            evidence: r.explanation.clone(),
        });
    }
    if cost.change_percent >= 10.0 {
        items.push(ActionItem {
            priority: Priority::P2,
            description: w.words.word(&Fact::ReviewCost),
            service: None,
            evidence: cost.statement.clone(),
        });
    }
    for f in drifts {
        items.push(ActionItem {
            priority: Priority::P3,
            description: w.words.word(&Fact::ExplainDrift {
                statement: f.statement.clone(),
            }),
            service: None,
            evidence: f.evidence.clone(),
        });
    }
    // Same priority: most severe evidence first, by regression order already.
    items.sort_by_key(|i| i.priority);

    items
}

/// What to do next, from the regressions' patterns and the SLO week.
fn recommendations(w: &Week<'_>, slo: &SloCompliance) -> Vec<String> {
    let reg = w.reg;
    let mut recs: Vec<Fact> = Vec::new();
    if reg.rollback_recommendation.recommended {
        recs.push(Fact::HoldPromotion);
    }
    // One recommendation per service and step day, naming every KPI that stepped.
    let mut steps: BTreeMap<(String, u32), Vec<Kpi>> = BTreeMap::new();
    for r in reg
        .regressions
        .iter()
        .filter(|r| r.pattern == Pattern::Step)
    {
        steps
            .entry((r.service.clone(), r.changepoint_day.unwrap_or(0)))
            .or_default()
            .push(r.kpi);
    }
    for ((service, day), kpis) in steps {
        recs.push(Fact::Bisect { service, day, kpis });
    }
    for r in reg.regressions.iter().filter(|r| r.kpi == Kpi::MemoryBytes) {
        recs.push(Fact::RestartBeforeLimit {
            service: r.service.clone(),
            days_to_limit: r.days_to_limit,
        });
    }
    if !slo.all_met {
        recs.push(Fact::BurnRateAlerts);
    }
    if recs.is_empty() {
        recs.push(Fact::KeepRelease);
    }
    recs.iter().map(|f| w.words.word(f)).collect()
}

/// How to run the next watch better.
fn process_improvements(reg: &RegressionSummary) -> Vec<Fact> {
    let mut process = vec![Fact::GaAtDayEnd, Fact::ContinuousDetection];
    if !reg.transient_issues.is_empty() {
        process.push(Fact::RouteTransients);
    }
    if reg
        .regressions
        .iter()
        .any(|r| r.changepoint_day.is_some_and(|d| d > 1))
    {
        process.push(Fact::RecordDeploys);
    }
    process
}

/// The week against each service's objectives, with pre-existing conditions
/// told apart from what the release caused.
fn slo_compliance(
    inp: &RetroInputs<'_>,
    days: &[&StabilitySummary],
    words: &dyn Words,
) -> SloCompliance {
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
    let o = inp.objectives;
    let statement = words.word(&if all_met {
        Fact::SloAllMet {
            availability_pct: o.availability_pct,
            latency_ms: o.latency_ms,
            latency_percentile: o.latency_percentile,
        }
    } else {
        let pick = |standing: bool| {
            services
                .iter()
                .filter(|s| missed(s) && s.misses_pre_existing == standing)
                .cloned()
                .collect()
        };
        Fact::SloMissed {
            by_release: pick(false),
            standing: pick(true),
        }
    });
    SloCompliance {
        availability_slo_pct: o.availability_pct,
        p99_latency_slo_ms: o.latency_ms,
        services,
        all_met,
        statement,
        posture,
    }
}

#[cfg(test)]
#[path = "retro_tests.rs"]
pub(crate) mod tests;
