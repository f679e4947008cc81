//! Streaming anomaly detector: one pass, no look-ahead, O(1) state per series.
//!
//! PLACEHOLDER implementation (plain EWMA + z-score) that fixes the interface the
//! pipeline relies on; the real detector replaces the internals, not the signatures.

use serde::{Deserialize, Serialize};

/// Parameters shared by every series (no per-series tuning).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DetectorConfig {
    /// Sensitivity: larger means fewer alerts (`--z-threshold`, `Z_THRESHOLD`).
    pub z_threshold: f64,
    /// Smoothing factor of the level estimate (`EWMA_ALPHA`), in (0, 1].
    pub alpha: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self { z_threshold: 3.0, alpha: 0.3 }
    }
}

/// What the detector concluded about one point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointVerdict {
    /// Anomaly score in [0, 1]; 0 for missing/non-finite input.
    pub score: f64,
    /// True when this point starts or continues an alert.
    pub is_anomaly: bool,
    /// The value the detector expected here (NaN during warm-up).
    pub expected: f64,
    /// Lower and upper edge of the normal band (NaN during warm-up).
    pub band_low: f64,
    pub band_high: f64,
    /// Short machine-readable reason ("warmup", "normal", "spike_high", "spike_low", "new_extreme", "missing", ...).
    pub reason: &'static str,
}

/// One detector per series.
#[derive(Debug, Clone)]
pub struct StreamingDetector {
    cfg: DetectorConfig,
    mean: f64,
    var: f64,
    n: u64,
}

impl StreamingDetector {
    pub fn new(cfg: DetectorConfig) -> Self {
        Self { cfg, mean: 0.0, var: 0.0, n: 0 }
    }

    /// Feeds the next point (timestamps in seconds, non-decreasing).
    pub fn update(&mut self, _ts_secs: i64, value: f64) -> PointVerdict {
        if !value.is_finite() {
            return PointVerdict { score: 0.0, is_anomaly: false, expected: self.mean, band_low: f64::NAN, band_high: f64::NAN, reason: "missing" };
        }
        if self.n == 0 {
            self.mean = value;
            self.n = 1;
            return PointVerdict { score: 0.0, is_anomaly: false, expected: f64::NAN, band_low: f64::NAN, band_high: f64::NAN, reason: "warmup" };
        }
        let sd = self.var.sqrt();
        let z = if sd > 0.0 { (value - self.mean) / sd } else { 0.0 };
        let expected = self.mean;
        let band = self.cfg.z_threshold * sd;
        let a = self.cfg.alpha;
        let d = value - self.mean;
        self.mean += a * d;
        self.var = (1.0 - a) * (self.var + a * d * d);
        self.n += 1;
        let is_anomaly = self.n > 30 && z.abs() >= self.cfg.z_threshold;
        PointVerdict {
            score: (z.abs() / (2.0 * self.cfg.z_threshold)).min(1.0),
            is_anomaly,
            expected,
            band_low: expected - band,
            band_high: expected + band,
            reason: if !is_anomaly { "normal" } else if z > 0.0 { "spike_high" } else { "spike_low" },
        }
    }
}
