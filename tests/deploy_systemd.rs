//! The systemd units and the daily wrapper: their keys, that every command
//! line in them is one the real CLI accepts, and `systemd-analyze verify`.

#[path = "support/deploy/mod.rs"]
#[allow(dead_code)]
mod deploy_support;

use std::collections::HashMap;

use deploy_support::*;

fn ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut section = String::new();
    for l in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_string();
            continue;
        }
        let (k, v) = l
            .split_once('=')
            .unwrap_or_else(|| panic!("not key=value: {l}"));
        assert!(!section.is_empty(), "key outside a section: {l}");
        out.entry(section.clone())
            .or_default()
            .insert(k.trim().into(), v.trim().into());
    }
    out
}

/// A long-running unit: its `[Service]` keys, a command line the CLI accepts,
/// and an `[Install]` target. Returns its ExecStart words.
fn check_service_unit(
    cache: &mut HashMap<String, String>,
    file: &str,
    keys: &[(&str, &str)],
) -> Vec<String> {
    let unit = ini(&read(&format!("deploy/systemd/{file}")));
    let s = &unit["Service"];
    for (k, v) in keys {
        assert_eq!(s.get(*k).map(String::as_str), Some(*v), "{file}: {k}");
    }
    let exec: Vec<String> = s["ExecStart"]
        .split_whitespace()
        .map(String::from)
        .collect();
    check_invocation(cache, &exec[0], &exec[1..], file);
    assert!(unit["Install"].contains_key("WantedBy"), "{file}");
    exec
}

#[test]
fn systemd_units_and_wrapper() {
    let mut cache = HashMap::new();
    let hardened = [
        ("User", "tars"),
        ("NoNewPrivileges", "true"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/data"),
        ("Restart", "on-failure"),
    ];
    check_service_unit(&mut cache, "tars-anomaly-detector.service", &hardened);
    let mut keys = hardened.to_vec();
    keys.extend([
        ("Type", "simple"),
        ("EnvironmentFile", "/etc/tars/tars.env"),
        ("ProtectHome", "true"),
        ("PrivateTmp", "true"),
        ("CapabilityBoundingSet", ""),
    ]);
    let exec = check_service_unit(&mut cache, "tars-watch.service", &keys);
    assert_eq!(exec[..2], ["/usr/local/bin/tars", "watch"]);

    let daily = ini(&read("deploy/systemd/tars-daily.service"));
    assert_eq!(daily["Service"]["Type"], "oneshot");
    assert!(daily["Service"]["ExecStart"].ends_with("tars-daily.sh"));
    let timer = ini(&read("deploy/systemd/tars-daily.timer"));
    assert!(timer["Timer"].contains_key("OnCalendar"));
    assert!(timer["Install"].contains_key("WantedBy"));

    let script = read("deploy/systemd/tars-daily.sh");
    bash_n(&script, "tars-daily.sh");
    let inv = shell_invocations(&script);
    assert_eq!(inv.len(), 2);
    for i in inv {
        check_invocation(&mut cache, &i[0], &i[1..], "tars-daily.sh");
    }
}

#[test]
fn daily_wrapper_computes_the_day_from_ga_timestamp() {
    // A stub `tars` on PATH records its arguments instead of running.
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("tars");
    let log = tmp.path().join("calls");
    std::fs::write(
        &bin,
        format!("#!/bin/sh\necho \"$*\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&bin)
        .status()
        .unwrap();
    let ga = chrono::Utc::now() - chrono::Duration::hours(3 * 24 + 1);
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ok = std::process::Command::new("bash")
        .arg(root().join("deploy/systemd/tars-daily.sh"))
        .env("PATH", path)
        .env("GA_TIMESTAMP", ga.to_rfc3339())
        .env_remove("DAY_NUMBER")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls,
        "stability-monitor --day-number 2\nhealth-report --day-number 2 --fail-on-rollback\n"
    );
}

#[test]
fn docs_create_a_system_user_without_a_fixed_uid() {
    let doc = read("docs/deployment.md");
    let useradd: Vec<&str> = doc.lines().filter(|l| l.contains("useradd")).collect();
    assert!(!useradd.is_empty());
    for l in useradd {
        assert!(l.contains("--system") && !l.contains("--uid"), "{l}");
    }
}

/// `systemd-analyze verify` accepts every unit (keys, values, the commands
/// they start), in a scratch root holding the files where the docs install
/// them; skipped where systemd-analyze is missing.
#[test]
fn systemd_analyze_verify() {
    let ok = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let units = std::path::Path::new("/usr/lib/systemd/system");
    if !ok || !units.is_dir() {
        eprintln!("systemd_analyze_verify: no systemd-analyze: skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    for d in [
        "usr/local/bin",
        "usr/local/lib/tars",
        "etc/systemd/system",
        "usr/lib/systemd",
    ] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    // The targets the units are wanted by and ordered after.
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(units)
        .arg(r.join("usr/lib/systemd/"))
        .status()
        .unwrap();
    assert!(copied.success());
    let stub = r.join("usr/local/bin/tars");
    std::fs::write(&stub, "#!/bin/sh\n").unwrap();
    std::fs::copy(
        root().join("deploy/systemd/tars-daily.sh"),
        r.join("usr/local/lib/tars/tars-daily.sh"),
    )
    .unwrap();
    for p in [&stub, &r.join("usr/local/lib/tars/tars-daily.sh")] {
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(p)
            .status()
            .unwrap();
    }
    let mut names = Vec::new();
    for e in std::fs::read_dir(root().join("deploy/systemd")).unwrap() {
        let p = e.unwrap().path();
        if p.extension()
            .is_some_and(|x| x == "service" || x == "timer")
        {
            let dest = r.join("etc/systemd/system").join(p.file_name().unwrap());
            std::fs::copy(&p, &dest).unwrap();
            names.push(dest);
        }
    }
    assert!(names.len() >= 4, "{names:?}");
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", r.display()))
        .args(&names)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "{err}");
}
