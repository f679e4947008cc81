//! When each stage of the week is due: pure rules over the GA instant, the
//! time and what is already on disk.

use chrono::{DateTime, Duration, Utc};

/// One unit of the week's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// The GA baseline (day 0).
    Ga,
    /// Day N's stability summary and health report.
    Day(u32),
    /// The day-7 regression analysis and the retrospective.
    Week,
    /// Anomaly detection from GA to now (continuous).
    Anomaly,
}

impl Stage {
    /// The label value in metrics and the name in logs.
    pub fn name(self) -> String {
        match self {
            Stage::Ga => "ga".into(),
            Stage::Day(n) => format!("day_{n}"),
            Stage::Week => "week".into(),
            Stage::Anomaly => "anomaly".into(),
        }
    }

    /// When the stage's window closes: it may run from then on.
    pub fn due_at(self, ga: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Stage::Ga => ga + Duration::days(1),
            Stage::Day(n) => ga + Duration::days(i64::from(n) + 1),
            Stage::Week => ga + Duration::days(8),
            Stage::Anomaly => ga,
        }
    }
}

/// The chain of the week in the order it must be done: GA, days 1-7, week.
pub fn chain() -> Vec<Stage> {
    let mut out = vec![Stage::Ga];
    out.extend((1..=7).map(Stage::Day));
    out.push(Stage::Week);
    out
}

/// The first stage of the chain that is due at `now` and not done, or `None`
/// when everything due is done. `done` says whether a stage's artifacts are
/// finished on disk. Stages run in order: a day waits for the one before, so
/// a restarted or late watch writes exactly what an uninterrupted one would.
pub fn next_due(
    ga: DateTime<Utc>,
    now: DateTime<Utc>,
    done: impl Fn(Stage) -> bool,
) -> Option<Stage> {
    chain()
        .into_iter()
        .take_while(|s| s.due_at(ga) <= now)
        .find(|s| !done(*s))
}

/// True when every stage of the chain is done: the week is over.
pub fn week_done(done: impl Fn(Stage) -> bool) -> bool {
    chain().into_iter().all(done)
}

/// Delay before retry number `failures` (1 = the first retry): doubles from
/// `base`, capped at `max`.
pub fn backoff(
    failures: u32,
    base: std::time::Duration,
    max: std::time::Duration,
) -> std::time::Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    base.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration as StdDuration;

    fn ga() -> DateTime<Utc> {
        "2025-11-18T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn nothing_is_due_before_ga_day_ends() {
        let now = ga() + Duration::hours(23);
        assert_eq!(next_due(ga(), now, |_| false), None);
    }

    #[test]
    fn a_late_start_catches_up_in_order() {
        // Started after the week: GA first, then each day, then the week.
        let now = ga() + Duration::days(30);
        assert_eq!(next_due(ga(), now, |_| false), Some(Stage::Ga));
        let done_to_day3 = |s: Stage| matches!(s, Stage::Ga | Stage::Day(1..=3));
        assert_eq!(next_due(ga(), now, done_to_day3), Some(Stage::Day(4)));
        assert_eq!(next_due(ga(), now, |s| s != Stage::Week), Some(Stage::Week));
        assert_eq!(next_due(ga(), now, |_| true), None);
    }

    #[test]
    fn a_day_is_due_when_its_window_closes() {
        // Day 2 is GA+2d .. GA+3d.
        let before = ga() + Duration::days(3) - Duration::seconds(1);
        let done_to_day1 = |s: Stage| matches!(s, Stage::Ga | Stage::Day(1));
        assert_eq!(next_due(ga(), before, done_to_day1), None);
        assert_eq!(
            next_due(ga(), ga() + Duration::days(3), done_to_day1),
            Some(Stage::Day(2))
        );
    }

    #[test]
    fn a_missing_day_blocks_the_later_ones() {
        let now = ga() + Duration::days(6);
        // Day 2 failed and is not on disk; day 3 must not run before it.
        let done = |s: Stage| matches!(s, Stage::Ga | Stage::Day(1) | Stage::Day(3));
        assert_eq!(next_due(ga(), now, done), Some(Stage::Day(2)));
    }

    #[test]
    fn the_week_is_done_only_with_every_stage() {
        assert!(!week_done(|s| s != Stage::Day(5)));
        assert!(week_done(|_| true));
    }

    #[test]
    fn backoff_doubles_and_stops_at_its_cap() {
        let (b, m) = (StdDuration::from_secs(10), StdDuration::from_secs(300));
        assert_eq!(backoff(1, b, m), StdDuration::from_secs(10));
        assert_eq!(backoff(2, b, m), StdDuration::from_secs(20));
        assert_eq!(backoff(4, b, m), StdDuration::from_secs(80));
        assert_eq!(backoff(9, b, m), m);
        assert_eq!(backoff(u32::MAX, b, m), m);
    }

    #[test]
    fn stage_names_are_stable_label_values() {
        let names: Vec<String> = chain().into_iter().map(Stage::name).collect();
        assert_eq!(names[0], "ga");
        assert_eq!(names[3], "day_3");
        assert_eq!(names[8], "week");
        assert_eq!(Stage::Anomaly.name(), "anomaly");
    }
}
