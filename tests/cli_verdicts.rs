//! Nothing invented: no quiet simulator, no default GA, no baseline from
//! another source, no full-day artifact for a day not over, and verdicts a
//! script can act on through the exit code.

use std::fs;
use std::path::Path;

use chrono::{Duration, SecondsFormat, Utc};

#[path = "support/cli/mod.rs"]
mod support;
use support::{copy_tree, demo, snapshot, tars, GA};

/// Runs `args` (with `{D}` standing for a fresh copy of the demo data) and
/// checks the exit code, a one-line error naming `needle`, and that no file
/// was written or changed.
fn refused(args: &[&str], env: &[(&str, &str)], code: i32, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    let before = snapshot(&d);
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{D}", d.to_str().unwrap()))
        .collect();
    let mut cmd = tars();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "{args:?}: '{needle}' not in {stderr}"
    );
    assert!(
        before == snapshot(&d),
        "{args:?} changed the data directory"
    );
}

#[test]
fn without_a_source_nothing_is_simulated() {
    let no_source = "no metrics source: pass --prometheus-url";
    refused(
        &["ga-kpi", "--ga-timestamp", GA, "--data-dir", "{D}"],
        &[],
        2,
        no_source,
    );
    refused(
        &[
            "stability-monitor",
            "--day-number",
            "2",
            "--data-dir",
            "{D}",
        ],
        &[],
        2,
        no_source,
    );
    refused(
        &["anomaly-detector", "--once", "--data-dir", "{D}"],
        &[],
        2,
        no_source,
    );
    // compose and systemd pass an unset variable as an empty string.
    refused(
        &[
            "stability-monitor",
            "--day-number",
            "2",
            "--data-dir",
            "{D}",
        ],
        &[("PROMETHEUS_URL", "")],
        2,
        no_source,
    );
}

#[test]
fn ga_timestamp_is_required() {
    let needle = "--ga-timestamp (or GA_TIMESTAMP) is required";
    refused(
        &["ga-kpi", "--source", "sim", "--output-dir", "{D}/ga_kpis"],
        &[],
        2,
        needle,
    );
    // No baseline file to take the GA from, and no GA given.
    refused(
        &[
            "anomaly-detector",
            "--source",
            "sim",
            "--once",
            "--data-dir",
            "{D}/empty",
        ],
        &[("GA_TIMESTAMP", "")],
        2,
        needle,
    );
}

#[test]
fn a_baseline_from_another_source_is_refused() {
    // The demo's baseline comes from sim:regressions:42.
    refused(
        &[
            "stability-monitor",
            "--source",
            "sim:healthy",
            "--day-number",
            "3",
            "--data-dir",
            "{D}",
        ],
        &[],
        1,
        "captured from 'sim:regressions:42' but this run reads 'sim:healthy:42'",
    );
}

#[test]
fn a_day_from_another_source_or_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    let p = d.join("stability/day_04_summary.json");
    let text = fs::read_to_string(&p).unwrap();
    fs::write(
        &p,
        text.replace("\"sim:regressions:42\"", "\"prometheus:http://other:9090\""),
    )
    .unwrap();
    let before = snapshot(&d);
    for args in [
        vec!["regression-analyzer", "--data-dir"],
        vec!["retro", "--auto", "--data-dir"],
    ] {
        let out = tars().args(&args).arg(&d).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("day_04_summary.json: was computed from 'prometheus:http://other:9090' but the baseline from 'sim:regressions:42'"),
            "{stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    assert!(before == snapshot(&d));
}

#[test]
fn a_day_of_another_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    let p = d.join("stability/day_05_summary.json");
    let text = fs::read_to_string(&p).unwrap();
    fs::write(
        &p,
        text.replace(
            "\"ga_timestamp\": \"2025-11-18T00:00:00Z\"",
            "\"ga_timestamp\": \"2025-12-01T00:00:00Z\"",
        ),
    )
    .unwrap();
    let before = snapshot(&d);
    let out = tars()
        .args(["regression-analyzer", "--data-dir"])
        .arg(&d)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("day_05_summary.json: belongs to a release with GA 2025-12-01"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(before == snapshot(&d));
}

fn rfc(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[test]
fn a_window_not_over_is_refused_unless_partial_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // GA 36 hours ago: GA day is over, day 1 is half way.
    let ga = rfc(Utc::now() - Duration::hours(36));
    let ga_kpi = |extra: &[&str]| {
        tars()
            .args(["ga-kpi", "--source", "sim:realistic", "--ga-timestamp", &ga])
            .arg("--data-dir")
            .arg(d)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = ga_kpi(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let baseline = d.join("ga_kpis/ga_kpi_summary.json");
    let stability = |extra: &[&str]| {
        tars()
            .args([
                "stability-monitor",
                "--source",
                "sim:realistic",
                "--day-number",
                "1",
            ])
            .arg("--data-dir")
            .arg(d)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = stability(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("after now") && stderr.contains("--allow-partial"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!d.join("stability").exists(), "an artifact was written");
    // A day that has not even started.
    let out = tars()
        .args([
            "stability-monitor",
            "--source",
            "sim:realistic",
            "--day-number",
            "3",
        ])
        .arg("--data-dir")
        .arg(d)
        .arg("--allow-partial")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has not started yet"));
    // Allowed: written, and it says it is partial and ends no later than now.
    let out = stability(&["--allow-partial"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join("stability/day_01_summary.json")).unwrap())
            .unwrap();
    assert_eq!(v["partial"], true);
    let end: chrono::DateTime<Utc> = v["window"]["end"].as_str().unwrap().parse().unwrap();
    assert!(end <= Utc::now());
    // GA one hour ago: the GA day is open.
    let before = fs::read(&baseline).unwrap();
    let recent = rfc(Utc::now() - Duration::hours(1));
    let out = tars()
        .args([
            "ga-kpi",
            "--source",
            "sim:realistic",
            "--ga-timestamp",
            &recent,
        ])
        .arg("--data-dir")
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(fs::read(&baseline).unwrap(), before, "the baseline changed");
}

fn health_day(d: &Path, day: &str, fail: bool) -> std::process::Output {
    let mut c = tars();
    c.args(["health-report", "--day-number", day])
        .arg("--data-dir")
        .arg(d);
    if fail {
        c.arg("--fail-on-rollback");
    }
    c.output().unwrap()
}

#[test]
fn fail_on_rollback_exits_3_after_writing_the_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let out = tars()
        .args(["demo", "--scenario", "rollback", "--data-dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(out.status.success());
    let health = d.join("health/day_02_HEALTH.json");
    fs::remove_file(&health).unwrap();
    // Without the flag the verdict is in the artifact only.
    assert_eq!(health_day(&d, "2", false).status.code(), Some(0));
    fs::remove_file(&health).unwrap();
    let out = health_day(&d, "2", true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("rollback recommended"), "{stderr}");
    assert!(health.is_file(), "the report was not written");
    for args in [
        vec!["regression-analyzer", "--fail-on-rollback", "--data-dir"],
        vec!["retro", "--auto", "--fail-on-rollback", "--data-dir"],
    ] {
        let out = tars().args(&args).arg(&d).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
    }
    // A healthy day exits 0 with the flag.
    let dir2 = tempfile::tempdir().unwrap();
    let h = dir2.path().join("h");
    tars()
        .args(["demo", "--scenario", "healthy", "--data-dir"])
        .arg(&h)
        .assert()
        .success();
    assert_eq!(health_day(&h, "3", true).status.code(), Some(0));
}
