//! The streaming analysis of `tars anomaly-detector --input FILE.json`
//! (issue 16), phase by phase, one phase per process so that each has its
//! own peak RSS:
//!
//!   cargo bench --bench stream_input -- gen FILE.json       # 2,000 x 10,080
//!   cargo bench --bench stream_input -- whole FILE.json     # read all, then detect
//!   cargo bench --bench stream_input -- stream FILE.json    # streamed, one thread
//!   cargo bench --bench stream_input -- parallel FILE.json  # streamed, WORKERS (default: cores)
//!
//! `SERIES`, `POINTS` and `SPIKE_EVERY` shape the generated answer. Compare
//! with the floor (`benches/floor.rs`) under `/usr/bin/time -v`; the
//! figures are in docs/performance.md.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Instant;

use tars::anomaly::events::detect_series;
use tars::anomaly::stream::{default_workers, detect_file, INPUT_KPI};
use tars::config::Config;

#[path = "support/answer.rs"]
mod answer;

#[path = "support/measure.rs"]
mod measure;
use measure::{env_num, peak_rss_mib};

fn fail(msg: String) -> ! {
    eprintln!("stream_input: {msg}");
    std::process::exit(1)
}

fn generate(path: &Path) {
    let shape = answer::Shape {
        series: env_num("SERIES", 2_000),
        points: env_num("POINTS", 10_080),
        spike_every: env_num("SPIKE_EVERY", 1_440),
    };
    let t0 = Instant::now();
    let file = std::fs::File::create(path).unwrap_or_else(|e| fail(e.to_string()));
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    answer::write_answer(&mut w, &shape).unwrap_or_else(|e| fail(e.to_string()));
    let mb = std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1e6);
    println!(
        "generated {} ({} x {}, {mb:.0} MB) in {:.1} s",
        path.display(),
        shape.series,
        shape.points,
        t0.elapsed().as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [mode, path] = args.as_slice() else {
        fail("usage: stream_input gen|whole|stream|parallel FILE.json".into())
    };
    let path = Path::new(path);
    if mode == "gen" {
        return generate(path);
    }
    let det = Config::default().detector;
    let t0 = Instant::now();
    let (series, points, events) = match mode.as_str() {
        "whole" => {
            let s = tars::prom::read_query_range_file(path).unwrap_or_else(|e| fail(e.to_string()));
            let ev = detect_series(&s, INPUT_KPI, "", &det, None);
            (s.len(), s.iter().map(|s| s.points.len()).sum(), ev)
        }
        "stream" | "parallel" => {
            let workers = match mode.as_str() {
                "stream" => 0,
                _ => env_num("WORKERS", default_workers()),
            };
            let run = detect_file(path, &det, workers).unwrap_or_else(|e| fail(e.to_string()));
            (run.series, run.points, run.events)
        }
        other => fail(format!("unknown mode {other}")),
    };
    let secs = t0.elapsed().as_secs_f64();
    // The phases must agree on the events, not only on their number.
    let json = serde_json::to_vec(&events).unwrap_or_else(|e| fail(e.to_string()));
    let mut h = std::hash::DefaultHasher::new();
    json.hash(&mut h);
    println!(
        "{mode:<8} {series} series, {points} points, {} events (hash {:016x}): {secs:.2} s, peak RSS {:.0} MiB",
        events.len(),
        h.finish(),
        peak_rss_mib()
    );
}
