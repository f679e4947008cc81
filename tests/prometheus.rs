//! The Prometheus source against real servers (Prometheus and
//! VictoriaMetrics, backfilled with simulated history). The loopback server
//! that misbehaves on purpose is in tests/prom_errors.rs.

#[path = "support/prom/mod.rs"]
mod prom_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use prom_support::{self as sp, Misbehave};
use tars::model::{Kpi, KpiValues, Series, Window, OVERALL};
use tars::prom::{self, Connection, PromConfig};
use tars::source::{MetricsSource, SourceError, WindowKpis};

/// Latency percentiles: absolute tolerance (ms). Everything else: relative.
const LATENCY_ABS_MS: f64 = 1.0;
const REL: f64 = 0.01;

fn is_latency(k: Kpi) -> bool {
    matches!(k, Kpi::P50LatencyMs | Kpi::P95LatencyMs | Kpi::P99LatencyMs)
}

/// Worst error seen per KPI: (relative, absolute).
type Worst = BTreeMap<Kpi, (f64, f64)>;

fn compare(label: &str, got: &WindowKpis, truth: &WindowKpis, worst: &mut Worst) -> Vec<String> {
    let mut bad = Vec::new();
    type Row<'a> = (String, &'a KpiValues, Option<&'a KpiValues>);
    let mut rows: Vec<Row> = vec![(OVERALL.to_string(), &truth.overall, Some(&got.overall))];
    for (svc, t) in &truth.services {
        rows.push((svc.clone(), t, got.services.get(svc)));
    }
    for (svc, t, g) in rows {
        let Some(g) = g else {
            bad.push(format!("{label} {svc}: missing"));
            continue;
        };
        for kpi in Kpi::ALL {
            let (Some(&tv), Some(&gv)) = (t.get(&kpi), g.get(&kpi)) else {
                bad.push(format!("{label} {svc} {kpi}: missing"));
                continue;
            };
            let abs = (gv - tv).abs();
            let rel = abs / tv.abs().max(1e-12);
            let w = worst.entry(kpi).or_default();
            w.0 = w.0.max(rel);
            w.1 = w.1.max(abs);
            let ok = if is_latency(kpi) {
                abs <= LATENCY_ABS_MS
            } else {
                rel <= REL
            };
            if !ok {
                bad.push(format!(
                    "{label} {svc} {kpi}: server {gv} vs truth {tv} (rel {rel:.2e}, abs {abs:.3})"
                ));
            }
        }
    }
    bad
}

fn report(backend: &str, worst: &Worst) {
    println!("accuracy on {backend} (days 0-7, 4 services + overall):");
    for (k, (rel, abs)) in worst {
        println!(
            "  {:<15} max rel {:.2e}  max abs {:.4} {}",
            k.name(),
            rel,
            abs,
            k.unit()
        );
    }
}

fn record_args(dir: &Path) -> Connection {
    Connection {
        record: Some(dir.to_path_buf()),
        ..Connection::default()
    }
}

fn series_text(s: &[Series]) -> String {
    format!("{s:?}")
}

/// Everything checked on one real backend.
fn check_backend(server: &sp::Server) {
    let sim = sp::simulator();
    let ga = sp::ga();
    let cfg = PromConfig::default();
    let rec = tempfile::tempdir().expect("temp dir");
    let src = prom::connect(&server.url, &record_args(rec.path()), &cfg)
        .unwrap_or_else(|e| panic!("{}: connect: {e}", server.name));
    assert_eq!(src.describe(), format!("prometheus:{}", server.url));

    // Window KPIs of every day against the simulator's own numbers.
    let mut worst = Worst::new();
    let mut failures = Vec::new();
    let mut live = Vec::new();
    for day in 0..=7 {
        let w = Window::day(ga, day);
        let got = src.window_kpis(&w).unwrap_or_else(|e| {
            panic!(
                "{} day {day}: {e}\nlog:\n{}",
                server.name,
                server.log_tail()
            )
        });
        let truth = sim.window_kpis(&w).expect("truth");
        failures.extend(compare(
            &format!("{} day {day}", server.name),
            &got,
            &truth,
            &mut worst,
        ));
        assert_eq!(
            got.restarts, truth.restarts,
            "{} day {day}: restarts (counter resets) differ",
            server.name
        );
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        live.push(got);
    }
    report(server.name, &worst);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        live.iter()
            .map(|d| d.restarts.values().sum::<u64>())
            .sum::<u64>()
            > 0,
        "the history should contain restarts (counter resets)"
    );

    // The injected problems are visible on the right services and days.
    let v = |d: usize, s: &str, k: Kpi| live[d].services[s][&k];
    assert!(v(4, "checkout", Kpi::P99LatencyMs) > 1.4 * v(0, "checkout", Kpi::P99LatencyMs));
    assert!(v(2, "search", Kpi::ErrorRate) > 3.0 * v(1, "search", Kpi::ErrorRate));
    assert!(v(5, "api-gateway", Kpi::ErrorRate) > 3.0 * v(4, "api-gateway", Kpi::ErrorRate));
    assert!(v(7, "auth", Kpi::MemoryBytes) > v(1, "auth", Kpi::MemoryBytes) + 30.0 * 1048576.0);

    // Series with 15-minute steps, including the scrape gap of search on day 4.
    let day4 = Window::day(ga, 4);
    let mut series_worst = Worst::new();
    for kpi in [
        Kpi::ThroughputRps,
        Kpi::ErrorRate,
        Kpi::P99LatencyMs,
        Kpi::MemoryBytes,
    ] {
        let got = src
            .kpi_series(kpi, &day4, 900)
            .unwrap_or_else(|e| panic!("{} series {kpi}: {e}", server.name));
        let mut truth = sim.kpi_series(kpi, &day4, 900).expect("truth");
        truth.sort_by(|a, b| a.service.cmp(&b.service));
        assert_eq!(got.len(), truth.len(), "{kpi}: services");
        for (g, t) in got.iter().zip(&truth) {
            assert_eq!(g.service, t.service);
            assert_eq!(
                g.points.len(),
                96,
                "{kpi} {}: one point per step",
                g.service
            );
            for (gp, tp) in g.points.iter().zip(&t.points) {
                assert_eq!(gp.0, tp.0, "timestamps");
                let in_gap = g.service == "search"
                    && gp.0 > day4.start_secs() + 10 * 3600
                    && gp.0 <= day4.start_secs() + 11 * 3600;
                if in_gap || !gp.1.is_finite() {
                    continue;
                }
                let abs = (gp.1 - tp.1).abs();
                let w = series_worst.entry(kpi).or_default();
                w.0 = w.0.max(abs / tp.1.abs().max(1e-12));
                w.1 = w.1.max(abs);
            }
            let missing = g.points.iter().filter(|p| !p.1.is_finite()).count();
            if g.service == "search" {
                let at = day4.start_secs() + 10 * 3600 + 900;
                let p = g.points.iter().find(|p| p.0 == at).expect("gap point");
                // VictoriaMetrics' rate() falls back on the last sample before
                // an empty step and answers 0 there instead of nothing.
                let vm_zero = server.name == "victoria-metrics"
                    && matches!(kpi, Kpi::ThroughputRps | Kpi::CpuCores)
                    && p.1 == 0.0;
                if vm_zero {
                    println!("{}: scrape gap shows as 0 for {kpi}", server.name);
                }
                assert!(
                    p.1.is_nan() || vm_zero,
                    "{kpi}: the scrape gap must show as NaN, got {}",
                    p.1
                );
            } else {
                assert_eq!(missing, 0, "{kpi} {}: unexpected gaps", g.service);
            }
        }
    }
    println!(
        "15-minute series on {} (day 4, outside the gap):",
        server.name
    );
    for (k, (rel, abs)) in &series_worst {
        println!(
            "  {:<15} max rel {:.2e}  max abs {:.4} {}",
            k.name(),
            rel,
            abs,
            k.unit()
        );
    }

    // A range longer than the server's points limit is split and merged.
    let small = PromConfig {
        max_points_per_request: 40,
        ..PromConfig::default()
    };
    let split = prom::connect(&server.url, &Connection::default(), &small).expect("connect");
    let whole = src.kpi_series(Kpi::CpuCores, &day4, 900).expect("whole");
    let parts = split.kpi_series(Kpi::CpuCores, &day4, 900).expect("split");
    assert_eq!(series_text(&whole), series_text(&parts));

    // Day-7 run as the pipeline does it: window KPIs plus 15-minute series
    // of every KPI. The recording counts the queries.
    let rec7 = tempfile::tempdir().expect("temp dir");
    let src7 = prom::connect(&server.url, &record_args(rec7.path()), &cfg).expect("connect");
    let t0 = Instant::now();
    let day7 = Window::day(ga, 7);
    src7.window_kpis(&day7).expect("day 7");
    for kpi in Kpi::ALL {
        src7.kpi_series(kpi, &day7, 900).expect("day 7 series");
    }
    let queries = count_recorded(rec7.path());
    println!(
        "day-7 run on {}: {queries} queries in {:.2?}",
        server.name,
        t0.elapsed()
    );

    // Replaying the recording gives the same numbers without a server.
    let rp = prom::replay(rec.path(), &cfg).expect("replay");
    assert_eq!(rp.describe(), format!("file:{}", rec.path().display()));
    for (day, l) in live.iter().enumerate() {
        let r = rp
            .window_kpis(&Window::day(ga, day as u32))
            .expect("replayed");
        assert_eq!(format!("{r:?}"), format!("{l:?}"), "day {day} replayed");
    }
    for kpi in [
        Kpi::ThroughputRps,
        Kpi::ErrorRate,
        Kpi::P99LatencyMs,
        Kpi::MemoryBytes,
    ] {
        let a = src.kpi_series(kpi, &day4, 900).expect("live");
        let b = rp.kpi_series(kpi, &day4, 900).expect("replayed");
        assert_eq!(series_text(&a), series_text(&b));
    }
    let err = rp
        .kpi_series(Kpi::CpuCores, &Window::day(ga, 3), 900)
        .expect_err("not recorded");
    assert!(matches!(err, SourceError::Replay { .. }), "{err}");

    // A recorded query_range answer read as an --input file.
    let body = recorded_range_body(rec.path()).expect("a recorded query_range");
    let from_file = prom::read_query_range_file(&body).expect("read recorded answer");
    let mut names: Vec<&str> = from_file.iter().map(|s| s.service.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["api-gateway", "auth", "checkout", "search"]);

    // kpi check: valid templates; the history is old, so no data "now".
    let table = prom::kpi_check(&server.url, &Connection::default(), &cfg).expect("kpi check");
    for kpi in Kpi::ALL {
        assert!(table.contains(kpi.name()), "{table}");
    }
    assert!(table.contains("NO DATA"), "{table}");
    let mut broken = PromConfig::default();
    broken.queries.p95_latency_ms = "histogram_quantile(0.95, sum by (le) (".into();
    let err = prom::kpi_check(&server.url, &Connection::default(), &broken).expect_err("syntax");
    let msg = err.to_string();
    assert!(
        msg.contains("p95_latency_ms") && msg.contains("not valid PromQL"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "{msg}");

    // A server-side PromQL error names the KPI, the query and the server.
    let mut bad = PromConfig::default();
    bad.queries.cpu_cores = "sum by ({group}) (rate(process_cpu_seconds_total[{range}]) +)".into();
    let src_bad = prom::connect(&server.url, &Connection::default(), &bad).expect("connect");
    let err = src_bad
        .window_kpis(&Window::day(ga, 1))
        .expect_err("bad query");
    let msg = err.to_string();
    assert!(
        msg.contains("cpu_cores")
            && msg.contains(&server.url)
            && msg.contains("process_cpu_seconds_total"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "{msg}");

    // No data where data was expected.
    let none = PromConfig {
        selector: r#"service="no-such-service""#.into(),
        ..PromConfig::default()
    };
    let src_none = prom::connect(&server.url, &Connection::default(), &none).expect("connect");
    let err = src_none
        .window_kpis(&Window::day(ga, 1))
        .expect_err("no data");
    assert!(matches!(err, SourceError::NoData { .. }), "{err}");
    assert!(err.to_string().contains("no-such-service"), "{err}");
}

fn count_recorded(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".body"))
                .count()
        })
        .unwrap_or(0)
}

fn recorded_range_body(dir: &Path) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()) {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p).ok()?;
            if text.contains("query_range") {
                return Some(p.with_extension("body"));
            }
        }
    }
    None
}

// ---- the seeds' commands end to end, recorded and replayed ----

/// The `tars` binary with a clean environment (a developer's must not leak in).
fn tars() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_tars"));
    for v in [
        "PROMETHEUS_URL",
        "TARS_SOURCE",
        "TARS_CONFIG",
        "TARS_DATA_DIR",
        "TARS_OUTPUT_DIR",
        "GA_TIMESTAMP",
        "DAY_NUMBER",
        "Z_THRESHOLD",
        "EWMA_ALPHA",
        "PROMETHEUS_BEARER_TOKEN",
        "PROMETHEUS_BEARER_TOKEN_FILE",
    ] {
        c.env_remove(v);
    }
    c
}

fn run_ok(args: &[String]) {
    let out = tars().args(args).output().expect("run tars");
    assert!(
        out.status.success(),
        "tars {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The runbook's week: every command, reading from `source` flags.
fn run_week(data: &Path, source: &[String]) {
    let ga = sp::ga().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let d = |p: &str| data.join(p).display().to_string();
    let s = |x: &str| x.to_string();
    let with = |mut a: Vec<String>| {
        a.extend(source.iter().cloned());
        a.extend([s("--data-dir"), d("")]);
        a
    };
    run_ok(&with(vec![
        s("ga-kpi"),
        s("--output-dir"),
        d("ga_kpis"),
        s("--ga-timestamp"),
        ga.clone(),
    ]));
    run_ok(&with(vec![s("anomaly-detector"), s("--once")]));
    for day in 1..=7 {
        run_ok(&with(vec![
            s("stability-monitor"),
            s("--day-number"),
            day.to_string(),
            s("--ga-baseline"),
            d("ga_kpis/ga_kpi_summary.json"),
        ]));
        run_ok(&[
            s("health-report"),
            s("--data-dir"),
            d(""),
            s("--day-number"),
            day.to_string(),
        ]);
    }
    run_ok(&[s("regression-analyzer"), s("--data-dir"), d("")]);
    run_ok(&[s("retro"), s("--auto"), s("--data-dir"), d("")]);
}

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .expect("read dir")
            .filter_map(|e| e.ok())
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// Drops artifact metadata (source, generation time, input paths) everywhere.
fn strip_meta(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for k in ["meta", "generated_at", "source", "inputs"] {
                m.remove(k);
            }
            m.values_mut().for_each(strip_meta);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_meta),
        _ => {}
    }
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("artifact")).expect("json artifact")
}

/// The CLI against the server: injected problems show up on the right
/// services and days, and replaying the recording gives identical files.
fn check_cli(server: &sp::Server) {
    let sim = sp::simulator();
    let ga = sp::ga();
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("live");
    let rec = dir.path().join("rec");
    let t0 = Instant::now();
    run_week(
        &live,
        &[
            "--prometheus-url".into(),
            server.url.clone(),
            "--record".into(),
            rec.display().to_string(),
        ],
    );
    println!(
        "CLI week on {}: {} queries in {:.2?}",
        server.name,
        count_recorded(&rec),
        t0.elapsed()
    );

    for inj in sim.ground_truth() {
        for day in inj.days(ga).into_iter().filter(|d| *d >= 1) {
            let h = json(&live.join(format!("health/day_{day:02}_HEALTH.json")));
            let found = h["degradations"].as_array().is_some_and(|ds| {
                ds.iter().any(|d| {
                    d["service"] == inj.service.as_str()
                        && inj.kpis.iter().any(|k| d["kpi"] == k.name())
                })
            });
            assert!(
                found,
                "{}: {:?} on {} day {day} not among the degradations: {}",
                server.name, inj.kind, inj.service, h["degradations"]
            );
        }
    }
    let reg = json(&live.join("regression/regression_summary.json"));
    let regs = reg["regressions"].as_array().expect("regressions");
    let has = |svc: &str, kpi: &str| regs.iter().any(|r| r["service"] == svc && r["kpi"] == kpi);
    assert!(has("checkout", "p99_latency_ms"), "{}: {reg}", server.name);
    assert!(has("auth", "memory_bytes"), "{}: {reg}", server.name);
    let events = json(&live.join("anomalies/anomaly_events.json"));
    let text = events.to_string();
    for svc in ["checkout", "search", "api-gateway"] {
        assert!(text.contains(svc), "{}: no anomaly on {svc}", server.name);
    }
    assert!(live.join("output/GA_7DAY_RETROSPECTIVE.md").exists());

    // The same week from the recording, without the server: the same
    // numbers as the live run (artifact metadata names the source and, for a
    // live server, the wall-clock time, so it is left out of that
    // comparison), and byte-identical files on every replay.
    let replayed = dir.path().join("replayed");
    let replay_flags = ["--source".to_string(), format!("file:{}", rec.display())];
    run_week(&replayed, &replay_flags);
    let first = files_under(&replayed);
    std::fs::remove_dir_all(&replayed).expect("clean");
    run_week(&replayed, &replay_flags);
    let second = files_under(&replayed);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &first {
        assert!(
            second[name] == *bytes,
            "{}: replays of {name} differ",
            server.name
        );
    }
    let a = files_under(&live);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>()
    );
    let mut compared = 0;
    for (name, bytes) in &a {
        if !name.ends_with(".json") {
            continue;
        }
        let strip = |b: &[u8]| {
            let mut v: serde_json::Value = serde_json::from_slice(b).expect("json");
            strip_meta(&mut v);
            v
        };
        assert_eq!(
            strip(bytes),
            strip(&first[name]),
            "{}: {name}: live and replayed numbers differ",
            server.name
        );
        compared += 1;
    }
    assert!(compared >= 17, "only {compared} JSON artifacts compared");

    // A saved query_range answer through `anomaly-detector --input`.
    let body = recorded_range_body(&rec).expect("a recorded query_range");
    let out = dir.path().join("from_file.json");
    run_ok(&[
        "anomaly-detector".into(),
        "--once".into(),
        "--input".into(),
        body.display().to_string(),
        "--output-file".into(),
        out.display().to_string(),
    ]);
    assert!(out.exists());
}

#[test]
fn prometheus_matches_simulator_truth() {
    let sim = sp::simulator();
    let server = sp::start_prometheus(&sim);
    check_backend(&server);
    check_cli(&server);
}

#[test]
fn victoria_metrics_matches_simulator_truth() {
    let sim = sp::simulator();
    let server = sp::start_victoria(&sim);
    check_backend(&server);
    check_cli(&server);
}

/// A failing server: exit code 1, one line on stderr naming the server, and
/// the artifact of an earlier run left as it was.
#[test]
fn cli_failure_leaves_earlier_artifacts_untouched() {
    let ga = sp::ga().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().join("ga_kpis");
    std::fs::create_dir_all(&out_dir).expect("dir");
    let earlier = out_dir.join("ga_kpi_summary.json");
    std::fs::write(&earlier, b"{\"earlier\": true}\n").expect("earlier artifact");
    let cases = [
        Misbehave::Reply(500, "oops".into()),
        Misbehave::Reply(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#.into(),
        ),
        Misbehave::Reply(200, "not json".into()),
    ];
    for case in cases {
        let fake = sp::fake_server(vec![case.clone()]);
        let out = tars()
            .args([
                "ga-kpi",
                "--prometheus-url",
                &fake.url,
                "--ga-timestamp",
                &ga,
            ])
            .arg("--output-dir")
            .arg(&out_dir)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("run tars");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{case:?}: {stderr}");
        assert!(
            lines[0].contains(&fake.url) && lines[0].contains("query `"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read(&earlier).expect("earlier"),
            b"{\"earlier\": true}\n",
            "{case:?}: the earlier artifact was touched"
        );
    }
}

// ---- faults, against a loopback server that misbehaves on purpose ----
