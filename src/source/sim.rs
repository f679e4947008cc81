//! A deterministic simulated release: four services over GA day 0 and days
//! 1-7 (plus a day either side), minute by minute, with daily seasonality,
//! Poisson-like traffic noise, log-normal latency, CPU that follows load,
//! wandering memory and occasional restarts. Scenarios inject known problems
//! and publish them as ground truth so tests can check what the pipeline finds.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use chrono::{DateTime, Duration, Timelike, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{MetricsSource, SourceError, WindowKpis};
use crate::model::{Kpi, KpiValues, Series, Window};
use crate::stats::lognormal_mixture_quantile;

/// Default seed of the simulator (`--source sim:SCENARIO:SEED` overrides it).
pub const DEFAULT_SEED: u64 = 42;

const MIB: f64 = 1024.0 * 1024.0;

/// The scenarios the simulator knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Nothing injected: noise, seasonality and the odd restart only.
    Healthy,
    /// A latency step, a 5xx burst, a slow memory leak and a brief outage.
    Regressions,
    /// A severe regression from day 1 that warrants a rollback.
    Rollback,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::Regressions => "regressions",
            Scenario::Rollback => "rollback",
        }
    }

    pub fn from_name(s: &str) -> Option<Scenario> {
        [Scenario::Healthy, Scenario::Regressions, Scenario::Rollback]
            .into_iter()
            .find(|x| x.name() == s)
    }
}

/// What kind of problem was injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InjectionKind {
    LatencyStep,
    ErrorBurst,
    MemoryLeak,
    Outage,
    SevereRegression,
}

/// One injected problem: the simulator's ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Injection {
    pub kind: InjectionKind,
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    /// KPIs the problem moves.
    pub kpis: Vec<Kpi>,
    /// Start (inclusive).
    pub start: DateTime<Utc>,
    /// `None` when the problem lasts to the end of the simulation.
    pub end: Option<DateTime<Utc>>,
    /// What to do or what was found.
    pub description: String,
}

impl Injection {
    /// Days (0-7) whose window overlaps the injection.
    pub fn days(&self, ga: DateTime<Utc>) -> Vec<u32> {
        (0..=7)
            .filter(|&d| {
                let w = Window::day(ga, d);
                self.start < w.end && self.end.is_none_or(|e| e > w.start)
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
struct Profile {
    name: &'static str,
    base_rps: f64,
    err_ratio: f64,
    /// ln of the median latency in ms.
    mu: f64,
    sigma: f64,
    cpu_base: f64,
    cpu_per_rps: f64,
    mem_base: f64,
}

fn profiles() -> Vec<Profile> {
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

/// One simulated minute of one service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minute {
    /// Requests served in the minute.
    pub requests: f64,
    /// Of which answered with a 5xx.
    pub errors: f64,
    /// Latency is log-normal: ln(ms) ~ N(mu, sigma).
    pub mu: f64,
    pub sigma: f64,
    /// CPU used, cores.
    pub cpu_cores: f64,
    /// Resident memory at the end of the minute, bytes.
    pub memory_bytes: f64,
    /// The process restarted during this minute.
    pub restarted: bool,
}

/// The simulator: every minute of every service is computed up front.
#[derive(Debug, Clone)]
pub struct Simulator {
    scenario: Scenario,
    seed: u64,
    ga: DateTime<Utc>,
    /// First simulated minute (GA - 1 day).
    origin: i64,
    services: Vec<(String, Vec<Minute>)>,
    injections: Vec<Injection>,
}

/// Simulated days either side of GA.
const DAYS_BEFORE: i64 = 1;
const DAYS_TOTAL: i64 = 10;

impl Simulator {
    pub fn new(scenario: Scenario, seed: u64, ga: DateTime<Utc>) -> Simulator {
        let injections = injections(scenario, ga);
        let origin = (ga - Duration::days(DAYS_BEFORE)).timestamp();
        let minutes = (DAYS_TOTAL * 1440) as usize;
        let services = profiles()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut rng = ChaCha8Rng::seed_from_u64(
                    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        .wrapping_add(i as u64),
                );
                let mine: Vec<&Injection> =
                    injections.iter().filter(|x| x.service == p.name).collect();
                (
                    p.name.to_string(),
                    simulate(p, &mine, origin, minutes, &mut rng),
                )
            })
            .collect();
        Simulator {
            scenario,
            seed,
            ga,
            origin,
            services,
            injections,
        }
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    pub fn ga(&self) -> DateTime<Utc> {
        self.ga
    }

    /// The problems this scenario injected.
    pub fn ground_truth(&self) -> &[Injection] {
        &self.injections
    }

    pub fn service_names(&self) -> Vec<String> {
        self.services.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The minutes of one service that fall in `[start, end)` (unix seconds).
    pub fn minutes(&self, service: &str, start: i64, end: i64) -> &[Minute] {
        let Some((_, mins)) = self.services.iter().find(|(n, _)| n == service) else {
            return &[];
        };
        let (a, b) = self.index_range(start, end, mins.len());
        &mins[a..b]
    }

    fn index_range(&self, start: i64, end: i64, len: usize) -> (usize, usize) {
        let clamp = |t: i64| (((t - self.origin).max(0) + 59) / 60).min(len as i64) as usize;
        let a = clamp(start);
        let b = clamp(end).max(a);
        (a, b)
    }

    fn aggregate(mins: &[&[Minute]]) -> Option<KpiValues> {
        let requests: f64 = mins.iter().flat_map(|m| m.iter()).map(|m| m.requests).sum();
        let n = mins.first().map_or(0, |m| m.len());
        if n == 0 || requests <= 0.0 {
            return None;
        }
        let errors: f64 = mins.iter().flat_map(|m| m.iter()).map(|m| m.errors).sum();
        let secs = n as f64 * 60.0;
        let comps: Vec<(f64, f64, f64)> = mins
            .iter()
            .flat_map(|m| m.iter())
            .map(|m| (m.requests, m.mu, m.sigma))
            .collect();
        // Summed over services: CPU and memory are fleet totals, per-minute means.
        let cpu: f64 = mins
            .iter()
            .map(|m| m.iter().map(|x| x.cpu_cores).sum::<f64>() / n as f64)
            .sum();
        let mem: f64 = mins
            .iter()
            .map(|m| m.iter().map(|x| x.memory_bytes).sum::<f64>() / n as f64)
            .sum();
        let mut v = KpiValues::new();
        v.insert(Kpi::Availability, 100.0 * (1.0 - errors / requests));
        v.insert(Kpi::ErrorRate, 100.0 * errors / requests);
        v.insert(Kpi::P50LatencyMs, lognormal_mixture_quantile(&comps, 0.50));
        v.insert(Kpi::P95LatencyMs, lognormal_mixture_quantile(&comps, 0.95));
        v.insert(Kpi::P99LatencyMs, lognormal_mixture_quantile(&comps, 0.99));
        v.insert(Kpi::ThroughputRps, requests / secs);
        v.insert(Kpi::CpuCores, cpu);
        v.insert(Kpi::MemoryBytes, mem);
        Some(v)
    }
}

impl MetricsSource for Simulator {
    fn describe(&self) -> String {
        format!("sim:{}:{}", self.scenario.name(), self.seed)
    }

    fn window_kpis(&self, window: &Window) -> Result<WindowKpis, SourceError> {
        let (s, e) = (window.start_secs(), window.end_secs());
        let mut out = WindowKpis::default();
        let mut all = Vec::new();
        for (name, _) in &self.services {
            let mins = self.minutes(name, s, e);
            if let Some(v) = Self::aggregate(&[mins]) {
                out.services.insert(name.clone(), v);
                out.restarts.insert(
                    name.clone(),
                    mins.iter().filter(|m| m.restarted).count() as u64,
                );
                all.push(mins);
            }
        }
        if all.is_empty() {
            return Err(SourceError::NoData {
                server: self.describe(),
                what: format!(
                    "window {} .. {} (the simulation covers GA-1d .. GA+9d)",
                    window.start, window.end
                ),
            });
        }
        out.overall = Self::aggregate(&all).unwrap_or_default();
        Ok(out)
    }

    fn kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
    ) -> Result<Vec<Series>, SourceError> {
        let step = i64::from(step_secs.max(60));
        let mut out = Vec::new();
        for (name, _) in &self.services {
            let mut points = Vec::new();
            let mut t = window.start_secs() + step;
            while t <= window.end_secs() {
                let mins = self.minutes(name, t - step, t);
                let v = Self::aggregate(&[mins])
                    .and_then(|v| v.get(&kpi).copied())
                    .unwrap_or(f64::NAN);
                points.push((t, v));
                t += step;
            }
            if points.iter().any(|p| p.1.is_finite()) {
                out.push(Series {
                    service: name.clone(),
                    points,
                });
            }
        }
        if out.is_empty() {
            return Err(SourceError::NoData {
                server: self.describe(),
                what: format!("{kpi} in {} .. {}", window.start, window.end),
            });
        }
        Ok(out)
    }
}

fn injections(scenario: Scenario, ga: DateTime<Utc>) -> Vec<Injection> {
    let at = |day: i64, h: i64, m: i64| {
        ga + Duration::days(day) + Duration::hours(h) + Duration::minutes(m)
    };
    match scenario {
        Scenario::Healthy => vec![],
        Scenario::Regressions => vec![
            Injection {
                kind: InjectionKind::LatencyStep,
                service: "checkout".into(),
                kpis: vec![Kpi::P50LatencyMs, Kpi::P95LatencyMs, Kpi::P99LatencyMs],
                start: at(3, 10, 0),
                end: None,
                description: "every latency quantile of checkout rises by 60 % from day 3 10:00 on"
                    .into(),
            },
            Injection {
                kind: InjectionKind::ErrorBurst,
                service: "search".into(),
                kpis: vec![Kpi::ErrorRate, Kpi::Availability],
                start: at(2, 14, 0),
                end: Some(at(2, 14, 45)),
                description: "8 % of search requests fail with 5xx for 45 minutes on day 2".into(),
            },
            Injection {
                kind: InjectionKind::MemoryLeak,
                service: "auth".into(),
                kpis: vec![Kpi::MemoryBytes],
                start: at(1, 0, 0),
                end: None,
                description: "auth leaks 8 MiB of resident memory per hour from day 1 on".into(),
            },
            Injection {
                kind: InjectionKind::Outage,
                service: "api-gateway".into(),
                kpis: vec![Kpi::ErrorRate, Kpi::Availability],
                start: at(5, 9, 30),
                end: Some(at(5, 9, 36)),
                description: "api-gateway answers every request with 5xx for 6 minutes on day 5"
                    .into(),
            },
        ],
        Scenario::Rollback => vec![Injection {
            kind: InjectionKind::SevereRegression,
            service: "checkout".into(),
            kpis: vec![
                Kpi::ErrorRate,
                Kpi::Availability,
                Kpi::P50LatencyMs,
                Kpi::P95LatencyMs,
                Kpi::P99LatencyMs,
            ],
            start: at(1, 0, 0),
            end: None,
            description: "from day 1 on, 6 % of checkout requests fail and its latency is 2.5x"
                .into(),
        }],
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn simulate(
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

/// Scenario-wide lookup used by tests: the injection on `service` touching `kpi`.
pub fn injected<'a>(truth: &'a [Injection], service: &str, kpi: Kpi) -> Option<&'a Injection> {
    truth
        .iter()
        .find(|x| x.service == service && x.kpis.contains(&kpi))
}

/// Services of the simulation with their base request rate, for docs and tests.
pub fn service_profiles() -> BTreeMap<&'static str, f64> {
    profiles()
        .into_iter()
        .map(|p| (p.name, p.base_rps))
        .collect()
}
