//! Quick throughput check without criterion (and without building the rest of the
//! workspace): the same 1 M-point series as `benches/detector.rs`, fed through the
//! batch `run` and the per-point `update`; prints the best of 15 repetitions in CPU
//! time of this thread (wall-clock where `/proc/thread-self/schedstat` is missing).
//!
//! Usage: `cargo run --release -p tars-detector --example throughput`

use std::hint::black_box;
use std::time::Instant;

use tars_detector::detector::{DetectorConfig, StreamingDetector};

const POINTS: usize = 1_000_000;

fn series() -> Vec<(i64, f64)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let start = 1_700_000_000_i64;
    (0..POINTS)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let t = i as f64;
            let day = (t * std::f64::consts::TAU / 1440.0).sin();
            let week = (t * std::f64::consts::TAU / 10_080.0).sin();
            (
                start + 60 * i as i64,
                100.0 + 30.0 * day + 5.0 * week + 8.0 * noise,
            )
        })
        .collect()
}

fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Best CPU time of `f` over 15 repetitions, in nanoseconds per point.
fn best_ns_per_point(mut f: impl FnMut() -> f64) -> f64 {
    (0..15)
        .map(|_| {
            let (wall, cpu) = (Instant::now(), thread_cpu_ns());
            black_box(f());
            let ns = match (cpu, thread_cpu_ns()) {
                (Some(a), Some(b)) => b.saturating_sub(a) as f64,
                _ => wall.elapsed().as_nanos() as f64,
            };
            ns / POINTS as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let data = series();
    let cfg = DetectorConfig::default();
    let run = best_ns_per_point(|| {
        let mut det = StreamingDetector::new(cfg);
        let mut acc = 0.0;
        det.run(&data, |_, v| acc += v.score);
        acc
    });
    let update = best_ns_per_point(|| {
        let mut det = StreamingDetector::new(cfg);
        data.iter()
            .map(|&(t, v)| det.update(t, black_box(v)).score)
            .sum()
    });
    println!(
        "run:    {run:.1} ns/point ({:.1} M points/s)\nupdate: {update:.1} ns/point ({:.1} M points/s)",
        1e3 / run,
        1e3 / update
    );
}
