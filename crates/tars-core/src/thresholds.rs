//! Decision thresholds and unit prices: plain settings the rules read. The
//! defaults are the seeds' runbook values.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Decision thresholds. The defaults are the seeds' runbook values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Relative degradation (percent) that counts as drift at all.
    pub drift_low_pct: f64,
    /// ... as medium drift.
    pub drift_medium_pct: f64,
    /// ... as high drift.
    pub drift_high_pct: f64,
    /// ... as critical drift (on an SLO KPI, also a rollback trigger when it persists).
    pub drift_critical_pct: f64,
    /// Significance level of the drift test.
    pub significance_alpha: f64,
    /// Confidence level of shift and trend intervals.
    pub confidence: f64,
    /// Availability under which a day triggers a rollback, percent.
    pub availability_rollback_pct: f64,
    /// Error rate that is a high-severity degradation, percent.
    pub error_rate_high_pct: f64,
    /// Error rate that triggers a rollback, percent.
    pub error_rate_critical_pct: f64,
    /// Health score bands: at or above `health_excellent` is excellent, ...
    pub health_excellent: f64,
    pub health_good: f64,
    pub health_fair: f64,
    /// Health score under which two consecutive days trigger a rollback.
    pub health_rollback: f64,
    /// Requests a window needs before request-based KPIs are judged.
    pub min_requests: f64,
    /// Anomaly incidents per day that count as a medium degradation.
    pub anomalies_per_day_medium: usize,
    /// Memory limit per service for leak projections, bytes.
    pub memory_limit_bytes: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            drift_low_pct: 10.0,
            drift_medium_pct: 15.0,
            drift_high_pct: 30.0,
            drift_critical_pct: 50.0,
            significance_alpha: 0.01,
            confidence: 0.95,
            availability_rollback_pct: 99.0,
            error_rate_high_pct: 1.0,
            error_rate_critical_pct: 5.0,
            health_excellent: 90.0,
            health_good: 70.0,
            health_fair: 50.0,
            health_rollback: 40.0,
            min_requests: 1000.0,
            anomalies_per_day_medium: 10,
            memory_limit_bytes: 4.0 * 1024.0 * 1024.0 * 1024.0,
        }
    }
}

/// Unit prices for the cost estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Pricing {
    /// Price of one CPU core for one hour, USD.
    pub cpu_core_hour_usd: f64,
    /// Price of one GiB of memory for one hour, USD.
    pub memory_gib_hour_usd: f64,
    /// Price of one million requests (load balancer, egress), USD.
    pub million_requests_usd: f64,
}

impl Default for Pricing {
    fn default() -> Self {
        // Typical on-demand cloud list prices.
        Pricing {
            cpu_core_hour_usd: 0.0316,
            memory_gib_hour_usd: 0.0042,
            million_requests_usd: 0.40,
        }
    }
}

impl Pricing {
    /// Estimated cost of one day at the given average CPU, memory and request rate.
    pub fn cost_per_day(&self, cpu_cores: f64, memory_bytes: f64, throughput_rps: f64) -> f64 {
        let gib = memory_bytes / (1024.0 * 1024.0 * 1024.0);
        let cost = 24.0 * (cpu_cores * self.cpu_core_hour_usd + gib * self.memory_gib_hour_usd)
            + throughput_rps * 86_400.0 / 1e6 * self.million_requests_usd;
        if cost.is_finite() {
            cost
        } else {
            0.0
        }
    }
}
