//! Incidents: runs of anomalous points of one series merged into one event each.

use serde::Serialize;

use super::detector::{DetectorConfig, StreamingDetector};

/// Anomalous points closer than this are one incident: an alert that flickers off
/// for a few minutes is still the same problem.
pub const MERGE_GAP_SECS: i64 = 900;

/// How bad an incident looks, from its score and its distance from the normal band
/// (the scale shared with drifts and regressions).
pub use crate::Severity;

/// One anomalous episode of a series.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Incident {
    /// First and last anomalous point (epoch seconds).
    pub start_ts: i64,
    pub end_ts: i64,
    /// The point furthest from its expectation, in band widths.
    pub peak_ts: i64,
    pub peak_value: f64,
    /// Expectation and normal band at the peak.
    pub expected: f64,
    pub band_low: f64,
    pub band_high: f64,
    /// Highest anomaly likelihood in the incident, in [0, 1] (0.5 = alert threshold).
    pub score: f64,
    /// Number of anomalous points.
    pub points: usize,
    pub severity: Severity,
    /// Reason of the first anomalous point ("spike_high", "spike_low", "new_extreme",
    /// "trend").
    pub reason: &'static str,
}

/// How far a value lies outside the band, in half band widths (1 = on the edge).
fn band_distance(value: f64, expected: f64, low: f64, high: f64) -> f64 {
    let half = if value >= expected {
        high - expected
    } else {
        expected - low
    };
    let d = (value - expected).abs();
    if half > 0.0 && half.is_finite() {
        d / half
    } else if d > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// A lone new extreme scores 0.75: it reaches `High` only by its distance.
fn severity(score: f64, distance: f64, value: f64, expected: f64) -> Severity {
    // A few-fold change of a positive metric (latency, error rate) is critical even
    // when the series is noisy enough to keep the band distance modest.
    let ratio = if expected.abs() > 0.0 {
        (value / expected).abs()
    } else {
        f64::INFINITY
    };
    let fold = ratio.max(1.0 / ratio.max(f64::MIN_POSITIVE));
    if (score >= 0.9 && distance >= 4.0) || (distance >= 2.0 && fold >= 3.0) {
        Severity::Critical
    } else if score >= 0.8 || distance >= 3.0 {
        Severity::High
    } else if score >= 0.6 || distance >= 1.5 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

struct Open {
    inc: Incident,
    peak_distance: f64,
    /// Whether any point was in the likelihood tail, not only a new extreme.
    statistical: bool,
}

impl Open {
    /// A lone record value still inside the normal band is no incident: on a noisy
    /// series the range keeps creeping outwards (a few records a week on pure noise).
    fn significant(&self) -> bool {
        self.statistical || self.peak_distance >= 1.0
    }

    fn close(mut self) -> Incident {
        self.inc.severity = severity(
            self.inc.score,
            self.peak_distance,
            self.inc.peak_value,
            self.inc.expected,
        );
        self.inc
    }
}

/// Runs a fresh detector over one series (ascending timestamps in seconds; NaN
/// values are missing) and merges anomalous points less than [`MERGE_GAP_SECS`]
/// apart, or with no normal point between them, into incidents, in time order. An
/// episode made only of new-extreme points that stay inside the normal band is
/// dropped.
pub fn detect_incidents(points: &[(i64, f64)], cfg: &DetectorConfig) -> Vec<Incident> {
    let mut det = StreamingDetector::new(*cfg);
    let mut out = Vec::new();
    let mut open: Option<Open> = None;
    // Whether the latest valid point was anomalous: at hourly resolution two
    // anomalous hours in a row are one episode although they are more than
    // MERGE_GAP_SECS apart.
    let mut adjacent = false;
    det.run(points, |(ts, value), v| {
        if !v.is_anomaly {
            adjacent &= v.reason == "missing";
            return;
        }
        let follows = std::mem::replace(&mut adjacent, true);
        let distance = band_distance(value, v.expected, v.band_low, v.band_high);
        if let Some(o) = open.as_mut() {
            if follows || ts.saturating_sub(o.inc.end_ts) <= MERGE_GAP_SECS {
                o.inc.end_ts = ts;
                o.inc.points += 1;
                o.inc.score = o.inc.score.max(v.likelihood);
                o.statistical |= v.reason != "new_extreme";
                if distance > o.peak_distance {
                    o.peak_distance = distance;
                    o.inc.peak_ts = ts;
                    o.inc.peak_value = value;
                    o.inc.expected = v.expected;
                    o.inc.band_low = v.band_low;
                    o.inc.band_high = v.band_high;
                }
                return;
            }
        }
        if let Some(o) = open.take().filter(Open::significant) {
            out.push(o.close());
        }
        open = Some(Open {
            inc: Incident {
                start_ts: ts,
                end_ts: ts,
                peak_ts: ts,
                peak_value: value,
                expected: v.expected,
                band_low: v.band_low,
                band_high: v.band_high,
                score: v.likelihood,
                points: 1,
                severity: Severity::Low,
                reason: v.reason,
            },
            peak_distance: distance,
            statistical: v.reason != "new_extreme",
        });
    });
    if let Some(o) = open.take().filter(Open::significant) {
        out.push(o.close());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::sim::{healthy, inject, Kpi, ALL, GA};

    const DAY: i64 = 86_400;

    fn week_incidents(series: &[(i64, f64)]) -> Vec<Incident> {
        // Day 0 is the GA baseline the detector learns from; the targets are about days 1-7.
        detect_incidents(series, &DetectorConfig::default())
            .into_iter()
            .filter(|i| i.start_ts >= GA + DAY)
            .collect()
    }

    #[test]
    fn healthy_week_is_quiet() {
        for kpi in ALL {
            for seed in 1..=6 {
                let s = healthy(kpi, seed, 7);
                let inc = week_incidents(&s);
                assert!(
                    inc.len() < 5,
                    "{kpi:?} seed {seed}: {} incidents: {inc:#?}",
                    inc.len()
                );
            }
        }
    }

    fn detection_delay(kpi: Kpi, seed: u64, onset: i64, minutes: i64, factor: f64) -> Option<i64> {
        let mut s = healthy(kpi, seed, 7);
        inject(&mut s, onset, minutes, factor);
        detect_incidents(&s, &DetectorConfig::default())
            .iter()
            .find(|i| i.end_ts >= onset && i.start_ts < onset + 60 * minutes)
            .map(|i| (i.start_ts - onset) / 60)
    }

    #[test]
    fn latency_step_is_detected_within_15_minutes() {
        for (seed, day, hour) in [(1, 2, 3), (2, 4, 14), (3, 6, 20)] {
            let onset = GA + day * DAY + hour * 3600;
            let delay = detection_delay(Kpi::Latency, seed, onset, 45, 3.0);
            assert!(
                matches!(delay, Some(0..=15)),
                "seed {seed}: delay {delay:?}"
            );
        }
    }

    #[test]
    fn error_burst_is_detected_within_15_minutes() {
        for (seed, day, hour) in [(4, 1, 10), (5, 3, 2), (6, 5, 17)] {
            let onset = GA + day * DAY + hour * 3600;
            let delay = detection_delay(Kpi::ErrorRate, seed, onset, 45, 4.0);
            assert!(
                matches!(delay, Some(0..=15)),
                "seed {seed}: delay {delay:?}"
            );
        }
    }

    #[test]
    fn incident_spans_the_step_and_is_severe() {
        let onset = GA + 3 * DAY + 11 * 3600;
        let mut s = healthy(Kpi::Latency, 9, 7);
        inject(&mut s, onset, 60, 4.0);
        let inc = detect_incidents(&s, &DetectorConfig::default());
        let hit = inc
            .iter()
            .find(|i| i.start_ts >= onset && i.start_ts < onset + 900)
            .expect("incident");
        assert!(hit.points >= 5, "{hit:?}");
        assert!(hit.peak_ts >= onset && hit.peak_ts < onset + 3600);
        assert!(hit.peak_value > hit.band_high);
        assert!(hit.severity >= Severity::High, "{hit:?}");
        assert!((0.5..=1.0).contains(&hit.score));
    }

    #[test]
    fn nearby_alerts_merge_and_distant_ones_do_not() {
        let mut s: Vec<(i64, f64)> = (0..3000)
            .map(|i| (GA + 60 * i, 10.0 + (i % 5) as f64 * 0.1))
            .collect();
        // Two spikes 5 minutes apart are one incident; one 2 hours later is another.
        for (i, v) in [(2000usize, 50.0), (2005, 500.0), (2120, 5000.0)] {
            s[i].1 = v;
        }
        let inc = detect_incidents(&s, &DetectorConfig::default());
        assert_eq!(inc.len(), 2, "{inc:#?}");
        assert_eq!((inc[0].start_ts, inc[1].start_ts), (s[2000].0, s[2120].0));
        assert!(inc[0].end_ts >= s[2005].0);
        assert_eq!(inc[0].peak_ts, s[2005].0);
    }

    #[test]
    fn consecutive_anomalous_hours_are_one_incident() {
        // Hourly points are 60 minutes apart, more than the merge gap: a three-hour
        // outage is still one incident (it lasts while the ten-point average stays
        // high, ten hours), and one a week later is another.
        let mut s = crate::detector::sim::healthy_at(Kpi::ErrorRate, 1, 20, 3600);
        let at = |day: usize| 24 * day + 10;
        for i in (at(10)..at(10) + 3).chain(at(17)..at(17) + 3) {
            s[i].1 = 0.5;
        }
        let inc = detect_incidents(&s, &DetectorConfig::default());
        assert_eq!(inc.len(), 2, "{inc:#?}");
        assert_eq!(inc[0].start_ts, s[at(10)].0);
        assert!(
            (s[at(10) + 2].0..=s[at(10) + 10].0).contains(&inc[0].end_ts),
            "{inc:#?}"
        );
        // The repeat is no new extreme, and the long-run distribution still
        // remembers the first outage (at hourly steps it forgets over months):
        // found on its third hour.
        assert_eq!(inc[1].start_ts, s[at(17) + 2].0, "{inc:#?}");
    }

    #[test]
    fn missing_values_and_empty_input() {
        assert!(detect_incidents(&[], &DetectorConfig::default()).is_empty());
        let s: Vec<(i64, f64)> = (0..2000)
            .map(|i| (GA + 60 * i, if i % 3 == 0 { f64::NAN } else { 1.0 }))
            .collect();
        assert!(detect_incidents(&s, &DetectorConfig::default()).is_empty());
    }

    #[test]
    fn severity_ranks_and_serialises_lowercase() {
        assert_eq!(severity(0.95, 6.0, 400.0, 100.0), Severity::Critical);
        assert_eq!(severity(0.55, 2.5, 310.0, 100.0), Severity::Critical);
        assert_eq!(severity(0.8, 1.2, 105.0, 100.0), Severity::High);
        assert_eq!(severity(0.62, 1.0, 104.0, 100.0), Severity::Medium);
        assert_eq!(severity(0.75, 1.2, 106.0, 100.0), Severity::Medium);
        assert_eq!(severity(0.5, 0.8, 101.0, 100.0), Severity::Low);
        assert_eq!(
            serde_json::to_string(&Severity::Critical).expect("json"),
            "\"critical\""
        );
        let schema = schemars::schema_for!(Incident);
        assert!(serde_json::to_string(&schema)
            .expect("schema")
            .contains("\"low\""));
    }
}
