//! The anomaly stage: runs the detector over every (service, KPI) series of a
//! window and keeps `anomalies/anomaly_events.json` (a JSON array, as the
//! runbook's `jq 'length'` expects) plus a metadata sidecar.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::{ArtifactMeta, BadDirection, Kpi, Series, Severity, Window};
use crate::source::{MetricsSource, Visit};
use std::collections::BTreeMap;
use tars_detector::detector::DetectorConfig;
use tars_detector::incident::{detect_incidents, Incident};

/// Resolution the detector runs at.
pub const DETECTION_STEP_SECS: u32 = 60;

/// One anomaly incident: consecutive anomalous points merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnomalyEvent {
    /// Stable id: `service/kpi/start-unix-seconds`.
    pub id: String,
    /// Events of one service that overlap in time (within 15 minutes) share an
    /// incident: a restart that moves latency, errors and memory at once is one
    /// incident with several signals. Format `service/start-unix-seconds`.
    pub incident_id: String,
    /// Start of the incident (same as `start`, for tools that expect `timestamp`).
    pub timestamp: DateTime<Utc>,
    /// Start (inclusive).
    pub start: DateTime<Utc>,
    /// End (exclusive).
    pub end: DateTime<Utc>,
    pub peak_time: DateTime<Utc>,
    /// Release day (0 = GA day) the incident started on, when the GA is known.
    pub day_number: Option<u32>,
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    /// KPI name (`p99_latency_ms`, ...) or the input series' name.
    pub kpi: String,
    /// Unit of the KPI values.
    pub unit: String,
    /// The most anomalous value observed.
    pub observed: f64,
    /// What the detector expected at the peak (absent during warm-up).
    pub expected: Option<f64>,
    /// Normal band at the peak.
    pub band: Option<[f64; 2]>,
    /// Detector score at the peak, in [0, 1].
    pub score: f64,
    pub severity: Severity,
    pub duration_minutes: f64,
    /// Anomalous points in the incident.
    pub points: usize,
    /// The detector's reason code.
    pub reason: String,
    /// A process restart of the service that explains the event (cold start,
    /// memory drop and warm-up): its severity is then at most low.
    #[serde(default)]
    pub restart_at: Option<DateTime<Utc>>,
    /// One sentence with the numbers behind the event.
    pub explanation: String,
}

/// `anomalies/anomaly_run.json`: what the last evaluation covered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnomalyRun {
    #[serde(flatten)]
    pub meta: ArtifactMeta,
    pub detector: DetectorConfig,
    pub series_evaluated: usize,
    pub points_evaluated: usize,
    pub events_in_window: usize,
    pub events_total: usize,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn to_time(ts: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(ts, 0).unwrap_or_default()
}

/// Runs the detector over each series (of one KPI) and returns its events.
pub fn detect_series(
    series: &[Series],
    kpi: &str,
    unit: &str,
    cfg: &DetectorConfig,
    ga: Option<DateTime<Utc>>,
) -> Vec<AnomalyEvent> {
    let mut out = Vec::new();
    for s in series {
        out.extend(series_events(
            &s.service,
            detect_incidents(&s.points, cfg),
            kpi,
            unit,
            ga,
        ));
    }
    group_incidents(&mut out);
    out
}

/// The events of one series' incidents (their `incident_id`s are assigned
/// later, by [`group_incidents`] over all the events of a run). Detection
/// and naming are apart so that a series can be analysed before its name is
/// known (a streamed answer names series once all are read).
pub fn series_events(
    service: &str,
    incidents: Vec<Incident>,
    kpi: &str,
    unit: &str,
    ga: Option<DateTime<Utc>>,
) -> Vec<AnomalyEvent> {
    let mut out = Vec::new();
    for inc in incidents {
        let start = to_time(inc.start_ts);
        let expected = finite(inc.expected);
        let band = match (finite(inc.band_low), finite(inc.band_high)) {
            (Some(a), Some(b)) => Some([a, b]),
            _ => None,
        };
        let day_number = ga.and_then(|g| {
            let d = (inc.start_ts - g.timestamp()).div_euclid(86_400);
            u32::try_from(d).ok()
        });
        let fmt = |v: f64| match Kpi::from_name(kpi) {
            Some(k) => k.format(v),
            None => format!("{v:.4}"),
        };
        let dur = (inc.end_ts - inc.start_ts) as f64 / 60.0 + 1.0;
        let explanation = match (expected, band) {
            (Some(e), Some([lo, hi])) => format!(
                "{} {kpi} reached {} at {} against an expected {} (normal band {} .. {}), score {:.2}, {} anomalous minute(s).",
                service,
                fmt(inc.peak_value),
                to_time(inc.peak_ts).format("%Y-%m-%d %H:%M"),
                fmt(e),
                fmt(lo),
                fmt(hi),
                inc.score,
                inc.points
            ),
            _ => format!("{} {kpi} reached {} at {}, score {:.2}.", service, fmt(inc.peak_value), to_time(inc.peak_ts).format("%Y-%m-%d %H:%M"), inc.score),
        };
        out.push(AnomalyEvent {
            id: format!("{service}/{kpi}/{}", inc.start_ts),
            incident_id: String::new(),
            timestamp: start,
            start,
            end: to_time(inc.end_ts),
            peak_time: to_time(inc.peak_ts),
            day_number,
            service: service.to_string(),
            kpi: kpi.to_string(),
            unit: unit.to_string(),
            observed: inc.peak_value,
            expected,
            band,
            score: inc.score.clamp(0.0, 1.0),
            duration_minutes: dur,
            points: inc.points,
            reason: inc.reason.to_string(),
            restart_at: None,
            severity: good_direction_cap(kpi, inc.peak_value, inc.expected, inc.severity),
            explanation,
        });
    }
    out
}

/// Evaluates every KPI of `window` and returns the events and the number of
/// series and points looked at.
pub fn detect_window(
    source: &dyn MetricsSource,
    window: &Window,
    cfg: &DetectorConfig,
    ga: Option<DateTime<Utc>>,
) -> Result<(Vec<AnomalyEvent>, usize, usize)> {
    let mut events = Vec::new();
    let (mut n_series, mut n_points) = (0, 0);
    for kpi in Kpi::ALL {
        // Each series is analysed as the source hands it over and dropped;
        // the final sort makes the events' order that of the whole answer.
        let mut found: Vec<AnomalyEvent> = Vec::new();
        let (mut s, mut p) = (0, 0);
        let mut visit = |v: Visit| match v {
            Visit::Series(series) => {
                s += 1;
                p += series.points.len();
                let incidents = detect_incidents(&series.points, cfg);
                found.extend(series_events(
                    &series.service,
                    incidents,
                    kpi.name(),
                    kpi.unit(),
                    ga,
                ));
            }
            Visit::Restart => {
                found.clear();
                (s, p) = (0, 0);
            }
        };
        source.for_each_kpi_series(kpi, window, DETECTION_STEP_SECS, &mut visit)?;
        n_series += s;
        n_points += p;
        events.append(&mut found);
    }
    match source.restart_times(window) {
        Ok(restarts) => mark_restarts(&mut events, &restarts),
        // Restarts only soften verdicts; without them events keep their severity.
        Err(e) => tracing::warn!("restart times unknown: {e}"),
    }
    group_incidents(&mut events);
    Ok((events, n_series, n_points))
}

/// An anomaly in the good direction (memory or latency falling, traffic
/// rising) is news, not a problem: at most low severity.
pub fn good_direction_cap(kpi: &str, peak: f64, expected: f64, sev: Severity) -> Severity {
    let Some(k) = Kpi::from_name(kpi) else {
        return sev;
    };
    if !(peak.is_finite() && expected.is_finite()) {
        return sev;
    }
    let good = match k.bad_direction() {
        BadDirection::Increase => peak < expected,
        BadDirection::Decrease => peak > expected,
    };
    if good {
        sev.min(Severity::Low)
    } else {
        sev
    }
}

/// How long before an event's start a restart still explains it (the event
/// starts when the detector is sure, which can be minutes after the restart).
pub const RESTART_LEAD_SECS: i64 = 15 * 60;
/// How long after an event's start a restart still explains it (restart
/// times from a server are known to the resolution of its query step).
pub const RESTART_LAG_SECS: i64 = 5 * 60;

/// Marks the events that a restart of their service explains and caps their
/// severity at low.
pub fn mark_restarts(events: &mut [AnomalyEvent], restarts: &BTreeMap<String, Vec<i64>>) {
    for e in events.iter_mut() {
        let Some(times) = restarts.get(&e.service) else {
            continue;
        };
        let start = e.start.timestamp();
        let hit = times
            .iter()
            .copied()
            .filter(|t| *t >= start - RESTART_LEAD_SECS && *t <= start + RESTART_LAG_SECS)
            .min_by_key(|t| (t - start).abs());
        if let Some(t) = hit {
            let at = to_time(t);
            e.restart_at = Some(at);
            e.severity = e.severity.min(Severity::Low);
            e.explanation = format!(
                "{} Explained by a restart of {} at {}.",
                e.explanation,
                e.service,
                at.format("%Y-%m-%d %H:%M")
            );
        }
    }
}

/// Orders events by start, service and KPI (the file's order).
pub fn sort(events: &mut [AnomalyEvent]) {
    events.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(a.service.cmp(&b.service))
            .then(a.kpi.cmp(&b.kpi))
    });
}

/// Slack within which events of one service belong to the same incident.
pub const INCIDENT_GAP_SECS: i64 = 15 * 60;

/// Assigns `incident_id`s: per service, events in time order join the open
/// incident while they start within [`INCIDENT_GAP_SECS`] of its end.
pub fn group_incidents(events: &mut [AnomalyEvent]) {
    sort(events);
    let gap = chrono::Duration::seconds(INCIDENT_GAP_SECS);
    let mut open: std::collections::BTreeMap<String, (String, DateTime<Utc>)> = Default::default();
    for e in events.iter_mut() {
        let (id, end) = match open.get(&e.service) {
            Some((id, end)) if e.start <= *end + gap => (id.clone(), (*end).max(e.end)),
            _ => (format!("{}/{}", e.service, e.start.timestamp()), e.end),
        };
        e.incident_id = id.clone();
        open.insert(e.service.clone(), (id, end));
    }
}

/// Distinct incidents among `events`.
pub fn incident_count<'a>(events: impl IntoIterator<Item = &'a AnomalyEvent>) -> usize {
    events
        .into_iter()
        .map(|e| e.incident_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// The (service, KPI) series a run analysed: what its merge may replace.
pub type Analysed = std::collections::BTreeSet<(String, String)>;

/// The series of `series` as the merge names them, all under KPI `kpi`.
pub fn analysed(series: &[Series], kpi: &str) -> Analysed {
    series
        .iter()
        .map(|s| (s.service.clone(), kpi.to_string()))
        .collect()
}

/// The merge of a run's `fresh` events into the `existing` file: an existing
/// event is replaced when it started inside `window` and belongs to a series
/// the run analysed (`None`: every series, as a run over the whole source
/// does). Events of other series, or outside the window, are kept: a run over
/// one exported series must not wipe every other series' history.
pub fn merge(
    existing: Vec<AnomalyEvent>,
    fresh: Vec<AnomalyEvent>,
    window: &Window,
    analysed: Option<&Analysed>,
) -> Vec<AnomalyEvent> {
    let replaced = |e: &AnomalyEvent| {
        e.start >= window.start
            && e.start < window.end
            && analysed.is_none_or(|a| a.contains(&(e.service.clone(), e.kpi.clone())))
    };
    let mut all: Vec<AnomalyEvent> = existing.into_iter().filter(|e| !replaced(e)).collect();
    all.extend(fresh);
    sort(&mut all);
    all.dedup_by(|a, b| a.id == b.id);
    group_incidents(&mut all);
    all
}

/// Events that started inside `window`.
pub fn in_window<'a>(events: &'a [AnomalyEvent], window: &Window) -> Vec<&'a AnomalyEvent> {
    events
        .iter()
        .filter(|e| e.start >= window.start && e.start < window.end)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(service: &str, kpi: &str, start: i64, severity: Severity) -> AnomalyEvent {
        let t = to_time(start);
        AnomalyEvent {
            id: format!("{service}/{kpi}/{start}"),
            incident_id: String::new(),
            timestamp: t,
            start: t,
            end: to_time(start + 600),
            peak_time: t,
            day_number: Some(1),
            service: service.into(),
            kpi: kpi.into(),
            unit: String::new(),
            observed: 1.0,
            expected: Some(2.0),
            band: None,
            score: 0.9,
            severity,
            duration_minutes: 10.0,
            points: 10,
            reason: "level".into(),
            restart_at: None,
            explanation: "x".into(),
        }
    }

    #[test]
    fn a_run_over_some_series_keeps_the_others() {
        let window = Window {
            start: to_time(0),
            end: to_time(10_000),
        };
        let existing = vec![
            event("api", "value", 100, Severity::High),
            event("api", "p99_latency_ms", 200, Severity::High),
            event("db", "value", 300, Severity::High),
            event("api", "value", 20_000, Severity::High),
        ];
        let fresh = vec![event("api", "value", 500, Severity::Low)];
        let scope: Analysed = [("api".to_string(), "value".to_string())].into();
        let ids = |v: &[AnomalyEvent]| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        let kept = merge(existing.clone(), fresh.clone(), &window, Some(&scope));
        assert_eq!(
            ids(&kept),
            [
                "api/p99_latency_ms/200",
                "db/value/300",
                "api/value/500",
                "api/value/20000"
            ]
        );
        // A run over the whole source still replaces the whole window.
        let all = merge(existing, fresh, &window, None);
        assert_eq!(ids(&all), ["api/value/500", "api/value/20000"]);
    }

    #[test]
    fn a_restart_just_before_an_event_explains_it() {
        let mut ev = vec![
            event("search", "memory_bytes", 10_000, Severity::High),
            event("search", "p99_latency_ms", 50_000, Severity::High),
            event("auth", "memory_bytes", 10_000, Severity::High),
        ];
        let restarts = BTreeMap::from([("search".to_string(), vec![10_000 - 600])]);
        mark_restarts(&mut ev, &restarts);
        assert_eq!(ev[0].severity, Severity::Low);
        assert_eq!(ev[0].restart_at, Some(to_time(9_400)));
        assert!(ev[0].explanation.contains("restart of search"));
        // Hours later, or another service: not explained.
        assert_eq!(ev[1].severity, Severity::High);
        assert_eq!(ev[2].severity, Severity::High);
        assert_eq!(ev[2].restart_at, None);
        // A restart long before (over the lead) does not explain it either.
        let mut late = vec![event("search", "memory_bytes", 10_000, Severity::High)];
        let early = BTreeMap::from([("search".to_string(), vec![10_000 - RESTART_LEAD_SECS - 60])]);
        mark_restarts(&mut late, &early);
        assert_eq!(late[0].severity, Severity::High);
    }

    #[test]
    fn good_news_is_never_more_than_low() {
        let h = Severity::High;
        assert_eq!(
            good_direction_cap("memory_bytes", 100.0, 200.0, h),
            Severity::Low
        );
        assert_eq!(good_direction_cap("memory_bytes", 300.0, 200.0, h), h);
        assert_eq!(
            good_direction_cap("availability", 99.99, 99.9, h),
            Severity::Low
        );
        assert_eq!(good_direction_cap("availability", 99.0, 99.9, h), h);
        assert_eq!(
            good_direction_cap("throughput_rps", 500.0, 200.0, h),
            Severity::Low
        );
        assert_eq!(good_direction_cap("value", 1.0, 2.0, h), h);
    }
}
