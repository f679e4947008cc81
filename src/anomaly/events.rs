//! The `anomalies/anomaly_events.json` file: read, and merged under its lock.
//! The events themselves and their detection are in [`tars_core::events`].

use std::path::Path;

pub use tars_core::events::*;

use crate::error::Result;
use crate::io;
use crate::model::Window;

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
