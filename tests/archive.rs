//! `tars archive` and `tars restore` through the binary: a demo week goes
//! out and comes back byte for byte; a restore never overwrites data.

#[path = "support/cli/mod.rs"]
mod support;
use support::{demo, snapshot, tars};

#[test]
fn a_demo_week_round_trips_through_an_archive() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("week.tar.gz");
    tars()
        .args(["archive", "--data-dir"])
        .arg(demo())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let back = dir.path().join("restored");
    tars()
        .arg("restore")
        .arg(&out)
        .arg("--data-dir")
        .arg(&back)
        .assert()
        .success();
    // Lock files are not data and are not archived.
    let strip = |root: &std::path::Path, files: Vec<(std::path::PathBuf, Vec<u8>)>| {
        files
            .into_iter()
            .map(|(p, b)| (p.strip_prefix(root).unwrap().to_path_buf(), b))
            .filter(|(p, _)| p.extension().is_none_or(|x| x != "lock"))
            .collect::<Vec<_>>()
    };
    let (got, want) = (
        strip(&back, snapshot(&back)),
        strip(demo(), snapshot(demo())),
    );
    let names =
        |v: &[(std::path::PathBuf, Vec<u8>)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want));
    assert!(got == want, "contents differ");
    // Into the same place again: refused with exit 2, nothing touched.
    let before = snapshot(&back);
    let again = tars()
        .arg("restore")
        .arg(&out)
        .arg("--data-dir")
        .arg(&back)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    assert!(before == snapshot(&back));
}
