//! `tars watch` against a real Prometheus backfilled with a past release
//! week: the watch catches the whole week up, serves the artifacts' values on
//! /metrics, survives kill -9 without rewriting a finished artifact, holds its
//! data directory against a second instance, and stops cleanly on SIGTERM.
//! The same Prometheus scrapes the watch, so every dashboard query is run for
//! real; the alert rules are checked and unit-tested with promtool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tars::source::sim::{Scenario, Simulator};

#[path = "support/prom/mod.rs"]
mod support;
use support as sp;

/// The watch, killed when dropped.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_watch(url: &str, data: &Path, listen: &str) -> Watch {
    let ga = sp::ga().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let child = Command::new(assert_cmd::cargo::cargo_bin("tars"))
        .args(["watch", "--ga-timestamp", &ga, "--listen", listen])
        .args(["--interval-secs", "1", "--retry-base-secs", "1"])
        .arg("--prometheus-url")
        .arg(url)
        .arg("--data-dir")
        .arg(data)
        .env_remove("TARS_CONFIG")
        .env_remove("TARS_SOURCE")
        .stdout(Stdio::null())
        .stderr(log(data))
        .spawn()
        .expect("start tars watch");
    Watch(child)
}

/// The watch's log, appended to across restarts, beside the data directory.
fn log(data: &Path) -> std::fs::File {
    let p = data.with_extension("log");
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .expect("watch log")
}

fn log_text(data: &Path) -> String {
    std::fs::read_to_string(data.with_extension("log")).unwrap_or_default()
}

fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    sp::http("GET", addr, path, b"")
        .ok()
        .map(|(code, body)| (code, String::from_utf8_lossy(&body).into_owned()))
}

fn wait_ready(addr: &str, w: &mut Watch, data: &Path) {
    let until = Instant::now() + Duration::from_secs(600);
    while Instant::now() < until {
        if let Some((200, _)) = get(addr, "/readyz") {
            return;
        }
        if let Ok(Some(status)) = w.0.try_wait() {
            panic!("tars watch exited early: {status}: {}", log_text(data));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("tars watch not ready after 600 s: {}", log_text(data));
}

/// Every artifact under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json" || x == "md") {
                let meta = std::fs::metadata(&p).unwrap();
                out.insert(
                    p.clone(),
                    (std::fs::read(&p).unwrap(), meta.modified().unwrap()),
                );
            }
        }
    }
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("artifact")).expect("json")
}

/// The value of the sample `name` (with exactly `labels`) in an exposition.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    let key = if labels.is_empty() {
        format!("{name} ")
    } else {
        format!("{name}{{{labels}}} ")
    };
    text.lines()
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or_else(|| panic!("no {key} in /metrics"))
        .trim()
        .parse()
        .expect("a number")
}

/// An instant query; HTTP/1.0 so that the answer is not chunked.
fn query(prom: &str, expr: &str) -> Value {
    use std::io::{Read, Write};
    let addr = prom.trim_start_matches("http://");
    let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /api/v1/query?query={q} HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{expr}: {head}\n{body}"
    );
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{expr}: {e}: {body}"))
}

fn dashboard_queries() -> Vec<(String, String)> {
    let d = json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/tars-dashboard.json"));
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            out.push((
                p["title"].as_str().unwrap().to_string(),
                t["expr"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

#[test]
fn the_watch_runs_the_week_serves_it_and_survives_kill_9() {
    let port = sp::free_port();
    let listen = format!("127.0.0.1:{port}");
    let sim = Simulator::new(Scenario::Regressions, 42, sp::ga());
    let prom = sp::start_prometheus_with(&sim, Some(&listen));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let mut w = start_watch(&prom.url, &data, &listen);
    wait_ready(&listen, &mut w, &data);
    let mut expected = vec![
        "ga_kpis/ga_kpi_summary.json".to_string(),
        "anomalies/anomaly_events.json".into(),
        "regression/regression_summary.json".into(),
        "output/GA_7DAY_RETROSPECTIVE.json".into(),
        "output/GA_7DAY_RETROSPECTIVE.md".into(),
    ];
    for d in 1..=7 {
        expected.push(format!("stability/day_{d:02}_summary.json"));
        expected.push(format!("health/day_{d:02}_HEALTH.json"));
    }
    for f in &expected {
        assert!(
            data.join(f).is_file(),
            "{f} missing after the catch-up: {}",
            log_text(&data)
        );
    }

    // /metrics carries the seeds' names with the artifacts' values.
    let (code, text) = get(&listen, "/metrics").unwrap();
    assert_eq!(code, 200);
    let h7 = json(&data.join("health/day_07_HEALTH.json"));
    assert_eq!(
        sample(&text, "tars_health_score", ""),
        h7["health_score"].as_f64().unwrap()
    );
    let d7 = json(&data.join("stability/day_07_summary.json"));
    let checkout = d7["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "checkout")
        .unwrap();
    assert_eq!(
        sample(&text, "tars_availability", "service=\"checkout\""),
        checkout["kpis"]["availability"].as_f64().unwrap()
    );
    assert_eq!(
        sample(&text, "tars_p99_latency", "service=\"overall\""),
        d7["p99_latency_ms"].as_f64().unwrap()
    );
    let ga = json(&data.join("ga_kpis/ga_kpi_summary.json"));
    assert_eq!(
        sample(&text, "tars_ga_p99_latency", "service=\"overall\""),
        ga["p99_latency_ms"].as_f64().unwrap()
    );
    assert_eq!(sample(&text, "tars_day_number", ""), 7.0);
    assert_eq!(get(&listen, "/healthz").unwrap().0, 200);
    // The image's health check: `tars probe` against TARS_LISTEN.
    let probe = Command::new(assert_cmd::cargo::cargo_bin("tars"))
        .arg("probe")
        .env("TARS_LISTEN", &listen)
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let down = Command::new(assert_cmd::cargo::cargo_bin("tars"))
        .args([
            "probe",
            &format!("http://127.0.0.1:{}/healthz", sp::free_port()),
        ])
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(1));

    // A second watch on the same data directory is refused.
    let second = tars_cmd(&prom.url, &data, &format!("127.0.0.1:{}", sp::free_port()));
    assert_eq!(second.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another tars watch is running"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // The dashboard's queries all run; the seeds' three return data.
    wait_scraped(&prom.url);
    for (title, expr) in dashboard_queries() {
        let v = query(&prom.url, &expr);
        assert_eq!(v["status"], "success", "{title}: {expr}: {v}");
        if matches!(
            title.as_str(),
            "Health Score (7-Day Trend)" | "Availability vs SLO (99.9%)" | "P99 Latency Drift"
        ) {
            let n = v["data"]["result"].as_array().map_or(0, |r| r.len());
            assert!(n > 0, "{title}: {expr} returned no data");
        }
    }

    // kill -9 and a restart rewrite no finished artifact.
    let before = snapshot(&data);
    let _ = w.0.kill();
    let _ = w.0.wait();
    let mut w = start_watch(&prom.url, &data, &listen);
    wait_ready(&listen, &mut w, &data);
    std::thread::sleep(Duration::from_secs(2));
    let after = snapshot(&data);
    assert_eq!(before.len(), after.len());
    for (p, (bytes, mtime)) in &before {
        let (b2, m2) = &after[p];
        assert!(
            bytes == b2 && mtime == m2,
            "{} was rewritten after the restart",
            p.display()
        );
    }

    // SIGTERM finishes the step and exits 0.
    let pid = w.0.id() as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = wait_exit(&mut w.0, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
}

fn tars_cmd(url: &str, data: &Path, listen: &str) -> std::process::Output {
    let ga = sp::ga().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Command::new(assert_cmd::cargo::cargo_bin("tars"))
        .args(["watch", "--ga-timestamp", &ga, "--listen", listen])
        .arg("--prometheus-url")
        .arg(url)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

fn wait_scraped(prom: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        let v = query(prom, "tars_health_score");
        if v["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("Prometheus did not scrape the watch within 60 s");
}

fn wait_exit(c: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = c.try_wait() {
            return s;
        }
        assert!(Instant::now() < until, "tars watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn alert_rules_pass_promtool_check_and_unit_tests() {
    sp::ensure_installed(&["promtool"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus");
    for args in [
        vec!["check", "rules", "tars-alerts.yml"],
        vec!["test", "rules", "tars-alerts.test.yml"],
    ] {
        let out = Command::new("promtool")
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
