//! Configuration: thresholds, prices and detector settings, layered
//! defaults < `tars.toml` < environment < flags and resolved once before any
//! work starts.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::anomaly::detector::DetectorConfig;
use crate::error::{Error, Result};
use crate::prom::PromConfig;
use crate::slo::SloConfig;

pub use tars_core::thresholds::{Pricing, Thresholds};
use tars_core::validate::{self, Violation};

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
    /// True when the file set `[detector] z_threshold` itself (see
    /// [`Config::csv_detector`]).
    #[serde(skip)]
    pub file_sets_z: bool,
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
            file_sets_z: false,
        }
    }
}

impl Config {
    /// Loads `path` over the defaults (unknown keys are an error).
    pub fn from_file(path: &Path) -> Result<Config> {
        Self::from_bytes(path, crate::io::read_bounded(path, "a tars.toml")?)
    }

    /// [`Config::from_file`] on the bytes of `path` already read (the fuzz
    /// targets call this).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Config> {
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::bad(path, "not UTF-8 text (expected a tars.toml)"))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            // One line: the parser's message may span several.
            let msg: Vec<&str> = e.message().lines().map(str::trim).collect();
            let at = match e.span() {
                Some(s) => format!(
                    "line {}: ",
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                ),
                None => String::new(),
            };
            Error::Config(format!("{}: {at}{}", path.display(), msg.join(": ")))
        })?;
        cfg.file_sets_z = toml::from_str::<toml::Table>(&text)
            .ok()
            .and_then(|t| t.get("detector")?.get("z_threshold").cloned())
            .is_some();
        cfg.slo
            .validate()
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        cfg.validate()
            .map_err(|v| Error::Config(format!("{}: {v}", path.display())))?;
        Ok(cfg)
    }

    /// Thresholds, prices and detector settings as the flags require them:
    /// finite, not negative, probabilities and percentages in range.
    pub fn validate(&self) -> std::result::Result<(), Violation> {
        validate::check_thresholds(&self.thresholds)?;
        validate::check_pricing(&self.pricing)?;
        let d = &self.detector;
        if !(d.z_threshold.is_finite() && d.z_threshold > 0.0) {
            return Err(Violation::new(
                "detector.z_threshold",
                format!("{} must be a positive number", d.z_threshold),
            ));
        }
        if !(d.alpha.is_finite() && d.alpha > 0.0 && d.alpha <= 1.0) {
            return Err(Violation::new(
                "detector.alpha",
                format!("{} must be in (0, 1]", d.alpha),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Detector settings for a labelled CSV scored one series at a time (as
    /// NAB is): the file's `z_threshold` when it sets one, else the
    /// detector's own default rather than the watch's
    /// [`WATCH_Z_THRESHOLD`]. Environment and flags still override it.
    pub fn csv_detector(&self) -> DetectorConfig {
        let mut d = self.detector;
        if !self.file_sets_z {
            d.z_threshold = DetectorConfig::default().z_threshold;
        }
        d
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
    fn a_typo_in_detector_is_rejected_like_everywhere_else() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tars.toml");
        std::fs::write(&p, "[detector]\nz_treshold = 3.0\n").unwrap();
        let err = Config::from_file(&p).unwrap_err().to_string();
        assert!(err.contains("z_treshold"), "{err}");
    }

    #[test]
    fn a_csv_run_keeps_the_files_z_threshold_and_alpha() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tars.toml");
        std::fs::write(&p, "[detector]\nz_threshold = 3.0\nalpha = 0.2\n").unwrap();
        let d = Config::from_file(&p).unwrap().csv_detector();
        assert_eq!((d.z_threshold, d.alpha), (3.0, 0.2));
        // Without it, the detector's own default, not the watch's 6.
        std::fs::write(&p, "[detector]\nalpha = 0.2\n").unwrap();
        let d = Config::from_file(&p).unwrap().csv_detector();
        assert_eq!(d.z_threshold, DetectorConfig::default().z_threshold);
        assert_ne!(d.z_threshold, WATCH_Z_THRESHOLD);
        assert_eq!(d.alpha, 0.2);
    }

    #[test]
    fn nan_negative_and_out_of_range_settings_are_refused_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tars.toml");
        for (text, needle) in [
            (
                "[thresholds]\ndrift_low_pct = nan\n",
                "field `thresholds.drift_low_pct`: NaN is not a finite number",
            ),
            (
                "[thresholds]\ndrift_high_pct = -5.0\n",
                "field `thresholds.drift_high_pct`: -5 is negative",
            ),
            (
                "[thresholds]\nmin_requests = inf\n",
                "field `thresholds.min_requests`: inf is not a finite number",
            ),
            (
                "[thresholds]\nhealth_good = 150.0\n",
                "field `thresholds.health_good`: 150 is out of range",
            ),
            (
                "[thresholds]\nconfidence = 1.0\n",
                "field `thresholds.confidence`: 1 must be between 0 and 1",
            ),
            (
                "[pricing]\ncpu_core_hour_usd = -1.0\n",
                "field `pricing.cpu_core_hour_usd`: -1 is negative",
            ),
            (
                "[detector]\nz_threshold = nan\n",
                "field `detector.z_threshold`: NaN must be a positive number",
            ),
            (
                "[detector]\nalpha = 0.0\n",
                "field `detector.alpha`: 0 must be in (0, 1]",
            ),
        ] {
            std::fs::write(&p, text).unwrap();
            let err = Config::from_file(&p).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::ExitCode::Usage, "{text}");
            let msg = err.to_string();
            assert!(
                msg.contains("tars.toml: ") && msg.contains(needle),
                "{text}: {msg}"
            );
        }
    }

    #[test]
    fn a_parse_error_is_one_line_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tars.toml");
        std::fs::write(&p, "[thresholds]\ndrift_low_pct = 1.\n").unwrap();
        let err = Config::from_file(&p).unwrap_err().to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(
            err.contains("tars.toml: line 2: invalid floating-point number"),
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
