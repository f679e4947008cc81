//! `tars anomaly-detector --input FILE.csv --scores-csv OUT.csv`: NAB-style
//! scoring through the real binary, with tars.toml's detector settings.

use std::fs;
use std::path::Path;

#[path = "support/cli/mod.rs"]
mod support;
use support::tars;

/// A quiet minute series with a half-hour level shift and one spike.
fn series(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("timestamp,value\n");
    for i in 0..500u32 {
        let v = if i == 400 {
            60.0
        } else {
            10.0 + f64::from(i % 5)
        };
        csv.push_str(&format!(
            "\"2014-02-14 {:02}:{:02}:00\",{v}\n",
            i / 60,
            i % 60
        ));
    }
    let p = dir.join("series.csv");
    fs::write(&p, csv).unwrap();
    p
}

/// The sum of every row's score.
fn total_score(input: &Path, out: &Path, config: Option<&Path>) -> f64 {
    let mut cmd = tars();
    cmd.args(["anomaly-detector", "--input"])
        .arg(input)
        .arg("--scores-csv")
        .arg(out)
        .env_remove("Z_THRESHOLD")
        .env_remove("TARS_Z_THRESHOLD")
        .env_remove("TARS_CONFIG");
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.assert().success();
    let text = fs::read_to_string(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 501, "header and one score per row");
    assert_eq!(lines[0], "timestamp,anomaly_score");
    lines[1..]
        .iter()
        .map(|l| {
            l.rsplit(',')
                .next()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap()
        })
        .sum()
}

#[test]
fn the_files_z_threshold_reaches_a_csv_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = series(dir.path());
    let out = dir.path().join("scores.csv");
    let default = total_score(&input, &out, None);
    let cfg = dir.path().join("tars.toml");
    fs::write(&cfg, "[detector]\nz_threshold = 50.0\n").unwrap();
    let lenient = total_score(&input, &out, Some(&cfg));
    // A threshold of 50 makes the same shift a much weaker alarm; before the
    // fix the file's value was replaced by the built-in default.
    assert!(lenient < default, "default {default}, z=50 {lenient}");
}

#[test]
fn a_bad_row_names_the_file_and_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.csv");
    fs::write(
        &input,
        "timestamp,value\n2014-02-14 00:00:00,1\n2014-02-14 00:01:00,abc\n",
    )
    .unwrap();
    let out = dir.path().join("scores.csv");
    let res = tars()
        .args(["anomaly-detector", "--input"])
        .arg(&input)
        .arg("--scores-csv")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("bad.csv: line 3: value 'abc' is not a number"),
        "{stderr}"
    );
    assert!(!out.exists());
}
