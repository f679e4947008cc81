//! Habits of a tool people script: a reader that stops early is no error.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};

#[test]
fn a_reader_that_stops_after_one_line_is_not_an_error() {
    // `tars schema | head -1`: the output (about 80 KB) is larger than a pipe's
    // buffer, so the writer sees the closed pipe.
    for args in [vec!["schema"], vec!["schema", "--markdown"]] {
        let (first, code, stderr) = read_lines_then_leave(&args, 1);
        assert!(!first.is_empty(), "{args:?}: no first line");
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Starts `tars args` with a colour-neutral environment, stdout and stderr piped.
fn spawn_tars(args: &[&str]) -> Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_tars"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("TARS_DOCKER_API_TOKEN")
        .env_remove("TARS_DOCKER_API_TOKEN_FILE")
        .env_remove("TARS_DOCKER_API_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `lines` lines of `tars args` (none: the reader leaves at once), then
/// goes away as `head` does; returns what was read, the exit code and stderr.
fn read_lines_then_leave(args: &[&str], lines: usize) -> (String, Option<i32>, String) {
    let mut child = spawn_tars(args);
    let mut read = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..lines {
        out.read_line(&mut read).unwrap();
    }
    drop(out);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (read, child.wait().unwrap().code(), stderr)
}

#[path = "support/cli/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use support::{alias, tars, GA};

/// Field paths per command with their documented JSON type, from the
/// tables of docs/cli.md: the tables are the schema of `--json`.
fn documented_fields() -> BTreeMap<String, Vec<(String, String)>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md")).unwrap();
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut section = None;
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            section = Some(h.trim().to_string());
        } else if line.starts_with("## ") {
            section = None;
        } else if let (Some(s), Some(rest)) = (&section, line.strip_prefix("| `")) {
            let mut cells = rest.split('|');
            let field = cells.next().unwrap().split('`').next().unwrap().to_string();
            let kind = cells.next().unwrap_or("").trim().to_string();
            out.entry(s.clone()).or_default().push((field, kind));
        }
    }
    out
}

/// Whether `v` is of the documented type (`integer`, `number or null`, ...).
fn has_type(v: &Value, kind: &str) -> bool {
    kind.split(" or ").any(|k| match k.trim() {
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        other => panic!("docs/cli.md: unknown type `{other}`"),
    })
}

/// Runs `tars args`, expecting success and exactly one line of JSON object.
fn json_of(args: &[&str]) -> Value {
    let out = tars().args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().count(),
        1,
        "{args:?}: not one line: {stdout}"
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(v.is_object(), "{args:?}: {v}");
    v
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

#[test]
fn json_output_parses_and_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let ds = d.to_str().unwrap();
    let baseline = format!("{ds}/ga_kpis/ga_kpi_summary.json");
    let mut outputs: Vec<(&str, Value)> = Vec::new();
    outputs.push(("demo", json_of(&["demo", "--json", "--data-dir", ds])));
    let sim = ["--source", "sim:regressions"];
    let ga2 = format!("{ds}/ga2");
    let runs: Vec<(&str, Vec<&str>)> = vec![
        (
            "ga-kpi",
            vec!["ga-kpi", "--output-dir", &ga2, "--ga-timestamp", GA],
        ),
        (
            "stability-monitor",
            vec!["stability-monitor", "--day-number", "3", "--data-dir", ds],
        ),
        (
            "anomaly-detector",
            vec![
                "anomaly-detector",
                "--once",
                "--data-dir",
                ds,
                "--baseline",
                &baseline,
            ],
        ),
        (
            "health-report",
            vec!["health-report", "--day-number", "3", "--data-dir", ds],
        ),
        (
            "regression-analyzer",
            vec!["regression-analyzer", "--data-dir", ds],
        ),
        ("retro", vec!["retro", "--auto", "--data-dir", ds]),
    ];
    for (name, mut args) in runs {
        if matches!(name, "ga-kpi" | "stability-monitor" | "anomaly-detector") {
            args.extend(sim);
        }
        args.push("--json");
        outputs.push((name, json_of(&args)));
    }
    let docs = documented_fields();
    assert_eq!(docs.len(), outputs.len(), "documented: {:?}", docs.keys());
    for (name, v) in &outputs {
        let fields = &docs[*name];
        assert!(fields.len() >= 7, "{name}: {fields:?}");
        for (f, kind) in fields {
            let got = lookup(v, f).unwrap_or_else(|| panic!("{name} --json lacks `{f}`: {v}"));
            assert!(has_type(got, kind), "{name} `{f}` is not {kind}: {got}");
        }
        assert_eq!(v["command"], *name);
    }
    let demo = &outputs[0].1;
    assert_eq!(demo["days"].as_array().unwrap().len(), 7);
    assert_eq!(demo["verdict"], "rollback");
    let md = demo["artifacts"]["markdown"].as_str().unwrap();
    assert!(Path::new(md).is_file(), "{md}");
    let health = &outputs[4].1;
    let score = health["health_score"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&score));
}

#[test]
fn quiet_prints_nothing_on_success_and_errors_still_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let out = tars()
        .args(["demo", "-q", "--data-dir"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d.join("output/GA_7DAY_RETROSPECTIVE.md").is_file());
    for args in [
        vec![
            "health-report",
            "--quiet",
            "--day-number",
            "2",
            "--data-dir",
        ],
        vec!["retro", "--quiet", "--data-dir"],
    ] {
        let out = tars().args(&args).arg(&d).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{args:?}");
    }
    let out = tars()
        .args(["health-report", "-q", "--day-number", "2", "--data-dir"])
        .arg(d.join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("error"));
}

#[test]
fn errors_are_coloured_only_when_asked_on_a_pipe() {
    let err = |color: &str| {
        let out = tars()
            .args(["--color", color, "health-report", "--day-number", "2"])
            .args(["--data-dir", "/nonexistent/tars"])
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stderr).unwrap()
    };
    let plain = err("auto");
    assert!(plain.starts_with("tars: error: "), "{plain}");
    assert!(!err("never").contains(ESC));
    assert!(err("always").contains(ESC), "--color always");
}

const ESC: &str = "\x1b[";

/// `tars demo` on a pseudo-terminal (util-linux `script`), with `env` set.
fn demo_on_a_tty(data: &Path, extra: &str, env: &[(&str, &str)]) -> Option<String> {
    which("script")?;
    let cmd = format!(
        "{} demo --data-dir {} {extra}",
        env!("CARGO_BIN_EXE_tars"),
        data.display()
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"]).env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn which(bin: &str) -> Option<()> {
    let ok = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .ok()?
        .status
        .success();
    ok.then_some(())
}

#[test]
fn colour_follows_the_terminal_no_color_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let run = |extra: &[&str], no_color: bool| {
        let mut c = tars();
        c.args(extra).arg("--data-dir").arg(&d);
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        let out = c.output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    // Piped: plain, whatever the environment.
    let piped = run(&["demo"], false);
    assert!(
        !piped.contains(ESC) && piped.contains("rollback"),
        "{piped}"
    );
    assert!(!piped.contains('│'), "a table drawn into a pipe: {piped}");
    assert!(!run(&["demo", "--color", "never"], false).contains(ESC));
    assert!(!run(&["demo"], true).contains(ESC));
    let forced = run(&["--color", "always", "demo"], false);
    assert!(forced.contains(ESC), "--color always: {forced}");
    // On a terminal: colour and a table, unless NO_COLOR or --color never.
    if let Some(tty) = demo_on_a_tty(&d, "", &[]) {
        assert!(tty.contains(ESC) && tty.contains('│'), "{tty}");
        let no = demo_on_a_tty(&d, "", &[("NO_COLOR", "1")]).unwrap();
        assert!(!no.contains(ESC), "NO_COLOR on a tty: {no}");
        let never = demo_on_a_tty(&d, "--color never", &[]).unwrap();
        assert!(!never.contains(ESC), "--color never on a tty: {never}");
    }
}

/// The first log line of `tars docker-api` with stderr redirected.
fn docker_api_first_log_line(color: &str) -> String {
    let mut child = spawn_tars(&[
        "docker-api",
        "--color",
        color,
        "--listen",
        "127.0.0.1:0",
        "--docker-host",
        "unix:///nonexistent/docker.sock",
    ]);
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    line
}

#[test]
fn docker_api_logs_are_plain_when_redirected() {
    let plain = docker_api_first_log_line("auto");
    assert!(plain.contains("listening"), "{plain}");
    assert!(
        !plain.contains(ESC),
        "escape codes in redirected logs: {plain:?}"
    );
    assert!(!docker_api_first_log_line("never").contains(ESC));
    let forced = docker_api_first_log_line("always");
    assert!(forced.contains(ESC), "--color always: {forced:?}");
}

#[test]
fn alias_binaries_have_their_own_usage_line() {
    for (bin, sub) in [
        ("tars-ga-kpi", "ga-kpi"),
        ("tars-retro", "retro"),
        ("tars-stability-monitor", "stability-monitor"),
    ] {
        let out = alias(bin).arg("--help").output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success());
        assert!(help.contains(&format!("Usage: {bin} [OPTIONS]")), "{help}");
        assert!(!help.contains(&format!("{bin} {sub}")), "{help}");
        assert!(help.contains(&format!("Example:\n  {bin} ")), "{help}");
        let out = alias(bin).arg("--no-such-flag").output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(err.contains(&format!("Usage: {bin} [OPTIONS]")), "{err}");
    }
}

#[test]
fn help_leads_with_the_commands_own_flags_and_shows_examples() {
    for sub in ["ga-kpi", "stability-monitor", "anomaly-detector"] {
        let out = tars().args([sub, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let own = help
            .find("--allow-partial")
            .or(help.find("--once"))
            .unwrap();
        let heading = help.find("\nPrometheus connection:\n").expect(&help);
        assert!(own < help.find("--prometheus-url").unwrap(), "{help}");
        assert!(help.find("--prometheus-url").unwrap() < heading, "{help}");
        assert!(
            heading < help.find("--bearer-token-file").unwrap(),
            "{help}"
        );
        assert!(help.contains("Example:\n  tars "), "{help}");
    }
    let help = String::from_utf8(
        tars()
            .args(["health-report", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        help.matches("1-7").count(),
        1,
        "day range said twice: {help}"
    );
    assert!(
        help.contains("[default: DATA_DIR/health/day_NN_HEALTH.json]"),
        "{help}"
    );
}

#[test]
fn closed_sets_of_values_are_checked_by_clap() {
    let cases: [&[&str]; 3] = [
        &[
            "notify",
            "github",
            "--repo",
            "a/b",
            "--dry-run",
            "--min-priority",
            "P9",
        ],
        &["demo", "--scenario", "sunny"],
        &["completions", "tcsh"],
    ];
    let lists = [
        "P0, P1, P2, P3",
        "healthy, regressions, rollback",
        "bash, elvish, fish, powershell, zsh",
    ];
    for (args, list) in cases.iter().zip(lists) {
        let out = tars().args(*args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("invalid value") && err.contains(list),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = tars().args(["completions", shell]).output().unwrap();
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(script.len() > 1000, "{shell}: {script}");
        assert!(script.contains("stability-monitor"), "{shell}");
        assert!(script.contains("day-number"), "{shell}");
    }
}

#[test]
fn man_pages_for_every_command_and_alias() {
    let dir = tempfile::tempdir().unwrap();
    let out = tars()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages = vec!["tars".to_string()];
    let commands = "demo ga-kpi stability-monitor anomaly-detector health-report \
        regression-analyzer retro kpi kpi-check schema docker-api notify notify-slack \
        notify-github completions man watch probe archive restore doctor";
    pages.extend(commands.split_whitespace().map(|c| format!("tars-{c}")));
    for p in &pages {
        let text = std::fs::read_to_string(dir.path().join(format!("{p}.1")))
            .unwrap_or_else(|e| panic!("{p}.1: {e}"));
        // clap_mangen defines the quote string before the title.
        let first = text
            .lines()
            .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"))
            .unwrap();
        assert!(first.starts_with(&format!(".TH {p} 1")), "{p}: {first}");
        assert!(text.contains(".SH SYNOPSIS"), "{p}");
    }
    let alias_page = std::fs::read_to_string(dir.path().join("tars-ga-kpi.1")).unwrap();
    assert!(
        alias_page.contains("\\fBtars\\-ga\\-kpi\\fR [OPTIONS]"),
        "{alias_page}"
    );
    let n = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(n, pages.len(), "unexpected pages");
    if which("groff").is_some() {
        let out = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(dir.path().join("tars-stability-monitor.1"))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn every_summary_ends_quietly_on_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let ds = d.to_str().unwrap();
    // The demo computes for a second before printing: the reader is gone by then.
    for args in [
        vec!["demo", "--data-dir", ds],
        vec!["demo", "--json", "--data-dir", ds],
        vec!["completions", "bash"],
        vec!["retro", "--data-dir", ds],
        vec!["health-report", "--day-number", "1", "--data-dir", ds],
    ] {
        let (_, code, stderr) = read_lines_then_leave(&args, 0);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
