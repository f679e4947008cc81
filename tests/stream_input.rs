//! `tars anomaly-detector --input FILE.json` streams the answer (series
//! analysed as read, on several threads): its events file must be the one
//! the whole-file, single-threaded path writes, byte for byte.

use std::path::Path;

use assert_cmd::Command;
use chrono::{DateTime, Utc};

use tars::anomaly::events::{analysed, detect_series, merge_series_into_file};
use tars::anomaly::stream::{detect_file, INPUT_KPI};
use tars::config::Config;
use tars::model::Window;

#[path = "../benches/support/answer.rs"]
mod answer;

/// Today's path: the whole answer in memory, then the detector series by
/// series on one thread.
fn whole_file(input: &Path, out: &Path, cfg: &Config) {
    let series = tars::prom::read_query_range_file(input).expect("read answer");
    let events = detect_series(&series, INPUT_KPI, "", &cfg.detector, None);
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let to = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).expect("time");
    let window = Window {
        start: to(lo),
        end: to(hi + 1),
    };
    let scope = analysed(&series, INPUT_KPI);
    merge_series_into_file(out, &window, Some(&scope), events).expect("merge");
}

fn streamed(input: &Path, out: &Path, cfg: &Config, workers: usize) {
    let run = detect_file(input, &cfg.detector, workers).expect("streamed run");
    let window = run.window.expect("samples");
    merge_series_into_file(out, &window, Some(&run.analysed), run.events).expect("merge");
}

#[test]
fn streamed_parallel_and_single_threaded_artifacts_are_identical() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("answer.json");
    let shape = answer::Shape {
        series: 24,
        points: 3_000,
        spike_every: 500,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).expect("create"));
    answer::write_answer(&mut f, &shape).expect("write answer");
    drop(f);
    let cfg = Config::default();

    let reference = dir.path().join("whole.json");
    whole_file(&input, &reference, &cfg);
    let want = std::fs::read(&reference).expect("reference");
    let events: Vec<serde_json::Value> = serde_json::from_slice(&want).expect("events JSON");
    // Spikes in every series: an empty file would make the comparison moot.
    assert!(events.len() >= shape.series, "{} events", events.len());

    for workers in [0, 1, 2, 5] {
        let out = dir.path().join(format!("streamed-{workers}.json"));
        streamed(&input, &out, &cfg, workers);
        let got = std::fs::read(&out).expect("streamed artifact");
        assert!(got == want, "{workers} workers: artifact differs");
    }

    let out = dir.path().join("cli.json");
    Command::cargo_bin("tars")
        .expect("tars binary")
        .env_remove("Z_THRESHOLD")
        .env_remove("TARS_Z_THRESHOLD")
        .env_remove("EWMA_ALPHA")
        .args(["anomaly-detector", "--once", "--input"])
        .arg(&input)
        .arg("--output-file")
        .arg(&out)
        .assert()
        .success();
    assert!(
        std::fs::read(&out).expect("cli artifact") == want,
        "CLI artifact differs"
    );
}
