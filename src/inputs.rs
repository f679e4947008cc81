//! The reading edge of the stages: every artifact a stage starts from is
//! read here and checked for what it means, not only for its shape (its
//! `kind`, its day against its file name, its numbers and times, the
//! baseline's services, one release across the week, a whole week). The
//! rules themselves are [`tars_core::validate`]; this module names the file.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::baseline::GaKpiSummary;
use crate::drift::StabilitySummary;
use crate::error::{Error, Result};
use crate::health::HealthReport;
use crate::io;
use crate::model::{ArtifactMeta, Window};
use tars_core::redact::{redact, same_source};
use tars_core::validate::{self, Violation};

/// What each artifact is called in messages.
pub const BASELINE: &str = "GA KPI summary (ga_kpi_summary.json from tars ga-kpi)";
pub const DAY: &str = "stability summary (day_NN_summary.json from tars stability-monitor)";
pub const HEALTH: &str = "health report";
pub const RETRO: &str = "retrospective";
pub const REGRESSION: &str = "regression summary";

fn bad(path: &Path, v: Violation) -> Error {
    Error::bad(path, v.to_string())
}

/// Reads a GA baseline artifact.
pub fn read_baseline(path: &Path) -> Result<GaKpiSummary> {
    io::read_artifact(path, BASELINE)
}

/// The day a file is named for: `day_03_summary.json` and `day_3_summary.json`
/// are day 3 (`suffix` `summary.json`); `None` for any other name.
pub fn day_of(name: &str, suffix: &str) -> Option<u32> {
    let digits = name.strip_prefix("day_")?.strip_suffix(suffix)?;
    let digits = digits.strip_suffix('_')?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Every `day_N_<suffix>` file in `dir` with the day it is named for,
/// ordered by day (an absent directory has none). Temp files (`.day_...`)
/// are not day files.
pub fn day_files(dir: &Path, suffix: &str) -> Result<Vec<(u32, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if let Some(day) = name.to_str().and_then(|n| day_of(n, suffix)) {
            out.push((day, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// A day's artifact checked against the day its file is named for.
fn check_named(path: &Path, day_number: u32) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let named = day_of(name, "summary.json").or_else(|| day_of(name, "HEALTH.json"));
    match named {
        Some(n) => validate::check_named_day(day_number, n).map_err(|v| bad(path, v)),
        None => Ok(()),
    }
}

/// Reads one day's stability summary, checked against its file name.
pub fn read_day(path: &Path) -> Result<StabilitySummary> {
    day_from_bytes(path, &io::read_bounded(path, DAY)?)
}

/// [`read_day`] on the bytes of `path` already read (the fuzz targets call
/// this).
pub fn day_from_bytes(path: &Path, bytes: &[u8]) -> Result<StabilitySummary> {
    let s: StabilitySummary = io::artifact_from_bytes(path, DAY, bytes)?;
    check_named(path, s.day_number)?;
    Ok(s)
}

/// Reads the retrospective of the week.
pub fn read_retro(path: &Path) -> Result<crate::retro::Retrospective> {
    io::read_artifact(path, RETRO)
}

/// Reads one day's health report, checked against its file name.
pub fn read_health(path: &Path) -> Result<HealthReport> {
    let h: HealthReport = io::read_artifact(path, HEALTH)?;
    check_named(path, h.day_number)?;
    Ok(h)
}

/// The day files of `dir` for days 1-7, refusing a name outside the week
/// and two files of one day.
fn week_files(dir: &Path, suffix: &str) -> Result<Vec<(u32, PathBuf)>> {
    let files = day_files(dir, suffix)?;
    if let Some((n, p)) = files.iter().find(|(n, _)| !(1..=7).contains(n)) {
        return Err(Error::bad(
            p,
            format!(
                "is named for day {n}, not a day of the release week (1-7): rename or remove it"
            ),
        ));
    }
    let named: Vec<u32> = files.iter().map(|(n, _)| *n).collect();
    if let Some(d) = validate::week_gaps(&named).duplicated.first() {
        let twins: Vec<String> = files
            .iter()
            .filter(|(n, _)| n == d)
            .filter_map(|(_, p)| p.file_name().map(|f| f.to_string_lossy().into_owned()))
            .collect();
        return Err(Error::bad(
            dir,
            format!(
                "day {d} has {} files ({}): keep one",
                twins.len(),
                twins.join(", ")
            ),
        ));
    }
    Ok(files)
}

/// Reads the week's day summaries in `dir`: every file checked, and the
/// week whole (days 1-7, none partial) unless `allow_partial`.
pub fn read_week(dir: &Path, allow_partial: bool) -> Result<Vec<(PathBuf, StabilitySummary)>> {
    if !dir.is_dir() {
        return Err(Error::Missing {
            path: dir.to_path_buf(),
            hint: " (expected the directory of day_NN_summary.json files)".into(),
        });
    }
    let mut out = Vec::new();
    for (_, p) in week_files(dir, "summary.json")? {
        let s = read_day(&p)?;
        out.push((p, s));
    }
    if out.is_empty() {
        return Err(Error::Missing {
            path: dir.join("day_01_summary.json"),
            hint: " (no day summaries found; run tars stability-monitor first)".into(),
        });
    }
    if allow_partial {
        return Ok(out);
    }
    let named: Vec<u32> = out.iter().map(|(_, s)| s.day_number).collect();
    let missing = validate::week_gaps(&named).missing;
    if let Some(first) = missing.first() {
        let days: Vec<String> = missing.iter().map(u32::to_string).collect();
        return Err(Error::bad(
            dir,
            format!(
                "the week is incomplete: no summary of day {} (run tars stability-monitor --day-number {first}, or pass --allow-partial to analyse the days there are)",
                days.join(", ")
            ),
        ));
    }
    if let Some((p, s)) = out.iter().find(|(_, s)| s.meta.partial) {
        return Err(Error::bad(
            p,
            format!(
                "field `partial`: day {} was analysed before it ended (re-run tars stability-monitor --day-number {} once it is over, or pass --allow-partial)",
                s.day_number, s.day_number
            ),
        ));
    }
    Ok(out)
}

/// The health reports of days 1-7 in `dir` (any may be missing: the
/// retrospective says so), each checked, of the release that began at `ga`.
pub fn read_health_reports(dir: &Path, ga: &GaKpiSummary) -> Result<Vec<(PathBuf, HealthReport)>> {
    let mut out = Vec::new();
    for (_, p) in week_files(dir, "HEALTH.json")? {
        let h = read_health(&p)?;
        of_release(
            &p,
            &h.meta,
            Window::day(ga.ga_timestamp, h.day_number).start,
            ga,
        )?;
        out.push((p, h));
    }
    Ok(out)
}

/// An artifact derived from the baseline `ga` starts where it should and
/// comes from the same source.
pub fn of_release(
    path: &Path,
    meta: &ArtifactMeta,
    start: DateTime<Utc>,
    ga: &GaKpiSummary,
) -> Result<()> {
    if meta.window.start != start {
        return Err(Error::bad(
            path,
            format!(
                "field `window.start`: {} does not belong to the release with GA {} (expected {start})",
                meta.window.start, ga.ga_timestamp
            ),
        ));
    }
    if !same_source(&meta.source, &ga.meta.source) {
        return Err(Error::bad(
            path,
            format!(
                "field `source`: was computed from '{}' but the baseline from '{}'",
                redact(&meta.source),
                redact(&ga.meta.source)
            ),
        ));
    }
    Ok(())
}

/// Every day is of the baseline's release, source, services and KPIs.
pub fn check_same_release(ga: &GaKpiSummary, days: &[(PathBuf, StabilitySummary)]) -> Result<()> {
    for (p, d) in days {
        if d.ga_timestamp != ga.ga_timestamp {
            return Err(Error::bad(
                p,
                format!(
                    "belongs to a release with GA {} but the baseline's GA is {}",
                    d.ga_timestamp, ga.ga_timestamp
                ),
            ));
        }
        if !same_source(&d.meta.source, &ga.meta.source) {
            return Err(Error::bad(
                p,
                format!(
                    "was computed from '{}' but the baseline from '{}'",
                    redact(&d.meta.source),
                    redact(&ga.meta.source)
                ),
            ));
        }
        validate::check_same_shape(&d.summary, &ga.summary).map_err(|v| bad(p, v))?;
        of_release(
            p,
            &d.meta,
            Window::day(ga.ga_timestamp, d.day_number).start,
            ga,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_files_are_named_day_n_suffix() {
        assert_eq!(day_of("day_03_summary.json", "summary.json"), Some(3));
        assert_eq!(day_of("day_3_summary.json", "summary.json"), Some(3));
        assert_eq!(day_of("day_12_HEALTH.json", "HEALTH.json"), Some(12));
        for name in [
            "day__summary.json",
            "day_x3_summary.json",
            "day_03summary.json",
            ".day_03_summary.json.tmp.1.x",
            "day_03_summary.json.bak",
            "day_0003_summary.json",
            "day_03_HEALTH.json",
        ] {
            assert_eq!(day_of(name, "summary.json"), None, "{name}");
        }
    }

    #[test]
    fn two_files_of_one_day_are_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["day_03_summary.json", "day_3_summary.json"] {
            fs::write(dir.path().join(n), b"{}").unwrap();
        }
        let err = read_week(dir.path(), true).unwrap_err().to_string();
        assert!(
            err.contains("day 3 has 2 files (day_03_summary.json, day_3_summary.json)"),
            "{err}"
        );
    }

    #[test]
    fn a_file_named_outside_the_week_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("day_08_summary.json"), b"{}").unwrap();
        let err = read_week(dir.path(), true).unwrap_err().to_string();
        assert!(
            err.contains("day_08_summary.json: is named for day 8"),
            "{err}"
        );
    }
}
