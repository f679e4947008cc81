//! The pipeline against the simulator's ground truth: what was injected must
//! be found on the right service, KPI and day, and a healthy release must
//! stay quiet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use tars::anomaly::AnomalyEvent;
use tars::config::Config;
use tars::health::{Category, HealthReport};
use tars::model::{Kpi, Priority, Severity, Window};
use tars::pipeline::{self, layout};
use tars::regression::RegressionSummary;
use tars::source::sim::{parse_spec, InjectionKind, Scenario, Simulator};

struct Run {
    _dir: tempfile::TempDir,
    data: PathBuf,
    sim: Simulator,
}

fn ga() -> DateTime<Utc> {
    "2025-11-18T00:00:00Z".parse().unwrap()
}

/// The whole week on `spec` (`sim:SCENARIO[:SEED[:STEP]]`), run once per test binary.
fn run_spec(spec: &str) -> &'static Run {
    static RUNS: OnceLock<Mutex<BTreeMap<String, &'static Run>>> = OnceLock::new();
    let runs = RUNS.get_or_init(Default::default);
    if let Some(r) = runs.lock().unwrap().get(spec) {
        return r;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sim = parse_spec(spec).unwrap().build(ga());
    pipeline::run_all(&sim, ga(), &data, &Config::default()).unwrap();
    let run: &'static Run = Box::leak(Box::new(Run {
        _dir: dir,
        data,
        sim,
    }));
    runs.lock().unwrap().entry(spec.to_string()).or_insert(run)
}

fn run(scenario: Scenario) -> &'static Run {
    run_spec(&format!("sim:{}", scenario.name()))
}

fn health(data: &Path, day: u32) -> HealthReport {
    tars::io::read_json(
        &data.join(layout::HEALTH_DIR).join(layout::day_health(day)),
        "health",
    )
    .unwrap()
}

fn events(data: &Path) -> Vec<AnomalyEvent> {
    tars::anomaly::events::read_events(&data.join(layout::ANOMALY_DIR).join(layout::ANOMALY_FILE))
        .unwrap()
}

fn regression(data: &Path) -> RegressionSummary {
    tars::io::read_json(
        &data
            .join(layout::REGRESSION_DIR)
            .join(layout::REGRESSION_FILE),
        "regression",
    )
    .unwrap()
}

#[test]
fn healthy_release_stays_quiet() {
    let r = run(Scenario::Healthy);
    for day in 1..=7 {
        let h = health(&r.data, day);
        assert!(
            h.health_score >= 90.0,
            "day {day}: health {} ({:?})",
            h.health_score,
            h.breakdown
        );
        assert!(
            !h.degradations
                .iter()
                .any(|d| d.severity == Severity::Critical),
            "day {day}: {:?}",
            h.degradations
        );
        assert!(
            !h.rollback_recommendation.recommended,
            "day {day}: {:?}",
            h.rollback_recommendation
        );
    }
    let reg = regression(&r.data);
    assert!(!reg.rollback_recommendation.recommended);
    assert!(
        reg.regressions.is_empty(),
        "{:?}",
        reg.regressions
            .iter()
            .map(|x| &x.explanation)
            .collect::<Vec<_>>()
    );
    // Fewer than 5 anomaly incidents per service over the week.
    let ev = events(&r.data);
    for svc in r.sim.service_names() {
        let n = tars::anomaly::events::incident_count(
            ev.iter()
                .filter(|e| e.service == svc && e.day_number.is_some_and(|d| d >= 1)),
        );
        assert!(n < 5, "{svc}: {n} incidents on a healthy week");
    }
}

#[test]
fn healthy_release_stays_healthy_for_other_seeds() {
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let sim = Simulator::new(Scenario::Healthy, seed, ga());
        pipeline::run_all(&sim, ga(), dir.path(), &Config::default()).unwrap();
        for day in 1..=7 {
            let h = health(dir.path(), day);
            assert!(
                h.health_score >= 90.0,
                "seed {seed} day {day}: {} {:?}",
                h.health_score,
                h.breakdown
            );
            assert!(
                !h.degradations
                    .iter()
                    .any(|d| d.severity == Severity::Critical),
                "seed {seed} day {day}"
            );
            assert!(
                !h.rollback_recommendation.recommended,
                "seed {seed} day {day}"
            );
        }
    }
}

#[test]
fn regressions_are_found_on_the_injected_service_kpi_and_days() {
    let r = run(Scenario::Regressions);
    for inj in r.sim.ground_truth() {
        for day in inj.days(ga()).into_iter().filter(|d| *d >= 1) {
            let h = health(&r.data, day);
            let found = h
                .degradations
                .iter()
                .any(|d| d.service == inj.service && inj.kpis.iter().any(|k| k.name() == d.kpi));
            assert!(
                found,
                "{:?} on day {day} not among degradations: {:?}",
                inj.kind,
                h.degradations
                    .iter()
                    .map(|d| (&d.service, &d.kpi))
                    .collect::<Vec<_>>()
            );
        }
        // No degradation is attributed to an injected service on a day before its injection.
        let first = inj.days(ga())[0];
        for day in 1..first {
            let h = health(&r.data, day);
            assert!(
                !h.degradations.iter().any(|d| d.service == inj.service
                    && d.severity >= Severity::High
                    && inj.kpis.iter().any(|k| k.name() == d.kpi)),
                "{:?}: degradation on day {day}, before the injection",
                inj.kind
            );
        }
    }
}

#[test]
fn anomaly_events_fall_inside_injected_windows() {
    let r = run(Scenario::Regressions);
    let ev = events(&r.data);
    for inj in r.sim.ground_truth() {
        if inj.kind == InjectionKind::MemoryLeak {
            continue; // a slow trend is the regression analyzer's job
        }
        let onset = inj.start;
        let hit = ev.iter().find(|e| {
            e.service == inj.service
                && inj.kpis.iter().any(|k| k.name() == e.kpi)
                && e.start >= onset
                && inj.end.is_none_or(|end| e.start < end)
        });
        let hit =
            hit.unwrap_or_else(|| panic!("no anomaly event for {:?} on {}", inj.kind, inj.service));
        let delay = (hit.start - onset).num_minutes();
        assert!(
            delay <= 15,
            "{:?} detected {delay} min after onset",
            inj.kind
        );
    }
}

#[test]
fn latency_step_is_at_least_high_on_day_7() {
    let r = run(Scenario::Regressions);
    let reg = regression(&r.data);
    let step = reg
        .regressions
        .iter()
        .find(|x| x.service == "checkout" && x.kpi == Kpi::P99LatencyMs)
        .unwrap_or_else(|| {
            panic!(
                "checkout p99 not a regression: {:?}",
                reg.trends
                    .iter()
                    .filter(|t| t.service == "checkout")
                    .map(|t| &t.explanation)
                    .collect::<Vec<_>>()
            )
        });
    assert!(
        step.severity >= Some(Severity::High),
        "{}",
        step.explanation
    );
    assert_eq!(step.changepoint_day, Some(3), "{}", step.explanation);
    let leak = reg
        .regressions
        .iter()
        .find(|x| x.service == "auth" && x.kpi == Kpi::MemoryBytes)
        .expect("auth memory leak not a regression");
    assert!(
        leak.trend_significant && leak.days_to_limit.is_some(),
        "{}",
        leak.explanation
    );
    // The burst and the outage were over by day 7: transient, not regressions.
    assert!(
        reg.transient_issues.iter().any(|t| t.service == "search"),
        "search burst not transient"
    );
    assert!(!reg
        .regressions
        .iter()
        .any(|x| x.service == "search" || x.service == "api-gateway"));
}

#[test]
fn rollback_scenario_recommends_rollback_with_reasons() {
    let r = run(Scenario::Rollback);
    let h1 = health(&r.data, 1);
    assert!(h1.rollback_recommendation.recommended);
    assert!(
        h1.rollback_recommendation
            .reasons
            .iter()
            .any(|x| x.contains("checkout")),
        "{:?}",
        h1.rollback_recommendation
    );
    let day1: tars::drift::StabilitySummary =
        tars::io::read_json(&r.data.join("stability/day_01_summary.json"), "day").unwrap();
    assert!(day1.rollback_recommendation.recommended);
    let reg = regression(&r.data);
    assert!(
        reg.rollback_recommendation.recommended && !reg.rollback_recommendation.reasons.is_empty()
    );
    let retro: tars::retro::Retrospective =
        tars::io::read_json(&r.data.join("output/GA_7DAY_RETROSPECTIVE.json"), "retro").unwrap();
    assert_eq!(
        retro.executive_summary.verdict,
        tars::retro::Verdict::Rollback
    );
    assert_eq!(retro.action_items[0].priority, Priority::P0);
}

#[test]
fn retrospective_has_seven_sections_backed_by_numbers() {
    let r = run(Scenario::Regressions);
    let md = std::fs::read_to_string(r.data.join("output").join(layout::RETRO_MD)).unwrap();
    for section in [
        "Executive Summary",
        "What Went Well",
        "What Could Be Improved",
        "Unexpected Drifts",
        "Cost Analysis",
        "SLO Compliance Summary",
        "Recommendations",
    ] {
        assert!(
            md.lines()
                .any(|l| l.starts_with("## ") && l.contains(section)),
            "missing section {section}"
        );
    }
    assert!(
        md.contains("checkout"),
        "the latency step is not in the report"
    );
    let retro: tars::retro::Retrospective =
        tars::io::read_json(&r.data.join("output").join(layout::RETRO_JSON), "retro").unwrap();
    // Most urgent first (the type already holds them to P0..P3).
    assert!(retro
        .action_items
        .windows(2)
        .all(|w| w[0].priority <= w[1].priority));
    assert!(retro
        .action_items
        .iter()
        .any(|a| a.service.as_deref() == Some("checkout")));
    assert!(
        !retro.slo_compliance_summary.all_met,
        "the burst and the outage broke the availability SLO"
    );
}

#[test]
fn kpis_of_the_simulator_match_its_minutes() {
    // The day aggregates are the request-weighted truth of the minutes.
    let sim = Simulator::new(Scenario::Healthy, 7, ga());
    let w = Window::day(ga(), 2);
    let mins = sim.minutes("checkout", w.start_secs(), w.end_secs());
    assert_eq!(mins.len(), 1440);
    let req: f64 = mins.iter().map(|m| m.requests).sum();
    let err: f64 = mins.iter().map(|m| m.errors).sum();
    use tars::source::MetricsSource;
    let k = sim.window_kpis(&w).unwrap();
    let c = &k.services["checkout"];
    assert!((c[&Kpi::ErrorRate] - 100.0 * err / req).abs() < 1e-9);
    assert!((c[&Kpi::ThroughputRps] - req / 86_400.0).abs() < 1e-9);
    assert!(
        c[&Kpi::P50LatencyMs] < c[&Kpi::P95LatencyMs]
            && c[&Kpi::P95LatencyMs] < c[&Kpi::P99LatencyMs]
    );
}

#[test]
fn simulator_is_deterministic_for_a_seed() {
    use tars::source::MetricsSource;
    let a = Simulator::new(Scenario::Regressions, 9, ga());
    let b = Simulator::new(Scenario::Regressions, 9, ga());
    let c = Simulator::new(Scenario::Regressions, 10, ga());
    let w = Window::day(ga(), 4);
    assert_eq!(a.window_kpis(&w).unwrap(), b.window_kpis(&w).unwrap());
    assert_ne!(a.window_kpis(&w).unwrap(), c.window_kpis(&w).unwrap());
}

/// Healthy weeks of every kind: the kind simulator, a fleet already at its
/// objectives (another seed too), and that fleet sampled every 5 minutes
/// and every hour.
const HEALTHY_WEEKS: [&str; 6] = [
    "sim:healthy",
    "sim:realistic",
    "sim:realistic:7",
    "sim:realistic:42:300",
    "sim:realistic:42:3600",
    "sim:healthy:42:3600",
];

const REGRESSION_WEEKS: [&str; 4] = [
    "sim:regressions",
    "sim:realistic-regressions",
    "sim:realistic-regressions:42:300",
    "sim:realistic-regressions:42:3600",
];

const ROLLBACK_WEEKS: [&str; 3] = [
    "sim:rollback",
    "sim:realistic-rollback",
    "sim:realistic-rollback:42:3600",
];

#[test]
fn every_healthy_week_reads_healthy() {
    for spec in HEALTHY_WEEKS {
        let r = run_spec(spec);
        for day in 1..=7 {
            let h = health(&r.data, day);
            assert!(
                h.health_score >= 90.0,
                "{spec} day {day}: health {} {:?}",
                h.health_score,
                h.breakdown
            );
            let bad: Vec<_> = h
                .degradations
                .iter()
                .filter(|d| d.severity >= Severity::High)
                .map(|d| &d.description)
                .collect();
            assert!(bad.is_empty(), "{spec} day {day}: {bad:?}");
            assert!(
                !h.rollback_recommendation.recommended,
                "{spec} day {day}: {:?}",
                h.rollback_recommendation
            );
        }
        assert!(
            !regression(&r.data).rollback_recommendation.recommended,
            "{spec}"
        );
        let ev = events(&r.data);
        for svc in r.sim.service_names() {
            let n = tars::anomaly::events::incident_count(ev.iter().filter(|e| {
                e.service == svc && e.day_number.is_some_and(|d| d >= 1) && e.restart_at.is_none()
            }));
            assert!(n < 5, "{spec} {svc}: {n} incidents on a healthy week");
        }
    }
}

#[test]
fn a_fleet_at_its_objectives_is_reported_as_posture_not_scored() {
    let r = run_spec("sim:realistic");
    let day: tars::drift::StabilitySummary =
        tars::io::read_json(&r.data.join("stability/day_03_summary.json"), "day").unwrap();
    let posture = |sli: tars::slo::Sli| -> Vec<&str> {
        day.slo_posture
            .iter()
            .filter(|p| p.sli == sli)
            .map(|p| p.service.as_str())
            .collect()
    };
    assert!(
        !posture(tars::slo::Sli::Availability).is_empty(),
        "no availability posture: {:?}",
        day.slo_posture
    );
    let slow = posture(tars::slo::Sli::Latency);
    assert!(slow.len() >= 2, "{:?}", day.slo_posture);
    // Those p99s are over 200 ms before and after GA: pre-existing, no severity.
    for svc in &slow {
        let c = day
            .metrics_comparison
            .iter()
            .find(|c| c.service == *svc && c.kpi == Kpi::P99LatencyMs)
            .unwrap();
        assert!(c.current > 200.0 && c.baseline > 200.0, "{}", c.explanation);
        assert_eq!(
            c.status,
            tars::drift::DriftStatus::PreExisting,
            "{}",
            c.explanation
        );
    }
    let h = health(&r.data, 3);
    assert_eq!(h.slo_posture, day.slo_posture);
    assert!(
        !h.breakdown.iter().any(|b| b.category == Category::Slo),
        "{:?}",
        h.breakdown
    );
    let retro: tars::retro::Retrospective =
        tars::io::read_json(&r.data.join("output").join(layout::RETRO_JSON), "retro").unwrap();
    assert!(!retro.slo_compliance_summary.posture.is_empty());
    assert!(retro
        .slo_compliance_summary
        .services
        .iter()
        .any(|s| s.misses_pre_existing));
    assert_ne!(
        retro.executive_summary.verdict,
        tars::retro::Verdict::Rollback
    );
}

#[test]
fn every_injected_problem_is_found_on_its_service_kpi_and_day() {
    for spec in REGRESSION_WEEKS {
        let r = run_spec(spec);
        assert!(!r.sim.ground_truth().is_empty(), "{spec}");
        for inj in r.sim.ground_truth() {
            let hits = |d: &tars::health::Degradation| {
                d.service == inj.service
                    && d.kpis
                        .iter()
                        .any(|k| inj.kpis.iter().any(|i| i.name() == k))
            };
            for day in inj.days(ga()).into_iter().filter(|d| *d >= 1) {
                let h = health(&r.data, day);
                assert!(
                    h.degradations.iter().any(hits),
                    "{spec}: {:?} on {} day {day} not found: {:?}",
                    inj.kind,
                    inj.service,
                    h.degradations
                        .iter()
                        .map(|d| (&d.service, &d.kpis))
                        .collect::<Vec<_>>()
                );
            }
            for day in 1..inj.days(ga())[0] {
                let h = health(&r.data, day);
                assert!(
                    !h.degradations
                        .iter()
                        .any(|d| hits(d) && d.severity >= Severity::High),
                    "{spec}: {:?} reported on day {day}, before it began",
                    inj.kind
                );
            }
        }
    }
}

#[test]
fn every_rollback_week_rolls_back() {
    for spec in ROLLBACK_WEEKS {
        let r = run_spec(spec);
        let svc = &r.sim.ground_truth()[0].service;
        let h1 = health(&r.data, 1);
        assert!(
            h1.rollback_recommendation.recommended
                && h1
                    .rollback_recommendation
                    .reasons
                    .iter()
                    .any(|x| x.contains(svc.as_str())),
            "{spec}: {:?}",
            h1.rollback_recommendation
        );
        let retro: tars::retro::Retrospective =
            tars::io::read_json(&r.data.join("output").join(layout::RETRO_JSON), "retro").unwrap();
        assert_eq!(
            retro.executive_summary.verdict,
            tars::retro::Verdict::Rollback,
            "{spec}"
        );
    }
}

#[test]
fn restarts_explain_their_blips_and_are_never_high() {
    let r = run_spec("sim:realistic");
    let ev = events(&r.data);
    let explained: Vec<_> = ev.iter().filter(|e| e.restart_at.is_some()).collect();
    assert!(!explained.is_empty(), "no event was tied to a restart");
    assert!(explained.iter().all(|e| e.severity == Severity::Low));
    // A memory drop is good news: never more than low, restart or not.
    for e in ev.iter().filter(|e| e.kpi == "memory_bytes") {
        if e.expected.is_some_and(|x| e.observed < x) {
            assert_eq!(e.severity, Severity::Low, "{}", e.explanation);
        }
    }
    for day in 1..=7 {
        let h = health(&r.data, day);
        assert!(
            !h.degradations.iter().any(|d| d.kpi == "memory_bytes"),
            "day {day}: {:?}",
            h.degradations
        );
    }
}

#[test]
fn one_latency_step_is_one_degradation_and_one_action_item() {
    let r = run(Scenario::Regressions);
    let h = health(&r.data, 4);
    let latency: Vec<_> = h
        .degradations
        .iter()
        .filter(|d| d.service == "checkout" && d.kpi.contains("latency"))
        .collect();
    assert_eq!(latency.len(), 1, "{latency:?}");
    for k in ["p50_latency_ms", "p95_latency_ms", "p99_latency_ms"] {
        assert!(
            latency[0].kpis.iter().any(|x| x == k),
            "{:?}",
            latency[0].kpis
        );
    }
    let retro: tars::retro::Retrospective =
        tars::io::read_json(&r.data.join("output").join(layout::RETRO_JSON), "retro").unwrap();
    let items: Vec<_> = retro
        .action_items
        .iter()
        .filter(|a| a.service.as_deref() == Some("checkout") && a.description.contains("latency"))
        .collect();
    assert_eq!(items.len(), 1, "{items:?}");
}
