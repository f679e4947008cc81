//! `tars watch`: the whole release week in one long-running process.
//!
//! Each stage runs once its window has closed (the GA baseline after day 0,
//! day N's stability summary and health report after day N, the regression
//! analysis and retrospective after day 7), anomaly detection runs every
//! interval, and whatever is already finished on disk is never rewritten: a
//! restart, a late start or a watch started after the week all end with the
//! same artifacts. The exporter ([`exporter`]) serves what the artifacts say.

pub mod changes;
pub mod exporter;
pub mod schedule;
mod server;

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::ArtifactMeta;
use crate::pipeline::{self, layout, Clock};
use crate::source::MetricsSource;
use schedule::Stage;

/// Everything `tars watch` is configured with, resolved by the command line.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    pub ga: DateTime<Utc>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Time between two passes (anomaly detection, due stages).
    pub interval: Duration,
    /// First retry delay of a failed stage; doubles up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Slack and GitHub on verdict changes, when asked for.
    pub notify: changes::Notify,
}

/// What the exporter reports about each stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageStatus {
    pub last_success: Option<DateTime<Utc>>,
    pub failures: u64,
    pub last_failure: Option<DateTime<Utc>>,
}

/// State shared between the scheduler and the HTTP listener.
#[derive(Debug, Default)]
pub struct WatchState {
    stages: Mutex<BTreeMap<String, StageStatus>>,
    /// Set after the first pass (the catch-up) has been tried.
    pub ready: AtomicBool,
    /// Set by SIGTERM/SIGINT: finish the current step and leave.
    pub stop: AtomicBool,
}

impl WatchState {
    pub fn stages(&self) -> BTreeMap<String, StageStatus> {
        self.stages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn record(&self, stage: Stage, ok: bool) {
        if let Ok(mut m) = self.stages.lock() {
            let s = m.entry(stage.name()).or_default();
            if ok {
                s.last_success = Some(Utc::now());
            } else {
                s.failures += 1;
                s.last_failure = Some(Utc::now());
            }
        }
    }
}

/// Runs the watch until SIGTERM/SIGINT.
pub fn run(settings: WatchSettings, source: Box<dyn MetricsSource>, cfg: Config) -> Result<()> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| Error::io(&settings.data_dir, e))?;
    let _lock = instance_lock(&settings.data_dir)?;
    check_release(&settings, source.as_ref())?;
    let state = Arc::new(WatchState::default());
    let listener = server::start(settings.clone(), state.clone())?;
    let mut w = Runner {
        s: &settings,
        cfg: &cfg,
        source: source.as_ref(),
        state: &state,
        retry_at: BTreeMap::new(),
    };
    while !state.stop.load(Ordering::SeqCst) {
        w.pass(Utc::now());
        // A failed post is tried again on the next pass.
        if let Err(e) = settings.notify.catch_up(&settings.data_dir) {
            eprintln!("tars watch: notify: {e}");
        }
        state.ready.store(true, Ordering::SeqCst);
        sleep_unless_stopped(&state.stop, settings.interval);
    }
    eprintln!("tars watch: stopping");
    listener.join();
    Ok(())
}

/// One watch per data directory: the lock is held for the life of the
/// process and released by the kernel however it ends.
fn instance_lock(dir: &Path) -> Result<File> {
    let path = dir.join(".tars-watch.lock");
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(path)),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

/// Refuses a data directory that holds another release's baseline.
fn check_release(s: &WatchSettings, source: &dyn MetricsSource) -> Result<()> {
    let path = s.data_dir.join(layout::GA_DIR).join(layout::GA_FILE);
    if !path.is_file() {
        return Ok(());
    }
    let ga = pipeline::read_baseline(&path)?;
    if ga.ga_timestamp != s.ga {
        return Err(Error::bad(
            &path,
            format!(
                "is the baseline of the release with GA {}, not {}: use another --data-dir",
                ga.ga_timestamp, s.ga
            ),
        ));
    }
    pipeline::check_same_source(&path, &ga, &source.describe())
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let until = Instant::now() + total;
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100).min(total));
    }
}

/// True when `path` is an artifact that is complete (not `partial`).
fn finished(path: &Path) -> bool {
    path.is_file()
        && crate::io::read_json::<ArtifactMeta>(path, "artifact").is_ok_and(|m| !m.partial)
}

struct Runner<'a> {
    s: &'a WatchSettings,
    cfg: &'a Config,
    source: &'a dyn MetricsSource,
    state: &'a WatchState,
    /// Earliest next attempt of a stage that failed, and its failures in a row.
    retry_at: BTreeMap<Stage, (Instant, u32)>,
}

impl Runner<'_> {
    fn path(&self, dir: &str, file: &str) -> PathBuf {
        self.s.data_dir.join(dir).join(file)
    }

    fn done(&self, stage: Stage) -> bool {
        match stage {
            Stage::Ga => finished(&self.path(layout::GA_DIR, layout::GA_FILE)),
            Stage::Day(n) => {
                finished(&self.path(layout::STABILITY_DIR, &layout::day_summary(n)))
                    && finished(&self.path(layout::HEALTH_DIR, &layout::day_health(n)))
            }
            Stage::Week => {
                finished(&self.path(layout::REGRESSION_DIR, layout::REGRESSION_FILE))
                    && finished(&self.path(layout::OUTPUT_DIR, layout::RETRO_JSON))
            }
            Stage::Anomaly => self.anomaly_covers(Stage::Week.due_at(self.s.ga)),
        }
    }

    /// True when the last anomaly run reached `t`.
    fn anomaly_covers(&self, t: DateTime<Utc>) -> bool {
        let run = self.path(layout::ANOMALY_DIR, layout::ANOMALY_RUN_FILE);
        run.is_file()
            && crate::io::read_json::<ArtifactMeta>(&run, "anomaly run")
                .is_ok_and(|m| m.window.end >= t)
    }

    /// One pass: anomaly detection, then every due stage in order until one
    /// fails or waits for its retry time.
    fn pass(&mut self, now: DateTime<Utc>) {
        if !self.done(Stage::Anomaly) {
            self.attempt(Stage::Anomaly, now);
        }
        while let Some(stage) = schedule::next_due(self.s.ga, now, |s| self.done(s)) {
            if self.state.stop.load(Ordering::SeqCst) || !self.attempt(stage, now) {
                break;
            }
        }
    }

    /// Runs `stage` unless it waits for a retry; true when it is now done.
    fn attempt(&mut self, stage: Stage, now: DateTime<Utc>) -> bool {
        if let Some((at, _)) = self.retry_at.get(&stage) {
            if Instant::now() < *at {
                return false;
            }
        }
        match self.run_stage(stage, now) {
            Ok(()) => {
                self.retry_at.remove(&stage);
                self.state.record(stage, true);
                if stage != Stage::Anomaly {
                    eprintln!("tars watch: {} done", stage.name());
                }
                true
            }
            Err(e) => {
                let n = self.retry_at.get(&stage).map_or(0, |r| r.1) + 1;
                let wait = schedule::backoff(n, self.s.retry_base, self.s.retry_max);
                self.retry_at.insert(stage, (Instant::now() + wait, n));
                self.state.record(stage, false);
                eprintln!(
                    "tars watch: {} failed (attempt {n}, next in {} s): {e}",
                    stage.name(),
                    wait.as_secs()
                );
                false
            }
        }
    }

    fn run_stage(&self, stage: Stage, now: DateTime<Utc>) -> Result<()> {
        let (cfg, ga) = (self.cfg, self.s.ga);
        let clock = Clock {
            now,
            allow_partial: false,
        };
        let d = &self.s.data_dir;
        let baseline = self.path(layout::GA_DIR, layout::GA_FILE);
        let events = self.path(layout::ANOMALY_DIR, layout::ANOMALY_FILE);
        match stage {
            Stage::Anomaly => {
                let window = pipeline::anomaly_window(ga, None, None, now);
                if window.end <= window.start {
                    return Ok(());
                }
                pipeline::run_anomaly_once(
                    self.source,
                    Some(ga),
                    &window,
                    &events,
                    vec![],
                    &cfg.detector,
                )
                .map(|_| ())
            }
            Stage::Ga => {
                pipeline::run_ga_kpi(self.source, ga, &d.join(layout::GA_DIR), cfg, &clock)
                    .map(|_| ())
            }
            Stage::Day(n) => {
                // The health report counts the day's incidents: detection must have seen it.
                if !self.anomaly_covers(stage.due_at(ga)) {
                    return Err(Error::Usage(format!(
                        "anomaly detection has not covered day {n} yet"
                    )));
                }
                let summary = self.path(layout::STABILITY_DIR, &layout::day_summary(n));
                if !finished(&summary) {
                    pipeline::run_stability(
                        self.source,
                        &baseline,
                        n,
                        &d.join(layout::STABILITY_DIR),
                        cfg,
                        &clock,
                    )?;
                }
                let health = self.path(layout::HEALTH_DIR, &layout::day_health(n));
                pipeline::run_health(&summary, &events, &health, n, cfg).map(|_| ())
            }
            Stage::Week => {
                let reg = self.path(layout::REGRESSION_DIR, layout::REGRESSION_FILE);
                if !finished(&reg) {
                    pipeline::run_regression(
                        &baseline,
                        &d.join(layout::STABILITY_DIR),
                        &reg,
                        cfg,
                        false,
                    )?;
                }
                pipeline::run_retro(d, &d.join(layout::OUTPUT_DIR), cfg, false).map(|_| ())
            }
        }
    }
}
