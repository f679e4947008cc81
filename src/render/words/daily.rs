//! Sentences of the daily artifacts: drift comparisons, causes, budget burns,
//! deductions, mitigations and the daily rollback rules.

use tars_core::facts::{CauseKind, CompVerdict, LimitKind, TestNumbers};
use tars_core::model::{Kpi, Severity};
use tars_core::slo::{BurnWindow, Sli};

use super::join;

fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}

/// The test's numbers: shift, its interval and the p-value.
fn test_text(kpi: Kpi, test: Option<&TestNumbers>) -> String {
    match test {
        Some(t) => format!(
            "shift {:+.3} {} [{:+.3}, {:+.3}], {}",
            t.shift,
            kpi.unit(),
            t.ci[0],
            t.ci[1],
            fmt_p(t.p_value)
        ),
        None => "no test".to_string(),
    }
}

/// One KPI comparison: "what, test: verdict."
pub(super) fn comparison(
    (service, kpi): (&str, Kpi),
    (baseline, current, drift_percent): (f64, f64, f64),
    test: Option<&TestNumbers>,
    verdict: &CompVerdict,
) -> String {
    let what = format!(
        "{service} {kpi}: {} vs {} at GA ({drift_percent:+.1} %)",
        kpi.format(current),
        kpi.format(baseline)
    );
    let why = match verdict {
        CompVerdict::InsufficientData {
            requests,
            baseline_samples,
            current_samples,
        } => {
            return format!(
                "{what}; insufficient data to judge ({requests:.0} requests, {baseline_samples} baseline and {current_samples} current samples)."
            )
        }
        CompVerdict::Drift(sev) => format!("{sev} drift"),
        CompVerdict::Limit { kind, limit } => {
            let crossed = match kind {
                LimitKind::AvailabilityRollback => format!(
                    "availability {current:.3} % is under the {limit:.0} % rollback limit"
                ),
                LimitKind::ErrorRateRollback => format!(
                    "error rate {current:.2} % is at or above the {limit:.0} % rollback limit"
                ),
                LimitKind::ErrorRateHigh => {
                    format!("error rate {current:.2} % is at or above {limit:.0} %")
                }
            };
            format!("{crossed} (it was {} at GA)", kpi.format(baseline))
        }
        CompVerdict::Improved => "significantly better".into(),
        CompVerdict::PreExisting => "at or past its objective at GA already and not worse by the drift threshold: a standing condition, not the release".into(),
        CompVerdict::NotSignificant => "not significant".into(),
        CompVerdict::BelowThreshold => "significant but below the drift threshold".into(),
    };
    format!("{what}, {}: {why}.", test_text(kpi, test))
}

pub(super) fn fleet(kpi: Kpi, baseline: f64, current: f64, drift_percent: f64) -> String {
    format!(
        "fleet {kpi}: {} vs {} at GA ({drift_percent:+.1} %); see the per-service rows for significance.",
        kpi.format(current),
        kpi.format(baseline)
    )
}

pub(super) fn cause(svc: &str, kind: CauseKind) -> String {
    let text = match kind {
        CauseKind::Saturation => "latency and CPU rose together: saturation or a more expensive code path; check capacity and the release diff.",
        CauseKind::Waiting => "latency rose without more CPU: waiting on a dependency, a lock or I/O; check downstream calls and connection pools.",
        CauseKind::Errors => "more 5xx answers: failing dependency, bad config or a code fault; read the error logs of the window.",
        CauseKind::Memory => "resident memory grew: a leak or a bigger cache; compare heap profiles and check the trend in the regression analysis.",
        CauseKind::TrafficLoss => "traffic fell: clients failing upstream, routing or a dropped integration.",
    };
    format!("{svc}: {text}")
}

pub(super) fn availability_under(service: &str, current: f64, limit: f64) -> String {
    format!("{service}: availability {current:.3} % over the day is under {limit:.0} %.")
}

pub(super) fn error_rate_over(service: &str, current: f64, limit: f64) -> String {
    format!("{service}: error rate {current:.2} % over the day is above {limit:.0} %.")
}

pub(super) fn unrecovered(
    (service, kpi): (&str, Kpi),
    degradation: f64,
    p_value: Option<f64>,
    late: f64,
) -> String {
    format!(
        "{service}: {kpi} is {degradation:+.1} % vs GA ({}) and still {late:+.1} % in the last 6 hours: a critical regression on an SLO metric that has not recovered.",
        p_value.map_or("no test".into(), fmt_p),
    )
}

pub(super) fn degrading_trend((service, kpi): (&str, Kpi), d: &[f64; 3], day: u32) -> String {
    format!(
        "{service}: {kpi} has degraded three days running ({:+.1} %, {:+.1} %, {:+.1} % vs GA on days {}-{day}): day 3+ with a degrading trend.",
        d[0],
        d[1],
        d[2],
        day.saturating_sub(2)
    )
}

pub(super) fn budget_burn(
    (service, sli, window): (&str, Sli, BurnWindow),
    burn_rate: f64,
    budget_spent_pct: f64,
    ga_burn_rate: Option<f64>,
) -> String {
    let what = match window {
        BurnWindow::Fast1h => "worst hour",
        BurnWindow::Slow24h => "day",
    };
    let ga = ga_burn_rate.map_or("no GA day to compare".to_string(), |g| {
        format!("{g:.1}x on GA day")
    });
    format!(
        "{service}: {} budget burn over the {what} {burn_rate:.1}x ({budget_spent_pct:.1} % of the 7-day budget; {ga}).",
        sli.name()
    )
}

pub(super) fn anomaly_incidents(
    incidents: usize,
    signals: usize,
    by_severity: &[(Severity, usize)],
    cap: f64,
) -> String {
    format!(
        "{incidents} anomaly incident(s) ({signals} signal(s)) started this day ({}); 3/2/1/0.25 points per critical/high/medium/low incident, at most {cap}.",
        join(by_severity, |(s, n)| format!("{n} {s}"))
    )
}

pub(super) fn mitigation(svc: &str, kpi: Option<Kpi>) -> String {
    match kpi {
        Some(Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs) => format!(
            "Compare {svc}'s latency profile with the GA build (traces of slow requests, downstream calls, pool waits); scale out if CPU-bound; roll {svc} back if p99 stays over the SLO."
        ),
        Some(Kpi::ErrorRate | Kpi::Availability) => format!(
            "Read {svc}'s 5xx logs for the window, check its dependencies' health, and roll {svc} back if the error rate does not return under the SLO budget."
        ),
        Some(Kpi::MemoryBytes) => format!(
            "Take heap profiles of {svc} an hour apart to find the growth; schedule rolling restarts as a stop-gap and alert before the memory limit."
        ),
        Some(Kpi::CpuCores) => format!("Profile {svc}'s CPU and check autoscaling headroom; find the code path that got more expensive."),
        Some(Kpi::ThroughputRps) => format!("Check {svc}'s upstream callers, routing and client errors: traffic that disappears is failing before it reaches us."),
        None => format!("Review the anomaly incidents of {svc} and correlate them with deploys and dependency alerts."),
    }
}

pub(super) fn low_health_two_days(score: f64, previous: f64, limit: f64) -> String {
    format!(
        "health score {score:.1} today and {previous:.1} yesterday: under {limit:.0} for two consecutive days."
    )
}

pub(super) fn low_health_no_mitigation(score: f64, limit: f64) -> String {
    format!("health score {score:.1} is under {limit:.0} and there is no mitigation to try.")
}
