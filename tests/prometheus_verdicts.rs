//! The seeds' commands, day by day with default settings, against a real
//! Prometheus backfilled with a fleet that runs at its SLOs (3x seasonality,
//! daily restarts with counter resets, a 30-minute scrape gap): a healthy
//! release reads healthy, and injected problems are found where they are.

use std::path::Path;

use tars::source::sim::{Scenario, Simulator};

#[path = "support/prom/mod.rs"]
mod support;
use support as sp;

#[path = "support/cli/mod.rs"]
mod cli_support;

/// One of the seeds' commands, configured as the runbook does: through
/// `PROMETHEUS_URL` and `TARS_DATA_DIR`.
fn run_ok(url: &str, data: &Path, args: &[&str]) {
    let out = cli_support::tars()
        .env("PROMETHEUS_URL", url)
        .env("TARS_DATA_DIR", data)
        .args(args)
        .output()
        .expect("run tars");
    assert!(
        out.status.success(),
        "tars {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The runbook's week with nothing but the URL and the GA given.
fn week(url: &str, data: &Path) {
    let ga = sp::ga().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    run_ok(url, data, &["ga-kpi", "--ga-timestamp", &ga]);
    run_ok(url, data, &["anomaly-detector", "--once"]);
    for day in 1..=7 {
        let day = day.to_string();
        run_ok(url, data, &["stability-monitor", "--day-number", &day]);
        run_ok(url, data, &["health-report", "--day-number", &day]);
    }
    run_ok(url, data, &["regression-analyzer"]);
    run_ok(url, data, &["retro", "--auto"]);
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("artifact")).expect("json")
}

fn health(data: &Path, day: u32) -> serde_json::Value {
    json(&data.join(format!("health/day_{day:02}_HEALTH.json")))
}

#[test]
fn a_healthy_release_on_a_fleet_at_its_slos_reads_healthy_on_prometheus() {
    let sim = Simulator::new(Scenario::Realistic, 42, sp::ga());
    let server = sp::start_prometheus(&sim);
    let dir = tempfile::tempdir().expect("temp dir");
    week(&server.url, dir.path());
    for day in 1..=7 {
        let h = health(dir.path(), day);
        let score = h["health_score"].as_f64().unwrap();
        println!("realistic on Prometheus, day {day}: health {score}");
        assert!(score >= 90.0, "day {day}: {score} {}", h["breakdown"]);
        let high: Vec<_> = h["degradations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] == "high" || d["severity"] == "critical")
            .collect();
        assert!(high.is_empty(), "day {day}: {high:?}");
        assert_eq!(
            h["rollback_recommendation"]["recommended"], false,
            "day {day}"
        );
        // The standing conditions are reported, not scored.
        assert!(
            !h["slo_posture"].as_array().unwrap().is_empty(),
            "day {day}: no posture"
        );
    }
    let events = json(&dir.path().join("anomalies/anomaly_events.json"));
    let events = events.as_array().unwrap();
    // Restarts reach the detector through the server's process_start_time_seconds.
    assert!(
        events.iter().any(|e| !e["restart_at"].is_null()),
        "no event tied to a restart"
    );
    for svc in sim.service_names() {
        let mut incidents: Vec<&str> = events
            .iter()
            .filter(|e| {
                e["service"] == svc.as_str()
                    && e["restart_at"].is_null()
                    && e["day_number"].as_u64().is_some_and(|d| d >= 1)
            })
            .filter_map(|e| e["incident_id"].as_str())
            .collect();
        incidents.dedup();
        assert!(incidents.len() < 5, "{svc}: {incidents:?}");
    }
    let retro = json(&dir.path().join("output/GA_7DAY_RETROSPECTIVE.json"));
    assert_ne!(retro["executive_summary"]["verdict"], "rollback");
}

#[test]
fn injected_problems_on_a_fleet_at_its_slos_are_found_on_prometheus() {
    let sim = Simulator::new(Scenario::RealisticRegressions, 42, sp::ga());
    let server = sp::start_prometheus(&sim);
    let dir = tempfile::tempdir().expect("temp dir");
    week(&server.url, dir.path());
    for inj in sim.ground_truth() {
        for day in inj.days(sp::ga()).into_iter().filter(|d| *d >= 1) {
            let h = health(dir.path(), day);
            let found = h["degradations"].as_array().unwrap().iter().any(|d| {
                d["service"] == inj.service.as_str()
                    && d["kpis"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| inj.kpis.iter().any(|i| k == i.name()))
            });
            assert!(
                found,
                "{:?} on {} day {day} not found: {}",
                inj.kind, inj.service, h["degradations"]
            );
        }
    }
}
