//! Errors of the proxy and the integrations keep their class through the
//! command line: bad settings exit 2 (usage), as for every other command.

#[path = "support/cli/mod.rs"]
mod support;
use support::tars;

fn usage(args: &[&str], needle: &str) {
    let out = tars().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
}

#[test]
fn docker_api_bad_settings_are_usage_errors() {
    usage(
        &["docker-api", "--listen", "not-an-address"],
        "not-an-address",
    );
    usage(
        &[
            "docker-api",
            "--listen",
            "127.0.0.1:0",
            "--docker-host",
            "tcp://10.0.0.1:2375",
        ],
        "tcp://10.0.0.1:2375",
    );
}

#[test]
fn notify_bad_settings_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    usage(
        &[
            "notify",
            "github",
            "--repo",
            "no-slash",
            "--dry-run",
            "--data-dir",
            d,
        ],
        "no-slash",
    );
}

#[test]
fn a_first_argument_naming_a_tool_runs_that_tool() {
    // `docker run IMAGE tars-ga-kpi ...` with `tars` as the entry point.
    let out = tars().args(["tars-ga-kpi", "--version"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        concat!("tars-ga-kpi ", env!("CARGO_PKG_VERSION"))
    );
    let out = tars()
        .args(["tars-stability-monitor", "--day-number", "9"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("tars-stability-monitor: "), "{stderr}");
    // `docker run IMAGE tars watch --help`.
    let out = tars().args(["tars", "watch", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--listen"));
}

#[test]
fn an_unreadable_credential_file_is_a_usage_error_naming_its_flag() {
    usage(
        &[
            "ga-kpi",
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--bearer-token-file",
            "/nonexistent/token",
            "--ga-timestamp",
            "2025-11-18T00:00:00Z",
        ],
        "--bearer-token-file: /nonexistent/token",
    );
    usage(
        &[
            "ga-kpi",
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--basic-auth-user",
            "tars",
            "--ga-timestamp",
            "2025-11-18T00:00:00Z",
        ],
        "--basic-auth-user needs --basic-auth-password-file",
    );
}
