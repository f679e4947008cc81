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
