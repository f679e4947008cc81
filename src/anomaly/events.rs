//! The anomaly stage: runs the detector over every (service, KPI) series of a
//! window and keeps `anomalies/anomaly_events.json` (a JSON array, as the
//! runbook's `jq 'length'` expects) plus a metadata sidecar.

use std::path::Path;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::detector::DetectorConfig;
use super::incident::detect_incidents;
use crate::error::Result;
use crate::io;
use crate::model::{ArtifactMeta, Kpi, Series, Severity, Window};
use crate::source::MetricsSource;

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
        for inc in detect_incidents(&s.points, cfg) {
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
                    s.service,
                    fmt(inc.peak_value),
                    to_time(inc.peak_ts).format("%Y-%m-%d %H:%M"),
                    fmt(e),
                    fmt(lo),
                    fmt(hi),
                    inc.score,
                    inc.points
                ),
                _ => format!("{} {kpi} reached {} at {}, score {:.2}.", s.service, fmt(inc.peak_value), to_time(inc.peak_ts).format("%Y-%m-%d %H:%M"), inc.score),
            };
            out.push(AnomalyEvent {
                id: format!("{}/{kpi}/{}", s.service, inc.start_ts),
                incident_id: String::new(),
                timestamp: start,
                start,
                end: to_time(inc.end_ts),
                peak_time: to_time(inc.peak_ts),
                day_number,
                service: s.service.clone(),
                kpi: kpi.to_string(),
                unit: unit.to_string(),
                observed: inc.peak_value,
                expected,
                band,
                score: inc.score.clamp(0.0, 1.0),
                severity: inc.severity,
                duration_minutes: dur,
                points: inc.points,
                reason: inc.reason.to_string(),
                explanation,
            });
        }
    }
    group_incidents(&mut out);
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
        let series = source.kpi_series(kpi, window, DETECTION_STEP_SECS)?;
        n_series += series.len();
        n_points += series.iter().map(|s| s.points.len()).sum::<usize>();
        events.extend(detect_series(&series, kpi.name(), kpi.unit(), cfg, ga));
    }
    group_incidents(&mut events);
    Ok((events, n_series, n_points))
}

fn sort(events: &mut [AnomalyEvent]) {
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

/// Reads an events file; a missing file is an empty list.
pub fn read_events(path: &Path) -> Result<Vec<AnomalyEvent>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    io::read_json(path, "a JSON array of anomaly events")
}

/// Replaces the events inside `window` with `fresh` (keeping those outside,
/// from earlier runs) under the file's lock, and writes atomically.
pub fn merge_into_file(path: &Path, window: &Window, fresh: Vec<AnomalyEvent>) -> Result<usize> {
    io::with_lock(path, || {
        let mut all: Vec<AnomalyEvent> = read_events(path)?
            .into_iter()
            .filter(|e| e.start < window.start || e.start >= window.end)
            .collect();
        all.extend(fresh);
        sort(&mut all);
        all.dedup_by(|a, b| a.id == b.id);
        group_incidents(&mut all);
        io::write_json(path, &all)?;
        Ok(all.len())
    })
}

/// Events that started inside `window`.
pub fn in_window<'a>(events: &'a [AnomalyEvent], window: &Window) -> Vec<&'a AnomalyEvent> {
    events
        .iter()
        .filter(|e| e.start >= window.start && e.start < window.end)
        .collect()
}
