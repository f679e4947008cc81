//! Slack on what matters, once per change: a day turning poor, a rollback
//! newly recommended, the week's retrospective; and GitHub issues for the
//! retrospective's action items once it is written. What was said is kept in
//! the data directory, so a restarted watch does not repeat itself; a post
//! that fails is tried again on the next pass (at least once, never lost).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::health::{HealthReport, HealthStatus};
use crate::pipeline::layout;
use crate::retro::Retrospective;

/// What the last notified day said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Said {
    /// The last day looked at (0: none yet).
    pub day: u32,
    pub poor: bool,
    pub rollback: bool,
    pub week: bool,
    /// The retrospective's action items were filed on GitHub.
    #[serde(default)]
    pub github: bool,
}

/// Whether day `h` changes the verdict `said` reported: it turned poor, or
/// newly recommends a rollback. A day that recovers is recorded, not posted.
pub fn day_changes(said: &Said, h: &HealthReport) -> bool {
    let poor = h.status == HealthStatus::Poor;
    let rollback = h.rollback_recommendation.recommended;
    (poor && !said.poor) || (rollback && !said.rollback)
}

/// Where the watch tells about changes.
#[derive(Clone, Default)]
pub struct Notify {
    /// A Slack incoming webhook.
    pub slack: Option<String>,
    /// GitHub issues for the action items at or above this priority.
    pub github: Option<(crate::notify::GithubTarget, crate::model::Priority)>,
}

impl std::fmt::Debug for Notify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The webhook's path and the token are secrets.
        write!(
            f,
            "Notify {{ slack: {}, github: {:?} }}",
            if self.slack.is_some() { "***" } else { "none" },
            self.github
        )
    }
}

impl Notify {
    fn state_path(dir: &Path) -> PathBuf {
        dir.join(".tars-watch-notified.json")
    }

    fn load(dir: &Path) -> Said {
        std::fs::read(Self::state_path(dir))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(dir: &Path, s: &Said) -> Result<()> {
        let bytes = serde_json::to_vec(s).map_err(|e| Error::Render(e.to_string()))?;
        crate::io::write_atomic(&Self::state_path(dir), &bytes)
    }

    /// Looks at every finished day not looked at yet, then the week.
    pub fn catch_up(&self, dir: &Path) -> Result<()> {
        let mut said = Self::load(dir);
        for day in said.day + 1..=7 {
            let path = dir.join(layout::HEALTH_DIR).join(layout::day_health(day));
            let Ok(h) = crate::io::read_json::<HealthReport>(&path, "health report") else {
                break;
            };
            if let Some(hook) = self.slack.as_deref().filter(|_| day_changes(&said, &h)) {
                crate::notify::post_slack(hook, &crate::notify::health_payload(&h))?;
            }
            said = Said {
                day,
                poor: h.status == HealthStatus::Poor,
                rollback: h.rollback_recommendation.recommended,
                ..said
            };
            Self::save(dir, &said)?;
        }
        let retro = dir.join(layout::OUTPUT_DIR).join(layout::RETRO_JSON);
        let Ok(r) = crate::io::read_json::<Retrospective>(&retro, "retrospective") else {
            return Ok(());
        };
        if let Some(hook) = self.slack.as_deref().filter(|_| !said.week) {
            crate::notify::post_slack(hook, &crate::notify::retro_payload(&r))?;
            said.week = true;
            Self::save(dir, &said)?;
        }
        if let Some((target, min)) = self.github.as_ref().filter(|_| !said.github) {
            // Idempotent by title as well: a crash before the record files nothing twice.
            crate::notify::file_issues(target, &r, *min)?;
            said.github = true;
            Self::save(dir, &said)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: HealthStatus, rollback: bool) -> HealthReport {
        let mut h: HealthReport = serde_json::from_value(serde_json::json!({
            "schema_version": 2, "tool_version": "t", "kind": "health_report",
            "generated_at": "2025-11-20T00:00:00Z", "source": "sim", "inputs": [],
            "window": {"start": "2025-11-19T00:00:00Z", "end": "2025-11-20T00:00:00Z"},
            "day_number": 1, "health_score": 50.0, "status": "fair", "breakdown": [],
            "degradations": [], "mitigation_plan": [],
            "anomaly_summary": {"total": 0, "events": 0, "by_severity": {}, "by_service": {}},
            "slo": [], "rollback_recommendation": {"recommended": false, "reasons": []}
        }))
        .unwrap();
        h.status = status;
        h.rollback_recommendation.recommended = rollback;
        h
    }

    #[test]
    fn only_a_turn_for_the_worse_is_posted() {
        let calm = Said::default();
        assert!(!day_changes(&calm, &report(HealthStatus::Fair, false)));
        assert!(day_changes(&calm, &report(HealthStatus::Poor, false)));
        assert!(day_changes(&calm, &report(HealthStatus::Good, true)));
        // Still poor, still rolling back: already said.
        let bad = Said {
            day: 3,
            poor: true,
            rollback: true,
            ..Said::default()
        };
        assert!(!day_changes(&bad, &report(HealthStatus::Poor, true)));
        // Poor already, a rollback is new.
        let poor = Said {
            rollback: false,
            ..bad
        };
        assert!(day_changes(&poor, &report(HealthStatus::Poor, true)));
    }
}
