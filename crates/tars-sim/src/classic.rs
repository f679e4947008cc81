//! The original fleet behind `healthy`, `regressions` and `rollback`: services
//! well inside their SLOs with light noise. Kept exactly as first written, RNG
//! draw for RNG draw, so that a seed keeps producing the same minutes that
//! tests and recorded artifacts depend on.

use std::f64::consts::PI;

use chrono::{DateTime, Timelike, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Injection, InjectionKind, Minute, MIB};

#[derive(Debug, Clone)]
pub(super) struct Profile {
    pub(super) name: &'static str,
    pub(super) base_rps: f64,
    err_ratio: f64,
    /// ln of the median latency in ms.
    mu: f64,
    sigma: f64,
    cpu_base: f64,
    cpu_per_rps: f64,
    mem_base: f64,
}

pub(super) fn profiles() -> Vec<Profile> {
    vec![
        Profile {
            name: "api-gateway",
            base_rps: 400.0,
            err_ratio: 0.0004,
            mu: 30f64.ln(),
            sigma: 0.45,
            cpu_base: 0.4,
            cpu_per_rps: 0.004,
            mem_base: 384.0 * MIB,
        },
        Profile {
            name: "checkout",
            base_rps: 120.0,
            err_ratio: 0.0006,
            mu: 50f64.ln(),
            sigma: 0.45,
            cpu_base: 0.3,
            cpu_per_rps: 0.008,
            mem_base: 768.0 * MIB,
        },
        Profile {
            name: "search",
            base_rps: 250.0,
            err_ratio: 0.0005,
            mu: 40f64.ln(),
            sigma: 0.5,
            cpu_base: 0.6,
            cpu_per_rps: 0.006,
            mem_base: 1536.0 * MIB,
        },
        Profile {
            name: "auth",
            base_rps: 180.0,
            err_ratio: 0.0003,
            mu: 15f64.ln(),
            sigma: 0.4,
            cpu_base: 0.2,
            cpu_per_rps: 0.002,
            mem_base: 256.0 * MIB,
        },
    ]
}

pub(super) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
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
    // A restart about once a week per service; none for a leaking service, so the
    // injected trend stays the ground truth the tests check.
    let restart_p = if leak_start.is_some() {
        0.0
    } else {
        1.0 / (7.0 * 1440.0)
    };
    let mut out = Vec::with_capacity(minutes);
    let mut mem_wander = 0.0f64;
    let mut since_restart_min = 10_000.0f64;
    let mut leaked = 0.0f64;
    for i in 0..minutes {
        let t = origin + i as i64 * 60;
        let dt = DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
        let hour = f64::from(dt.hour()) + f64::from(dt.minute()) / 60.0;
        // Traffic peaks mid-afternoon UTC and bottoms out before dawn.
        let season = 1.0 + 0.35 * (2.0 * PI * (hour - 9.0) / 24.0).sin();
        let lambda = p.base_rps * season * (1.0 + 0.03 * normal(rng)).max(0.1);
        let expected = lambda * 60.0;
        let requests = (expected + expected.sqrt() * normal(rng)).max(0.0).round();
        let mut err_ratio = (p.err_ratio * (0.3 * normal(rng)).exp()).min(1.0);
        // Busier minutes queue a little: latency grows with load.
        let mut mu = p.mu + 0.15 * (season - 1.0) + 0.03 * normal(rng);
        let restarted = rng.random::<f64>() < restart_p;
        if restarted {
            since_restart_min = 0.0;
            mem_wander = 0.0;
            leaked = 0.0;
        }
        // The first minutes after a restart run cold: slower, a few errors.
        if since_restart_min < 3.0 {
            mu += 0.2;
            err_ratio = (err_ratio + 0.002).min(1.0);
        }
        since_restart_min += 1.0;
        for x in inj {
            let active = t >= x.start.timestamp() && x.end.is_none_or(|e| t < e.timestamp());
            if !active {
                continue;
            }
            match x.kind {
                InjectionKind::LatencyStep => mu += 1.6f64.ln(),
                InjectionKind::ErrorBurst => err_ratio = 0.08,
                InjectionKind::Outage => err_ratio = 1.0,
                InjectionKind::SevereRegression => {
                    err_ratio = 0.06;
                    mu += 2.5f64.ln();
                }
                InjectionKind::MemoryLeak => {}
            }
        }
        if let Some(ls) = leak_start {
            if t >= ls {
                leaked += 8.0 * MIB / 60.0;
            }
        }
        let errors = (requests * err_ratio).round();
        let cpu = (p.cpu_base
            + p.cpu_per_rps * lambda * (1.0 + 0.05 * normal(rng))
            + if since_restart_min < 3.0 { 0.3 } else { 0.0 })
        .max(0.01);
        mem_wander = 0.97 * mem_wander + 2.0 * MIB * normal(rng);
        let warmup = if since_restart_min < 30.0 {
            -0.2 * p.mem_base * (1.0 - since_restart_min / 30.0)
        } else {
            0.0
        };
        let memory = (p.mem_base + mem_wander + warmup + leaked).max(16.0 * MIB);
        out.push(Minute {
            requests,
            errors,
            mu,
            sigma: p.sigma,
            cpu_cores: cpu,
            memory_bytes: memory,
            restarted,
        });
    }
    out
}
