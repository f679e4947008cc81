//! `tars anomaly-detector --input FILE.json`: the detector over a saved
//! `query_range` answer, each series analysed as it is read (on every core)
//! and dropped, so a 600 MB answer never sits in memory.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::detector::DetectorConfig;
use super::events::{group_incidents, series_events, Analysed, AnomalyEvent};
use super::incident::detect_incidents;
use crate::error::Result;
use crate::model::Window;

/// The KPI name a saved answer's series are filed under.
pub const INPUT_KPI: &str = "value";

/// What one pass over a saved answer found.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRun {
    pub events: Vec<AnomalyEvent>,
    /// The series analysed (what the merge into the events file replaces).
    pub analysed: Analysed,
    /// From the first sample to just after the last; `None` without samples.
    pub window: Option<Window>,
    pub series: usize,
    pub points: usize,
}

/// Analysis threads besides the reading one: one per core, since the
/// reading thread mostly waits on the disk and the queue.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs the detector over every series of the answer at `path` on
/// `workers` threads (0: all on this one). The events are the same, byte
/// for byte, whatever `workers` is, and the same as the whole-file path
/// (`prom::read_query_range_file` then `events::detect_series`).
pub fn detect_file(path: &Path, det: &DetectorConfig, workers: usize) -> Result<FileRun> {
    let group = crate::prom::PromConfig::default().group_label;
    let analyse = |points: &[(i64, f64)]| detect_incidents(points, det);
    let series = crate::prom::analyse_query_range_file(path, &group, workers, &analyse)?;
    let mut run = FileRun {
        events: Vec::new(),
        analysed: Analysed::new(),
        window: None,
        series: series.len(),
        points: series.iter().map(|s| s.points).sum(),
    };
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for s in series {
        if let Some((first, last)) = s.span {
            lo = lo.min(first);
            hi = hi.max(last);
        }
        run.events
            .extend(series_events(&s.service, s.out, INPUT_KPI, "", None));
        run.analysed.insert((s.service, INPUT_KPI.to_string()));
    }
    group_incidents(&mut run.events);
    let to = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
    run.window = (lo <= hi).then(|| Window {
        start: to(lo),
        end: to(hi + 1),
    });
    Ok(run)
}
