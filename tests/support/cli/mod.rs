//! Shared by the CLI test binaries: the real binaries with a developer's
//! environment kept out, and a demo data directory to copy from.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use predicates::prelude::*;

/// The demo's GA instant.
pub const GA: &str = "2025-11-18T00:00:00Z";

pub fn tars() -> Command {
    alias("tars")
}

/// One of the seven binaries, with a developer's environment kept out.
pub fn alias(name: &str) -> Command {
    let mut c = Command::cargo_bin(name).unwrap();
    for v in [
        "PROMETHEUS_URL",
        "TARS_SOURCE",
        "TARS_CONFIG",
        "TARS_DATA_DIR",
        "TARS_OUTPUT_DIR",
        "GA_TIMESTAMP",
        "DAY_NUMBER",
        "Z_THRESHOLD",
        "EWMA_ALPHA",
    ] {
        c.env_remove(v);
    }
    c
}

/// A demo data directory shared by the read-only tests.
pub fn demo() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("demo");
        tars()
            .args(["demo", "--data-dir"])
            .arg(&data)
            .assert()
            .success()
            .stdout(predicate::str::contains("Report:"));
        (dir, data)
    })
    .1
}

pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

pub fn copy_tree(from: &Path, to: &Path) {
    for (p, bytes) in snapshot(from) {
        let dest = to.join(p.strip_prefix(from).unwrap());
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(dest, bytes).unwrap();
    }
}
