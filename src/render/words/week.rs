//! Sentences of the week: the regression analysis and the retrospective.

use tars_core::facts::Fact;
use tars_core::model::{serde_name, Kpi, Severity};
use tars_core::regression::Pattern;
use tars_core::retro::ServiceSloWeek;

use super::{join, score};

/// A signed change in the KPI's unit, readable (memory in MiB).
fn fmt_delta(kpi: Kpi, v: f64) -> String {
    match kpi {
        Kpi::MemoryBytes => format!("{:+.1} MiB", v / 1_048_576.0),
        _ => format!("{v:+.3} {}", kpi.unit()),
    }
}

/// One KPI's week: level, slope, step, projection and verdict.
pub(super) fn trend(fact: &Fact) -> String {
    let Fact::Trend {
        service,
        kpi,
        ga_value,
        last,
        last_day,
        slope,
        changepoint_day,
        days_to_limit,
        memory_limit_bytes,
        severity,
        pattern,
        confidence,
        flagged_days,
    } = fact
    else {
        return String::new();
    };
    let kpi = *kpi;
    let deg_ga = tars_core::drift::degradation(kpi, *ga_value, *last);
    let mut out = format!(
        "{service} {kpi}: {} on day {last_day} vs {} at GA ({deg_ga:+.1} % worse), Theil-Sen slope {}/day [{}, {}]",
        kpi.format(*last),
        kpi.format(*ga_value),
        fmt_delta(kpi, slope[0]),
        fmt_delta(kpi, slope[1]),
        fmt_delta(kpi, slope[2])
    );
    if let Some(cp) = changepoint_day {
        out.push_str(&format!(", step from day {cp}"));
    }
    if let Some(dl) = days_to_limit {
        out.push_str(&format!(
            ", {dl:.1} days to the {:.0} MiB limit",
            memory_limit_bytes / 1048576.0
        ));
    }
    out.push_str(&match (severity, pattern) {
        (Some(s), _) => format!(": {s} regression ({} confidence).", serde_name(confidence)),
        (None, Pattern::Transient) => format!(
            ": transient, flagged on day(s) {} and recovered.",
            join(flagged_days, |d| d.to_string())
        ),
        _ => ": stable.".to_string(),
    });
    out
}

pub(super) fn headline_healthy(days: usize, lowest: Option<f64>) -> String {
    format!(
        "The release held its GA baseline for {days} days: no regression, lowest health score {}.",
        score(lowest)
    )
}

pub(super) fn headline_drifting(
    regressions: usize,
    worst_first: &[(Severity, usize)],
    lowest: Option<f64>,
) -> String {
    format!(
        "The release is drifting: {regressions} regression(s) ({}), lowest health score {}.",
        join(worst_first, |(s, n)| format!("{n} {s}")),
        score(lowest)
    )
}

pub(super) fn headline_rollback(first_reason: Option<&str>) -> String {
    format!(
        "Roll back: {}",
        first_reason.unwrap_or("the regression analysis recommends it.")
    )
}

pub(super) fn at_baseline_evidence(days: usize, p99_ga: f64, p99_worst: f64) -> String {
    format!(
        "no significant drift of medium severity or worse on any of {days} days; p99 at GA {} and at worst {}.",
        Kpi::P99LatencyMs.format(p99_ga),
        Kpi::P99LatencyMs.format(p99_worst)
    )
}

pub(super) fn scores(scores: &[(u32, f64)]) -> String {
    format!(
        "scores: {}.",
        join(scores, |(d, s)| format!("day {d} {s:.1}"))
    )
}

pub(super) fn regressed(service: &str, kpi: Kpi, severity: Option<Severity>) -> String {
    format!(
        "{service} {kpi} regressed ({}).",
        severity.map_or("", |s| s.name())
    )
}

pub(super) fn unexpected_drift(service: &str, kpi: Kpi, drift_percent: f64, day: u32) -> String {
    format!("{service} {kpi} moved {drift_percent:+.1} % by day {day} without counting as a regression.")
}

pub(super) fn cost(
    (ga, last, change, week): (f64, f64, f64, f64),
    days: usize,
    mover: Option<&(String, f64)>,
) -> String {
    format!(
        "Estimated cost went from ${ga:.2}/day at GA to ${last:.2}/day ({change:+.1} %), ${week:.2} over the {days} days{}.",
        mover.map_or(String::new(), |(s, c)| format!("; the largest change is {s} ({c:+.1} %)"))
    )
}

fn describe_slo(s: &ServiceSloWeek) -> String {
    format!(
        "{} (availability met {}/{} days, worst {:.3} %; latency met {}/{} days; {:.0} % of the week's error budget used)",
        s.service,
        s.days_availability_met,
        s.days,
        s.worst_availability,
        s.days_latency_met,
        s.days,
        s.error_budget_consumed_pct
    )
}

pub(super) fn slo_missed(by_release: &[ServiceSloWeek], standing: &[ServiceSloWeek]) -> String {
    let mut parts = Vec::new();
    if !by_release.is_empty() {
        let list: Vec<String> = by_release.iter().map(describe_slo).collect();
        parts.push(format!("SLOs were missed by: {}.", list.join("; ")))
    }
    if !standing.is_empty() {
        let list: Vec<String> = standing.iter().map(describe_slo).collect();
        parts.push(format!(
            "Standing before the release and not made worse by it (see the posture table): {}.",
            list.join("; ")
        ))
    }
    parts.join(" ")
}

pub(super) fn fix_regression(
    (service, kpi): (&str, Kpi),
    severity: Severity,
    pattern: Pattern,
    also: &[Kpi],
) -> String {
    let what = match kpi {
        Kpi::MemoryBytes => "Find and fix the memory growth",
        Kpi::ErrorRate | Kpi::Availability => "Fix the source of the extra 5xx answers",
        Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs => {
            "Find and fix the latency regression"
        }
        Kpi::CpuCores => "Find the code path that costs more CPU",
        Kpi::ThroughputRps => "Find where the lost traffic goes",
    };
    let also = if also.is_empty() {
        String::new()
    } else {
        format!("; also {}", join(also, |k| k.to_string()))
    };
    format!(
        "{what} in {service} ({kpi} {severity}, {}{also}).",
        serde_name(&pattern)
    )
}

pub(super) fn bisect(service: &str, day: u32, kpis: &[Kpi]) -> String {
    format!(
        "Bisect the changes deployed just before day {day} for {service}: its {} stepped up then and stayed.",
        join(kpis, |k| k.name().to_string())
    )
}

pub(super) fn restart_before_limit(service: &str, days_to_limit: Option<f64>) -> String {
    format!(
        "Until {service}'s leak is fixed, restart it before it reaches its memory limit{}.",
        days_to_limit.map_or(String::new(), |d| format!(
            " (about {d:.1} days away at the current slope)"
        ))
    )
}
