//! Throughput of the streaming detector on one long seasonal series.
//!
//! `update_1m_points` is wall-clock time; `update_1m_points_cpu` is the CPU time of
//! the benchmark thread (from `/proc/thread-self/schedstat`, wall-clock where that
//! is unavailable), which a shared, busy machine disturbs much less.

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tars::anomaly::detector::{DetectorConfig, StreamingDetector};

const POINTS: usize = 1_000_000;

/// One-minute series with a daily cycle, a weekly modulation and uniform noise,
/// generated with a fixed-seed xorshift so every run measures the same input.
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

/// CPU time consumed by the calling thread so far, in nanoseconds (Linux).
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn run(data: &[(i64, f64)], cfg: DetectorConfig) -> f64 {
    let mut det = StreamingDetector::new(cfg);
    let mut acc = 0.0;
    for &(ts, v) in data {
        acc += det.update(ts, black_box(v)).score;
    }
    acc
}

fn bench(c: &mut Criterion) {
    let data = series();
    let cfg = DetectorConfig::default();
    let mut group = c.benchmark_group("detector");
    group.throughput(Throughput::Elements(POINTS as u64));
    group.sample_size(20);
    group.bench_function("update_1m_points", |b| {
        b.iter(|| black_box(run(&data, cfg)))
    });
    group.bench_function("update_1m_points_cpu", |b| {
        b.iter_custom(|iters| {
            let (wall, cpu) = (Instant::now(), thread_cpu_ns());
            for _ in 0..iters {
                black_box(run(&data, cfg));
            }
            match (cpu, thread_cpu_ns()) {
                (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
                _ => wall.elapsed(),
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
