//! The `anomalies/anomaly_events.json` file: read, and merged under its lock.
//! The events themselves and their detection are in [`tars_core::events`].

use std::path::Path;

pub use tars_core::events::*;

use crate::error::{Error, Result};
use crate::io;
use crate::model::Window;
use tars_core::validate;

/// What an events file is, for messages.
const EVENTS: &str = "a JSON array of anomaly events";

/// Reads an events file; a missing file is an empty list. Each event's
/// times and numbers are checked (`validate::check_events`), and repeats of
/// one (service, KPI, timestamp) are dropped, keeping the first.
pub fn read_events(path: &Path) -> Result<Vec<AnomalyEvent>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    events_from_bytes(path, &io::read_bounded(path, EVENTS)?)
}

/// What an events file holds: [`read_events`] on the bytes of `path`
/// already read (the fuzz targets call this).
pub fn events_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<AnomalyEvent>> {
    let mut events: Vec<AnomalyEvent> = io::json_from_bytes(path, EVENTS, bytes)?;
    validate::check_events(&events, chrono::Utc::now())
        .map_err(|v| Error::bad(path, v.to_string()))?;
    validate::dedup_events(&mut events);
    Ok(events)
}

/// Replaces the events inside `window` with `fresh` (keeping those outside,
/// from earlier runs) under the file's lock, and writes atomically.
pub fn merge_into_file(path: &Path, window: &Window, fresh: Vec<AnomalyEvent>) -> Result<usize> {
    merge_series_into_file(path, window, None, fresh)
}

/// Like [`merge_into_file`], but only the events of the `analysed` series
/// (all when `None`) are replaced: other series' events are kept.
pub fn merge_series_into_file(
    path: &Path,
    window: &Window,
    analysed: Option<&Analysed>,
    fresh: Vec<AnomalyEvent>,
) -> Result<usize> {
    io::with_lock(path, || {
        let all = merge(read_events(path)?, fresh, window, analysed);
        io::write_json(path, &all)?;
        Ok(all.len())
    })
}
