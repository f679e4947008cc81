//! The continuous anomaly detector (no `--once`) against a real Prometheus
//! that is killed and started again mid-run (issue 17): the detector keeps
//! running, says one line per failed pass while the server is down, passes
//! again once it is back, and the events file holds the same events, none
//! twice.

#[path = "support/prom/mod.rs"]
mod sp;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The detector, killed on drop.
struct Detector(Child);

impl Drop for Detector {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of `r`, on a channel.
fn lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next pass the detector printed (one JSON object a line), within `limit`.
fn next_pass(out: &Receiver<String>, limit: Duration) -> Value {
    let line = out
        .recv_timeout(limit)
        .unwrap_or_else(|e| panic!("no pass within {limit:?}: {e}"));
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a pass: {line:?}: {e}"))
}

fn events(path: &std::path::Path) -> Vec<Value> {
    serde_json::from_slice(&std::fs::read(path).expect("events file")).expect("events JSON")
}

#[test]
fn the_continuous_detector_survives_a_prometheus_restart() {
    let started = Instant::now();
    let sim = sp::simulator();
    let ga = sp::ga();
    let mut prom = sp::start_prometheus(&sim);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let at = |days: i64| {
        (ga + chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tars"));
    cmd.args(["anomaly-detector", "--json", "--interval-secs", "1"])
        .args(["--prometheus-url", &prom.url])
        .args([
            "--ga-timestamp",
            &at(0),
            "--since",
            &at(0),
            "--until",
            &at(3),
        ])
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in [
        "PROMETHEUS_URL",
        "TARS_SOURCE",
        "TARS_CONFIG",
        "TARS_DATA_DIR",
    ] {
        cmd.env_remove(v);
    }
    let mut det = Detector(cmd.spawn().expect("start the detector"));
    let out = lines(det.0.stdout.take().unwrap());
    let err = lines(det.0.stderr.take().unwrap());
    let events_file = data.join("anomalies/anomaly_events.json");

    let first = next_pass(&out, Duration::from_secs(60));
    let total = first["incidents_total"].as_u64().expect("incidents_total");
    assert!(total > 0, "the window should hold incidents: {first}");
    let before = events(&events_file);

    prom.kill();
    // Passes fail while it is down: one line each, and the process stays.
    let down_since = Instant::now();
    let mut failures = Vec::new();
    while failures.len() < 2 {
        let line = err
            .recv_timeout(Duration::from_secs(30))
            .expect("the detector said why a pass failed");
        failures.push(line);
    }
    for f in &failures {
        assert!(
            f.starts_with("tars anomaly-detector: ") && f.contains("retrying in 1 s"),
            "{failures:?}"
        );
    }
    assert!(det.0.try_wait().unwrap().is_none(), "the detector exited");
    // Passes that finished before the kill may still be in the pipe.
    while out.try_recv().is_ok() {}

    prom.restart();
    let down = down_since.elapsed();
    let after = next_pass(&out, Duration::from_secs(60));
    assert_eq!(after["incidents_total"].as_u64(), Some(total), "{after}");
    let again = events(&events_file);
    assert_eq!(again, before, "the events changed across the restart");
    let mut keys: Vec<String> = again
        .iter()
        .map(|e| format!("{} {} {}", e["service"], e["kpi"], e["timestamp"]))
        .collect();
    keys.sort();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "an event twice");
    assert!(det.0.try_wait().unwrap().is_none(), "the detector exited");
    let rest: Vec<String> = err.try_iter().collect();
    assert!(
        !rest.iter().chain(&failures).any(|l| l.contains("panicked")),
        "{rest:?}"
    );
    println!(
        "soak: {total} incidents, {} failed passes said while Prometheus was down for {down:?} (first: {}), whole test {:?}",
        failures.len() + rest.len(),
        failures[0],
        started.elapsed()
    );
}
