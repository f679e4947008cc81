//! Benchmark of `--input FILE.json`: a 2,000-series x 10,080-point
//! `query_range` answer (~600 MB), read by `tars::prom::read_query_range_file`
//! next to plain serde_json parsing into owned `Vec<(f64, String)>`, each in
//! its own process so that peak RSS is per phase; then `tars
//! anomaly-detector --input FILE --once` on it.
//!
//!   cargo bench --bench prom_input                 # all phases, temp file
//!   PROM_INPUT_FILE=big.json cargo bench --bench prom_input
//!   SERIES=200 POINTS=10080 cargo bench --bench prom_input

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::Deserialize;

#[path = "support/measure.rs"]
mod measure;
use measure::{env_num, peak_rss_mib};

#[path = "support/answer.rs"]
mod answer;

fn generate(path: &Path, series: usize, points: usize) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let shape = answer::Shape {
        series,
        points,
        spike_every: 0,
    };
    answer::write_answer(&mut w, &shape)
}

#[derive(Deserialize)]
struct Owned {
    data: OwnedData,
}
#[derive(Deserialize)]
struct OwnedData {
    result: Vec<OwnedSeries>,
}
#[derive(Deserialize)]
struct OwnedSeries {
    #[allow(dead_code)]
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

fn count(o: &Owned) -> (usize, usize) {
    (
        o.data.result.len(),
        o.data.result.iter().map(|s| s.values.len()).sum(),
    )
}

fn phase(mode: &str, path: &Path) {
    let t0 = Instant::now();
    let (series, points) = match mode {
        "read" => {
            let s = tars::prom::read_query_range_file(path).expect("read_query_range_file");
            (s.len(), s.iter().map(|s| s.points.len()).sum())
        }
        "slice" => {
            let mut buf = Vec::new();
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut buf))
                .expect("read file");
            let o: Owned = serde_json::from_slice(&buf).expect("from_slice");
            count(&o)
        }
        "reader" => {
            let f = std::fs::File::open(path).expect("open");
            let o: Owned =
                serde_json::from_reader(BufReader::with_capacity(1 << 20, f)).expect("from_reader");
            count(&o)
        }
        other => panic!("unknown phase {other}"),
    };
    println!(
        "{mode:<8} {series} series, {points} points: {:.2} s, peak RSS {:.0} MiB",
        t0.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [mode, path] = args.as_slice() {
        phase(mode, Path::new(path));
        return;
    }
    let series = env_num("SERIES", 2000);
    let points = env_num("POINTS", 10_080);
    let (path, _keep): (PathBuf, Option<tempfile::TempDir>) =
        match std::env::var_os("PROM_INPUT_FILE") {
            Some(p) => (PathBuf::from(p), None),
            None => {
                let d = tempfile::tempdir().expect("temp dir");
                (d.path().join("query_range.json"), Some(d))
            }
        };
    if !path.exists() {
        let t0 = Instant::now();
        generate(&path, series, points).expect("generate");
        println!(
            "generated {} ({series} x {points}, {:.0} MB) in {:.1} s",
            path.display(),
            std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / 1e6),
            t0.elapsed().as_secs_f64()
        );
    }
    let me = std::env::current_exe().expect("own path");
    for mode in ["slice", "reader", "read"] {
        let st = Command::new(&me).arg(mode).arg(&path).status();
        assert!(st.is_ok_and(|s| s.success()), "phase {mode} failed");
    }
    // The whole command: parse plus the anomaly detector over every series.
    let out = path.with_extension("events.json");
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-v").arg(env!("CARGO_BIN_EXE_tars"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_tars"))
    };
    let t0 = Instant::now();
    let res = cmd
        .args(["anomaly-detector", "--once", "--input"])
        .arg(&path)
        .arg("--output-file")
        .arg(&out)
        .output()
        .expect("run tars");
    let stderr = String::from_utf8_lossy(&res.stderr);
    let rss = stderr
        .lines()
        .find(|l| l.contains("Maximum resident set size"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map_or("n/a".to_string(), |kb| format!("{:.0} MiB", kb / 1024.0));
    println!(
        "tars anomaly-detector --input --once: {:.2} s, peak RSS {rss}, exit {}: {}",
        t0.elapsed().as_secs_f64(),
        res.status,
        String::from_utf8_lossy(&res.stdout).trim()
    );
    let _ = std::fs::remove_file(&out);
}
