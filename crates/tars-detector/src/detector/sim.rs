//! Deterministic synthetic series shared by the unit tests of this crate.

/// Seeded xorshift generator: tests must not depend on an external RNG's stream.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    pub fn poisson(&mut self, mean: f64) -> f64 {
        let limit = (-mean).exp();
        let (mut k, mut p) = (0.0, self.uniform());
        while p > limit {
            k += 1.0;
            p *= self.uniform();
        }
        k
    }
}

/// 2026-01-05 09:00 UTC, a GA at the start of a working day.
pub const GA: i64 = 1_767_603_600;

/// Daily cycle in [-1, 1], peaking mid-afternoon.
pub fn daily(ts: i64) -> f64 {
    let h = ts.rem_euclid(86_400) as f64 / 3600.0;
    ((h - 9.0) / 24.0 * std::f64::consts::TAU).sin()
}

#[derive(Clone, Copy, Debug)]
pub enum Kpi {
    /// p95 latency in ms: daily load curve, log-normal noise.
    Latency,
    /// 5xx ratio: Poisson error counts over ~2000 requests a minute.
    ErrorRate,
    /// Requests per second with a strong daily cycle.
    Throughput,
    /// CPU percent, noisy with occasional short bursts.
    Cpu,
    /// Resident memory in MiB: a slow random walk around a base, no daily cycle.
    Memory,
    /// Crashes per minute: a sparse count, zero in about 97 % of minutes.
    Crashes,
}

/// The four KPIs of the original release-week tests.
pub const ALL: [Kpi; 4] = [Kpi::Latency, Kpi::ErrorRate, Kpi::Throughput, Kpi::Cpu];
/// Every kind of healthy series the calibration checks cover.
pub const KINDS: [Kpi; 6] = [
    Kpi::Latency,
    Kpi::ErrorRate,
    Kpi::Throughput,
    Kpi::Cpu,
    Kpi::Memory,
    Kpi::Crashes,
];

/// One-minute, five-minute and hourly sampling.
pub const STEPS: [i64; 3] = [60, 300, 3600];

/// A healthy week at one-minute resolution: GA day plus `days` more.
pub fn healthy(kpi: Kpi, seed: u64, days: i64) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(seed);
    let mut walk = 0.0;
    (0..(days + 1) * 1440)
        .map(|i| {
            let ts = GA + 60 * i;
            let d = daily(ts);
            let v = match kpi {
                Kpi::Latency => 120.0 * (1.0 + 0.25 * d) * (0.08 * rng.normal()).exp(),
                Kpi::ErrorRate => {
                    let requests = 2000.0 * (1.0 + 0.5 * d);
                    rng.poisson(requests * 0.004) / requests
                }
                Kpi::Throughput => 1000.0 * (1.0 + 0.5 * d) + 25.0 * rng.normal(),
                Kpi::Cpu => {
                    let burst = if rng.uniform() < 0.01 {
                        10.0 * rng.uniform()
                    } else {
                        0.0
                    };
                    (35.0 + 15.0 * d + 3.0 * rng.normal() + burst).clamp(0.0, 100.0)
                }
                Kpi::Memory => {
                    // Mean-reverting walk: allocations come and go over hours.
                    walk = 0.995 * walk + 0.5 * rng.normal();
                    512.0 + walk + 0.2 * rng.normal()
                }
                Kpi::Crashes => rng.poisson(0.03 * (1.0 + 0.5 * d)),
            };
            (ts, v)
        })
        .collect()
}

/// Whether a KPI is a count (summed over a coarser step) rather than a gauge or
/// ratio (averaged).
pub fn is_count(kpi: Kpi) -> bool {
    matches!(kpi, Kpi::Crashes)
}

/// `series` (one-minute points) as a Prometheus-style coarser series: one point per
/// `step` seconds, the mean of its minutes (or their sum for a count).
pub fn resample(series: &[(i64, f64)], step: i64, count: bool) -> Vec<(i64, f64)> {
    let per = (step / 60).max(1) as usize;
    series
        .chunks(per)
        .filter(|c| c.len() == per)
        .map(|c| {
            let sum: f64 = c.iter().map(|p| p.1).sum();
            (c[0].0, if count { sum } else { sum / per as f64 })
        })
        .collect()
}

/// A healthy series of `kpi` sampled every `step` seconds over GA day plus `days`.
pub fn healthy_at(kpi: Kpi, seed: u64, days: i64, step: i64) -> Vec<(i64, f64)> {
    resample(&healthy(kpi, seed, days), step, is_count(kpi))
}

/// Multiplies the values in [start, start + minutes) by `factor`.
pub fn inject(series: &mut [(i64, f64)], start: i64, minutes: i64, factor: f64) {
    for p in series
        .iter_mut()
        .filter(|p| p.0 >= start && p.0 < start + 60 * minutes)
    {
        p.1 *= factor;
    }
}
