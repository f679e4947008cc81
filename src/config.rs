//! Configuration: thresholds, prices and detector settings, layered
//! defaults < `tars.toml` < environment < flags and resolved once before any
//! work starts.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::anomaly::detector::DetectorConfig;
use crate::error::{Error, Result};
use crate::prom::PromConfig;
use crate::slo::SloConfig;

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

/// Everything a run is configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub thresholds: Thresholds,
    pub pricing: Pricing,
    /// Service level objectives, per service.
    pub slo: SloConfig,
    /// Sensitivity of the release watch's anomaly detection.
    pub detector: DetectorConfig,
    pub prometheus: PromConfig,
}

/// Default `z_threshold` of the release watch. The detector's own default
/// (tuned on NAB, one series at a time) is more sensitive; the watch runs
/// about 32 series at one-minute resolution for eight days, and at 6 a
/// healthy simulated week stays under five incidents per service while every
/// injected step and burst is still caught within minutes (docs/anomaly-detection.md).
pub const WATCH_Z_THRESHOLD: f64 = 6.0;

impl Default for Config {
    fn default() -> Self {
        Config {
            thresholds: Thresholds::default(),
            pricing: Pricing::default(),
            slo: SloConfig::default(),
            detector: DetectorConfig {
                z_threshold: WATCH_Z_THRESHOLD,
                ..DetectorConfig::default()
            },
            prometheus: PromConfig::default(),
        }
    }
}

impl Config {
    /// Loads `path` over the defaults (unknown keys are an error).
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let cfg: Config = toml::from_str(&text)
            .map_err(|e| Error::Config(format!("{}: {}", path.display(), e.message())))?;
        cfg.slo
            .validate()
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_lists_the_defaults() {
        let text = include_str!("../tars.example.toml");
        let cfg: Config = toml::from_str(text).unwrap();
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn unknown_keys_are_rejected_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tars.toml");
        std::fs::write(&p, "[thresholds]\ndrift_pct = 3\n").unwrap();
        let err = Config::from_file(&p).unwrap_err().to_string();
        assert!(
            err.contains("tars.toml") && err.contains("drift_pct"),
            "{err}"
        );
    }

    #[test]
    fn a_partial_file_keeps_other_defaults() {
        let cfg: Config = toml::from_str("[slo]\nlatency_ms = 300.0\n").unwrap();
        assert_eq!(cfg.slo.latency_ms, 300.0);
        assert_eq!(cfg.slo.availability_pct, 99.9);
        assert_eq!(cfg.thresholds.drift_low_pct, 10.0);
    }
}
