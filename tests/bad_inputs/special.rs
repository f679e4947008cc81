//! Cases particular to one file, the week's completeness and the
//! configuration file.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use super::table::*;

/// Rules of one file: (file, case, JSON pointer set, value, fragment).
#[rustfmt::skip]
fn field_rules() -> Vec<(&'static str, &'static str, &'static str, Value, &'static str)> {
    vec![
        (GA_FILE, "ga in 2099", "/ga_timestamp", json!("2099-11-18T00:00:00Z"), "field `ga_timestamp`: 2099-11-18T00:00:00+00:00 is in the future"),
        (GA_FILE, "ga in 1999", "/ga_timestamp", json!("1999-11-18T00:00:00Z"), "field `ga_timestamp`: 1999-11-18T00:00:00+00:00 is before 2000"),
        (GA_FILE, "ga not a time", "/ga_timestamp", json!("next tuesday"), "not a valid"),
        (GA_FILE, "ga without zone", "/ga_timestamp", json!("2025-11-18T00:00:00"), "not a valid"),
        (GA_FILE, "window not GA day", "/window/start", json!("2025-11-17T00:00:00Z"), "field `window.start`: 2025-11-17 00:00:00 UTC is not the GA instant"),
        (DAY_FILE, "day_number 4 in day 3's file", "/day_number", json!(4), "field `day_number`: is 4 but the file is named for day 3"),
        (DAY_FILE, "day_number 9", "/day_number", json!(9), "field `day_number`: 9 is not a day of the release week"),
        (DAY_FILE, "day_number negative", "/day_number", json!(-3), "invalid value: integer `-3`, expected u32"),
        (DAY_FILE, "comparison current 1e308", "/metrics_comparison/4/current", json!(1e308), "field `metrics_comparison[4].current`: 1e308 is out of range"),
        (DAY_FILE, "comparison p value 2", "/metrics_comparison/12/p_value", json!(2.0), "field `metrics_comparison[12].p_value`: 2 is out of range"),
        (HEALTH_FILE, "score 101", "/health_score", json!(101.0), "field `health_score`: 101 is out of range (must be 0 to 100 points)"),
        (HEALTH_FILE, "score negative", "/health_score", json!(-5.0), "field `health_score`: -5 is out of range"),
        (HEALTH_FILE, "deduction 1e308", "/breakdown/0/points", json!(1e308), "field `breakdown[0].points`: 1e308 is out of range"),
        (HEALTH_FILE, "day_number 0", "/day_number", json!(0), "field `day_number`: 0 is not a day of the release week"),
        (HEALTH_FILE, "status unknown", "/status", json!("great"), "unknown variant `great`"),
        (HEALTH_FILE, "another release", "/window/start", json!("2025-11-20T00:00:00Z"), "field `window.start`: 2025-11-20 00:00:00 UTC does not belong to the release with GA"),
        (HEALTH_FILE, "another source", "/source", json!("prometheus:http://other:9090"), "field `source`: was computed from 'prometheus:http://other:9090'"),
        (REG_FILE, "day 9 analysed", "/days_analyzed/1", json!(9), "field `days_analyzed[1]`: 9 is not a day of the release week"),
        (REG_FILE, "trend value 1e308", "/trends/0/values/2", json!(1e308), "field `trends[0].values[2]`: 1e308 is out of range"),
        (REG_FILE, "another release", "/window/start", json!("2025-11-20T00:00:00Z"), "field `window.start`: 2025-11-20 00:00:00 UTC does not belong to the release with GA"),
        (EVENTS_FILE, "score 2", "/0/score", json!(2.0), "field `[0].score`: 2 is out of range (must be 0 to 1)"),
        (EVENTS_FILE, "score negative", "/3/score", json!(-0.1), "field `[3].score`: -0.1 is out of range"),
        (EVENTS_FILE, "timestamp 2099", "/1/timestamp", json!("2099-01-01T00:00:00Z"), "field `[1].timestamp`: 2099-01-01T00:00:00+00:00 is in the future"),
        (EVENTS_FILE, "end before start", "/2/end", json!("2020-01-01T00:00:00Z"), "field `[2].end`"),
        (EVENTS_FILE, "severity unknown", "/0/severity", json!("apocalyptic"), "unknown variant `apocalyptic`"),
        (EVENTS_FILE, "service empty", "/5/service", json!(" "), "field `[5].service`: is empty"),
    ]
}

/// Rules of one file that need more than one field set.
#[rustfmt::skip]
fn other_rules() -> Vec<(&'static str, &'static str, Mutation, &'static str)> {
    vec![
        (HEALTH_FILE, "score NaN token", number_token("health_score", "NaN"), "not valid JSON"),
        (EVENTS_FILE, "observed 1e400", number_token("observed", "1e400"), "not valid JSON"),
        (EVENTS_FILE, "observed NaN token", number_token("observed", "NaN"), "not valid JSON"),
        (EVENTS_FILE, "event missing its id", remove("/0", "id"), "missing field `id`"),
    ]
}

pub(crate) fn specific_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (file, name, ptr, v, needle) in field_rules() {
        out.extend(case(file, name, set(ptr, v), &at(file, needle), 1));
    }
    for (file, name, m, needle) in other_rules() {
        out.extend(case(file, name, m, &at(file, needle), 1));
    }
    out
}

#[rustfmt::skip]
pub(crate) fn week_cases() -> Vec<Case> {
    let mut out = Vec::new();
    let tree = |f: fn(&Path)| std::rc::Rc::new(Mutation::Tree(Box::new(f)));
    let cases: [(&str, std::rc::Rc<Mutation>, &str); 8] = [
        ("renamed service", tree(|d| { let p = d.join("stability/day_04_summary.json"); let s = fs::read_to_string(&p).unwrap().replace("\"auth\"", "\"auth-v2\""); fs::write(p, s).unwrap(); }), "day_04_summary.json: field `services`: do not match the baseline's: missing [auth], not in the baseline [auth-v2]"),
        ("day 3 over day 2's window", tree(|d| { let p = d.join("stability/day_03_summary.json"); let s = fs::read_to_string(&p).unwrap().replacen("\"start\": \"2025-11-21T00:00:00Z\"", "\"start\": \"2025-11-20T00:00:00Z\"", 1); fs::write(p, s).unwrap(); }), "day_03_summary.json: field `window.start`: 2025-11-20 00:00:00 UTC does not belong to the release with GA 2025-11-18 00:00:00 UTC (expected 2025-11-21 00:00:00 UTC)"),
        ("day 5 missing", tree(|d| fs::remove_file(d.join("stability/day_05_summary.json")).unwrap()), "stability: the week is incomplete: no summary of day 5 (run tars stability-monitor --day-number 5, or pass --allow-partial"),
        ("days 1 and 7 missing", tree(|d| { fs::remove_file(d.join("stability/day_01_summary.json")).unwrap(); fs::remove_file(d.join("stability/day_07_summary.json")).unwrap(); }), "no summary of day 1, 7"),
        ("day 3 twice", tree(|d| { fs::copy(d.join("stability/day_03_summary.json"), d.join("stability/day_3_summary.json")).unwrap(); }), "stability: day 3 has 2 files (day_03_summary.json, day_3_summary.json): keep one"),
        ("day 4 holds day 3", tree(|d| { fs::copy(d.join("stability/day_03_summary.json"), d.join("stability/day_04_summary.json")).unwrap(); }), "day_04_summary.json: field `day_number`: is 3 but the file is named for day 4"),
        ("a day 8", tree(|d| { fs::copy(d.join("stability/day_07_summary.json"), d.join("stability/day_08_summary.json")).unwrap(); }), "day_08_summary.json: is named for day 8, not a day of the release week"),
        ("day 6 partial", tree(|d| { let p = d.join("stability/day_06_summary.json"); let s = fs::read_to_string(&p).unwrap().replacen("\"partial\": false", "\"partial\": true", 1); fs::write(p, s).unwrap(); }), "day_06_summary.json: field `partial`: day 6 was analysed before it ended"),
    ];
    for (name, m, needle) in cases {
        for args in [vec!["regression-analyzer"], vec!["retro", "--auto"]] {
            out.push(Case {
                name: format!("stability {name}: {}", args[0]),
                file: DAY_FILE,
                mutation: m.clone(),
                args: args.iter().map(|a| a.to_string()).collect(),
                env: vec![],
                code: 1,
                needles: vec![needle.to_string()],
            });
        }
    }
    out
}

/// Thresholds, prices and detector settings a `tars.toml` may not hold.
#[rustfmt::skip]
pub(crate) fn config_cases() -> Vec<Case> {
    let mut out = Vec::new();
    let keys = [
        "drift_low_pct",
        "drift_medium_pct",
        "drift_high_pct",
        "drift_critical_pct",
        "availability_rollback_pct",
        "error_rate_high_pct",
        "error_rate_critical_pct",
        "health_excellent",
        "health_good",
        "health_fair",
        "health_rollback",
        "min_requests",
        "memory_limit_bytes",
    ];
    let toml = |t: String| Mutation::Bytes(t.into_bytes());
    for key in keys {
        let field = format!("tars.toml: field `thresholds.{key}`");
        out.extend(case(
            CONFIG_FILE,
            &format!("{key} nan"),
            toml(format!("[thresholds]\n{key} = nan\n")),
            &[format!("{field}: NaN is not a finite number")],
            2,
        ));
        out.extend(case(
            CONFIG_FILE,
            &format!("{key} negative"),
            toml(format!("[thresholds]\n{key} = -1.5\n")),
            &[format!("{field}: -1.5 is")],
            2,
        ));
    }
    let more = [
        (
            "alpha inf",
            "[thresholds]\nsignificance_alpha = inf\n",
            "field `thresholds.significance_alpha`: inf must be between 0 and 1",
        ),
        (
            "confidence 1",
            "[thresholds]\nconfidence = 1.0\n",
            "field `thresholds.confidence`: 1 must be between 0 and 1",
        ),
        (
            "health band 250",
            "[thresholds]\nhealth_good = 250.0\n",
            "field `thresholds.health_good`: 250 is out of range (must be 0 to 100)",
        ),
        (
            "price negative",
            "[pricing]\nmemory_gib_hour_usd = -0.01\n",
            "field `pricing.memory_gib_hour_usd`: -0.01 is negative",
        ),
        (
            "price nan",
            "[pricing]\nmillion_requests_usd = nan\n",
            "field `pricing.million_requests_usd`: NaN is not a finite number",
        ),
        (
            "z nan",
            "[detector]\nz_threshold = nan\n",
            "field `detector.z_threshold`: NaN must be a positive number",
        ),
        (
            "z negative",
            "[detector]\nz_threshold = -6.0\n",
            "field `detector.z_threshold`: -6 must be a positive number",
        ),
        (
            "alpha 2",
            "[detector]\nalpha = 2.0\n",
            "field `detector.alpha`: 2 must be in (0, 1]",
        ),
        (
            "slo nan",
            "[slo]\nlatency_ms = nan\n",
            "slo.latency_ms must be a positive number",
        ),
        (
            "unknown key",
            "[thresholds]\ndrift_pct = 3\n",
            "unknown field `drift_pct`",
        ),
        (
            "a string",
            "[thresholds]\ndrift_low_pct = \"ten\"\n",
            "invalid type: string \"ten\", expected f64",
        ),
        ("not toml", "this is = = not toml\n", "tars.toml"),
    ];
    for (name, body, needle) in more {
        out.extend(case(
            CONFIG_FILE,
            name,
            toml(body.to_string()),
            &at(CONFIG_FILE, needle),
            2,
        ));
    }
    for c in &mut out {
        c.args
            .extend(["--config".to_string(), "{D}/tars.toml".to_string()]);
    }
    let mut files = Vec::new();
    for (name, m, needle) in [
        ("a directory", Mutation::Dir, "tars.toml: a directory"),
        ("a fifo", Mutation::Fifo, "tars.toml: not a regular file"),
        (
            "binary",
            Mutation::Bytes(vec![0xff, 0xfe, 0]),
            "tars.toml: not UTF-8 text",
        ),
        ("missing", Mutation::Remove, "tars.toml: not found"),
    ] {
        files.extend(case(CONFIG_FILE, name, m, &[needle.to_string()], 1));
    }
    for c in &mut files {
        c.args
            .extend(["--config".to_string(), "{D}/tars.toml".to_string()]);
    }
    out.extend(files);
    out
}
