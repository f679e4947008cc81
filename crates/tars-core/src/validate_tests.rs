//! One test per rule of `validate`, on small hand-built artifacts: each
//! starts from a valid one, breaks one field, and checks the field path and
//! the rule named.

use super::*;
use crate::baseline::ServiceKpis;
use crate::drift::tests::day_with;
use crate::drift::DriftStatus;
use crate::health::{Category, Deduction};
use crate::model::Severity;

fn now() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn svc(name: &str) -> ServiceKpis {
    ServiceKpis {
        service: name.into(),
        kpis: [(Kpi::P99LatencyMs, 100.0), (Kpi::Availability, 99.9)]
            .into_iter()
            .collect(),
        cost_per_day_usd: 1.0,
        restarts: 0,
        samples: [(Kpi::P99LatencyMs, vec![90.0, 110.0])]
            .into_iter()
            .collect(),
    }
}

fn day(n: u32) -> StabilitySummary {
    let mut d = day_with(n, 0.0, DriftStatus::Ok);
    d.summary.services = vec![svc("checkout"), svc("auth")];
    d
}

fn ga() -> GaKpiSummary {
    let d = day(1);
    let mut meta = d.meta.clone();
    meta.kind = kind::GA.into();
    meta.window = Window::day(d.ga_timestamp, 0);
    GaKpiSummary {
        meta,
        ga_timestamp: d.ga_timestamp,
        summary: d.summary,
    }
}

fn health(n: u32) -> HealthReport {
    let mut h = crate::retro::tests::health(n, 90.0);
    h.meta.kind = kind::HEALTH.into();
    h.breakdown = vec![Deduction {
        category: Category::Drift,
        item: "x".into(),
        points: 10.0,
        reason: String::new(),
    }];
    h
}

fn event(service: &str, kpi: &str, ts: i64) -> AnomalyEvent {
    let t = DateTime::from_timestamp(ts, 0).unwrap();
    AnomalyEvent {
        id: format!("{service}/{kpi}/{ts}"),
        incident_id: format!("{service}/{ts}"),
        timestamp: t,
        start: t,
        end: t + Duration::minutes(10),
        peak_time: t,
        day_number: Some(1),
        service: service.into(),
        kpi: kpi.into(),
        unit: "ms".into(),
        observed: 1.0,
        expected: None,
        band: None,
        score: 0.9,
        severity: Severity::High,
        duration_minutes: 10.0,
        points: 10,
        reason: String::new(),
        restart_at: None,
        explanation: String::new(),
    }
}

/// The field and the start of the rule `r` names.
fn fails(r: Checked, field: &str, rule: &str) {
    let v = r.expect_err("the rule should have refused");
    assert_eq!(v.field, field, "{v}");
    assert!(v.rule.contains(rule), "{v}");
}

#[test]
fn valid_artifacts_pass() {
    assert_eq!(ga().check(now()), Ok(()));
    assert_eq!(day(3).check(now()), Ok(()));
    assert_eq!(health(3).check(now()), Ok(()));
    assert_eq!(
        check_events(&[event("a", "error_rate", 1_763_500_000)], now()),
        Ok(())
    );
    assert_eq!(check_same_shape(&day(2).summary, &ga().summary), Ok(()));
}

#[test]
fn a_wrong_kind_names_what_the_file_is() {
    let mut s = ga();
    s.meta.kind = kind::STABILITY.into();
    fails(
        s.check(now()),
        "kind",
        "is \"stability_summary\", expected \"ga_kpi_summary\" (this is a day's stability summary",
    );
    fails(
        check_kind("zz", kind::HEALTH),
        "kind",
        "is \"zz\", expected \"health_report\"",
    );
}

#[test]
fn percentages_stay_within_0_and_100() {
    let mut s = ga();
    s.summary.overall_availability = 100.5;
    fails(
        s.check(now()),
        "availability",
        "100.5 is out of range (must be 0 to 100 %)",
    );
    let mut s = ga();
    s.summary.services[1].kpis.insert(Kpi::ErrorRate, -0.1);
    fails(
        s.check(now()),
        "services[1].kpis.error_rate",
        "-0.1 is out of range",
    );
}

#[test]
fn latencies_are_non_negative_and_bounded() {
    let mut s = day(2);
    s.summary.services[0].kpis.insert(Kpi::P99LatencyMs, 1e308);
    fails(
        s.check(now()),
        "services[0].kpis.p99_latency_ms",
        "1e308 is out of range",
    );
    let mut s = day(2);
    s.summary.p50_latency_ms = -1.0;
    fails(s.check(now()), "p50_latency_ms", "-1 is out of range");
    let mut s = day(2);
    s.summary.services[0]
        .samples
        .insert(Kpi::P99LatencyMs, vec![1.0, f64::NAN]);
    fails(
        s.check(now()),
        "services[0].samples.p99_latency_ms[1]",
        "NaN is not a finite",
    );
}

#[test]
fn comparisons_are_checked_too() {
    let mut s = day(2);
    s.metrics_comparison[0].current = f64::INFINITY;
    fails(
        s.check(now()),
        "metrics_comparison[0].current",
        "inf is not a finite",
    );
    let mut s = day(2);
    s.metrics_comparison[0].p_value = Some(1.5);
    fails(
        s.check(now()),
        "metrics_comparison[0].p_value",
        "1.5 is out of range",
    );
}

#[test]
fn costs_are_non_negative() {
    let mut s = ga();
    s.summary.services[0].cost_per_day_usd = -3.0;
    fails(
        s.check(now()),
        "services[0].cost_per_day_usd",
        "-3 is out of range",
    );
}

#[test]
fn service_names_are_set_and_unique() {
    let mut s = ga();
    s.summary.services[1].service = "checkout".into();
    fails(
        s.check(now()),
        "services[1].service",
        "\"checkout\" appears twice",
    );
    s.summary.services[1].service = " ".into();
    fails(
        s.check(now()),
        "services[1].service",
        "is not a service name",
    );
}

#[test]
fn a_ga_in_the_future_or_before_2000_is_refused() {
    let mut s = ga();
    s.ga_timestamp = "2099-01-01T00:00:00Z".parse().unwrap();
    s.meta.window = Window::day(s.ga_timestamp, 0);
    fails(s.check(now()), "window.start", "is in the future");
    let mut s = ga();
    s.ga_timestamp = "1999-01-01T00:00:00Z".parse().unwrap();
    fails(s.check(now()), "ga_timestamp", "is before 2000");
    // A day of clock skew is tolerated.
    assert!(check_time("t", now() + Duration::hours(23), now()).is_ok());
}

#[test]
fn a_baseline_window_starts_at_ga() {
    let mut s = ga();
    s.meta.window = Window::day(s.ga_timestamp, 1);
    fails(s.check(now()), "window.start", "is not the GA instant");
}

#[test]
fn a_window_ends_after_it_starts() {
    let mut s = day(2);
    s.meta.window.end = s.meta.window.start - Duration::hours(1);
    fails(s.check(now()), "window.end", "is before the window's start");
}

#[test]
fn a_day_is_in_the_week_and_named_for_its_file() {
    let mut s = day(2);
    s.day_number = 9;
    fails(
        s.check(now()),
        "day_number",
        "9 is not a day of the release week",
    );
    fails(
        check_named_day(4, 3),
        "day_number",
        "is 4 but the file is named for day 3",
    );
    assert!(check_named_day(3, 3).is_ok());
}

#[test]
fn a_health_score_is_within_0_and_100() {
    let mut h = health(2);
    h.health_score = 101.0;
    fails(h.check(now()), "health_score", "101 is out of range");
    let mut h = health(2);
    h.breakdown[0].points = f64::NAN;
    fails(h.check(now()), "breakdown[0].points", "NaN");
    let mut h = health(2);
    h.day_number = 0;
    fails(h.check(now()), "day_number", "0 is not a day");
}

#[test]
fn events_have_sane_times_and_scores() {
    let mut e = event("a", "error_rate", 1_763_500_000);
    e.score = 2.0;
    fails(check_events(&[e], now()), "[0].score", "2 is out of range");
    let mut e = event("a", "error_rate", 1_763_500_000);
    e.end = e.start - Duration::minutes(1);
    fails(
        check_events(&[e], now()),
        "[0].end",
        "before the window's start",
    );
    let e = event("a", "error_rate", 4_070_908_800);
    fails(check_events(&[e], now()), "[0].timestamp", "in the future");
    let mut e = event("a", "error_rate", 1_763_500_000);
    e.observed = f64::NAN;
    fails(check_events(&[e], now()), "[0].observed", "NaN");
}

#[test]
fn repeated_events_are_dropped_keeping_the_first() {
    let mut first = event("a", "error_rate", 100);
    first.score = 0.7;
    let mut events = vec![
        first,
        event("a", "p99_latency_ms", 100),
        event("a", "error_rate", 100),
        event("b", "error_rate", 100),
        event("a", "error_rate", 160),
    ];
    assert_eq!(dedup_events(&mut events), 1);
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].score, 0.7);
    assert_eq!(dedup_events(&mut events), 0);
}

#[test]
fn a_renamed_service_label_is_named() {
    let mut d = day(2);
    d.summary.services[1].service = "auth-v2".into();
    fails(
        check_same_shape(&d.summary, &ga().summary),
        "services",
        "missing [auth], not in the baseline [auth-v2]",
    );
}

#[test]
fn a_changed_kpi_catalogue_is_named() {
    let mut d = day(2);
    for s in &mut d.summary.services {
        s.kpis.remove(&Kpi::Availability);
    }
    fails(
        check_same_shape(&d.summary, &ga().summary),
        "services[].kpis",
        "missing [availability]",
    );
    // One service without a KPI for a day is a data gap, not a new catalogue.
    let mut d = day(2);
    d.summary.services[0].kpis.remove(&Kpi::Availability);
    assert!(check_same_shape(&d.summary, &ga().summary).is_ok());
}

#[test]
fn week_gaps_are_missing_and_duplicated_days() {
    assert_eq!(week_gaps(&[1, 2, 3, 4, 5, 6, 7]), WeekGaps::default());
    let g = week_gaps(&[1, 2, 3, 3, 5, 7]);
    assert_eq!(g.missing, [4, 6]);
    assert_eq!(g.duplicated, [3]);
}

#[test]
#[rustfmt::skip]
fn thresholds_must_be_finite_non_negative_and_in_range() {
    assert!(check_thresholds(&Thresholds::default()).is_ok());
    let d = Thresholds::default;
    let cases = [
        (Thresholds { drift_low_pct: f64::NAN, ..d() }, "drift_low_pct", "NaN is not a finite"),
        (Thresholds { min_requests: -1.0, ..d() }, "min_requests", "-1 is negative"),
        (Thresholds { health_good: 120.0, ..d() }, "health_good", "120 is out of range"),
        (Thresholds { significance_alpha: 0.0, ..d() }, "significance_alpha", "between 0 and 1"),
    ];
    for (t, field, rule) in cases {
        fails(check_thresholds(&t), &format!("thresholds.{field}"), rule);
    }
}

#[test]
fn prices_must_be_finite_and_non_negative() {
    assert!(check_pricing(&Pricing::default()).is_ok());
    let p = Pricing {
        cpu_core_hour_usd: -0.1,
        ..Pricing::default()
    };
    fails(check_pricing(&p), "pricing.cpu_core_hour_usd", "negative");
}

#[test]
fn a_violation_reads_as_field_then_rule() {
    let v = Violation::new("services[0].kpis.p99_latency_ms", "1e308 is out of range");
    assert_eq!(
        v.to_string(),
        "field `services[0].kpis.p99_latency_ms`: 1e308 is out of range"
    );
}
