//! The stages wired to files: each `run_*` reads its input artifacts, calls
//! the pure analysis, and writes its artifact atomically. The CLI and the
//! demo both go through here, so they cannot disagree.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use crate::anomaly::detector::DetectorConfig;
use crate::anomaly::events::{self, AnomalyEvent, AnomalyRun};
use crate::baseline::{self, GaKpiSummary};
use crate::config::Config;
use crate::drift::{self, StabilitySummary};
use crate::error::{Error, Result};
use crate::health::{self, HealthReport};
pub use crate::inputs::{check_same_release, read_baseline, read_week};
use crate::io;
use crate::model::{ArtifactMeta, Window};
use crate::regression::{self, RegressionSummary};
use crate::render::words::English;
use crate::retro::{self, RetroInputs, Retrospective};
use crate::source::MetricsSource;
use tars_core::redact::{redact, same_source};

/// File names of the seeds' data layout.
pub mod layout {
    use std::path::{Path, PathBuf};

    pub const GA_DIR: &str = "ga_kpis";
    pub const GA_FILE: &str = "ga_kpi_summary.json";
    pub const STABILITY_DIR: &str = "stability";
    pub const ANOMALY_DIR: &str = "anomalies";
    pub const ANOMALY_FILE: &str = "anomaly_events.json";
    pub const ANOMALY_RUN_FILE: &str = "anomaly_run.json";
    pub const HEALTH_DIR: &str = "health";
    pub const REGRESSION_DIR: &str = "regression";
    pub const REGRESSION_FILE: &str = "regression_summary.json";
    pub const OUTPUT_DIR: &str = "output";
    pub const RETRO_MD: &str = "GA_7DAY_RETROSPECTIVE.md";
    pub const RETRO_JSON: &str = "GA_7DAY_RETROSPECTIVE.json";
    pub const RETRO_HTML: &str = "GA_7DAY_RETROSPECTIVE.html";

    pub fn day_summary(day: u32) -> String {
        format!("day_{day:02}_summary.json")
    }

    pub fn day_health(day: u32) -> String {
        format!("day_{day:02}_HEALTH.json")
    }

    /// `dir/day_NN_<suffix>`, falling back to the unpadded `day_N_<suffix>`.
    pub fn find_day(dir: &Path, day: u32, suffix: &str) -> Option<PathBuf> {
        [
            format!("day_{day:02}_{suffix}"),
            format!("day_{day}_{suffix}"),
        ]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
    }
}

/// When an artifact says it was generated: the wall clock for a live backend,
/// the end of the window otherwise, so that simulated and replayed runs are
/// byte-for-byte reproducible.
pub fn stamp(source: &str, window: &Window) -> DateTime<Utc> {
    if source.starts_with("prometheus") {
        Utc::now()
    } else {
        window.end
    }
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The time a run happens at, and whether it may analyse a window that has
/// not ended yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub now: DateTime<Utc>,
    /// `--allow-partial`: cut an open window at `now` and mark the artifact partial.
    pub allow_partial: bool,
}

impl Clock {
    /// The system clock.
    pub fn system(allow_partial: bool) -> Clock {
        Clock {
            now: Utc::now(),
            allow_partial,
        }
    }

    /// `window`, refused when it ends after now unless partial windows are
    /// allowed (then cut at now, and `true` returned).
    pub fn check(&self, window: Window, what: &str) -> Result<(Window, bool)> {
        if window.end <= self.now {
            return Ok((window, false));
        }
        if window.start >= self.now {
            return Err(Error::WindowOpen(format!(
                "{what} ({} .. {}) has not started yet (now {})",
                window.start, window.end, self.now
            )));
        }
        if !self.allow_partial {
            return Err(Error::WindowOpen(format!(
                "{what} ends at {}, after now ({}): run it once the window is over, or pass --allow-partial for a partial artifact",
                window.end, self.now
            )));
        }
        let end = DateTime::<Utc>::from_timestamp(
            self.now.timestamp() - self.now.timestamp().rem_euclid(60),
            0,
        )
        .unwrap_or(self.now);
        Ok((
            Window {
                start: window.start,
                end,
            },
            true,
        ))
    }
}

/// Refuses to compare data from one source with a baseline from another.
pub fn check_same_source(
    baseline_path: &Path,
    baseline: &GaKpiSummary,
    source: &str,
) -> Result<()> {
    if same_source(&baseline.meta.source, source) {
        return Ok(());
    }
    Err(Error::bad(
        baseline_path,
        format!(
            "captured from '{}' but this run reads '{source}': a day compared with another source's baseline means nothing (re-run tars ga-kpi against '{source}', or pass the matching --source/--prometheus-url)",
            redact(&baseline.meta.source)
        ),
    ))
}

/// Day numbers a daily stage accepts.
pub fn check_day(day: u32, flag: &str) -> Result<()> {
    if (1..=7).contains(&day) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{flag} must be between 1 and 7 (day 0 is the GA baseline), got {day}"
        )))
    }
}

/// `tars ga-kpi`: writes `out_dir/ga_kpi_summary.json`.
pub fn run_ga_kpi(
    source: &dyn MetricsSource,
    ga: DateTime<Utc>,
    out_dir: &Path,
    cfg: &Config,
    clock: &Clock,
) -> Result<(PathBuf, GaKpiSummary)> {
    let (window, partial) = clock.check(Window::day(ga, 0), "GA day (day 0)")?;
    let mut summary = baseline::ga_baseline(
        source,
        ga,
        &window,
        &cfg.pricing,
        stamp(&source.describe(), &window),
    )?;
    summary.meta.partial = partial;
    let path = out_dir.join(layout::GA_FILE);
    io::write_json(&path, &summary)?;
    Ok((path, summary))
}

/// `tars stability-monitor`: writes `out_dir/day_NN_summary.json`.
pub fn run_stability(
    source: &dyn MetricsSource,
    baseline_path: &Path,
    day: u32,
    out_dir: &Path,
    cfg: &Config,
    clock: &Clock,
) -> Result<(PathBuf, StabilitySummary)> {
    check_day(day, "--day-number")?;
    let ga = read_baseline(baseline_path)?;
    check_same_source(baseline_path, &ga, &source.describe())?;
    let (window, partial) = clock.check(
        Window::day(ga.ga_timestamp, day),
        &format!("day {day} of the release with GA {}", ga.ga_timestamp),
    )?;
    let current = baseline::collect_window(source, &window, &cfg.pricing)?;
    tars_core::validate::check_same_shape(&current, &ga.summary).map_err(|v| {
        Error::bad(
            baseline_path,
            format!(
                "day {day} read from '{}' does not fit this baseline: {v}",
                redact(&source.describe())
            ),
        )
    })?;
    let previous = previous_days(out_dir, &ga, day);
    let mut meta = ArtifactMeta::new(
        "stability_summary",
        &source.describe(),
        vec![path_str(baseline_path)],
        window,
        stamp(&source.describe(), &window),
    );
    meta.partial = partial;
    let previous: Vec<&StabilitySummary> = previous.iter().collect();
    let summary = drift::stability_summary(
        &ga,
        day,
        current,
        meta,
        &drift::Policy {
            thresholds: &cfg.thresholds,
            slo: &cfg.slo,
            words: &English,
        },
        &previous,
    );
    let path = out_dir.join(layout::day_summary(day));
    io::write_json(&path, &summary)?;
    Ok((path, summary))
}

/// The two days before `day` of the same release found in `dir` (for the
/// trend rule). Unreadable or foreign files are passed over: the rule then
/// simply has less history, which never makes a verdict worse.
fn previous_days(dir: &Path, ga: &GaKpiSummary, day: u32) -> Vec<StabilitySummary> {
    (day.saturating_sub(2).max(1)..day)
        .filter_map(|d| layout::find_day(dir, d, "summary.json"))
        .filter_map(|p| crate::inputs::read_day(&p).ok())
        .filter(|s| {
            s.ga_timestamp == ga.ga_timestamp
                && same_source(&s.meta.source, &ga.meta.source)
                && !s.meta.partial
        })
        .collect()
}

/// What one anomaly evaluation did.
#[derive(Debug, Clone)]
pub struct AnomalyOutcome {
    pub new_events: Vec<AnomalyEvent>,
    pub total_events: usize,
    pub run: AnomalyRun,
}

/// One anomaly evaluation over `window`, merged into `out_file`.
pub fn run_anomaly_once(
    source: &dyn MetricsSource,
    ga: Option<DateTime<Utc>>,
    window: &Window,
    out_file: &Path,
    inputs: Vec<String>,
    det: &DetectorConfig,
) -> Result<AnomalyOutcome> {
    if window.end <= window.start {
        return Err(Error::Usage(format!(
            "empty detection window {} .. {} (check --since/--until)",
            window.start, window.end
        )));
    }
    let (fresh, n_series, n_points) = events::detect_window(source, window, det, ga)?;
    let n_new = fresh.len();
    let total = events::merge_into_file(out_file, window, fresh.clone())?;
    let run = AnomalyRun {
        meta: ArtifactMeta::new(
            "anomaly_run",
            &source.describe(),
            inputs,
            *window,
            stamp(&source.describe(), window),
        ),
        detector: *det,
        series_evaluated: n_series,
        points_evaluated: n_points,
        events_in_window: n_new,
        events_total: total,
    };
    let run_path = out_file.with_file_name(layout::ANOMALY_RUN_FILE);
    io::write_json(&run_path, &run)?;
    Ok(AnomalyOutcome {
        new_events: fresh,
        total_events: total,
        run,
    })
}

/// The detection window of a run: from `since` (default GA) to `until`
/// (default now, capped at the end of day 7).
pub fn anomaly_window(
    ga: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Window {
    let end_of_watch = ga + Duration::days(8);
    let start = since.unwrap_or(ga);
    let end = until.unwrap_or_else(|| now.min(end_of_watch));
    // Align to whole minutes so that reruns see the same points.
    let align = |t: DateTime<Utc>| {
        DateTime::<Utc>::from_timestamp(t.timestamp() - t.timestamp().rem_euclid(60), 0)
            .unwrap_or(t)
    };
    Window {
        start: align(start),
        end: align(end),
    }
}

/// `tars health-report`: writes `out_file`.
pub fn run_health(
    stability_path: &Path,
    anomaly_path: &Path,
    out_file: &Path,
    day: u32,
    cfg: &Config,
) -> Result<(PathBuf, HealthReport)> {
    check_day(day, "--day-number")?;
    let summary = crate::inputs::read_day(stability_path)?;
    if summary.day_number != day {
        return Err(Error::Usage(format!(
            "--day-number {day} does not match {} (it is day {})",
            stability_path.display(),
            summary.day_number
        )));
    }
    let all = events::read_events(anomaly_path)?;
    let window = summary.meta.window;
    let today = events::in_window(&all, &window);
    let previous = out_file
        .parent()
        .and_then(|dir| layout::find_day(dir, day.saturating_sub(1), "HEALTH.json"))
        .filter(|_| day > 1)
        .and_then(|p| crate::inputs::read_health(&p).ok())
        .map(|h| h.health_score);
    let mut inputs = vec![path_str(stability_path)];
    if anomaly_path.exists() {
        inputs.push(path_str(anomaly_path));
    }
    let meta = ArtifactMeta::new(
        "health_report",
        // Inputs written before redaction may hold a password: not copied on.
        &redact(&summary.meta.source),
        inputs,
        window,
        stamp(&summary.meta.source, &window),
    );
    let report = health::health_report(&summary, &today, previous, meta, &cfg.thresholds, &English);
    io::write_json(out_file, &report)?;
    // The page sits next to the JSON (day_NN_HEALTH.html), never over it.
    let html_path = out_file.with_extension("html");
    if html_path != out_file {
        let html =
            crate::render::html::render_health_html(&report, &summary, &today, &cfg.thresholds)?;
        io::write_atomic(&html_path, html.as_bytes())?;
    }
    Ok((out_file.to_path_buf(), report))
}

/// `tars regression-analyzer`: writes `out_file`. The week must be whole
/// (days 1-7, none partial) unless `allow_partial`.
pub fn run_regression(
    baseline_path: &Path,
    summaries_dir: &Path,
    out_file: &Path,
    cfg: &Config,
    allow_partial: bool,
) -> Result<(PathBuf, RegressionSummary)> {
    let ga = read_baseline(baseline_path)?;
    let days = read_week(summaries_dir, allow_partial)?;
    check_same_release(&ga, &days)?;
    let summary = regression_from(&ga, baseline_path, &days, cfg);
    io::write_json(out_file, &summary)?;
    Ok((out_file.to_path_buf(), summary))
}

fn regression_from(
    ga: &GaKpiSummary,
    baseline_path: &Path,
    days: &[(PathBuf, StabilitySummary)],
    cfg: &Config,
) -> RegressionSummary {
    let last = days.iter().map(|(_, d)| d.day_number).max().unwrap_or(1);
    let window = Window {
        start: ga.ga_timestamp,
        end: Window::day(ga.ga_timestamp, last).end,
    };
    let mut inputs = vec![path_str(baseline_path)];
    inputs.extend(days.iter().map(|(p, _)| path_str(p)));
    let meta = ArtifactMeta::new(
        "regression_summary",
        // Inputs written before redaction may hold a password: not copied on.
        &redact(&ga.meta.source),
        inputs,
        window,
        stamp(&ga.meta.source, &window),
    );
    let owned: Vec<StabilitySummary> = days.iter().map(|(_, d)| d.clone()).collect();
    regression::analyse(ga, &owned, meta, &cfg.thresholds, &English)
}

/// `tars retro --auto`: finds every input under `data_dir` and writes the
/// Markdown and JSON retrospective into `out_dir`. The week must be whole
/// (days 1-7, none partial) unless `allow_partial`.
pub fn run_retro(
    data_dir: &Path,
    out_dir: &Path,
    cfg: &Config,
    allow_partial: bool,
) -> Result<(PathBuf, PathBuf, Retrospective)> {
    let baseline_path = data_dir.join(layout::GA_DIR).join(layout::GA_FILE);
    let ga = read_baseline(&baseline_path)?;
    let days = read_week(&data_dir.join(layout::STABILITY_DIR), allow_partial)?;
    check_same_release(&ga, &days)?;
    let mut inputs = vec![path_str(&baseline_path)];
    inputs.extend(days.iter().map(|(p, _)| path_str(p)));
    let mut health = Vec::new();
    for (p, h) in crate::inputs::read_health_reports(&data_dir.join(layout::HEALTH_DIR), &ga)? {
        health.push(h);
        inputs.push(path_str(&p));
    }
    let anomaly_path = data_dir
        .join(layout::ANOMALY_DIR)
        .join(layout::ANOMALY_FILE);
    let events = events::read_events(&anomaly_path)?;
    if anomaly_path.exists() {
        inputs.push(path_str(&anomaly_path));
    }
    let reg_path = data_dir
        .join(layout::REGRESSION_DIR)
        .join(layout::REGRESSION_FILE);
    let regression = if reg_path.exists() {
        inputs.push(path_str(&reg_path));
        let r: RegressionSummary = io::read_artifact(&reg_path, crate::inputs::REGRESSION)?;
        crate::inputs::of_release(&reg_path, &r.meta, ga.ga_timestamp, &ga)?;
        r
    } else {
        // Not run yet: analyse in memory rather than refuse, and say so in `inputs`.
        inputs.push("regression (computed in memory: regression_summary.json was missing)".into());
        regression_from(&ga, &baseline_path, &days, cfg)
    };
    let day_list: Vec<StabilitySummary> = days.into_iter().map(|(_, d)| d).collect();
    let last = day_list.iter().map(|d| d.day_number).max().unwrap_or(1);
    let window = Window {
        start: ga.ga_timestamp,
        end: Window::day(ga.ga_timestamp, last).end,
    };
    let meta = ArtifactMeta::new(
        "retrospective",
        // Inputs written before redaction may hold a password: not copied on.
        &redact(&ga.meta.source),
        inputs,
        window,
        stamp(&ga.meta.source, &window),
    );
    let retro_inputs = RetroInputs {
        ga: &ga,
        days: &day_list,
        health: &health,
        events: &events,
        regression: &regression,
        objectives: &cfg.slo,
    };
    let r = retro::retrospective(&retro_inputs, meta, &cfg.thresholds, &English);
    let md = crate::render::render_markdown(&r)?;
    let html = crate::render::html::render_retro_html(&r, &retro_inputs, &cfg.thresholds)?;
    let md_path = out_dir.join(layout::RETRO_MD);
    let json_path = out_dir.join(layout::RETRO_JSON);
    // One set: a failure leaves the old JSON, Markdown and HTML together.
    let json = io::json_bytes(&json_path, &r)?;
    let html_path = out_dir.join(layout::RETRO_HTML);
    io::write_set(&[
        (&json_path, &json),
        (&md_path, md.as_bytes()),
        (&html_path, html.as_bytes()),
    ])?;
    Ok((md_path, json_path, r))
}

/// One line per day of a demo run.
#[derive(Debug, Clone)]
pub struct DemoDay {
    /// Release day.
    pub day: u32,
    pub health_score: f64,
    /// Health band.
    pub status: String,
    pub degradations: usize,
    pub worst: Option<String>,
    pub rollback: bool,
}

/// What `tars demo` did.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    pub days: Vec<DemoDay>,
    /// Anomaly incidents over the watch, not counting events a restart explains.
    pub anomaly_incidents: usize,
    pub regressions: usize,
    pub verdict: String,
    pub report_md: PathBuf,
    pub report_json: PathBuf,
    /// The self-contained HTML page of the retrospective.
    pub report_html: PathBuf,
}

/// Runs every stage for days 0-7 on `source` into `data_dir`, in the order
/// the runbook gives.
pub fn run_all(
    source: &dyn MetricsSource,
    ga: DateTime<Utc>,
    data_dir: &Path,
    cfg: &Config,
) -> Result<DemoOutcome> {
    let clock = Clock::system(false);
    let (baseline_path, _) = run_ga_kpi(source, ga, &data_dir.join(layout::GA_DIR), cfg, &clock)?;
    let anomaly_file = data_dir
        .join(layout::ANOMALY_DIR)
        .join(layout::ANOMALY_FILE);
    let window = Window {
        start: ga,
        end: ga + Duration::days(8),
    };
    run_anomaly_once(
        source,
        Some(ga),
        &window,
        &anomaly_file,
        vec![path_str(&baseline_path)],
        &cfg.detector,
    )?;
    let mut days = Vec::new();
    for day in 1..=7 {
        let (summary_path, _) = run_stability(
            source,
            &baseline_path,
            day,
            &data_dir.join(layout::STABILITY_DIR),
            cfg,
            &clock,
        )?;
        let health_path = data_dir
            .join(layout::HEALTH_DIR)
            .join(layout::day_health(day));
        let (_, h) = run_health(&summary_path, &anomaly_file, &health_path, day, cfg)?;
        days.push(DemoDay {
            day,
            health_score: h.health_score,
            status: crate::model::serde_name(&h.status),
            degradations: h.degradations.len(),
            worst: h
                .degradations
                .first()
                .map(|d| format!("{} {} {}", d.severity, d.service, d.kpi)),
            rollback: h.rollback_recommendation.recommended,
        });
    }
    let reg_path = data_dir
        .join(layout::REGRESSION_DIR)
        .join(layout::REGRESSION_FILE);
    let (_, reg) = run_regression(
        &baseline_path,
        &data_dir.join(layout::STABILITY_DIR),
        &reg_path,
        cfg,
        false,
    )?;
    let out_dir = data_dir.join(layout::OUTPUT_DIR);
    let (md, json, r) = run_retro(data_dir, &out_dir, cfg, false)?;
    Ok(DemoOutcome {
        days,
        anomaly_incidents: events::incident_count(
            events::read_events(&anomaly_file)?
                .iter()
                .filter(|e| e.restart_at.is_none()),
        ),
        regressions: reg.regressions.len(),
        verdict: crate::model::serde_name(&r.executive_summary.verdict),
        report_md: md,
        report_json: json,
        report_html: out_dir.join(layout::RETRO_HTML),
    })
}
