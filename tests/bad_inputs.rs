//! The bad-input catalogue: every artifact a stage reads, broken in each way
//! we know (truncated, empty, not JSON, wrong schema version or kind, NaN and
//! Infinity, numbers out of range, missing fields, extra nesting, a FIFO or a
//! directory in its place, days that do not make a week, a configuration
//! with NaN or negative thresholds), times each command that reads it.
//!
//! Each case runs in a fresh copy of a demo data directory and must end with
//! the expected exit code, one line on stderr naming the file and containing
//! the case's fragment, no panic, and every file as it was before the run.
//! Permissions are not mutated: the tests run as root, where they do not apply.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

#[path = "support/cli/mod.rs"]
mod support;
use support::{copy_tree, demo, tars};
#[path = "bad_inputs/special.rs"]
mod special;
#[path = "bad_inputs/table.rs"]
mod table;
use table::*;
/// Applies `m` to `file` under `d`.
fn mutate(d: &Path, file: &str, m: &Mutation) {
    let p = d.join(file);
    let replace = |p: &Path| {
        if p.is_dir() {
            fs::remove_dir_all(p).unwrap();
        } else if fs::symlink_metadata(p).is_ok() {
            fs::remove_file(p).unwrap();
        }
    };
    match m {
        Mutation::Bytes(b) => fs::write(&p, b).unwrap(),
        Mutation::Text(f) => {
            let s = fs::read_to_string(&p).unwrap();
            fs::write(&p, f(&s)).unwrap();
        }
        Mutation::Json(f) => {
            let mut v: Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
            f(&mut v);
            fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        }
        Mutation::Fifo => {
            replace(&p);
            let ok = std::process::Command::new("mkfifo")
                .arg(&p)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        Mutation::Dir => {
            replace(&p);
            fs::create_dir_all(p.join("sub")).unwrap();
        }
        Mutation::DevZero => {
            replace(&p);
            std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
        }
        Mutation::Remove => replace(&p),
        Mutation::Tree(f) => f(d),
    }
}

/// Every entry under `dir`: regular files with their bytes, anything else
/// (a FIFO, a link) by its type only, so that taking it never blocks.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let t = fs::symlink_metadata(&p).unwrap().file_type();
            if t.is_dir() {
                stack.push(p.clone());
                out.push((p, "dir".into(), vec![]));
            } else if t.is_file() {
                let bytes = fs::read(&p).unwrap();
                out.push((p, "file".into(), bytes));
            } else {
                out.push((p, format!("{t:?}"), vec![]));
            }
        }
    }
    out.sort();
    out
}

/// Runs one case; `Err` says how it failed.
fn run(c: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    if c.file == CONFIG_FILE {
        fs::write(d.join(CONFIG_FILE), "").unwrap();
    }
    mutate(&d, c.file, &c.mutation);
    let before = snapshot(&d);
    let ds = d.to_str().unwrap();
    let mut cmd = tars();
    cmd.args(c.args.iter().map(|a| a.replace("{D}", ds)))
        .args(["--data-dir", ds])
        .timeout(std::time::Duration::from_secs(60));
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut why = Vec::new();
    if out.status.code() != Some(c.code) {
        why.push(format!("exit {:?}, expected {}", out.status.code(), c.code));
    }
    for needle in &c.needles {
        if !stderr.contains(needle) {
            why.push(format!("stderr lacks {needle:?}"));
        }
    }
    if stderr.trim_end().lines().count() != 1 {
        why.push("stderr is not one line".to_string());
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        why.push("panicked".to_string());
    }
    if !out.stdout.is_empty() {
        why.push("printed on stdout".to_string());
    }
    if before != snapshot(&d) {
        why.push("changed the data directory".to_string());
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}\n    stderr: {}",
            c.name,
            why.join("; "),
            stderr.trim_end()
        ))
    }
}

#[test]
fn the_bad_input_catalogue() {
    let cases = all_cases();
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| run(c).err()).collect();
    eprintln!(
        "bad-input catalogue: {} cases, {} failed",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The catalogue's cases have distinct names (a table row copied twice
/// would count twice).
#[test]
fn catalogue_cases_are_distinct() {
    let cases = all_cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n, "repeated case names");
}

fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    copy_tree(demo(), &d);
    (dir, d)
}

fn json_of(p: &Path) -> Value {
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

/// An events file holding each event twice (a botched merge, a file
/// concatenated by hand) scores the day as the clean file does.
#[test]
fn repeated_anomaly_events_are_dropped_when_read() {
    let (_dir, d) = demo_copy();
    let events = d.join(EVENTS_FILE);
    let mut v = json_of(&events);
    let list = v.as_array_mut().unwrap();
    let n = list.len();
    let copies: Vec<Value> = list.clone();
    list.extend(copies);
    fs::write(&events, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let out = d.join("health/again.json");
    tars()
        .args(["health-report", "--day-number", "3", "-q", "--data-dir"])
        .arg(&d)
        .arg("--output-file")
        .arg(&out)
        .assert()
        .success();
    let clean = json_of(&d.join(HEALTH_FILE));
    let again = json_of(&out);
    assert!(clean["anomaly_summary"]["events"].as_u64().unwrap() > 0);
    assert_eq!(again["anomaly_summary"], clean["anomaly_summary"]);
    assert_eq!(again["health_score"], clean["health_score"]);
    // The next merge writes the file without the repeats.
    tars()
        .args(["anomaly-detector", "--once", "--source", "sim", "-q"])
        .args([
            "--since",
            "2025-11-19T00:00:00Z",
            "--until",
            "2025-11-19T01:00:00Z",
        ])
        .arg("--data-dir")
        .arg(&d)
        .assert()
        .success();
    assert_eq!(json_of(&events).as_array().unwrap().len(), n);
}

/// A week with a day missing is analysed when asked for, over the days
/// there are.
#[test]
fn allow_partial_analyses_an_incomplete_week() {
    let (_dir, d) = demo_copy();
    fs::remove_file(d.join("stability/day_05_summary.json")).unwrap();
    tars()
        .args(["regression-analyzer", "--allow-partial", "-q", "--data-dir"])
        .arg(&d)
        .assert()
        .success();
    let days = json_of(&d.join(REG_FILE))["days_analyzed"].clone();
    assert_eq!(days, json!([0, 1, 2, 3, 4, 6, 7]));
    tars()
        .args(["retro", "--allow-partial", "-q", "--data-dir"])
        .arg(&d)
        .assert()
        .success();
    let covered = json_of(&d.join("output/GA_7DAY_RETROSPECTIVE.json"))["days_covered"].clone();
    assert!(
        !covered.as_array().unwrap().contains(&json!(5)),
        "{covered}"
    );
}
