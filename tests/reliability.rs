//! Issue 17, "reliability you can lean on": secrets kept out of every file and
//! message, merges that keep other series, safe and bounded files, bounded
//! Prometheus answers. Servers here are loopback fakes; no backend needed.

#[path = "support/prom/mod.rs"]
mod prom_support;

#[path = "support/cli/mod.rs"]
mod cli_support;

use std::path::Path;

use cli_support::tars;
use prom_support::{fake_server, response, serve, Misbehave};

/// Every secret the fake server echoes or the URL carries.
const SECRETS: [&str; 4] = [
    "pw-S3CRET",
    "abcdefgh123456",
    "T1/B2/SLACKSECRET",
    "ghp_GHSECRET99",
];

const LEAK: &str = "Bearer abcdefgh123456 via https://hooks.slack.com/services/T1/B2/SLACKSECRET \
                    with ghp_GHSECRET99";

/// A healthy server for GA day 2025-06-02 whose every answer carries a
/// warning quoting secrets: a vector for instant queries, a matrix of one
/// point per 15 minutes for range queries.
fn echoing_server() -> String {
    serve(|head| {
        let result = if head.contains("/query_range") {
            let points: Vec<String> = (1_748_822_400..=1_748_908_800)
                .step_by(900)
                .map(|t| format!(r#"[{t},"0.5"]"#))
                .collect();
            format!(
                r#""matrix","result":[{{"metric":{{"service":"api"}},"values":[{}]}}]"#,
                points.join(",")
            )
        } else {
            r#""vector","result":[{"metric":{"service":"api"},"value":[1748908800,"0.5"]}]"#
                .to_string()
        };
        let body = format!(
            r#"{{"status":"success","warnings":["{LEAK}"],"data":{{"resultType":{result}}}}}"#
        );
        response(200, "", &body)
    })
}

/// The URL of `server` with a password in it.
fn with_password(url: &str) -> String {
    url.replacen("http://", "http://alice:pw-S3CRET@", 1)
}

/// `tars ARGS`, then each flag with its path.
fn run(args: &[&str], paths: &[(&str, &Path)]) -> std::process::Output {
    let mut cmd = tars();
    cmd.args(args);
    for (flag, path) in paths {
        cmd.arg(flag).arg(path);
    }
    cmd.output().unwrap()
}

/// Every file under `dir` whose bytes contain one of the secrets.
fn leaks_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).to_string();
            for s in SECRETS.iter().filter(|s| text.contains(*s)) {
                out.push(format!("{} holds {s}", p.display()));
            }
        }
    }
    out
}

fn ga_kpi(url: &str, dir: &Path) -> std::process::Output {
    tars()
        .args(["ga-kpi", "--ga-timestamp", "2025-06-02T00:00:00Z"])
        .args(["--prometheus-url", url])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--record")
        .arg(dir.join("rec"))
        .output()
        .unwrap()
}

#[test]
fn secrets_reach_no_artifact_recording_or_message() {
    let dir = tempfile::tempdir().unwrap();
    let ok = echoing_server();
    let out = ga_kpi(&with_password(&ok), dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let artifact = dir.path().join("data/ga_kpis/ga_kpi_summary.json");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&artifact).unwrap_or_default())
            .unwrap_or_else(|e| panic!("no artifact ({e}); stderr: {stderr}"));
    let port = ok.rsplit(':').next().unwrap();
    assert_eq!(
        json["source"],
        format!("prometheus:http://alice:***@127.0.0.1:{port}"),
        "the source still names scheme, host and port"
    );
    assert!(
        json.to_string().contains("hooks.slack.com/services/***"),
        "the server's warning is kept, masked: {json}"
    );

    let body = format!(r#"{{"status":"error","errorType":"bad_data","error":"{LEAK}"}}"#);
    let bad = fake_server(vec![Misbehave::Reply(400, body)]);
    let failed = ga_kpi(&with_password(&bad.url), &dir.path().join("second"));
    let err = String::from_utf8_lossy(&failed.stderr).to_string();
    assert!(!failed.status.success());
    assert!(
        err.contains("ghp_***") && err.contains("Bearer ***"),
        "{err}"
    );

    let check = tars()
        .args(["kpi", "check", "--prometheus-url", &with_password(&bad.url)])
        .output()
        .unwrap();
    let check = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        check.contains("ERROR") && check.contains("ghp_***"),
        "{check}"
    );

    let mut leaks = leaks_under(dir.path());
    for (what, text) in [
        ("stderr", &stderr),
        ("failing stderr", &err),
        ("kpi check", &check),
    ] {
        for s in SECRETS.iter().filter(|s| text.contains(*s)) {
            leaks.push(format!("{what} holds {s}: {text}"));
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

/// One stored event of `service`/`kpi` starting at unix second `start`.
fn stored_event(service: &str, kpi: &str, start: i64) -> serde_json::Value {
    let t = chrono::DateTime::from_timestamp(start, 0)
        .unwrap()
        .to_rfc3339();
    serde_json::json!({
        "id": format!("{service}/{kpi}/{start}"), "incident_id": format!("{service}/{start}"),
        "timestamp": t, "start": t, "end": t, "peak_time": t, "day_number": null,
        "service": service, "kpi": kpi, "unit": "", "observed": 1.0, "expected": null,
        "band": null, "score": 0.9, "severity": "high", "duration_minutes": 1.0,
        "points": 1, "reason": "test", "explanation": "stored by an earlier run"
    })
}

#[test]
fn an_input_run_replaces_only_the_series_it_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = 1_748_822_400_i64;
    let values: Vec<String> = (0..120)
        .map(|i| format!(r#"[{},"1"]"#, t0 + 60 * i))
        .collect();
    let export = dir.path().join("export.json");
    std::fs::write(
        &export,
        format!(
            r#"{{"status":"success","data":{{"resultType":"matrix","result":[
            {{"metric":{{"service":"api"}},"values":[{}]}}]}}}}"#,
            values.join(",")
        ),
    )
    .unwrap();
    let events = dir.path().join("events.json");
    let stored = [
        stored_event("api", "value", t0 + 600),
        stored_event("db", "value", t0 + 600),
        stored_event("api", "p99_latency_ms", t0 + 1200),
    ];
    std::fs::write(&events, serde_json::to_vec(&stored).unwrap()).unwrap();
    let out = run(
        &["anomaly-detector", "--once"],
        &[("--input", &export), ("--output-file", &events)],
    );
    assert!(out.status.success(), "{out:?}");
    let after: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&events).unwrap()).unwrap();
    let ids: Vec<&str> = after.iter().filter_map(|e| e["id"].as_str()).collect();
    let want_kept = [
        format!("db/value/{}", t0 + 600),
        format!("api/p99_latency_ms/{}", t0 + 1200),
    ];
    assert_eq!(ids, want_kept, "a flat api series replaces api/value only");
}

#[test]
fn a_retrospective_that_cannot_be_written_leaves_the_old_pair() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    cli_support::copy_tree(cli_support::demo(), &data);
    let out = dir.path().join("reports");
    let retro = |out: &Path| {
        run(
            &["retro", "--auto"],
            &[("--data-dir", &data), ("--output-dir", out)],
        )
    };
    assert!(retro(&out).status.success());
    let json = out.join("GA_7DAY_RETROSPECTIVE.json");
    // Made unwritable after the JSON's turn: the JSON must be put back.
    let md = out.join("GA_7DAY_RETROSPECTIVE.md");
    std::fs::remove_file(&md).unwrap();
    std::fs::create_dir_all(md.join("blocker")).unwrap();
    std::fs::write(&json, b"{\"marker\": 1}\n").unwrap();
    let before_marker = std::fs::read(&json).unwrap();
    let failed = retro(&out);
    assert!(!failed.status.success(), "{failed:?}");
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("GA_7DAY_RETROSPECTIVE.md"), "{err}");
    assert_eq!(std::fs::read(&json).unwrap(), before_marker);
    let stray: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[cfg(unix)]
#[test]
fn a_device_or_fifo_as_baseline_is_one_line_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("baseline.fifo");
    let mut inputs = vec![std::path::PathBuf::from("/dev/zero")];
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        inputs.push(fifo);
    }
    for input in inputs {
        let started = std::time::Instant::now();
        let out = tars()
            .args(["stability-monitor", "--day-number", "1", "--source", "sim"])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--ga-baseline")
            .arg(&input)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{}: not a regular file", input.display())),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
    let out = tars()
        .args(["anomaly-detector", "--once", "--input", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("/dev/zero: not a regular file"), "{err}");
}

fn stderr_of(args: &[&str]) -> (Option<i32>, String) {
    let out = tars().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn negative_numbers_reach_the_value_check() {
    let (code, err) = stderr_of(&["anomaly-detector", "--once", "--z-threshold", "-3"]);
    assert_eq!(code, Some(2));
    assert!(!err.contains("unexpected argument"), "{err}");
    assert!(
        err.contains("--z-threshold must be a positive number, got -3"),
        "{err}"
    );
    let (code, err) = stderr_of(&["stability-monitor", "--day-number", "-1"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("invalid value '-1' for '--day-number"),
        "{err}"
    );
}

#[test]
fn control_characters_in_inputs_are_escaped() {
    let (code, err) = stderr_of(&[
        "ga-kpi",
        "--source",
        "sim",
        "--ga-timestamp",
        "2025\r\nFAKE: injected",
    ]);
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.contains(r"'2025\r\nFAKE: injected'"), "{err}");
    let (code, err) = stderr_of(&["stability-monitor", "--day-number", "1\r\n\x1b[2J"]);
    assert_eq!(code, Some(2));
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    assert!(err.contains(r"'1\r\n\u{1b}[2J'"), "{err}");
}

#[test]
fn an_output_dir_that_is_a_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    let out = tars()
        .args([
            "ga-kpi",
            "--source",
            "sim",
            "--ga-timestamp",
            "2025-06-02T00:00:00Z",
        ])
        .arg("--output-dir")
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    let want = format!("{}: is a file, not a directory", file.display());
    assert!(err.contains(&want), "{err}");
}

#[test]
fn the_input_size_limit_is_configurable() {
    let baseline = cli_support::demo().join("ga_kpis/ga_kpi_summary.json");
    let run = |limit: &str| {
        tars()
            .args(["stability-monitor", "--day-number", "1", "--source", "sim"])
            .arg("--ga-baseline")
            .arg(&baseline)
            .arg("--output-dir")
            .arg(tempfile::tempdir().unwrap().path())
            .env("TARS_MAX_INPUT_BYTES", limit)
            .output()
            .unwrap()
    };
    let small = run("100");
    let err = String::from_utf8_lossy(&small.stderr);
    assert_eq!(small.status.code(), Some(1), "{err}");
    assert!(err.contains("ga_kpi_summary.json: "), "{err}");
    assert!(
        err.contains("bytes, over the limit of 100 (TARS_MAX_INPUT_BYTES)"),
        "{err}"
    );
    let bad = run("lots");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("TARS_MAX_INPUT_BYTES must be"));
}

#[test]
fn a_password_in_an_old_baseline_is_not_copied_downstream() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    cli_support::copy_tree(cli_support::demo(), &data);
    // Every input as an older tars wrote it: the URL in clear.
    for (path, bytes) in cli_support::snapshot(&data) {
        let text = String::from_utf8_lossy(&bytes);
        if path.extension().is_some_and(|e| e == "json") && text.contains("\"source\"") {
            let old = text.replacen("\"source\": \"", "\"source\": \"http://u:pw-S3CRET@h/", 1);
            std::fs::write(&path, old).unwrap();
        }
    }
    let out = dir.path().join("reports");
    let done = run(
        &["retro", "--auto"],
        &[("--data-dir", &data), ("--output-dir", &out)],
    );
    assert!(done.status.success(), "{done:?}");
    let md = std::fs::read_to_string(out.join("GA_7DAY_RETROSPECTIVE.md")).unwrap();
    assert!(md.contains("http://u:***@h/"), "{md}");
    assert!(leaks_under(&out).is_empty(), "{:?}", leaks_under(&out));
}
