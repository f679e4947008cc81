//! The severity scale shared by anomaly incidents, drifts, degradations and
//! regressions. It lives in the lowest crate that grades findings.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Severity scale shared by drifts, degradations and regressions.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Action priority of a finding of this severity: P0 (now) .. P3 (when convenient).
    pub fn priority(self) -> &'static str {
        match self {
            Severity::Critical => "P0",
            Severity::High => "P1",
            Severity::Medium => "P2",
            Severity::Low => "P3",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
