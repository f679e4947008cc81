//! `tars doctor DIR`: checks a data directory and says what to do. Every
//! artifact is read as the stages read it ([`crate::inputs`]: shape, kind,
//! day, ranges, times), then the directory as a whole: one GA and one source
//! across all files, the week complete so far (each day that has ended has
//! its summary and health report, day 7 its regression and retrospective),
//! temp files a killed run left, a `.tars-watch.lock` no watch holds, and
//! free space. Exit 0 when healthy, 1 when a problem was found.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use clap::Args;
use serde::Serialize;

use crate::anomaly::events::{self, AnomalyEvent, AnomalyRun};
use crate::baseline::GaKpiSummary;
use crate::error::{Error, Result};
use crate::inputs;
use crate::io;
use crate::model::Window;
use crate::pipeline::layout;
use crate::regression::RegressionSummary;
use crate::retro::Retrospective;
use tars_core::redact::{redact, same_source};

/// Free space under which the directory is a problem, bytes: a week's
/// artifacts take a few MB, a retry loop's temp files more.
pub const MIN_FREE_BYTES: u64 = 100 << 20;

/// `tars doctor`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  tars doctor /data --json | jq .problems")]
pub struct DoctorArgs {
    /// The data directory to check (what --data-dir names for the other commands).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Free space under which the directory is a problem, bytes.
    #[arg(long, default_value_t = MIN_FREE_BYTES, value_name = "BYTES")]
    pub min_free_bytes: u64,
}

/// One thing found, and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The file or directory it is about.
    pub path: PathBuf,
    /// What is wrong, in one line.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

/// What `tars doctor` found.
#[derive(Debug, Clone, Serialize)]
pub struct Checkup {
    pub data_dir: PathBuf,
    /// No problems (notes do not count).
    pub healthy: bool,
    /// Artifact files read and checked.
    pub artifacts_checked: usize,
    /// The release's GA instant, from the baseline.
    pub ga_timestamp: Option<DateTime<Utc>>,
    /// The baseline's metrics source (redacted).
    pub source: Option<String>,
    /// Days 1-7 with a valid summary.
    pub days_present: Vec<u32>,
    /// Days 1-7 that have ended by now.
    pub days_ended: Vec<u32>,
    /// Free space of the directory's filesystem, bytes.
    pub free_bytes: Option<u64>,
    /// What makes the directory unhealthy.
    pub problems: Vec<Finding>,
    /// Worth knowing, not a problem.
    pub notes: Vec<Finding>,
}

/// Where each artifact says its release began and which source it read.
#[derive(Default)]
struct Origins {
    ga: BTreeMap<DateTime<Utc>, Vec<PathBuf>>,
    sources: Vec<(String, Vec<PathBuf>)>,
}

impl Origins {
    fn add(&mut self, path: &Path, ga: Option<DateTime<Utc>>, source: &str) {
        if let Some(ga) = ga {
            self.ga.entry(ga).or_default().push(path.to_path_buf());
        }
        match self
            .sources
            .iter_mut()
            .find(|(s, _)| same_source(s, source))
        {
            Some((_, files)) => files.push(path.to_path_buf()),
            None => self
                .sources
                .push((source.to_string(), vec![path.to_path_buf()])),
        }
    }
}

struct Doctor<'a> {
    dir: &'a Path,
    now: DateTime<Utc>,
    c: Checkup,
    origins: Origins,
}

/// The error's line without the path a finding already names.
fn what_is_wrong(e: &Error, path: &Path) -> String {
    let line = e.display_line();
    let prefix = format!("{}: ", path.display());
    match line.strip_prefix(&prefix) {
        Some(rest) => rest.to_string(),
        None => line,
    }
}

fn names(files: &[PathBuf]) -> String {
    let n: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .collect();
    n.join(", ")
}

impl Doctor<'_> {
    fn problem(&mut self, path: &Path, problem: impl Into<String>, fix: impl Into<String>) {
        self.c.problems.push(Finding {
            path: path.to_path_buf(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }

    fn note(&mut self, path: &Path, problem: impl Into<String>, fix: impl Into<String>) {
        self.c.notes.push(Finding {
            path: path.to_path_buf(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }

    /// `what` read with `read`, a problem with `fix` when it cannot be.
    fn read<T>(
        &mut self,
        path: &Path,
        fix: &str,
        read: impl FnOnce(&Path) -> Result<T>,
    ) -> Option<T> {
        self.c.artifacts_checked += 1;
        match read(path) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(path, what_is_wrong(&e, path), fix);
                None
            }
        }
    }

    fn cmd(&self, rest: &str) -> String {
        format!("tars {rest} --data-dir {}", self.dir.display())
    }

    fn baseline(&mut self) -> Option<GaKpiSummary> {
        let path = self.dir.join(layout::GA_DIR).join(layout::GA_FILE);
        if !path.exists() {
            let fix = self.cmd("ga-kpi --ga-timestamp GA");
            self.problem(&path, "no GA baseline: nothing can be compared", fix);
            return None;
        }
        let fix = format!(
            "re-run {} (this file cannot be used)",
            self.cmd("ga-kpi --ga-timestamp GA")
        );
        let ga = self.read(&path, &fix, inputs::read_baseline)?;
        self.origins
            .add(&path, Some(ga.ga_timestamp), &ga.meta.source);
        self.c.ga_timestamp = Some(ga.ga_timestamp);
        self.c.source = Some(redact(&ga.meta.source));
        self.c.days_ended = (1..=7)
            .filter(|d| Window::day(ga.ga_timestamp, *d).end <= self.now)
            .collect();
        Some(ga)
    }

    /// The day files of one directory, refusing names outside the week and
    /// two files of a day; the rest are returned for reading.
    fn day_files(&mut self, sub: &str, suffix: &str) -> Vec<(u32, PathBuf)> {
        let dir = self.dir.join(sub);
        let files = match inputs::day_files(&dir, suffix) {
            Ok(f) => f,
            Err(e) => {
                self.problem(&dir, e.display_line(), "make it a readable directory");
                return Vec::new();
            }
        };
        let mut out: Vec<(u32, PathBuf)> = Vec::new();
        for (n, p) in files {
            if !(1..=7).contains(&n) {
                self.problem(
                    &p,
                    format!("named for day {n}, not a day of the release week (1-7)"),
                    "rename or remove it",
                );
            } else if let Some((_, first)) = out.iter().find(|(d, _)| *d == n) {
                let both = names(&[first.clone(), p.clone()]);
                self.problem(
                    &p,
                    format!("a second file of day {n} ({both})"),
                    "keep one and remove the other",
                );
            } else {
                out.push((n, p));
            }
        }
        out
    }

    fn days(&mut self, ga: Option<&GaKpiSummary>) {
        for (n, p) in self.day_files(layout::STABILITY_DIR, "summary.json") {
            let fix = format!(
                "re-run {}",
                self.cmd(&format!("stability-monitor --day-number {n}"))
            );
            let Some(s) = self.read(&p, &fix, inputs::read_day) else {
                continue;
            };
            self.origins.add(&p, Some(s.ga_timestamp), &s.meta.source);
            if let Some(ga) = ga {
                if let Err(e) = inputs::check_same_release(ga, &[(p.clone(), s.clone())]) {
                    self.problem(&p, what_is_wrong(&e, &p), fix.clone());
                    continue;
                }
            }
            if s.meta.partial && self.c.days_ended.contains(&n) {
                self.problem(
                    &p,
                    format!("day {n} was analysed before it ended (partial)"),
                    fix,
                );
            }
            self.c.days_present.push(n);
        }
        for n in self.c.days_ended.clone() {
            if !self.c.days_present.contains(&n) {
                let p = self
                    .dir
                    .join(layout::STABILITY_DIR)
                    .join(layout::day_summary(n));
                let fix = self.cmd(&format!("stability-monitor --day-number {n}"));
                self.problem(
                    &p,
                    format!("day {n} has ended but has no valid summary"),
                    fix,
                );
            }
        }
    }

    fn health(&mut self, ga: Option<&GaKpiSummary>) {
        let mut seen = Vec::new();
        for (n, p) in self.day_files(layout::HEALTH_DIR, "HEALTH.json") {
            let fix = format!(
                "re-run {}",
                self.cmd(&format!("health-report --day-number {n}"))
            );
            let Some(h) = self.read(&p, &fix, inputs::read_health) else {
                continue;
            };
            let start = h.meta.window.start - Duration::days(i64::from(h.day_number));
            self.origins.add(&p, Some(start), &h.meta.source);
            if let Some(ga) = ga {
                let day_start = Window::day(ga.ga_timestamp, n).start;
                if let Err(e) = inputs::of_release(&p, &h.meta, day_start, ga) {
                    self.problem(&p, what_is_wrong(&e, &p), fix);
                    continue;
                }
            }
            seen.push(n);
        }
        for n in self.c.days_present.clone() {
            if !seen.contains(&n) {
                let p = self
                    .dir
                    .join(layout::HEALTH_DIR)
                    .join(layout::day_health(n));
                let fix = self.cmd(&format!("health-report --day-number {n}"));
                self.problem(
                    &p,
                    format!("day {n} has a summary but no valid health report"),
                    fix,
                );
            }
        }
    }

    fn anomalies(&mut self) {
        let dir = self.dir.join(layout::ANOMALY_DIR);
        let path = dir.join(layout::ANOMALY_FILE);
        let rebuild = format!(
            "move it aside and run {} (it rebuilds the week's events)",
            self.cmd("anomaly-detector --once")
        );
        if path.exists() {
            if let Some(clean) = self.read(&path, &rebuild, events::read_events) {
                let raw: Vec<AnomalyEvent> =
                    io::read_json(&path, "anomaly events").unwrap_or_default();
                let repeats = raw.len().saturating_sub(clean.len());
                if repeats > 0 {
                    let fix = format!("nothing to do: they are dropped when read, and the next {} writes the file without them", self.cmd("anomaly-detector --once"));
                    self.note(
                        &path,
                        format!("{repeats} repeated event(s) (same service, KPI and timestamp)"),
                        fix,
                    );
                }
            }
        } else if !self.c.days_ended.is_empty() {
            self.note(
                &path,
                "no anomaly events file: health reports count no anomalies",
                self.cmd("anomaly-detector --once"),
            );
        }
        let run = dir.join(layout::ANOMALY_RUN_FILE);
        if run.exists() {
            let fix = format!("re-run {}", self.cmd("anomaly-detector --once"));
            if let Some(r) = self.read(&run, &fix, |p| {
                io::read_artifact::<AnomalyRun>(p, "anomaly run")
            }) {
                self.origins.add(&run, None, &r.meta.source);
            }
        }
    }

    fn week(&mut self) {
        let whole = self.c.days_present.len() == 7;
        let reg = self
            .dir
            .join(layout::REGRESSION_DIR)
            .join(layout::REGRESSION_FILE);
        let reg_fix = format!("re-run {}", self.cmd("regression-analyzer"));
        if reg.exists() {
            let read = |p: &Path| io::read_artifact::<RegressionSummary>(p, inputs::REGRESSION);
            if let Some(r) = self.read(&reg, &reg_fix, read) {
                self.origins
                    .add(&reg, Some(r.meta.window.start), &r.meta.source);
            }
        } else if whole {
            self.problem(
                &reg,
                "the week is whole but has no regression summary",
                self.cmd("regression-analyzer"),
            );
        }
        let retro = self.dir.join(layout::OUTPUT_DIR).join(layout::RETRO_JSON);
        if retro.exists() {
            let fix = format!("re-run {}", self.cmd("retro"));
            let read = |p: &Path| io::read_artifact::<Retrospective>(p, "retrospective");
            if let Some(r) = self.read(&retro, &fix, read) {
                self.origins
                    .add(&retro, Some(r.ga_timestamp), &r.meta.source);
            }
        } else if whole {
            self.problem(
                &retro,
                "the week is whole but has no retrospective",
                self.cmd("retro"),
            );
        }
    }

    /// One GA and one source across every file read.
    fn one_release(&mut self) {
        let dir = self.dir.to_path_buf();
        if self.origins.ga.len() > 1 {
            let all: Vec<String> = self
                .origins
                .ga
                .iter()
                .map(|(ga, files)| format!("{} ({})", ga.to_rfc3339(), names(files)))
                .collect();
            self.problem(&dir, format!("artifacts of {} releases: GA {}", all.len(), all.join("; GA ")), "keep one release per data directory: move the other's files to their own directory");
        }
        if self.origins.sources.len() > 1 {
            let all: Vec<String> = self
                .origins
                .sources
                .iter()
                .map(|(s, files)| format!("'{}' ({})", redact(s), names(files)))
                .collect();
            self.problem(
                &dir,
                format!("artifacts of {} sources: {}", all.len(), all.join("; ")),
                "re-run the stages of the odd files against the baseline's source",
            );
        }
    }
}

/// Checks `dir` as of `now`. `min_free` is the free space under which the
/// directory is a problem.
pub fn examine(dir: &Path, now: DateTime<Utc>, min_free: u64) -> Checkup {
    let mut d = Doctor {
        dir,
        now,
        c: Checkup {
            data_dir: dir.to_path_buf(),
            healthy: false,
            artifacts_checked: 0,
            ga_timestamp: None,
            source: None,
            days_present: vec![],
            days_ended: vec![],
            free_bytes: None,
            problems: vec![],
            notes: vec![],
        },
        origins: Origins::default(),
    };
    if !dir.is_dir() {
        let what = if dir.exists() {
            "not a directory"
        } else {
            "not found"
        };
        d.problem(
            dir,
            format!("{}: {what}", dir.display()),
            "pass the data directory the stages write into (their --data-dir)",
        );
        return d.c;
    }
    let ga = d.baseline();
    d.days(ga.as_ref());
    d.health(ga.as_ref());
    d.anomalies();
    d.week();
    d.one_release();
    debris(&mut d);
    space(&mut d, min_free);
    d.c.healthy = d.c.problems.is_empty();
    d.c
}

/// Temp files of killed writers, and the watch's lock.
fn debris(d: &mut Doctor) {
    let mut stack = vec![d.dir.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && p.components().count() <= d.dir.components().count() + 2 {
                stack.push(p);
            } else if let Some(pid) = temp_pid(&e.file_name().to_string_lossy()) {
                found.push((p, pid));
            }
        }
    }
    found.sort();
    for (p, pid) in found {
        if pid.is_some_and(alive) {
            d.note(
                &p,
                format!(
                    "being written by the running process {}",
                    pid.unwrap_or_default()
                ),
                "nothing to do",
            );
        } else {
            d.problem(
                &p,
                "a temp file a killed run left behind (not an artifact)",
                format!("remove it: rm '{}'", p.display()),
            );
        }
    }
    let lock = d.dir.join(".tars-watch.lock");
    if lock.exists() {
        match lock_held(&lock) {
            Some(true) => d.note(
                &lock,
                "a tars watch is running on this directory",
                "nothing to do; stop it before running stages by hand",
            ),
            Some(false) => d.problem(
                &lock,
                "stale: no tars watch holds it (one was killed or stopped)",
                format!(
                    "remove it if no watch should run here: rm '{}'",
                    lock.display()
                ),
            ),
            None => d.note(
                &lock,
                "cannot tell whether a watch holds it (no /proc/locks)",
                "nothing to do",
            ),
        }
    }
}

/// The pid in a temp file's name (`.NAME.tmp.PID.RANDOM`); `Some(None)` for a
/// temp file whose pid cannot be read, `None` for any other name.
fn temp_pid(name: &str) -> Option<Option<u32>> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.split_once(".tmp.")?;
    Some(io::temp_writer(tail).0)
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether a process holds a lock on `path`, from /proc/locks (read only:
/// taking the lock to find out could make a starting watch fail).
fn lock_held(path: &Path) -> Option<bool> {
    use std::os::unix::fs::MetadataExt;
    let inode = fs::metadata(path).ok()?.ino();
    let locks = fs::read_to_string("/proc/locks").ok()?;
    Some(locks.lines().any(|l| {
        l.split_whitespace()
            .find(|f| f.matches(':').count() == 2)
            .and_then(|f| f.rsplit(':').next())
            .and_then(|i| i.parse::<u64>().ok())
            == Some(inode)
    }))
}

fn space(d: &mut Doctor, min_free: u64) {
    let free = free_bytes(d.dir);
    d.c.free_bytes = free;
    if let Some(f) = free.filter(|f| *f < min_free) {
        let dir = d.dir.to_path_buf();
        d.problem(
            &dir,
            format!("only {f} bytes free (under {min_free})"),
            "free space on this filesystem: an artifact that cannot be written stops its stage",
        );
    }
}

/// Free bytes for an unprivileged writer on the filesystem of `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `st` is written by statvfs
    // before it is read, only when the call succeeds.
    let st = unsafe {
        if libc::statvfs(c.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    #[allow(clippy::unnecessary_cast)]
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// The report for a terminal or a pipe.
pub fn render(c: &Checkup) -> String {
    let mut out = String::new();
    let verdict = match c.problems.len() {
        0 => "healthy".to_string(),
        n => format!("{n} problem(s)"),
    };
    out.push_str(&format!(
        "tars doctor {}: {verdict}\n",
        c.data_dir.display()
    ));
    for (label, list) in [("problem", &c.problems), ("note", &c.notes)] {
        for f in list {
            out.push_str(&format!("  {label}: {}: {}\n", f.path.display(), f.problem));
            out.push_str(&format!("     fix: {}\n", f.fix));
        }
    }
    let ga = c.ga_timestamp.map_or("unknown".into(), |t| t.to_rfc3339());
    let free = c.free_bytes.map_or("unknown".into(), |b| {
        format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
    });
    out.push_str(&format!(
        "{} artifact(s) checked; GA {ga}; source {}; days with a summary {:?} of {} ended; {free} free\n",
        c.artifacts_checked,
        c.source.as_deref().unwrap_or("unknown"),
        c.days_present,
        c.days_ended.len(),
    ));
    out
}

/// `tars doctor`: prints the report (or `--json`), exits 1 when a problem was found.
pub fn run(a: DoctorArgs) -> Result<()> {
    let c = examine(&a.dir, Utc::now(), a.min_free_bytes);
    let text = if a.json {
        let v = serde_json::to_value(&c).map_err(|e| Error::Render(format!("doctor: {e}")))?;
        let mut v = v;
        v["command"] = "doctor".into();
        format!("{v}\n")
    } else {
        render(&c)
    };
    io::print_text(&text)?;
    if c.healthy {
        Ok(())
    } else {
        Err(Error::bad(
            &a.dir,
            format!("{} problem(s) found (see the report)", c.problems.len()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_carry_their_writers_pid() {
        assert_eq!(temp_pid(".a.json.tmp.123.xY7"), Some(Some(123)));
        assert_eq!(temp_pid(".a.json.tmp.123"), Some(Some(123)));
        assert_eq!(temp_pid(".a.json.tmp.123-4026531836.xY7"), Some(Some(123)));
        assert_eq!(temp_pid(".a.json.tmp.x"), Some(None));
        assert_eq!(temp_pid("a.json"), None);
        assert_eq!(temp_pid(".tars-watch.lock"), None);
    }

    #[test]
    fn a_lock_we_hold_is_held_and_a_closed_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".tars-watch.lock");
        let f = fs::File::create(&p).unwrap();
        f.lock().unwrap();
        if lock_held(&p).is_none() {
            return; // no /proc/locks here
        }
        assert_eq!(lock_held(&p), Some(true));
        drop(f);
        assert_eq!(lock_held(&p), Some(false));
    }

    #[test]
    fn a_missing_directory_is_a_problem() {
        let c = examine(Path::new("/nonexistent/tars"), Utc::now(), 0);
        assert!(!c.healthy);
        assert!(
            c.problems[0].problem.contains("not found"),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn free_space_is_measured() {
        assert!(free_bytes(Path::new("/")).is_some_and(|b| b > 0));
    }
}
