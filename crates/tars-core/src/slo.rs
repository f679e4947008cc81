//! SLOs as objectives with error budgets.
//!
//! Each service has an availability objective and a latency objective
//! (threshold at a percentile). A day is judged by how fast it spends the
//! budget (burn rate: 1.0 spends it exactly over the 7-day horizon), over the
//! whole day, its last 6 hours and its worst hour, and *compared with the GA
//! day's own burn*: a service that already ran at its objective before the
//! release is the fleet's standing debt (its posture), not a finding against
//! the release.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::baseline::ServiceKpis;
use crate::model::{Kpi, Severity};
use crate::stats::{norm_cdf, norm_quantile};

/// Budget horizon: the release watch lasts a week.
pub const HORIZON_DAYS: f64 = 7.0;

/// Fast burn: one hour that spends 2 % of the week's budget (burn rate 3.36),
/// the SRE workbook's paging budget share applied to a 7-day horizon.
pub const FAST_BURN_RATE: f64 = 0.02 * HORIZON_DAYS * 24.0;
/// Slow burn: a day that spends at least two days' share of the week's budget.
pub const SLOW_BURN_RATE: f64 = 2.0;
/// A burn counts against the release only when it is at least this many
/// times the GA day's burn over the same kind of window: services already at
/// their objective burn near 1.0 every day, and hours vary by a factor of
/// about 1.5 through noise alone.
pub const RELEASE_BURN_FACTOR: f64 = 2.0;
/// Fewer bad requests than this in a window is too few to call a burn
/// (sparse traffic makes one failed request look like a fast burn).
pub const MIN_BAD_REQUESTS: f64 = 10.0;
/// A GA-day burn rate at or above this means the service was already at its objective.
pub const AT_OBJECTIVE_BURN: f64 = 0.9;
/// A fast burn spending this many times the fast-burn rate is critical.
const CRITICAL_FAST_FACTOR: f64 = 10.0;

/// The objectives of one service.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Objective {
    /// Share of requests answered without a 5xx, percent.
    pub availability_pct: f64,
    /// Latency threshold, milliseconds.
    pub latency_ms: f64,
    /// Percentile the latency threshold applies to (99 = p99).
    pub latency_percentile: f64,
}

impl Objective {
    /// Share of requests allowed to fail.
    pub fn error_budget(&self) -> f64 {
        (100.0 - self.availability_pct) / 100.0
    }

    /// Share of requests allowed to be slower than the threshold.
    pub fn latency_budget(&self) -> f64 {
        (100.0 - self.latency_percentile) / 100.0
    }
}

/// Per-service changes to the default objective (absent keys keep the default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveOverride {
    pub availability_pct: Option<f64>,
    pub latency_ms: Option<f64>,
    pub latency_percentile: Option<f64>,
}

/// `[slo]` of `tars.toml`: the default objective and per-service overrides
/// (`[slo.services.checkout]`). Defaults are the seeds' 99.9 % and p99 200 ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SloConfig {
    /// Availability objective, percent of requests without a 5xx.
    pub availability_pct: f64,
    /// Latency threshold, milliseconds.
    pub latency_ms: f64,
    /// Percentile the latency threshold applies to.
    pub latency_percentile: f64,
    /// Objectives of individual services, by the grouping label's value.
    pub services: BTreeMap<String, ObjectiveOverride>,
}

impl Default for SloConfig {
    fn default() -> Self {
        SloConfig {
            availability_pct: 99.9,
            latency_ms: 200.0,
            latency_percentile: 99.0,
            services: BTreeMap::new(),
        }
    }
}

impl SloConfig {
    /// The objective of `service`.
    pub fn objective(&self, service: &str) -> Objective {
        let o = self.services.get(service);
        Objective {
            availability_pct: o
                .and_then(|o| o.availability_pct)
                .unwrap_or(self.availability_pct),
            latency_ms: o.and_then(|o| o.latency_ms).unwrap_or(self.latency_ms),
            latency_percentile: o
                .and_then(|o| o.latency_percentile)
                .unwrap_or(self.latency_percentile),
        }
    }

    /// Checks every objective; the error names the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        let mut all = vec![("slo".to_string(), self.objective(""))];
        for name in self.services.keys() {
            all.push((format!("slo.services.{name}"), self.objective(name)));
        }
        for (key, o) in all {
            if !(o.availability_pct > 0.0 && o.availability_pct < 100.0) {
                return Err(format!(
                    "{key}.availability_pct must be between 0 and 100 (exclusive), got {}",
                    o.availability_pct
                ));
            }
            if !(o.latency_ms.is_finite() && o.latency_ms > 0.0) {
                return Err(format!(
                    "{key}.latency_ms must be a positive number, got {}",
                    o.latency_ms
                ));
            }
            if !(o.latency_percentile > 0.0 && o.latency_percentile < 100.0) {
                return Err(format!(
                    "{key}.latency_percentile must be between 0 and 100 (exclusive), got {}",
                    o.latency_percentile
                ));
            }
        }
        Ok(())
    }
}

/// A service level indicator with an objective.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Sli {
    /// Requests answered without a 5xx.
    Availability,
    /// Requests answered within the latency threshold.
    Latency,
}

impl Sli {
    pub fn name(self) -> &'static str {
        match self {
            Sli::Availability => "availability",
            Sli::Latency => "latency",
        }
    }

    /// The KPI a finding on this SLI is reported under.
    pub fn kpi(self) -> Kpi {
        match self {
            Sli::Availability => Kpi::ErrorRate,
            Sli::Latency => Kpi::P99LatencyMs,
        }
    }
}

/// How fast one SLI spent its budget over one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Burn {
    /// Burn rate over the whole day (1.0 spends the budget exactly over the horizon).
    pub rate_24h: f64,
    /// Burn rate over the day's last 6 hours.
    pub rate_6h: f64,
    /// Highest 1-hour burn rate within the day.
    pub peak_1h: f64,
    /// Estimated bad requests in that worst hour.
    pub peak_1h_bad_requests: f64,
    /// Estimated bad requests over the day.
    pub bad_requests: f64,
}

impl Burn {
    /// Share of the 7-day budget this day consumed, percent (100/7 ≈ 14.3 is on pace).
    pub fn budget_consumed_pct(&self) -> f64 {
        100.0 * self.rate_24h / HORIZON_DAYS
    }
}

/// Which window made a burn finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BurnWindow {
    /// The worst hour spent at least 2 % of the week's budget.
    Fast1h,
    /// The whole day spent at least two days' share.
    Slow24h,
}

/// A budget burn the release caused: fast enough, and at least
/// [`RELEASE_BURN_FACTOR`] times the GA day's burn over the same window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BurnFinding {
    pub sli: Sli,
    pub window: BurnWindow,
    /// Burn rate of the day over that window.
    pub burn_rate: f64,
    /// The GA day's burn rate over the same window (absent without a GA day).
    pub ga_burn_rate: Option<f64>,
    /// Share of the week's budget spent in the window, percent.
    pub budget_spent_pct: f64,
    pub severity: Severity,
}

/// Where a service stands against an objective it already missed or met
/// only just at GA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostureStatus {
    /// Burning close to 1.0: on budget, no room to spare.
    AtObjective,
    /// Burning faster than 1.0: the budget runs out before the week does.
    PastObjective,
}

/// A pre-existing SLO condition: at or past the objective on GA day and not
/// made worse by the release. Reported, never scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PostureEntry {
    pub service: String,
    pub sli: Sli,
    /// The objective: availability percent, or the latency threshold in ms.
    pub objective: f64,
    /// For latency, the percentile the threshold applies to.
    pub percentile: Option<f64>,
    /// GA day's burn rate over 24 h.
    pub ga_burn_rate: f64,
    /// This day's burn rate over 24 h.
    pub burn_rate: f64,
    pub status: PostureStatus,
}

/// SLO status of one service on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceSlo {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    pub objective: Objective,
    /// Availability over the day, percent.
    pub availability: f64,
    /// The day's availability is under the objective.
    pub availability_breached: bool,
    /// Share of the 7-day error budget this day consumed, percent (100/7 ≈ 14.3 is on pace).
    pub error_budget_consumed_pct: f64,
    /// Burn rate of the availability budget over the whole day.
    pub burn_rate_24h: f64,
    /// ... over the day's last 6 hours.
    pub burn_rate_6h: f64,
    /// Highest 1-hour availability burn rate within the day.
    pub peak_burn_rate_1h: f64,
    /// Availability budget burn.
    pub availability_burn: Burn,
    /// Latency budget burn (requests slower than the threshold, estimated per sample
    /// from the p95 and p99 under a log-normal tail).
    pub latency_burn: Burn,
    /// The day spent more than its share of the latency budget (burn over 1.0).
    pub latency_breached: bool,
    /// The GA day's availability burn, for comparison.
    pub ga_availability_burn: Option<Burn>,
    /// The GA day's latency burn.
    pub ga_latency_burn: Option<Burn>,
    /// A release-caused fast burn (see `findings`).
    pub fast_burn: bool,
    /// Burns the release caused.
    pub findings: Vec<BurnFinding>,
}

/// Estimated share of requests slower than `threshold` ms in a window with
/// these percentiles, assuming a log-normal tail fitted through p95 and p99
/// (p50 and p99 when p95 is missing).
pub fn share_slower(p50: Option<f64>, p95: Option<f64>, p99: f64, threshold: f64) -> f64 {
    if !(p99.is_finite() && p99 > 0.0 && threshold > 0.0) {
        return 0.0;
    }
    let z99 = norm_quantile(0.99);
    let (lo, z_lo) = match (p95, p50) {
        (Some(p), _) if p.is_finite() && p > 0.0 && p < p99 => (p, norm_quantile(0.95)),
        (_, Some(p)) if p.is_finite() && p > 0.0 && p < p99 => (p, 0.0),
        _ => return if p99 > threshold { 0.01 } else { 0.0 },
    };
    let sigma = (p99.ln() - lo.ln()) / (z99 - z_lo);
    let mu = p99.ln() - z99 * sigma;
    1.0 - norm_cdf((threshold.ln() - mu) / sigma)
}

/// Budget burn from per-sample bad shares weighted by per-sample traffic.
fn burn_of(bad: &[f64], rps: &[f64], budget: f64, sample_secs: f64) -> Burn {
    let n = bad.len();
    // Samples of different KPIs can differ in length where a source had
    // gaps; weights are then unusable and every sample counts the same.
    let weight = |i: usize| {
        if rps.len() == n {
            rps[i].max(0.0)
        } else {
            1.0
        }
    };
    let mean_rps = if rps.is_empty() {
        0.0
    } else {
        rps.iter().sum::<f64>() / rps.len() as f64
    };
    let rate = |from: usize, to: usize| -> (f64, f64) {
        let (mut b, mut w) = (0.0, 0.0);
        for (i, x) in bad.iter().enumerate().take(to).skip(from) {
            b += x * weight(i);
            w += weight(i);
        }
        let share = if w > 0.0 { b / w } else { 0.0 };
        let bad_requests = share * mean_rps * sample_secs * (to - from) as f64;
        (share / budget, bad_requests)
    };
    if n == 0 || budget <= 0.0 {
        return Burn::default();
    }
    let per_hour = ((3600.0 / sample_secs).round() as usize).max(1);
    let per_6h = 6 * per_hour;
    let (rate_24h, bad_requests) = rate(0, n);
    let (rate_6h, _) = rate(n.saturating_sub(per_6h), n);
    let (mut peak_1h, mut peak_bad) = (0.0f64, 0.0);
    for start in 0..=n.saturating_sub(per_hour) {
        let (r, b) = rate(start, (start + per_hour).min(n));
        if r > peak_1h {
            peak_1h = r;
            peak_bad = b;
        }
    }
    Burn {
        rate_24h,
        rate_6h,
        peak_1h,
        peak_1h_bad_requests: peak_bad,
        bad_requests,
    }
}

fn samples(s: &ServiceKpis, kpi: Kpi) -> &[f64] {
    s.samples.get(&kpi).map(Vec::as_slice).unwrap_or(&[])
}

/// Availability and latency burn of one service over a window of `window_secs`.
pub fn burns(s: &ServiceKpis, o: &Objective, window_secs: f64) -> (Burn, Burn) {
    let rps = samples(s, Kpi::ThroughputRps);
    let err: Vec<f64> = samples(s, Kpi::ErrorRate)
        .iter()
        .map(|e| (e / 100.0).clamp(0.0, 1.0))
        .collect();
    let p99 = samples(s, Kpi::P99LatencyMs);
    let (p50, p95) = (samples(s, Kpi::P50LatencyMs), samples(s, Kpi::P95LatencyMs));
    let slow: Vec<f64> = p99
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = |xs: &[f64]| (xs.len() == p99.len()).then(|| xs[i]);
            share_slower(at(p50), at(p95), *v, o.latency_ms)
        })
        .collect();
    let step = |n: usize| window_secs / n.max(1) as f64;
    let mut avail = burn_of(&err, rps, o.error_budget(), step(err.len()));
    // The day's aggregate error rate is exact where samples are not (gaps).
    if let Some(e) = s.kpis.get(&Kpi::ErrorRate) {
        avail.rate_24h = e / 100.0 / o.error_budget();
    }
    let latency = burn_of(&slow, rps, o.latency_budget(), step(slow.len()));
    (avail, latency)
}

fn severity_of(window: BurnWindow, rate: f64) -> Severity {
    match window {
        BurnWindow::Fast1h if rate >= CRITICAL_FAST_FACTOR * FAST_BURN_RATE => Severity::Critical,
        BurnWindow::Fast1h => Severity::High,
        BurnWindow::Slow24h if rate >= 2.0 * SLOW_BURN_RATE => Severity::High,
        BurnWindow::Slow24h => Severity::Medium,
    }
}

/// The release-caused burns of one SLI: over the fast or slow limit, on
/// enough bad requests, and [`RELEASE_BURN_FACTOR`] times GA's own burn.
pub fn burn_findings(sli: Sli, day: &Burn, ga: Option<&Burn>) -> Vec<BurnFinding> {
    let mut out = Vec::new();
    let checks = [
        (
            BurnWindow::Fast1h,
            day.peak_1h,
            day.peak_1h_bad_requests,
            ga.map(|g| g.peak_1h),
            FAST_BURN_RATE,
            1.0 / 24.0,
        ),
        (
            BurnWindow::Slow24h,
            day.rate_24h,
            day.bad_requests,
            ga.map(|g| g.rate_24h),
            SLOW_BURN_RATE,
            1.0,
        ),
    ];
    for (window, rate, bad, ga_rate, limit, days) in checks {
        let faster_than_ga = ga_rate.is_none_or(|g| rate >= RELEASE_BURN_FACTOR * g);
        if rate >= limit && bad >= MIN_BAD_REQUESTS && faster_than_ga {
            out.push(BurnFinding {
                sli,
                window,
                burn_rate: rate,
                ga_burn_rate: ga_rate,
                budget_spent_pct: 100.0 * rate * days / HORIZON_DAYS,
                severity: severity_of(window, rate),
            });
        }
    }
    out
}

/// Computes the SLO status of one service on one day, against its GA day.
pub fn service_slo(
    s: &ServiceKpis,
    ga: Option<&ServiceKpis>,
    o: &Objective,
    window_secs: f64,
) -> ServiceSlo {
    let (avail, latency) = burns(s, o, window_secs);
    let ga_burns = ga.map(|g| burns(g, o, 86_400.0));
    let mut findings = burn_findings(Sli::Availability, &avail, ga_burns.as_ref().map(|g| &g.0));
    findings.extend(burn_findings(
        Sli::Latency,
        &latency,
        ga_burns.as_ref().map(|g| &g.1),
    ));
    let availability = s.kpis.get(&Kpi::Availability).copied().unwrap_or(f64::NAN);
    ServiceSlo {
        service: s.service.clone(),
        objective: *o,
        availability,
        availability_breached: availability.is_finite() && availability < o.availability_pct,
        error_budget_consumed_pct: avail.budget_consumed_pct(),
        burn_rate_24h: avail.rate_24h,
        burn_rate_6h: avail.rate_6h,
        peak_burn_rate_1h: avail.peak_1h,
        availability_burn: avail,
        latency_burn: latency,
        latency_breached: latency.rate_24h > 1.0,
        ga_availability_burn: ga_burns.map(|g| g.0),
        ga_latency_burn: ga_burns.map(|g| g.1),
        fast_burn: findings.iter().any(|f| f.window == BurnWindow::Fast1h),
        findings,
    }
}

/// Pre-existing conditions of one service: SLIs that burned at or past the
/// objective on GA day and for which the release caused no finding.
pub fn posture(slo: &ServiceSlo) -> Vec<PostureEntry> {
    let mut out = Vec::new();
    let pairs = [
        (
            Sli::Availability,
            slo.ga_availability_burn,
            slo.availability_burn,
        ),
        (Sli::Latency, slo.ga_latency_burn, slo.latency_burn),
    ];
    for (sli, ga, day) in pairs {
        let Some(ga) = ga else { continue };
        if ga.rate_24h < AT_OBJECTIVE_BURN || slo.findings.iter().any(|f| f.sli == sli) {
            continue;
        }
        let (objective, percentile) = match sli {
            Sli::Availability => (slo.objective.availability_pct, None),
            Sli::Latency => (
                slo.objective.latency_ms,
                Some(slo.objective.latency_percentile),
            ),
        };
        out.push(PostureEntry {
            service: slo.service.clone(),
            sli,
            objective,
            percentile,
            ga_burn_rate: ga.rate_24h,
            burn_rate: day.rate_24h,
            status: if ga.rate_24h.max(day.rate_24h) > 1.0 {
                PostureStatus::PastObjective
            } else {
                PostureStatus::AtObjective
            },
        });
    }
    out
}

/// Cumulative budget consumed over several days, percent of the 7-day budget.
pub fn week_budget_consumed(days: &[f64]) -> f64 {
    days.iter().filter(|x| x.is_finite()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burn(rate_24h: f64, peak_1h: f64, bad: f64) -> Burn {
        Burn {
            rate_24h,
            rate_6h: rate_24h,
            peak_1h,
            peak_1h_bad_requests: bad,
            bad_requests: bad * 24.0,
        }
    }

    #[test]
    fn on_budget_at_the_objective_is_no_finding() {
        // 99.899 % against 99.9 %: burn about 1, as at GA.
        let day = burn(1.01, 1.6, 50.0);
        let ga = burn(1.0, 1.5, 50.0);
        assert!(burn_findings(Sli::Availability, &day, Some(&ga)).is_empty());
    }

    #[test]
    fn a_burst_is_a_fast_burn_against_a_quiet_ga() {
        let day = burn(1.5, 20.0, 500.0);
        let ga = burn(0.5, 1.2, 20.0);
        let f = burn_findings(Sli::Availability, &day, Some(&ga));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].window, BurnWindow::Fast1h);
        assert_eq!(f[0].severity, Severity::High);
        // 20x for one hour is 20/168 of the week's budget.
        assert!((f[0].budget_spent_pct - 100.0 * 20.0 / 168.0).abs() < 1e-9);
    }

    #[test]
    fn a_burn_no_faster_than_ga_is_not_the_release() {
        // Already burning at 5x over every hour at GA.
        let day = burn(5.0, 9.0, 500.0);
        let ga = burn(5.0, 8.0, 500.0);
        assert!(burn_findings(Sli::Latency, &day, Some(&ga)).is_empty());
        // Twice as fast as GA is.
        let worse = burn(10.0, 18.0, 900.0);
        let f = burn_findings(Sli::Latency, &worse, Some(&ga));
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].window, BurnWindow::Slow24h);
        assert_eq!(f[1].severity, Severity::High);
    }

    #[test]
    fn too_few_bad_requests_is_no_burn() {
        let day = Burn {
            bad_requests: 9.0,
            ..burn(3.0, 40.0, 4.0)
        };
        assert!(burn_findings(Sli::Availability, &day, None).is_empty());
        let enough = Burn {
            bad_requests: 10.0,
            ..day
        };
        assert_eq!(burn_findings(Sli::Availability, &enough, None).len(), 1);
    }

    #[test]
    fn a_huge_fast_burn_is_critical() {
        let day = burn(8.0, 200.0, 10_000.0);
        let f = burn_findings(Sli::Availability, &day, Some(&burn(0.5, 1.0, 30.0)));
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[1].severity, Severity::High);
    }

    #[test]
    fn share_slower_matches_a_known_lognormal() {
        // ln(ms) ~ N(ln 50, 0.5): p95 = 50 e^{0.822}, p99 = 50 e^{1.163}.
        let p = |z: f64| 50.0 * (0.5 * z).exp();
        let (p95, p99) = (p(norm_quantile(0.95)), p(norm_quantile(0.99)));
        let s = share_slower(Some(50.0), Some(p95), p99, 150.0);
        let truth = 1.0 - norm_cdf((150f64.ln() - 50f64.ln()) / 0.5);
        assert!((s - truth).abs() < 1e-6, "{s} vs {truth}");
        // At the threshold, exactly the percentile's share is slower.
        assert!((share_slower(None, Some(p95), p99, p99) - 0.01).abs() < 1e-9);
    }

    #[test]
    fn burn_weights_samples_by_traffic() {
        // One busy bad sample and one quiet good one: the bad share is 0.9 %.
        let b = burn_of(&[0.01, 0.0], &[90.0, 10.0], 0.001, 900.0);
        assert!((b.rate_24h - 9.0).abs() < 1e-9, "{}", b.rate_24h);
    }

    #[test]
    fn posture_keeps_pre_existing_conditions_only() {
        let o = SloConfig::default().objective("x");
        let slo = |findings: Vec<BurnFinding>| ServiceSlo {
            service: "x".into(),
            objective: o,
            availability: 99.899,
            availability_breached: true,
            error_budget_consumed_pct: 14.4,
            burn_rate_24h: 1.01,
            burn_rate_6h: 1.0,
            peak_burn_rate_1h: 1.5,
            availability_burn: burn(1.01, 1.5, 40.0),
            latency_burn: burn(0.2, 0.5, 5.0),
            latency_breached: false,
            ga_availability_burn: Some(burn(1.03, 1.4, 40.0)),
            ga_latency_burn: Some(burn(0.2, 0.4, 5.0)),
            fast_burn: false,
            findings,
        };
        let p = posture(&slo(vec![]));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].sli, Sli::Availability);
        assert_eq!(p[0].status, PostureStatus::PastObjective);
        let finding = BurnFinding {
            sli: Sli::Availability,
            window: BurnWindow::Fast1h,
            burn_rate: 9.0,
            ga_burn_rate: Some(1.4),
            budget_spent_pct: 5.0,
            severity: Severity::High,
        };
        assert!(posture(&slo(vec![finding])).is_empty());
    }

    #[test]
    fn overrides_apply_per_service_and_bad_objectives_are_named() {
        let mut c = SloConfig::default();
        c.services.insert(
            "checkout".into(),
            ObjectiveOverride {
                latency_ms: Some(400.0),
                ..Default::default()
            },
        );
        assert_eq!(c.objective("checkout").latency_ms, 400.0);
        assert_eq!(c.objective("checkout").availability_pct, 99.9);
        assert_eq!(c.objective("auth").latency_ms, 200.0);
        assert!(c.validate().is_ok());
        c.services.insert(
            "auth".into(),
            ObjectiveOverride {
                availability_pct: Some(100.0),
                ..Default::default()
            },
        );
        let e = c.validate().unwrap_err();
        assert!(e.contains("slo.services.auth.availability_pct"), "{e}");
    }
}
