//! The readers at the edges check what an artifact means as the stages do
//! (issue 17): `tars notify` refuses a wrong-kind or out-of-range artifact
//! with one line naming the file, and the watch's `/metrics` leaves such a
//! file out (counted in `tars_artifact_errors`) instead of exporting it.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A demo week copied into a fresh directory, for each test to break.
fn week() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tars"))
        .args(["demo", "-q", "--data-dir"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    d
}

fn edit(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    f(&mut v);
    fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// `tars notify slack --dry-run` for `what`: exit code and stderr.
fn notify(dir: &Path, what: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tars"))
        .args(["notify", "slack", "--dry-run", "--data-dir"])
        .arg(dir)
        .args(what)
        .env_remove("SLACK_WEBHOOK_URL")
        .env_remove("DAY_NUMBER")
        .env_remove("TARS_DATA_DIR")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn notify_refuses_a_wrong_kind_or_an_out_of_range_artifact_naming_the_file() {
    let w = week();
    let d = w.path();
    // Before: both messages are built.
    assert_eq!(
        notify(d, &["--what", "health", "--day-number", "3"]).0,
        Some(0)
    );
    assert_eq!(notify(d, &["--what", "retro"]).0, Some(0));

    // A day's summary where day 3's health report should be: parses as
    // JSON, is the wrong kind.
    let health = d.join("health/day_03_HEALTH.json");
    fs::copy(d.join("stability/day_03_summary.json"), &health).unwrap();
    let (code, stderr) = notify(d, &["--what", "health", "--day-number", "3"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("day_03_HEALTH.json"), "{stderr}");
    assert!(stderr.contains("kind"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    // Day 4's report carrying day 5's number: its name says otherwise.
    edit(&d.join("health/day_04_HEALTH.json"), |v| {
        v["day_number"] = 5.into();
    });
    let (code, stderr) = notify(d, &["--what", "health", "--day-number", "4"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("day_04_HEALTH.json"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    // A retrospective of a release that goes live in 2999.
    edit(&d.join("output/GA_7DAY_RETROSPECTIVE.json"), |v| {
        v["ga_timestamp"] = "2999-01-01T00:00:00Z".into();
    });
    let (code, stderr) = notify(d, &["--what", "retro"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("GA_7DAY_RETROSPECTIVE.json"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

/// The value of one series of the exposition, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn the_exporter_leaves_out_a_refused_artifact_and_counts_it() {
    let w = week();
    let d = w.path();
    let render = || tars::watch::exporter::render(d, &BTreeMap::new(), true);
    let before = render();
    assert!(
        sample(&before, "tars_day_health_score{day=\"3\"}").is_some(),
        "{before}"
    );
    assert!(!before.contains("tars_artifact_errors"), "{before}");

    // Day 3's health report with a score of 250: not exported as if valid.
    edit(&d.join("health/day_03_HEALTH.json"), |v| {
        v["health_score"] = 250.0.into();
    });
    // Day 7's report is a day summary: the wrong kind.
    fs::copy(
        d.join("stability/day_07_summary.json"),
        d.join("health/day_07_HEALTH.json"),
    )
    .unwrap();
    let after = render();
    assert_eq!(
        sample(&after, "tars_day_health_score{day=\"3\"}"),
        None,
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            "tars_artifact_errors{file=\"health/day_03_HEALTH.json\"}"
        ),
        Some(1.0),
        "{after}"
    );
    assert_eq!(
        sample(
            &after,
            "tars_artifact_errors{file=\"health/day_07_HEALTH.json\"}"
        ),
        Some(1.0),
        "{after}"
    );
    // The latest valid report is now day 6's.
    assert_eq!(sample(&after, "tars_day_number"), Some(6.0), "{after}");
    // The others are still there.
    assert!(
        sample(&after, "tars_day_health_score{day=\"2\"}").is_some(),
        "{after}"
    );
}
