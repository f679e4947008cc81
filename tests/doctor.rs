//! `tars doctor DIR`: a healthy demo directory exits 0; each way of breaking
//! one exits 1 with the problem named, its file, and what to do.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[path = "support/cli/mod.rs"]
mod support;
use support::{copy_tree, demo, tars};

fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    (dir, d)
}

/// Runs `tars doctor --json` on `d` with `extra` flags: the exit code and the object.
fn doctor(d: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = tars()
        .arg("doctor")
        .arg(d)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code().unwrap(), v, stderr)
}

fn edit(p: &Path, from: &str, to: &str) {
    let s = fs::read_to_string(p).unwrap();
    assert!(s.contains(from), "{}: {from}", p.display());
    fs::write(p, s.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_demo_directory_is_healthy() {
    let out = tars().arg("doctor").arg(demo()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(": healthy\n"), "{text}");
    assert!(out.stderr.is_empty());
    let (code, v, _) = doctor(demo(), &[]);
    assert_eq!(code, 0);
    assert_eq!(v["command"], "doctor");
    assert_eq!(v["healthy"], true);
    assert_eq!(v["problems"], serde_json::json!([]));
    assert_eq!(v["days_present"], serde_json::json!([1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(v["ga_timestamp"], "2025-11-18T00:00:00Z");
    assert!(v["artifacts_checked"].as_u64().unwrap() >= 17, "{v}");
    assert!(v["free_bytes"].as_u64().unwrap() > 0);
}

type Breakage = fn(&Path);

/// Each breakage, the file its problem names and a fragment of the problem and of the fix.
#[rustfmt::skip]
fn breakages() -> Vec<(&'static str, Breakage, &'static str, &'static str, &'static str)> {
    vec![
        ("a day summary as the baseline", |d| { fs::copy(d.join("stability/day_03_summary.json"), d.join("ga_kpis/ga_kpi_summary.json")).unwrap(); }, "ga_kpis/ga_kpi_summary.json", "field `kind`: is \"stability_summary\", expected \"ga_kpi_summary\"", "re-run tars ga-kpi"),
        ("no baseline", |d| fs::remove_file(d.join("ga_kpis/ga_kpi_summary.json")).unwrap(), "ga_kpis/ga_kpi_summary.json", "no GA baseline", "tars ga-kpi --ga-timestamp GA"),
        ("day 5 missing", |d| fs::remove_file(d.join("stability/day_05_summary.json")).unwrap(), "stability/day_05_summary.json", "day 5 has ended but has no valid summary", "tars stability-monitor --day-number 5"),
        ("day 3 twice", |d| { fs::copy(d.join("stability/day_03_summary.json"), d.join("stability/day_3_summary.json")).unwrap(); }, "stability/day_3_summary.json", "a second file of day 3", "keep one"),
        ("day 6 not JSON", |d| fs::write(d.join("stability/day_06_summary.json"), "{").unwrap(), "stability/day_06_summary.json", "not valid JSON", "tars stability-monitor --day-number 6"),
        ("day 4's health missing", |d| fs::remove_file(d.join("health/day_04_HEALTH.json")).unwrap(), "health/day_04_HEALTH.json", "day 4 has a summary but no valid health report", "tars health-report --day-number 4"),
        ("a health score of 250", |d| edit(&d.join("health/day_02_HEALTH.json"), "\"health_score\": ", "\"health_score\": 250, \"x\": "), "health/day_02_HEALTH.json", "field `health_score`: 250 is out of range", "tars health-report --day-number 2"),
        ("a day of another release", |d| edit(&d.join("stability/day_05_summary.json"), "\"ga_timestamp\": \"2025-11-18T00:00:00Z\"", "\"ga_timestamp\": \"2025-12-01T00:00:00Z\""), "stability/day_05_summary.json", "belongs to a release with GA 2025-12-01", "tars stability-monitor --day-number 5"),
        ("two releases", |d| edit(&d.join("output/GA_7DAY_RETROSPECTIVE.json"), "\"ga_timestamp\": \"2025-11-18T00:00:00Z\"", "\"ga_timestamp\": \"2025-11-10T00:00:00Z\""), "data", "artifacts of 2 releases", "keep one release per data directory"),
        ("two sources", |d| edit(&d.join("anomalies/anomaly_run.json"), "\"source\": \"sim:regressions:42\"", "\"source\": \"prometheus:http://other:9090\""), "data", "artifacts of 2 sources", "re-run the stages"),
        ("no regression summary", |d| fs::remove_file(d.join("regression/regression_summary.json")).unwrap(), "regression/regression_summary.json", "the week is whole but has no regression summary", "tars regression-analyzer"),
        ("no retrospective", |d| fs::remove_file(d.join("output/GA_7DAY_RETROSPECTIVE.json")).unwrap(), "output/GA_7DAY_RETROSPECTIVE.json", "no retrospective", "tars retro"),
        ("events not an array", |d| fs::write(d.join("anomalies/anomaly_events.json"), "{}").unwrap(), "anomalies/anomaly_events.json", "not a valid a JSON array of anomaly events", "tars anomaly-detector --once"),
        ("a killed run's temp file", |d| fs::write(d.join("stability/.day_02_summary.json.tmp.4194305.Ab12"), "{\"half").unwrap(), "stability/.day_02_summary.json.tmp.4194305.Ab12", "a temp file a killed run left behind", "remove it"),
        ("a stale watch lock", |d| fs::write(d.join(".tars-watch.lock"), "").unwrap(), ".tars-watch.lock", "stale: no tars watch holds it", "remove it if no watch should run here"),
    ]
}

#[test]
fn each_breakage_is_found_named_and_given_a_fix() {
    let mut failures = Vec::new();
    for (name, broke, file, problem, fix) in breakages() {
        let (_dir, d) = demo_copy();
        broke(&d);
        let (code, v, stderr) = doctor(&d, &[]);
        let problems = v["problems"].as_array().unwrap();
        let found = problems.iter().any(|p| {
            p["path"].as_str().unwrap().ends_with(file)
                && p["problem"].as_str().unwrap().contains(problem)
                && p["fix"].as_str().unwrap().contains(fix)
        });
        if code != 1 || !found || v["healthy"] != false || stderr.trim_end().lines().count() != 1 {
            failures.push(format!(
                "{name}: exit {code}, stderr {stderr:?}, problems {problems:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_human_report_lists_each_problem_with_its_fix() {
    let (_dir, d) = demo_copy();
    fs::remove_file(d.join("stability/day_05_summary.json")).unwrap();
    let out = tars().arg("doctor").arg(&d).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(": 1 problem(s)\n"), "{text}");
    assert!(
        text.contains("  problem: ") && text.contains("day_05_summary.json: day 5 has ended"),
        "{text}"
    );
    assert!(
        text.contains("     fix: tars stability-monitor --day-number 5 --data-dir "),
        "{text}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("1 problem(s) found"), "{stderr}");
}

#[test]
fn too_little_free_space_and_a_missing_directory_are_problems() {
    let (code, v, _) = doctor(demo(), &["--min-free-bytes", "18446744073709551615"]);
    assert_eq!(code, 1);
    assert!(
        v["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("bytes free (under 18446744073709551615)"),
        "{v}"
    );
    let (code, v, _) = doctor(Path::new("/nonexistent/tars-data"), &[]);
    assert_eq!(code, 1);
    assert!(
        v["problems"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{v}"
    );
}

/// Repeated events, a live watch and a writer at work are notes: the
/// directory is still healthy.
#[test]
fn notes_do_not_make_a_directory_unhealthy() {
    let (_dir, d) = demo_copy();
    let events = d.join("anomalies/anomaly_events.json");
    let mut v: Value = serde_json::from_slice(&fs::read(&events).unwrap()).unwrap();
    let first = v[0].clone();
    v.as_array_mut().unwrap().push(first);
    fs::write(&events, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let lock = fs::File::create(d.join(".tars-watch.lock")).unwrap();
    lock.lock().unwrap();
    let ours = format!(
        "stability/.day_02_summary.json.tmp.{}.Zz9",
        std::process::id()
    );
    fs::write(d.join(&ours), "{").unwrap();
    let (code, v, _) = doctor(&d, &[]);
    assert_eq!(code, 0, "{v}");
    let notes = v["notes"].to_string();
    assert!(notes.contains("1 repeated event(s)"), "{notes}");
    if Path::new("/proc/locks").exists() {
        assert!(notes.contains("a tars watch is running"), "{notes}");
    }
    assert!(
        notes.contains("being written by the running process"),
        "{notes}"
    );
}
