//! The fleet behind `realistic`, `realistic-regressions` and
//! `realistic-rollback`, shaped like production rather than like a demo:
//! two services run right at the 99.9 % availability SLO and two over the
//! 200 ms p99 SLO before anything is injected, traffic swings threefold over
//! the day, and every noise source is autocorrelated, so quiet hours and bad
//! hours come in runs the way they do in real telemetry. A pipeline that only
//! copes with services far inside their SLOs shows it here.

use std::f64::consts::PI;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::classic::normal;
use super::{Injection, InjectionKind, Minute, MIB};

#[derive(Debug, Clone)]
pub(super) struct Profile {
    pub(super) name: &'static str,
    pub(super) base_rps: f64,
    /// Median 5xx ratio. The log-normal noise puts the mean a little above it.
    err_median: f64,
    /// Stationary standard deviation of ln(5xx ratio).
    err_sd: f64,
    /// ln of the median latency in ms at average load.
    mu: f64,
    sigma: f64,
    /// Rise of ln(latency) per unit of load above the daily average.
    load_mu: f64,
    cpu_base: f64,
    cpu_per_rps: f64,
    mem_base: f64,
}

/// Mean 5xx ratio of a service "at the SLO": 0.1 %, i.e. 99.9 % availability.
const AT_SLO: f64 = 0.001;
/// Stationary sd of ln(5xx ratio) for the services at the SLO. With phi 0.99
/// a day holds about seven independent stretches, which keeps daily
/// availability within a few hundredths of a percent of 99.9.
const AT_SLO_SD: f64 = 0.3;

/// Base rates match the original fleet, so `service_profiles` holds for both.
pub(super) fn profiles() -> Vec<Profile> {
    // E[exp(X)] = exp(sd^2 / 2) for X ~ N(0, sd^2): dividing it out keeps the
    // mean ratio, which is what availability measures, at AT_SLO.
    let at_slo = AT_SLO / (AT_SLO_SD * AT_SLO_SD / 2.0).exp();
    vec![
        // At the availability SLO, comfortably fast.
        Profile {
            name: "api-gateway",
            base_rps: 400.0,
            err_median: at_slo,
            err_sd: AT_SLO_SD,
            mu: 38f64.ln(),
            sigma: 0.5,
            load_mu: 0.1,
            cpu_base: 0.4,
            cpu_per_rps: 0.004,
            mem_base: 384.0 * MIB,
        },
        // At the availability SLO and over the latency SLO: the worst of both.
        Profile {
            name: "checkout",
            base_rps: 120.0,
            err_median: at_slo,
            err_sd: AT_SLO_SD,
            mu: 88f64.ln(),
            sigma: 0.5,
            load_mu: 0.12,
            cpu_base: 0.3,
            cpu_per_rps: 0.008,
            mem_base: 768.0 * MIB,
        },
        // Over the latency SLO, a little better on availability.
        Profile {
            name: "search",
            base_rps: 250.0,
            err_median: 0.0005,
            err_sd: 0.35,
            mu: 72f64.ln(),
            sigma: 0.55,
            load_mu: 0.12,
            cpu_base: 0.6,
            cpu_per_rps: 0.006,
            mem_base: 1536.0 * MIB,
        },
        // Inside both SLOs.
        Profile {
            name: "auth",
            base_rps: 180.0,
            err_median: 0.0003,
            err_sd: 0.35,
            mu: 18f64.ln(),
            sigma: 0.45,
            load_mu: 0.08,
            cpu_base: 0.2,
            cpu_per_rps: 0.002,
            mem_base: 256.0 * MIB,
        },
    ]
}

/// Minutes after a restart that run cold (same effects as the original fleet).
const COLD_MIN: f64 = 3.0;
/// Minutes the heap takes to fill back up after a restart.
const WARMUP_MIN: f64 = 30.0;

/// A first-order autoregressive process started from its stationary law, so
/// the first simulated day is as noisy as the last.
#[derive(Debug, Clone, Copy)]
struct Ar1 {
    phi: f64,
    innovation_sd: f64,
    x: f64,
}

impl Ar1 {
    fn new(phi: f64, stationary_sd: f64, rng: &mut ChaCha8Rng) -> Ar1 {
        Ar1 {
            phi,
            innovation_sd: stationary_sd * (1.0 - phi * phi).sqrt(),
            x: stationary_sd * normal(rng),
        }
    }

    fn step(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        self.x = self.phi * self.x + self.innovation_sd * normal(rng);
        self.x
    }
}

/// Relative load at unix second `t`: 1.5 at 15:00 UTC, 0.5 at 03:00, so the
/// busiest hour carries three times the quietest.
fn season(t: i64) -> f64 {
    let hour = t.rem_euclid(86_400) as f64 / 3600.0;
    1.0 + 0.5 * (2.0 * PI * (hour - 9.0) / 24.0).sin()
}

/// Minutes (indices) at which a service restarts: roughly daily, as rolling
/// node maintenance, evictions and the odd OOM kill add up to, at times that
/// drift from day to day. Gaps are uniform in 16-32 h, so a day sees none,
/// one or two, and any week at least five (168 h / 32 h).
fn restart_schedule(minutes: usize, rng: &mut ChaCha8Rng) -> Vec<bool> {
    let mut out = vec![false; minutes];
    let mut next = rng.random_range(0.0..1440.0f64);
    while (next as usize) < minutes {
        out[next as usize] = true;
        next += rng.random_range(960.0..1920.0f64);
    }
    out
}

/// Running state of one service.
struct Service<'a> {
    p: &'a Profile,
    inj: &'a [&'a Injection],
    leak_start: Option<i64>,
    /// ln of the traffic level around the seasonal curve.
    traffic: Ar1,
    /// ln of the 5xx ratio around its median.
    errs: Ar1,
    /// ln of the latency around its median (deploy-independent slow periods:
    /// noisy neighbours, cache churn, a slow dependency).
    lat: Ar1,
    /// Resident memory around its base, bytes.
    mem: Ar1,
    since_restart_min: f64,
    leaked: f64,
}

impl Service<'_> {
    /// Applies the injections active at `t` to ln(latency) and the 5xx ratio.
    fn inject(&self, t: i64, mu: &mut f64, err_ratio: &mut f64) {
        for x in self.inj {
            let active = t >= x.start.timestamp() && x.end.is_none_or(|e| t < e.timestamp());
            if !active {
                continue;
            }
            match x.kind {
                InjectionKind::LatencyStep => *mu += 1.6f64.ln(),
                InjectionKind::ErrorBurst => *err_ratio = 0.08,
                InjectionKind::Outage => *err_ratio = 1.0,
                InjectionKind::SevereRegression => {
                    *err_ratio = 0.06;
                    *mu += 2.5f64.ln();
                }
                InjectionKind::MemoryLeak => {}
            }
        }
    }

    fn minute(&mut self, t: i64, restarted: bool, rng: &mut ChaCha8Rng) -> Minute {
        let p = self.p;
        let load = season(t) * self.traffic.step(rng).exp();
        let expected = p.base_rps * load * 60.0;
        let requests = (expected + expected.sqrt() * normal(rng)).max(0.0).round();
        let mut err_ratio = (p.err_median * self.errs.step(rng).exp()).min(1.0);
        // Busier minutes queue a little: latency grows with load.
        let mut mu = p.mu + p.load_mu * (load - 1.0) + self.lat.step(rng);
        if restarted {
            self.since_restart_min = 0.0;
            self.mem.x = 0.0;
            self.leaked = 0.0;
        }
        let cold = self.since_restart_min < COLD_MIN;
        if cold {
            mu += 0.2;
            err_ratio = (err_ratio + 0.002).min(1.0);
        }
        self.since_restart_min += 1.0;
        self.inject(t, &mut mu, &mut err_ratio);
        if self.leak_start.is_some_and(|ls| t >= ls) {
            self.leaked += 8.0 * MIB / 60.0;
        }
        // Binomial spread around the expected count: none at a ratio of 0 or 1,
        // so an outage fails every request.
        let e = requests * err_ratio;
        let errors = (e + (e * (1.0 - err_ratio)).sqrt() * normal(rng))
            .clamp(0.0, requests)
            .round();
        let cpu = (p.cpu_base
            + p.cpu_per_rps * (requests / 60.0) * (1.0 + 0.05 * normal(rng))
            + if cold { 0.3 } else { 0.0 })
        .max(0.01);
        let warmup = if self.since_restart_min < WARMUP_MIN {
            -0.2 * p.mem_base * (1.0 - self.since_restart_min / WARMUP_MIN)
        } else {
            0.0
        };
        let memory = (p.mem_base + self.mem.step(rng) + warmup + self.leaked).max(16.0 * MIB);
        Minute {
            requests,
            errors,
            mu,
            sigma: p.sigma,
            cpu_cores: cpu,
            memory_bytes: memory,
            restarted,
        }
    }
}

pub(super) fn simulate(
    p: &Profile,
    inj: &[&Injection],
    origin: i64,
    minutes: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Minute> {
    let leak_start = inj
        .iter()
        .find(|x| x.kind == InjectionKind::MemoryLeak)
        .map(|x| x.start.timestamp());
    // No routine restarts for a leaking service, so the injected trend stays
    // the ground truth the tests check.
    let restarts = if leak_start.is_some() {
        vec![false; minutes]
    } else {
        restart_schedule(minutes, rng)
    };
    let mut s = Service {
        p,
        inj,
        leak_start,
        traffic: Ar1::new(0.995, 0.04, rng),
        errs: Ar1::new(0.99, p.err_sd, rng),
        lat: Ar1::new(0.99, 0.05, rng),
        // Wanders by a few percent over hours, with no trend.
        mem: Ar1::new(0.998, 0.03 * p.mem_base, rng),
        since_restart_min: 10_000.0,
        leaked: 0.0,
    };
    restarts
        .iter()
        .enumerate()
        .map(|(i, &r)| s.minute(origin + i as i64 * 60, r, rng))
        .collect()
}
