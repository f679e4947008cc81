//! What the deployment tests share: the repository root, files read from it,
//! and the check that a command line is one the real CLI accepts.

use std::collections::HashMap;
use std::path::PathBuf;

use assert_cmd::Command;
use serde_yaml::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(p: &str) -> String {
    std::fs::read_to_string(root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

pub fn help(sub: &str) -> String {
    let out = Command::cargo_bin("tars")
        .unwrap()
        .args(sub.split(' '))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "tars {sub} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Checks `program args...`: the subcommand exists and every `--flag` is in its help.
pub fn check_invocation(
    cache: &mut HashMap<String, String>,
    program: &str,
    args: &[String],
    at: &str,
) {
    let (sub, rest) = match program.rsplit('/').next().unwrap_or(program) {
        "tars" => {
            let sub = args
                .first()
                .unwrap_or_else(|| panic!("{at}: tars without a subcommand"));
            // `tars tars-ga-kpi ...` (the image's entrypoint with an alias name).
            let sub = sub.strip_prefix("tars-").unwrap_or(sub);
            assert!(
                !sub.starts_with('-'),
                "{at}: tars without a subcommand: {sub}"
            );
            (sub.to_string(), &args[1..])
        }
        alias => (
            alias
                .strip_prefix("tars-")
                .unwrap_or_else(|| panic!("{at}: unknown program {alias}"))
                .to_string(),
            args,
        ),
    };
    let text = cache
        .entry(sub.clone())
        .or_insert_with(|| help(&sub))
        .clone();
    for flag in rest.iter().filter(|a| a.starts_with("--")) {
        let flag = flag.split('=').next().unwrap_or_default();
        let found = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .any(|w| w == flag);
        assert!(found, "{at}: `tars {sub}` has no flag {flag}");
    }
}

/// Every `tars ...` invocation inside a shell script.
pub fn shell_invocations(script: &str) -> Vec<Vec<String>> {
    script
        .lines()
        .filter_map(|l| {
            let words: Vec<String> = l
                .split_whitespace()
                .map(|w| w.trim_matches('"').to_string())
                .collect();
            let i = words.iter().position(|w| {
                w == "tars" || w.starts_with("tars-") && !w.contains('.') && !w.contains(':')
            })?;
            Some(words[i..].to_vec())
        })
        .collect()
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn bash_n(script: &str, name: &str) {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), script).unwrap();
    let ok = std::process::Command::new("bash")
        .arg("-n")
        .arg(tmp.path())
        .status()
        .unwrap()
        .success();
    assert!(ok, "{name}: bash -n failed");
    if let Ok(s) = std::process::Command::new("shellcheck")
        .args(["-s", "bash"])
        .arg(tmp.path())
        .status()
    {
        assert!(s.success(), "{name}: shellcheck failed");
    }
}
