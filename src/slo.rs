//! SLO error budgets: how much of the week's budget a day consumed and how
//! fast it is burning, over several windows scaled to a 7-day horizon.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::baseline::{ServiceKpis, SAMPLE_STEP_SECS};
use crate::config::Thresholds;
use crate::model::Kpi;

/// Budget horizon: the release watch lasts a week.
pub const HORIZON_DAYS: f64 = 7.0;

/// SLO status of one service on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceSlo {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    /// Availability over the day, percent.
    pub availability: f64,
    /// The day's availability is under the SLO.
    pub availability_breached: bool,
    /// Share of the 7-day error budget this day consumed, percent (100/7 ≈ 14.3 is on pace).
    pub error_budget_consumed_pct: f64,
    /// Burn rate over the whole day (1.0 spends the budget exactly over the horizon).
    pub burn_rate_24h: f64,
    /// Burn rate over the day's last 6 hours.
    pub burn_rate_6h: f64,
    /// Highest 1-hour burn rate within the day.
    pub peak_burn_rate_1h: f64,
    /// Share of 15-minute windows whose p99 latency met the SLO, percent.
    pub latency_good_windows_pct: f64,
    /// The latency SLO (share of good windows) was missed.
    pub latency_breached: bool,
    /// Fast burn: a 1-hour window spent more than 2 % of the week's budget.
    pub fast_burn: bool,
}

/// Computes the SLO status of one service from its day KPIs and samples.
pub fn service_slo(s: &ServiceKpis, t: &Thresholds) -> ServiceSlo {
    let budget_ratio = (100.0 - t.availability_slo_pct) / 100.0;
    let err = s.samples.get(&Kpi::ErrorRate).cloned().unwrap_or_default();
    let rps = s
        .samples
        .get(&Kpi::ThroughputRps)
        .cloned()
        .unwrap_or_default();
    let n = err.len().min(rps.len());
    let burn = |from: usize| -> f64 {
        let (mut e, mut r) = (0.0, 0.0);
        for i in from..n {
            e += err[i] / 100.0 * rps[i];
            r += rps[i];
        }
        if r > 0.0 && budget_ratio > 0.0 {
            e / r / budget_ratio
        } else {
            0.0
        }
    };
    let per_hour = (3600 / SAMPLE_STEP_SECS) as usize;
    let burn_24h = match s.kpis.get(&Kpi::ErrorRate) {
        Some(e) if budget_ratio > 0.0 => e / 100.0 / budget_ratio,
        _ => burn(0),
    };
    let burn_6h = burn(n.saturating_sub(6 * per_hour));
    let mut peak = 0.0f64;
    if n >= per_hour {
        for i in 0..=n - per_hour {
            let (mut e, mut r) = (0.0, 0.0);
            for j in i..i + per_hour {
                e += err[j] / 100.0 * rps[j];
                r += rps[j];
            }
            if r > 0.0 && budget_ratio > 0.0 {
                peak = peak.max(e / r / budget_ratio);
            }
        }
    }
    let p99 = s
        .samples
        .get(&Kpi::P99LatencyMs)
        .cloned()
        .unwrap_or_default();
    let good = if p99.is_empty() {
        100.0
    } else {
        100.0 * p99.iter().filter(|v| **v <= t.p99_latency_slo_ms).count() as f64 / p99.len() as f64
    };
    let availability = s.kpis.get(&Kpi::Availability).copied().unwrap_or(f64::NAN);
    // Spending 2 % of a 7-day budget in one hour is a burn rate of 0.02 * 168 = 3.36.
    let fast_threshold = 0.02 * HORIZON_DAYS * 24.0;
    ServiceSlo {
        service: s.service.clone(),
        availability,
        availability_breached: availability.is_finite() && availability < t.availability_slo_pct,
        error_budget_consumed_pct: 100.0 * burn_24h / HORIZON_DAYS,
        burn_rate_24h: burn_24h,
        burn_rate_6h: burn_6h,
        peak_burn_rate_1h: peak,
        latency_good_windows_pct: good,
        latency_breached: good < t.latency_slo_target_pct,
        fast_burn: peak >= fast_threshold,
    }
}

/// Cumulative budget consumed over several days, percent of the 7-day budget.
pub fn week_budget_consumed(days: &[f64]) -> f64 {
    days.iter().filter(|x| x.is_finite()).sum()
}
