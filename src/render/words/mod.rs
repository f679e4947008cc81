//! The English wording of the analysis' facts: every sentence the artifacts
//! carry (`explanation`, `reasons`, `statement`, `action`, ...).
//!
//! The rules in `tars_core` state [`Fact`]s; this catalogue phrases them. A
//! different voice (terser Slack lines, another language) is another
//! [`Words`] implementation, with no change to the analysis. The match below
//! is exhaustive on purpose: a new fact does not compile until it is worded.

mod daily;
mod week;

use tars_core::facts::{Fact, Words};

/// The wording written into every artifact.
#[derive(Debug, Clone, Copy, Default)]
pub struct English;

impl Words for English {
    fn word(&self, fact: &Fact) -> String {
        daily_fact(fact).unwrap_or_else(|| week_fact(fact))
    }
}

/// Items joined with ", ".
fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(", ")
}

/// A score or `n/a`.
fn score(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |l| format!("{l:.1}"))
}

/// The facts of the daily artifacts; `None` for the week's.
fn daily_fact(fact: &Fact) -> Option<String> {
    Some(match fact {
        Fact::Comparison {
            service,
            kpi,
            baseline,
            current,
            drift_percent,
            test,
            verdict,
        } => daily::comparison(
            (service, *kpi),
            (*baseline, *current, *drift_percent),
            test.as_ref(),
            verdict,
        ),
        Fact::FleetComparison {
            kpi,
            baseline,
            current,
            drift_percent,
        } => daily::fleet(*kpi, *baseline, *current, *drift_percent),
        Fact::Cause { service, kind } => daily::cause(service, *kind),
        Fact::AvailabilityUnderLimit {
            service,
            current,
            limit,
        } => daily::availability_under(service, *current, *limit),
        Fact::ErrorRateOverLimit {
            service,
            current,
            limit,
        } => daily::error_rate_over(service, *current, *limit),
        Fact::UnrecoveredSloRegression {
            service,
            kpi,
            degradation,
            p_value,
            late_degradation,
        } => daily::unrecovered((service, *kpi), *degradation, *p_value, *late_degradation),
        Fact::DegradingTrend {
            service,
            kpi,
            degradations,
            day,
        } => daily::degrading_trend((service, *kpi), degradations, *day),
        Fact::ServiceKpi { service, kpi } => format!("{service} {kpi}"),
        Fact::BudgetItem { service, sli } => format!("{service} {} budget", sli.name()),
        Fact::IncidentsItem { incidents } => format!("{incidents} incident(s)"),
        Fact::BudgetBurn {
            service,
            sli,
            window,
            burn_rate,
            budget_spent_pct,
            ga_burn_rate,
        } => daily::budget_burn(
            (service, *sli, *window),
            *burn_rate,
            *budget_spent_pct,
            *ga_burn_rate,
        ),
        Fact::AnomalyIncidents {
            incidents,
            signals,
            by_severity,
            cap,
        } => daily::anomaly_incidents(*incidents, *signals, by_severity, *cap),
        Fact::ManyAnomalies {
            service,
            incidents,
            limit,
        } => format!("{service} had {incidents} anomaly incidents this day (limit {limit})."),
        Fact::Restarts { service, restarts } => {
            format!("{service} restarted {restarts} times this day.")
        }
        Fact::Mitigation { service, kpi } => daily::mitigation(service, *kpi),
        Fact::LowHealthTwoDays {
            score,
            previous,
            limit,
        } => daily::low_health_two_days(*score, *previous, *limit),
        Fact::LowHealthNoMitigation { score, limit } => {
            daily::low_health_no_mitigation(*score, *limit)
        }
        _ => return None,
    })
}

/// The facts of the regression analysis and the retrospective.
fn week_fact(fact: &Fact) -> String {
    match fact {
        Fact::Trend { .. } => week::trend(fact),
        Fact::CriticalSloRegression { explanation } => {
            format!("critical regression on an SLO metric: {explanation}")
        }
        Fact::LastDayRollback { day, reason } => format!("day {day}: {reason}"),
        Fact::HeadlineHealthy { days, lowest } => week::headline_healthy(*days, *lowest),
        Fact::HeadlineDrifting {
            regressions,
            worst_first,
            lowest,
        } => week::headline_drifting(*regressions, worst_first, *lowest),
        Fact::HeadlineRollback { first_reason } => {
            week::headline_rollback(first_reason.as_deref())
        }
        Fact::AtBaseline { service } => format!("{service} stayed at its GA baseline all week."),
        Fact::AtBaselineEvidence {
            days,
            p99_ga,
            p99_worst,
        } => week::at_baseline_evidence(*days, *p99_ga, *p99_worst),
        Fact::ExcellentDays { excellent, days } => {
            format!("{excellent} of {days} days scored excellent health.")
        }
        Fact::Scores { scores } => week::scores(scores),
        Fact::NoIncidents => "The anomaly detector raised no incident.".into(),
        Fact::AllRestartExplained { events } => format!(
            "anomaly_events.json holds {events} event(s), all explained by process restarts."
        ),
        Fact::Regressed {
            service,
            kpi,
            severity,
        } => week::regressed(service, *kpi, *severity),
        Fact::TransientProblem { service, kpi } => {
            format!("{service} {kpi} had a transient problem that recovered.")
        }
        Fact::NoisyService { service, incidents } => {
            format!("{service} raised {incidents} anomaly incidents.")
        }
        Fact::StrongestAnomaly { explanation } => format!("the strongest: {explanation}"),
        Fact::UnexpectedDrift {
            service,
            kpi,
            drift_percent,
            day,
        } => week::unexpected_drift(service, *kpi, *drift_percent, *day),
        Fact::Cost {
            ga_per_day,
            last_per_day,
            change_percent,
            week,
            days,
            largest_mover,
        } => week::cost(
            (*ga_per_day, *last_per_day, *change_percent, *week),
            *days,
            largest_mover.as_ref(),
        ),
        Fact::SloAllMet {
            availability_pct,
            latency_ms,
            latency_percentile,
        } => format!(
            "Every service met the {availability_pct} % availability and {latency_ms:.0} ms p{latency_percentile} objectives on every day."
        ),
        Fact::SloMissed {
            by_release,
            standing,
        } => week::slo_missed(by_release, standing),
        Fact::RollBackAction => "Roll the release back (or hold the rollout) until the critical regressions are fixed.".into(),
        Fact::FixRegression {
            service,
            kpi,
            severity,
            pattern,
            also,
        } => week::fix_regression((service, *kpi), *severity, *pattern, also),
        Fact::PostMortem { service, kpi } => format!(
            "Write a short post-mortem of the transient {kpi} problem in {service} and add a guard against a repeat."
        ),
        Fact::ReviewCost => {
            "Review the cost increase since GA and right-size the services that grew.".into()
        }
        Fact::ExplainDrift { statement } => format!("Explain the unexpected drift: {statement}"),
        Fact::HoldPromotion => "Do not promote this release further until the P0 items are closed; re-run the watch on the fixed build.".into(),
        Fact::Bisect { service, day, kpis } => week::bisect(service, *day, kpis),
        Fact::RestartBeforeLimit {
            service,
            days_to_limit,
        } => week::restart_before_limit(service, *days_to_limit),
        Fact::BurnRateAlerts => "Add burn-rate alerts (1 h and 6 h windows) on the services that missed their SLO so the next incident pages before the budget is gone.".into(),
        Fact::KeepRelease => "Keep the release; carry the GA baseline forward as the reference for the next release.".into(),
        Fact::GaAtDayEnd => "Run the GA-day collection at the end of day 0 so the baseline covers a full daily cycle.".into(),
        Fact::ContinuousDetection => "Keep anomaly detection running continuously (the Deployment/systemd unit) rather than once a day, so incidents are caught within minutes.".into(),
        Fact::RouteTransients => "Transient incidents recovered on their own but were only seen in daily summaries: route anomaly events of high severity to the on-call channel.".into(),
        Fact::RecordDeploys => "A regression began after day 1: record every deploy and config change during the watch so a changepoint can be matched to its cause.".into(),
        // Listed rather than `_`, so that a new fact fails to compile here
        // until it is worded.
        Fact::Comparison { .. }
        | Fact::FleetComparison { .. }
        | Fact::Cause { .. }
        | Fact::AvailabilityUnderLimit { .. }
        | Fact::ErrorRateOverLimit { .. }
        | Fact::UnrecoveredSloRegression { .. }
        | Fact::DegradingTrend { .. }
        | Fact::ServiceKpi { .. }
        | Fact::BudgetItem { .. }
        | Fact::IncidentsItem { .. }
        | Fact::BudgetBurn { .. }
        | Fact::AnomalyIncidents { .. }
        | Fact::ManyAnomalies { .. }
        | Fact::Restarts { .. }
        | Fact::Mitigation { .. }
        | Fact::LowHealthTwoDays { .. }
        | Fact::LowHealthNoMitigation { .. } => daily_fact(fact).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
