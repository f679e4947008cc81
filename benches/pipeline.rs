//! Whole-week pipeline on the simulator: what `tars demo` costs, stage by stage.
//!
//! Shapes: 4 services x 8 KPIs, 8 days at 1-minute resolution for anomaly
//! detection (~370k points) and 15-minute samples for drift.

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use tars::config::Config;
use tars::source::sim::{Scenario, Simulator};

fn ga() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-11-18T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.bench_function("simulate_week", |b| {
        b.iter(|| Simulator::new(Scenario::Regressions, 42, ga()))
    });
    let sim = Simulator::new(Scenario::Regressions, 42, ga());
    let cfg = Config::default();
    let window = tars::model::Window {
        start: ga(),
        end: ga() + chrono::Duration::days(8),
    };
    g.bench_function("anomaly_detection_week", |b| {
        b.iter(|| {
            tars::anomaly::events::detect_window(&sim, &window, &cfg.detector, Some(ga()))
                .map(|r| r.0.len())
        })
    });
    g.bench_function("all_stages_days_0_to_7", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            tars::pipeline::run_all(&sim, ga(), dir.path(), &cfg).map(|o| o.days.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
