//! The real binaries: seeds' flags and environment, alias binaries, the
//! runbook's jq queries, artifact schemas, and bad input.

use predicates::prelude::*;
use std::fs;
use std::path::Path;
use std::process::Command as StdCommand;

#[path = "support/cli/mod.rs"]
mod support;
use support::{alias, copy_tree, demo, snapshot, tars, GA};

#[test]
fn demo_writes_every_artifact() {
    let d = demo();
    for f in [
        "ga_kpis/ga_kpi_summary.json",
        "anomalies/anomaly_events.json",
        "anomalies/anomaly_run.json",
        "regression/regression_summary.json",
        "output/GA_7DAY_RETROSPECTIVE.md",
        "output/GA_7DAY_RETROSPECTIVE.json",
    ] {
        assert!(d.join(f).is_file(), "{f} missing");
    }
    for day in 1..=7 {
        assert!(d
            .join(format!("stability/day_{day:02}_summary.json"))
            .is_file());
        assert!(d.join(format!("health/day_{day:02}_HEALTH.json")).is_file());
    }
    // No temp or lock debris beyond the events lock.
    for (p, _) in snapshot(d) {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        assert!(!name.contains(".tmp."), "temp file left: {}", p.display());
    }
}

#[test]
fn runbook_jq_queries_work_on_demo_artifacts() {
    let d = demo();
    let q = |filter: &str, file: &str| -> String {
        let out = StdCommand::new("jq")
            .arg(filter)
            .arg(d.join(file))
            .output()
            .expect("jq is installed");
        assert!(
            out.status.success(),
            "jq '{filter}' {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let ga = q(
        ".overall_availability, .error_rate, .p99_latency_ms",
        "ga_kpis/ga_kpi_summary.json",
    );
    let nums: Vec<f64> = ga.lines().map(|l| l.parse().unwrap()).collect();
    assert!(
        nums[0] > 99.0 && nums[0] <= 100.0 && nums[1] >= 0.0 && nums[1] < 1.0 && nums[2] > 10.0,
        "{ga}"
    );
    let score: f64 = q(".health_score", "health/day_01_HEALTH.json")
        .trim()
        .parse()
        .unwrap();
    assert!((0.0..=100.0).contains(&score));
    assert!(q(".metrics_comparison", "stability/day_01_summary.json").contains("drift_percent"));
    let rb = q(".rollback_recommendation", "stability/day_01_summary.json");
    assert!(
        rb.contains("\"recommended\"") && rb.contains("\"reasons\""),
        "{rb}"
    );
    let big = q(
        ".metrics_comparison | .[] | select(.drift_percent > 30)",
        "stability/day_05_summary.json",
    );
    assert!(
        big.contains("memory_bytes"),
        "auth's leak is > 30 % by day 5: {big}"
    );
    assert!(q(".drift_analysis", "stability/day_05_summary.json").contains("potential_causes"));
    let sev = q(
        r#".degradations[] | select(.severity == "critical" or .severity == "high")"#,
        "health/day_05_HEALTH.json",
    );
    assert!(sev.contains("checkout"), "{sev}");
    assert!(q(".mitigation_plan", "health/day_05_HEALTH.json").contains("priority"));
    let n: usize = q("length", "anomalies/anomaly_events.json")
        .trim()
        .parse()
        .unwrap();
    assert!(n > 0);
    let items = StdCommand::new("jq")
        .args(["-r", r#".action_items[] | "\(.priority): \(.description)""#])
        .arg(d.join("output/GA_7DAY_RETROSPECTIVE.json"))
        .output()
        .unwrap();
    let items = String::from_utf8(items.stdout).unwrap();
    assert!(
        items.lines().next().is_some_and(|l| l.starts_with('P')),
        "{items}"
    );
    assert!(q(
        ".rollback_recommendation",
        "regression/regression_summary.json"
    )
    .contains("recommended"));
}

#[test]
fn artifacts_validate_against_shipped_schemas() {
    let d = demo();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas");
    let pairs = [
        ("ga_kpi_summary", "ga_kpis/ga_kpi_summary.json"),
        ("stability_summary", "stability/day_03_summary.json"),
        ("anomaly_events", "anomalies/anomaly_events.json"),
        ("anomaly_run", "anomalies/anomaly_run.json"),
        ("health_report", "health/day_05_HEALTH.json"),
        ("regression_summary", "regression/regression_summary.json"),
        ("retrospective", "output/GA_7DAY_RETROSPECTIVE.json"),
    ];
    for (schema, file) in pairs {
        let schema: serde_json::Value =
            serde_json::from_slice(&fs::read(root.join(format!("{schema}.schema.json"))).unwrap())
                .unwrap();
        let doc: serde_json::Value =
            serde_json::from_slice(&fs::read(d.join(file)).unwrap()).unwrap();
        let v = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .take(3)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
    }
    // A broken document is rejected, so the check above can fail.
    let schema: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("health_report.schema.json")).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(!v.is_valid(&serde_json::json!({"health_score": "high"})));
}

#[test]
fn shipped_schemas_are_current() {
    let dir = tempfile::tempdir().unwrap();
    tars()
        .args(["schema", "--out-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas");
    for (p, bytes) in snapshot(dir.path()) {
        let shipped = fs::read(root.join(p.file_name().unwrap())).unwrap_or_default();
        assert!(
            shipped == bytes,
            "docs/schemas/{} is stale: run `tars schema --out-dir docs/schemas`",
            p.file_name().unwrap().to_string_lossy()
        );
    }
}

#[test]
fn seeds_commands_with_seeds_flags_and_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ga_dir = d.join("ga_kpis");
    alias("tars-ga-kpi")
        .args(["--source", "sim:regressions", "--output-dir"])
        .arg(&ga_dir)
        .args(["--ga-timestamp", GA])
        .assert()
        .success();
    let baseline = ga_dir.join("ga_kpi_summary.json");
    // The alias and the subcommand write the same bytes.
    let via_tars = d.join("ga2");
    tars()
        .args(["ga-kpi", "--source", "sim:regressions", "--output-dir"])
        .arg(&via_tars)
        .args(["--ga-timestamp", GA])
        .assert()
        .success();
    assert_eq!(
        fs::read(&baseline).unwrap(),
        fs::read(via_tars.join("ga_kpi_summary.json")).unwrap()
    );
    // Environment fallbacks: DAY_NUMBER.
    alias("tars-stability-monitor")
        .env("DAY_NUMBER", "3")
        .args(["--source", "sim:regressions", "--output-dir"])
        .arg(d.join("stability"))
        .arg("--ga-baseline")
        .arg(&baseline)
        .assert()
        .success();
    assert!(d.join("stability/day_03_summary.json").is_file());
    alias("tars-anomaly-detector")
        .args(["--source", "sim:regressions", "--once", "--output-file"])
        .arg(d.join("anomalies/anomaly_events.json"))
        .arg("--baseline")
        .arg(&baseline)
        .args(["--z-threshold", "3.0", "--until", "2025-11-22T00:00:00Z"])
        .assert()
        .success();
    alias("tars-health-report")
        .arg("--stability-data")
        .arg(d.join("stability/day_03_summary.json"))
        .arg("--anomaly-data")
        .arg(d.join("anomalies/anomaly_events.json"))
        .arg("--output-file")
        .arg(d.join("health/day_03_HEALTH.json"))
        .args(["--day-number", "3"])
        .assert()
        .success();
    alias("tars-regression-analyzer")
        .arg("--ga-baseline")
        .arg(&baseline)
        .arg("--7day-summaries")
        .arg(d.join("stability"))
        .arg("--output")
        .arg(d.join("regression/regression_summary.json"))
        // One day of seven: a partial week must be asked for.
        .arg("--allow-partial")
        .assert()
        .success();
    alias("tars-retro")
        .env("TARS_DATA_DIR", d)
        .args(["--auto", "--allow-partial", "--output-dir"])
        .arg(d.join("output"))
        .assert()
        .success();
    assert!(d.join("output/GA_7DAY_RETROSPECTIVE.md").is_file());
    // --version on every binary.
    for b in [
        "tars",
        "tars-ga-kpi",
        "tars-stability-monitor",
        "tars-anomaly-detector",
        "tars-health-report",
        "tars-regression-analyzer",
        "tars-retro",
    ] {
        alias(b)
            .arg("--version")
            .assert()
            .success()
            .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    }
}

/// Runs `args` against a copy of the demo data and checks a one-line error,
/// the exit code, and that no existing file changed.
fn bad(args: &[&str], code: i32, needle: &str, prepare: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    prepare(&d);
    let before = snapshot(&d);
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{D}", d.to_str().unwrap()))
        .collect();
    let out = tars().args(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: stderr lacks '{needle}': {stderr}"
    );
    if code == 1 {
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "not one line: {stderr}"
        );
    }
    assert!(
        before == snapshot(&d),
        "{args:?} changed existing artifacts"
    );
}

#[test]
fn missing_baseline_is_named() {
    bad(
        &[
            "stability-monitor",
            "--source",
            "sim",
            "--day-number",
            "2",
            "--ga-baseline",
            "{D}/nope.json",
            "--output-dir",
            "{D}/stability",
        ],
        1,
        "nope.json: not found",
        |_| {},
    );
}

#[test]
fn empty_and_malformed_artifacts_are_named() {
    bad(
        &[
            "stability-monitor",
            "--source",
            "sim",
            "--day-number",
            "2",
            "--ga-baseline",
            "{D}/ga_kpis/ga_kpi_summary.json",
            "--output-dir",
            "{D}/stability",
        ],
        1,
        "ga_kpi_summary.json: file is empty",
        |d| fs::write(d.join("ga_kpis/ga_kpi_summary.json"), "").unwrap(),
    );
    bad(
        &[
            "health-report",
            "--stability-data",
            "{D}/stability/day_02_summary.json",
            "--anomaly-data",
            "{D}/anomalies/anomaly_events.json",
            "--output-file",
            "{D}/health/day_02_HEALTH.json",
            "--day-number",
            "2",
        ],
        1,
        "day_02_summary.json: not valid JSON",
        |d| {
            fs::write(
                d.join("stability/day_02_summary.json"),
                "{\"schema_version\": 2, ",
            )
            .unwrap()
        },
    );
    bad(
        &[
            "regression-analyzer",
            "--ga-baseline",
            "{D}/ga_kpis/ga_kpi_summary.json",
            "--7day-summaries",
            "{D}/stability",
            "--output",
            "{D}/regression/regression_summary.json",
        ],
        1,
        "day_04_summary.json: not a valid stability summary",
        |d| {
            fs::write(
                d.join("stability/day_04_summary.json"),
                "{\"schema_version\": 2, \"day_number\": 4}",
            )
            .unwrap()
        },
    );
}

#[test]
fn nan_and_infinity_are_rejected() {
    bad(
        &[
            "health-report",
            "--stability-data",
            "{D}/stability/day_02_summary.json",
            "--output-file",
            "{D}/health/day_02_HEALTH.json",
            "--day-number",
            "2",
        ],
        1,
        "day_02_summary.json: not valid JSON",
        |d| {
            let p = d.join("stability/day_02_summary.json");
            let s = fs::read_to_string(&p).unwrap().replacen(
                "\"error_rate\": ",
                "\"error_rate\": NaN, \"x\": ",
                1,
            );
            fs::write(p, s).unwrap()
        },
    );
    bad(
        &[
            "regression-analyzer",
            "--ga-baseline",
            "{D}/ga_kpis/ga_kpi_summary.json",
            "--7day-summaries",
            "{D}/stability",
            "--output",
            "{D}/regression/regression_summary.json",
        ],
        1,
        "ga_kpi_summary.json",
        |d| {
            let p = d.join("ga_kpis/ga_kpi_summary.json");
            let s = fs::read_to_string(&p).unwrap().replacen(
                "\"overall_availability\": ",
                "\"overall_availability\": Infinity, \"x\": ",
                1,
            );
            fs::write(p, s).unwrap()
        },
    );
}

#[test]
fn wrong_schema_version_is_rejected() {
    bad(
        &[
            "retro",
            "--auto",
            "--data-dir",
            "{D}",
            "--output-dir",
            "{D}/output",
        ],
        1,
        "unsupported schema_version 99",
        |d| {
            let p = d.join("regression/regression_summary.json");
            let s = fs::read_to_string(&p).unwrap().replacen(
                "\"schema_version\": 2",
                "\"schema_version\": 99",
                1,
            );
            fs::write(p, s).unwrap()
        },
    );
}

#[test]
fn day_numbers_out_of_range_are_usage_errors() {
    for day in ["0", "8"] {
        bad(
            &[
                "stability-monitor",
                "--source",
                "sim",
                "--day-number",
                day,
                "--ga-baseline",
                "{D}/ga_kpis/ga_kpi_summary.json",
                "--output-dir",
                "{D}/stability",
            ],
            2,
            "--day-number must be between 1 and 7",
            |_| {},
        );
        bad(
            &[
                "health-report",
                "--stability-data",
                "{D}/stability/day_01_summary.json",
                "--output-file",
                "{D}/health/x.json",
                "--day-number",
                day,
            ],
            2,
            "--day-number",
            |_| {},
        );
    }
    bad(
        &["stability-monitor", "--day-number", "seven"],
        2,
        "--day-number",
        |_| {},
    );
    bad(
        &[
            "health-report",
            "--stability-data",
            "{D}/stability/day_01_summary.json",
            "--output-file",
            "{D}/health/day_02_HEALTH.json",
            "--day-number",
            "2",
        ],
        2,
        "does not match",
        |_| {},
    );
}

#[test]
fn unparsable_timestamps_are_usage_errors() {
    bad(
        &[
            "ga-kpi",
            "--source",
            "sim",
            "--output-dir",
            "{D}/ga_kpis",
            "--ga-timestamp",
            "yesterday",
        ],
        2,
        "--ga-timestamp: 'yesterday' is not an RFC 3339 timestamp",
        |_| {},
    );
    bad(
        &[
            "anomaly-detector",
            "--source",
            "sim",
            "--once",
            "--output-file",
            "{D}/anomalies/anomaly_events.json",
            "--baseline",
            "{D}/ga_kpis/ga_kpi_summary.json",
            "--since",
            "2025-13-01",
        ],
        2,
        "--since",
        |_| {},
    );
    bad(
        &[
            "anomaly-detector",
            "--source",
            "sim",
            "--once",
            "--output-file",
            "{D}/anomalies/anomaly_events.json",
            "--baseline",
            "{D}/ga_kpis/ga_kpi_summary.json",
            "--z-threshold=-1",
        ],
        2,
        "--z-threshold must be a positive number",
        |_| {},
    );
    bad(
        &[
            "ga-kpi",
            "--source",
            "sim:nonsense",
            "--output-dir",
            "{D}/ga_kpis",
            "--ga-timestamp",
            GA,
        ],
        2,
        "unknown scenario 'nonsense'",
        |_| {},
    );
}

#[test]
fn unwritable_output_directory_is_named_and_nothing_changes() {
    // A regular file where a directory should be: fails even for root.
    bad(
        &[
            "ga-kpi",
            "--source",
            "sim",
            "--output-dir",
            "{D}/blocker/ga",
            "--ga-timestamp",
            GA,
        ],
        1,
        "blocker",
        |d| fs::write(d.join("blocker"), "x").unwrap(),
    );
    bad(
        &[
            "retro",
            "--auto",
            "--data-dir",
            "{D}",
            "--output-dir",
            "{D}/output/GA_7DAY_RETROSPECTIVE.md/sub",
        ],
        1,
        "GA_7DAY_RETROSPECTIVE.md",
        |_| {},
    );
}

#[test]
fn rerunning_a_stage_on_the_simulator_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    let p = d.join("stability/day_04_summary.json");
    let rerun = || {
        tars()
            .args([
                "stability-monitor",
                "--source",
                "sim:regressions",
                "--day-number",
                "4",
                "--ga-baseline",
            ])
            .arg(d.join("ga_kpis/ga_kpi_summary.json"))
            .arg("--output-dir")
            .arg(d.join("stability"))
            .assert()
            .success();
        fs::read(&p).unwrap()
    };
    let first = rerun();
    assert!(first == rerun(), "a rerun changed {}", p.display());
}

#[test]
fn retro_without_regression_summary_computes_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    fs::remove_file(d.join("regression/regression_summary.json")).unwrap();
    tars()
        .env("TARS_DATA_DIR", &d)
        .args(["retro", "--auto"])
        .assert()
        .success();
    let j = fs::read_to_string(d.join("output/GA_7DAY_RETROSPECTIVE.json")).unwrap();
    assert!(j.contains("computed in memory"));
}

#[test]
fn field_reference_is_current() {
    let out = tars().args(["schema", "--markdown"]).output().unwrap();
    let shipped = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/artifacts.md"))
        .unwrap_or_default();
    assert!(
        out.stdout == shipped,
        "docs/artifacts.md is stale: run `tars schema --markdown > docs/artifacts.md`"
    );
}

#[test]
fn anomaly_detector_runs_continuously_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("anomalies/anomaly_events.json");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tars"))
        .args([
            "anomaly-detector",
            "--source",
            "sim:regressions",
            "--interval-secs",
            "1",
            "--ga-timestamp",
            GA,
            "--data-dir",
        ])
        .arg(dir.path())
        .arg("--output-file")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Two evaluations prove it loops: the run sidecar is rewritten each time.
    let run = dir.path().join("anomalies/anomaly_run.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = 0;
    let mut last = None;
    while seen < 2 && std::time::Instant::now() < deadline {
        if let Ok(m) = fs::metadata(&run).and_then(|m| m.modified()) {
            if last != Some(m) {
                seen += 1;
                last = Some(m);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(still_running, "the detector exited instead of polling");
    assert!(seen >= 2, "only {seen} evaluation(s) written");
    let events: Vec<serde_json::Value> = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    assert!(events
        .iter()
        .any(|e| e["service"] == "checkout" && e["kpi"] == "p99_latency_ms"));
}
