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
}

pub const ALL: [Kpi; 4] = [Kpi::Latency, Kpi::ErrorRate, Kpi::Throughput, Kpi::Cpu];

/// A healthy week at one-minute resolution: GA day plus `days` more.
pub fn healthy(kpi: Kpi, seed: u64, days: i64) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(seed);
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
            };
            (ts, v)
        })
        .collect()
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
