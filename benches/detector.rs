//! Throughput of the streaming detector on one long seasonal series.
//!
//! `update_1m_points` is wall-clock time; `update_1m_points_cpu` is the CPU time of
//! the benchmark thread (from `/proc/thread-self/schedstat`, wall-clock where that
//! is unavailable), which a shared, busy machine disturbs much less. Both feed
//! points one at a time; `run_1m_points_cpu` times the batch API
//! (`StreamingDetector::run`) that the product's incident detection uses.

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

/// The per-point API, as a caller feeding points one at a time uses it.
fn update_each(data: &[(i64, f64)], cfg: DetectorConfig) -> f64 {
    let mut det = StreamingDetector::new(cfg);
    let mut acc = 0.0;
    for &(ts, v) in data {
        acc += det.update(ts, black_box(v)).score;
    }
    acc
}

/// The batch API the product uses (`detect_incidents`), AVX2 where the CPU has it.
fn run_batch(data: &[(i64, f64)], cfg: DetectorConfig) -> f64 {
    let mut det = StreamingDetector::new(cfg);
    let mut acc = 0.0;
    det.run(data, |_, v| acc += v.score);
    acc
}

/// CPU time of `iters` calls of `f`, wall-clock where the thread's is unavailable.
fn cpu_time(iters: u64, mut f: impl FnMut()) -> Duration {
    let (wall, cpu) = (Instant::now(), thread_cpu_ns());
    for _ in 0..iters {
        f();
    }
    match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
        _ => wall.elapsed(),
    }
}

fn bench(c: &mut Criterion) {
    let data = series();
    let cfg = DetectorConfig::default();
    let mut group = c.benchmark_group("detector");
    group.throughput(Throughput::Elements(POINTS as u64));
    group.sample_size(20);
    group.bench_function("update_1m_points", |b| {
        b.iter(|| black_box(update_each(&data, cfg)))
    });
    group.bench_function("update_1m_points_cpu", |b| {
        b.iter_custom(|iters| cpu_time(iters, || _ = black_box(update_each(&data, cfg))))
    });
    group.bench_function("run_1m_points_cpu", |b| {
        b.iter_custom(|iters| cpu_time(iters, || _ = black_box(run_batch(&data, cfg))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
