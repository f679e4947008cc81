//! The HTML reports: the week's retrospective
//! (`output/GA_7DAY_RETROSPECTIVE.html`) and each day's health report
//! (`health/day_NN_HEALTH.html`).
//!
//! Each page is one self-contained file: inline CSS and inline SVG charts, no
//! script, no font, image or link to fetch, so it can be mailed, attached to
//! a ticket or opened offline and looks the same. The charts are drawn by
//! [`svg`] (see docs/html-report.md for why not a plotting crate). Like the
//! Markdown, the pages only lay out report values; per-day series the
//! retrospective does not carry are read from the day summaries, health
//! reports, regression report and anomaly events it was computed from.

mod charts;
mod day;
mod svg;
mod week;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use minijinja::{context, Environment, Value};

use crate::drift::StabilitySummary;
use crate::error::{Error, Result};
use crate::health::HealthReport;
use crate::model::{serde_name, Kpi, OVERALL};
use crate::retro::{RetroInputs, Retrospective};
use crate::slo::week_budget_consumed;
use charts::{Chart, Incident, TimeAxis};
use tars_core::events::AnomalyEvent;
use tars_core::thresholds::Thresholds;

const BASE: &str = include_str!("base.html");
const RETRO: &str = include_str!("retro.html");
const HEALTH: &str = include_str!("health.html");
const MACROS: &str = include_str!("macros.html");

fn render(name: &str, ctx: Value) -> Result<String> {
    let mut env = Environment::new();
    env.add_filter("fixed", |v: Value, decimals: usize| {
        f64::try_from(v).map_or_else(|_| "no data".to_string(), |x| charts::cell(x, decimals))
    });
    // Names end in .html, so minijinja escapes every value; chart SVG is
    // built (and escaped) by `svg` and marked safe in the template.
    let templates = [
        ("base.html", BASE),
        ("macros.html", MACROS),
        ("retro.html", RETRO),
        ("health.html", HEALTH),
    ];
    for (n, src) in templates {
        env.add_template(n, src)
            .map_err(|e| Error::Render(format!("html template {n}: {e}")))?;
    }
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| Error::Render(format!("html template {name}: {e}")))
}

/// Anomaly events grouped into the detector's incidents, in time order.
fn incidents<'a>(events: impl IntoIterator<Item = &'a AnomalyEvent>) -> Vec<Incident> {
    let mut by_id: BTreeMap<&str, Incident> = BTreeMap::new();
    for e in events {
        let i = by_id.entry(&e.incident_id).or_insert_with(|| Incident {
            service: e.service.clone(),
            start: e.start,
            end: e.end,
            severity: e.severity,
            kpis: Vec::new(),
            restart: true,
        });
        i.start = i.start.min(e.start);
        i.end = i.end.max(e.end);
        i.severity = i.severity.max(e.severity);
        if !i.kpis.contains(&e.kpi) {
            i.kpis.push(e.kpi.clone());
        }
        i.restart &= e.restart_at.is_some();
    }
    let mut out: Vec<Incident> = by_id.into_values().collect();
    out.sort_by(|a, b| (a.start, &a.service).cmp(&(b.start, &b.service)));
    out
}

/// Ticks at each day boundary from `ga`, labelled with the day number.
fn week_axis(ga: DateTime<Utc>, days: u32) -> TimeAxis {
    TimeAxis {
        span: (ga, ga + Duration::days(i64::from(days) + 1)),
        ticks: (0..=days + 1)
            .map(|d| (ga + Duration::days(i64::from(d)), format!("day {d}")))
            .collect(),
        label: "time since GA (ticks at the start of each release day, UTC)".into(),
    }
}

/// Availability budget remaining after each day, per service: 100 minus
/// what the days so far consumed (summed as the retrospective sums them).
fn budget_remaining(days: &[StabilitySummary]) -> Vec<(String, Vec<(u32, f64)>)> {
    let mut spent: BTreeMap<&str, Vec<(u32, f64)>> = BTreeMap::new();
    let mut sorted: Vec<&StabilitySummary> = days.iter().collect();
    sorted.sort_by_key(|d| d.day_number);
    for d in sorted {
        for s in &d.slo {
            spent
                .entry(&s.service)
                .or_default()
                .push((d.day_number, s.error_budget_consumed_pct));
        }
    }
    spent
        .into_iter()
        .map(|(svc, per_day)| {
            let remaining = (0..per_day.len())
                .map(|i| {
                    let so_far: Vec<f64> = per_day[..=i].iter().map(|p| p.1).collect();
                    (per_day[i].0, 100.0 - week_budget_consumed(&so_far))
                })
                .collect();
            (svc.to_string(), remaining)
        })
        .collect()
}

/// Services with a finding anywhere in the week: a regression, a transient
/// issue, or a degradation on some day's health report.
fn services_with_findings(inp: &RetroInputs<'_>) -> Vec<String> {
    let reg = inp.regression;
    let mut out: BTreeSet<String> = reg
        .regressions
        .iter()
        .chain(&reg.transient_issues)
        .map(|t| t.service.clone())
        .collect();
    out.extend(
        inp.health
            .iter()
            .flat_map(|h| h.degradations.iter().map(|d| d.service.clone())),
    );
    out.remove(OVERALL);
    out.into_iter().collect()
}

/// Per service, the KPI charts of the week: flagged KPIs first, the rest
/// kept apart so the page leads with what moved.
fn kpi_charts(inp: &RetroInputs<'_>, t: &Thresholds) -> Vec<Value> {
    let mut by_service: BTreeMap<&str, (Vec<Chart>, Vec<Chart>)> = BTreeMap::new();
    for (n, tr) in inp.regression.trends.iter().enumerate() {
        let ga = inp
            .ga
            .summary
            .service(&tr.service)
            .and_then(|s| s.kpis.get(&tr.kpi).copied());
        let chart = week::kpi_week(&format!("kpi-{n}"), tr, ga, t);
        let slot = by_service.entry(&tr.service).or_default();
        if tr.flagged_days.is_empty() {
            slot.1.push(chart);
        } else {
            slot.0.push(chart);
        }
    }
    by_service
        .into_iter()
        .map(|(svc, (flagged, steady))| context! { service => svc, flagged, steady })
        .collect()
}

/// The week's report as one self-contained HTML page.
pub fn render_retro_html(
    r: &Retrospective,
    inp: &RetroInputs<'_>,
    t: &Thresholds,
) -> Result<String> {
    let es = &r.executive_summary;
    let scores: Vec<(u32, f64)> = es.health_scores.iter().map(|h| (h.day, h.score)).collect();
    let worst = es
        .health_scores
        .iter()
        .filter(|h| h.score.is_finite())
        .min_by(|a, b| a.score.total_cmp(&b.score));
    let last_day = r.days_covered.iter().copied().max().unwrap_or(7).max(7);
    let trends: Vec<Chart> = inp
        .regression
        .regressions
        .iter()
        .enumerate()
        .map(|(n, tr)| {
            let limit = (tr.kpi == Kpi::MemoryBytes).then_some(t.memory_limit_bytes);
            week::trend(&format!("trend-{n}"), tr, limit)
        })
        .collect();
    let ctx = context! {
        r => Value::from_serialize(r),
        meta => Value::from_serialize(&r.meta),
        verdict => serde_name(&es.verdict),
        worst => worst.map(|h| context! { day => h.day, score => format!("{:.1}", h.score), status => h.status.clone() }),
        services => services_with_findings(inp),
        health => week::health_week("health", &scores, t),
        incidents => charts::timeline(
            "incidents",
            "Anomaly incidents over the week",
            &week_axis(r.ga_timestamp, last_day),
            &incidents(inp.events),
        ),
        budget => week::budget_week("budget", &budget_remaining(inp.days)),
        trends,
        transient => inp.regression.transient_issues.iter().map(|t| t.explanation.clone()).collect::<Vec<_>>(),
        kpis => kpi_charts(inp, t),
        drift_low_pct => t.drift_low_pct,
        confidence_pct => format!("{:.0}", t.confidence * 100.0),
    };
    render("retro.html", ctx)
}

/// One day's health report as one self-contained HTML page: `summary` is the
/// day summary it was computed from, `events` the anomaly events of the day.
pub fn render_health_html(
    h: &HealthReport,
    summary: &StabilitySummary,
    events: &[&AnomalyEvent],
    t: &Thresholds,
) -> Result<String> {
    let w = h.meta.window;
    let axis = TimeAxis {
        span: (w.start, w.end),
        ticks: (0..=8)
            .map(|i| w.start + Duration::hours(3 * i))
            .filter(|x| *x <= w.end)
            .map(|x| (x, x.format("%H:%M").to_string()))
            .collect(),
        label: format!("time of day {} (UTC)", h.day_number),
    };
    let mut services: BTreeMap<&str, Vec<&crate::drift::MetricComparison>> = BTreeMap::new();
    for m in &summary.metrics_comparison {
        services.entry(&m.service).or_default().push(m);
    }
    let drift: Vec<Chart> = services
        .iter()
        .enumerate()
        .map(|(n, (svc, rows))| day::degradations(&format!("drift-{n}"), svc, rows, t))
        .collect();
    let spent: Vec<(String, f64)> = h
        .slo
        .iter()
        .map(|s| (s.service.clone(), s.error_budget_consumed_pct))
        .collect();
    let ctx = context! {
        h => Value::from_serialize(h),
        meta => Value::from_serialize(&h.meta),
        status => serde_name(&h.status),
        gauge => day::health_gauge("gauge", h.health_score, h.status, t),
        incidents => charts::timeline(
            "incidents",
            &format!("Anomaly incidents on day {}", h.day_number),
            &axis,
            &incidents(events.iter().copied()),
        ),
        budget => day::budget_day("budget", &spent),
        drift,
        drift_low_pct => t.drift_low_pct,
    };
    render("health.html", ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    fn event(
        incident: &str,
        kpi: &str,
        start_min: i64,
        sev: Severity,
        restart: bool,
    ) -> AnomalyEvent {
        let t0 = DateTime::<Utc>::from_timestamp(1_763_424_000, 0).unwrap();
        let start = t0 + Duration::minutes(start_min);
        AnomalyEvent {
            id: format!("api/{kpi}/{start_min}"),
            incident_id: incident.into(),
            timestamp: start,
            start,
            end: start + Duration::minutes(10),
            peak_time: start,
            day_number: Some(0),
            service: "api".into(),
            kpi: kpi.into(),
            unit: "ms".into(),
            observed: 1.0,
            expected: None,
            band: None,
            score: 0.9,
            severity: sev,
            duration_minutes: 10.0,
            points: 10,
            reason: "test".into(),
            restart_at: restart.then_some(start),
            explanation: String::new(),
        }
    }

    #[test]
    fn events_of_one_incident_become_one_bar() {
        let evs = [
            event("api/2", "error_rate", 60, Severity::Low, true),
            event("api/1", "p99_latency_ms", 0, Severity::Medium, false),
            event("api/1", "p95_latency_ms", 5, Severity::Critical, true),
            event("api/2", "availability", 62, Severity::Low, true),
        ];
        let inc = incidents(&evs);
        assert_eq!(inc.len(), 2);
        let first = &inc[0];
        assert_eq!(first.severity, Severity::Critical, "the worst signal");
        assert_eq!(first.kpis, ["p99_latency_ms", "p95_latency_ms"]);
        assert_eq!((first.end - first.start).num_minutes(), 15);
        assert!(!first.restart, "one signal is not explained by a restart");
        assert!(inc[1].restart, "every signal is");
        assert!(incidents(&[]).is_empty());
    }
}
