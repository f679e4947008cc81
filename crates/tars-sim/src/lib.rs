//! A deterministic simulated release: four services over GA day 0 and days
//! 1-7 (plus a day either side), minute by minute, with daily seasonality,
//! Poisson-like traffic noise, log-normal latency, CPU that follows load,
//! wandering memory and restarts. Scenarios inject known problems and
//! publish them as ground truth so tests can check what the pipeline finds.
//!
//! Two fleets back the scenarios. `healthy`, `regressions` and `rollback`
//! run the original fleet (`classic.rs`), far inside its SLOs; `realistic`,
//! `realistic-regressions` and `realistic-rollback` run one shaped like
//! production (`realistic.rs`): services at or over their SLOs before GA,
//! autocorrelated noise, a threefold daily swing and daily restarts.
//!
//! A simulator samples every minute, but it can answer series like a store
//! that keeps only coarser rollups ([`Simulator::with_resolution`]).

mod classic;
mod inject;
mod realistic;
mod spec;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use tars_core::model::{Kpi, KpiValues, Series, Window};
use tars_core::source::{MetricsSource, SourceError, WindowKpis};
use tars_stats::lognormal_mixture_quantile;

pub use spec::{parse_spec, SimSpec, RESOLUTIONS};

/// Default seed of the simulator (`--source sim:SCENARIO:SEED` overrides it).
pub const DEFAULT_SEED: u64 = 42;

/// Default sampling resolution, seconds: every simulated minute.
pub const DEFAULT_RESOLUTION_SECS: u32 = 60;

const MIB: f64 = 1024.0 * 1024.0;

/// The scenarios the simulator knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Nothing injected: noise, seasonality and the odd restart only.
    Healthy,
    /// A latency step, a 5xx burst, a slow memory leak and a brief outage.
    Regressions,
    /// A severe regression from day 1 that warrants a rollback.
    Rollback,
    /// A production-like fleet at its SLOs, nothing injected.
    Realistic,
    /// The `regressions` problems injected into the production-like fleet.
    RealisticRegressions,
    /// The `rollback` regression injected into the production-like fleet.
    RealisticRollback,
}

impl Scenario {
    /// Every scenario, in the order help texts list them.
    pub const ALL: [Scenario; 6] = [
        Scenario::Healthy,
        Scenario::Regressions,
        Scenario::Rollback,
        Scenario::Realistic,
        Scenario::RealisticRegressions,
        Scenario::RealisticRollback,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::Regressions => "regressions",
            Scenario::Rollback => "rollback",
            Scenario::Realistic => "realistic",
            Scenario::RealisticRegressions => "realistic-regressions",
            Scenario::RealisticRollback => "realistic-rollback",
        }
    }

    pub fn from_name(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Every name, comma-separated, for error messages.
    pub fn names() -> String {
        Scenario::ALL.map(Scenario::name).join(", ")
    }

    /// Whether the scenario runs the production-like fleet.
    pub fn is_realistic(self) -> bool {
        matches!(
            self,
            Scenario::Realistic | Scenario::RealisticRegressions | Scenario::RealisticRollback
        )
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
    /// Seconds between the points `kpi_series` can answer with.
    resolution_secs: u32,
    services: Vec<(String, Vec<Minute>)>,
    injections: Vec<Injection>,
}

/// Simulated days either side of GA.
const DAYS_BEFORE: i64 = 1;
const DAYS_TOTAL: i64 = 10;

/// The coarsest resolution `with_resolution` keeps: one point a day.
const MAX_RESOLUTION_SECS: u32 = 86_400;

impl Simulator {
    pub fn new(scenario: Scenario, seed: u64, ga: DateTime<Utc>) -> Simulator {
        let injections = inject::injections(scenario, ga);
        let origin = (ga - Duration::days(DAYS_BEFORE)).timestamp();
        let minutes = (DAYS_TOTAL * 1440) as usize;
        let rng = |i: usize| {
            ChaCha8Rng::seed_from_u64(
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(i as u64),
            )
        };
        let mine = |name: &str| -> Vec<&Injection> {
            injections.iter().filter(|x| x.service == name).collect()
        };
        let services = if scenario.is_realistic() {
            realistic::profiles()
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let mins = realistic::simulate(p, &mine(p.name), origin, minutes, &mut rng(i));
                    (p.name.to_string(), mins)
                })
                .collect()
        } else {
            classic::profiles()
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let mins = classic::simulate(p, &mine(p.name), origin, minutes, &mut rng(i));
                    (p.name.to_string(), mins)
                })
                .collect()
        };
        Simulator {
            scenario,
            seed,
            ga,
            origin,
            resolution_secs: DEFAULT_RESOLUTION_SECS,
            services,
            injections,
        }
    }

    /// Answers series as a store that keeps only rollups of `secs` seconds
    /// would (a 5-minute or hourly downsampled Prometheus, a metrics export):
    /// `kpi_series` then gives points only at multiples of `secs`, whatever
    /// step is asked. Day aggregates (`window_kpis`) do not change. The
    /// simulation's grain is a minute, so `secs` is rounded up to whole
    /// minutes and kept between a minute and a day.
    pub fn with_resolution(mut self, secs: u32) -> Simulator {
        let secs = secs.clamp(DEFAULT_RESOLUTION_SECS, MAX_RESOLUTION_SECS);
        self.resolution_secs = secs.div_ceil(60) * 60;
        self
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn resolution_secs(&self) -> u32 {
        self.resolution_secs
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
    /// Always minute by minute, whatever the resolution.
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

    /// First point and spacing of the series `kpi_series` answers over a
    /// window starting at `start`. At a minute's resolution this is the
    /// original grid (any step of a minute or more, from the window start).
    /// Coarser, the step is rounded up to a multiple of the resolution and
    /// points sit on multiples of it, each covering only time inside the
    /// window, as a rollup store would answer.
    fn series_grid(&self, start: i64, step_secs: u32) -> (i64, i64) {
        let r = i64::from(self.resolution_secs);
        if r <= 60 {
            let step = i64::from(step_secs.max(60));
            return (start + step, step);
        }
        let ceil_to = |t: i64| t.div_euclid(r) * r + if t.rem_euclid(r) > 0 { r } else { 0 };
        let step = ceil_to(i64::from(step_secs).max(r));
        (ceil_to(start + step), step)
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
        if self.resolution_secs == DEFAULT_RESOLUTION_SECS {
            format!("sim:{}:{}", self.scenario.name(), self.seed)
        } else {
            format!(
                "sim:{}:{}:{}",
                self.scenario.name(),
                self.seed,
                self.resolution_secs
            )
        }
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

    /// Exact, since the simulation knows them: the start of each minute
    /// marked `restarted` (the process start time its scrapes would report).
    fn restart_times(&self, window: &Window) -> Result<BTreeMap<String, Vec<i64>>, SourceError> {
        let (s, e) = (window.start_secs(), window.end_secs());
        let mut out = BTreeMap::new();
        for (name, mins) in &self.services {
            let (a, b) = self.index_range(s, e, mins.len());
            if a == b {
                continue;
            }
            let times = (a..b)
                .filter(|&i| mins[i].restarted)
                .map(|i| self.origin + 60 * i as i64)
                .collect();
            out.insert(name.clone(), times);
        }
        Ok(out)
    }

    fn kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
    ) -> Result<Vec<Series>, SourceError> {
        let (first, step) = self.series_grid(window.start_secs(), step_secs);
        let mut out = Vec::new();
        for (name, _) in &self.services {
            let mut points = Vec::new();
            let mut t = first;
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

/// Scenario-wide lookup used by tests: the injection on `service` touching `kpi`.
pub fn injected<'a>(truth: &'a [Injection], service: &str, kpi: Kpi) -> Option<&'a Injection> {
    truth
        .iter()
        .find(|x| x.service == service && x.kpis.contains(&kpi))
}

/// Services of the simulation with their base request rate, for docs and tests
/// (the same in both fleets).
pub fn service_profiles() -> BTreeMap<&'static str, f64> {
    classic::profiles()
        .into_iter()
        .map(|p| (p.name, p.base_rps))
        .collect()
}
