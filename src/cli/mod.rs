//! Command-line interface: parses flags (with the seeds' environment
//! fallbacks), resolves one [`Config`], picks the metrics source, and calls
//! [`crate::pipeline`]. Errors are rendered once, here.

mod commands;
pub mod docker_api;
pub mod prom_args;

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::anomaly::detector::DetectorConfig;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::Window;
use crate::pipeline::{self, layout};
use crate::prom;
use crate::source::sim::{parse_spec, Scenario, DEFAULT_SEED};
use crate::source::MetricsSource;
pub use prom_args::PromArgs;

/// The GA instant of `tars demo`'s simulated release (only the demo has one
/// built in: every other command needs `--ga-timestamp` or a baseline).
pub const DEMO_GA: &str = "2025-11-18T00:00:00Z";

#[derive(Debug, Parser)]
#[command(
    name = "tars",
    version,
    about = "Watch a release through its first week: baseline, drift, anomalies, health, regression, retrospective."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage for days 0-7 on the built-in simulator.
    Demo(DemoArgs),
    /// Capture the GA-day (day 0) KPI baseline.
    GaKpi(GaKpiArgs),
    /// Compare one day (1-7) with the GA baseline.
    StabilityMonitor(StabilityArgs),
    /// Detect anomalies, continuously (default) or once.
    AnomalyDetector(AnomalyArgs),
    /// Score one day's health 0-100.
    HealthReport(HealthArgs),
    /// Analyse the week's trends and regressions (day 7).
    RegressionAnalyzer(RegressionArgs),
    /// Write the GA + 7 days retrospective.
    Retro(RetroArgs),
    /// Inspect the KPI catalogue.
    Kpi(KpiArgs),
    /// Print the JSON Schema of every artifact, or write them to a directory.
    Schema(SchemaArgs),
    /// Serve a read-only Docker Engine API proxy.
    DockerApi(docker_api::DockerApiArgs),
    /// Post results to Slack or file GitHub issues.
    Notify(crate::notify::NotifyArgs),
}

/// Where metrics come from, shared by the commands that read them.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).
    #[arg(long, env = "PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// `prometheus`, `file:DIR` (recorded responses) or `sim[:SCENARIO[:SEED[:STEP]]]`
    /// (the built-in simulator). Default: prometheus when a URL is set; with
    /// neither, commands that read metrics refuse to run.
    #[arg(long, env = "TARS_SOURCE")]
    pub source: Option<String>,
    #[command(flatten)]
    pub prom: PromArgs,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Configuration file (thresholds, prices, detector, KPI catalogue).
    #[arg(long, env = "TARS_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Base of the data layout.
    #[arg(long, env = "TARS_DATA_DIR", default_value = "/data", global = true)]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the artifacts.
    #[arg(long, default_value = "./tars-demo")]
    pub data_dir: PathBuf,
    /// Which simulated release to watch.
    #[arg(long, default_value = "regressions", value_parser = scenario_parser())]
    pub scenario: Scenario,
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Sampling resolution of the simulated metrics: 60, 300 or 3600 seconds (or 1m, 5m, 1h).
    #[arg(long, default_value = "60")]
    pub step: String,
    #[arg(long, env = "TARS_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GaKpiArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Directory for ga_kpi_summary.json (default DATA_DIR/ga_kpis).
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// GA instant, RFC 3339 (required).
    #[arg(long, env = "GA_TIMESTAMP")]
    pub ga_timestamp: Option<String>,
    /// Capture the baseline although GA day is not over yet (the artifact says `partial`).
    #[arg(long)]
    pub allow_partial: bool,
}

#[derive(Debug, Args)]
pub struct StabilityArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Directory for day_NN_summary.json (default DATA_DIR/stability).
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// Release day, 1-7 (day N is the 24 h from GA + N days).
    #[arg(long, env = "DAY_NUMBER")]
    pub day_number: u32,
    /// The GA baseline (default DATA_DIR/ga_kpis/ga_kpi_summary.json).
    #[arg(long)]
    pub ga_baseline: Option<PathBuf>,
    /// Analyse the day although it is not over yet (the artifact says `partial`).
    #[arg(long)]
    pub allow_partial: bool,
    /// Exit with code 3 when the day's summary recommends a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
}

#[derive(Debug, Args)]
pub struct AnomalyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Events file (default DATA_DIR/anomalies/anomaly_events.json).
    #[arg(long)]
    pub output_file: Option<PathBuf>,
    /// The GA baseline, which fixes the GA instant (default DATA_DIR/ga_kpis/ga_kpi_summary.json if present).
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// GA instant when there is no baseline file, RFC 3339.
    #[arg(long, env = "GA_TIMESTAMP")]
    pub ga_timestamp: Option<String>,
    /// Sensitivity on the detector's scale: higher means fewer alerts [default: 6, or
    /// `[detector] z_threshold` of the config file]. The original toolkit's
    /// `Z_THRESHOLD` (a z-score, 3.0 by default) is also read, as half this scale:
    /// Z_THRESHOLD=3.0 is z 6 (docs/anomaly-detection.md).
    #[arg(long, env = "TARS_Z_THRESHOLD")]
    pub z_threshold: Option<f64>,
    /// Smoothing factor of the detector's level estimate, in (0, 1] [default: 0.03,
    /// or `[detector] alpha` of the config file].
    #[arg(long, env = "EWMA_ALPHA")]
    pub ewma_alpha: Option<f64>,
    /// Evaluate once and exit instead of polling.
    #[arg(long)]
    pub once: bool,
    /// Seconds between evaluations in continuous mode.
    #[arg(long, default_value_t = 300)]
    pub interval_secs: u64,
    /// Start of the evaluated window (default GA), RFC 3339.
    #[arg(long)]
    pub since: Option<String>,
    /// End of the evaluated window (default now, at most GA + 8 days), RFC 3339.
    #[arg(long)]
    pub until: Option<String>,
    /// Analyse a file instead of a source: a saved query_range JSON response, or a
    /// `timestamp,value` CSV (with --scores-csv).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// With a CSV --input: write `timestamp,anomaly_score` for every row here.
    #[arg(long)]
    pub scores_csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The day's stability summary (default DATA_DIR/stability/day_NN_summary.json).
    #[arg(long)]
    pub stability_data: Option<PathBuf>,
    /// Anomaly events (default DATA_DIR/anomalies/anomaly_events.json; a missing file means none).
    #[arg(long)]
    pub anomaly_data: Option<PathBuf>,
    /// Output (default DATA_DIR/health/day_NN_HEALTH.json).
    #[arg(long)]
    pub output_file: Option<PathBuf>,
    /// Release day, 1-7 (day N is the 24 h from GA + N days).
    #[arg(long, env = "DAY_NUMBER")]
    pub day_number: u32,
    /// Exit with code 3 when the report recommends a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
}

#[derive(Debug, Args)]
pub struct RegressionArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The GA baseline (default DATA_DIR/ga_kpis/ga_kpi_summary.json).
    #[arg(long)]
    pub ga_baseline: Option<PathBuf>,
    /// Directory with day_NN_summary.json files (default DATA_DIR/stability).
    #[arg(long = "7day-summaries")]
    pub summaries: Option<PathBuf>,
    /// Output (default DATA_DIR/regression/regression_summary.json).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Exit with code 3 when the analysis recommends a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
}

#[derive(Debug, Args)]
pub struct RetroArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Find every input under the data directory (the only mode; kept for the seeds' scripts).
    #[arg(long)]
    pub auto: bool,
    /// Where the report goes (default TARS_OUTPUT_DIR, else DATA_DIR/output).
    #[arg(long, env = "TARS_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// Exit with code 3 when the retrospective's verdict is a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
}

#[derive(Debug, Args)]
pub struct KpiArgs {
    #[command(subcommand)]
    pub action: KpiAction,
}

#[derive(Debug, Subcommand)]
pub enum KpiAction {
    /// Validate the KPI templates against the server and report which have data.
    Check {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write one `<artifact>.schema.json` per artifact here instead of printing.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Print the Markdown field reference (docs/artifacts.md) instead.
    #[arg(long)]
    pub markdown: bool,
}

/// `--scenario`: the simulator's own names, listed in `--help`.
fn scenario_parser() -> impl clap::builder::TypedValueParser<Value = Scenario> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Scenario::ALL.map(|s| s.name()))
        .map(|name| Scenario::from_name(&name).unwrap_or(Scenario::Regressions))
}

fn parse_time(s: &str, flag: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Usage(format!("{flag}: '{s}' is not an RFC 3339 timestamp ({e})")))
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => Config::from_file(p),
        None => Ok(Config::default()),
    }
}

/// Opens the metrics source named by the flags.
pub fn open_source(
    args: &SourceArgs,
    cfg: &Config,
    ga: DateTime<Utc>,
) -> Result<Box<dyn MetricsSource>> {
    // An empty value is what compose and systemd pass for an unset variable.
    let url = args
        .prometheus_url
        .as_deref()
        .filter(|u| !u.trim().is_empty());
    let spec = match (args.source.as_deref().filter(|s| !s.trim().is_empty()), url) {
        (Some(s), _) => s.to_string(),
        (None, Some(_)) => "prometheus".to_string(),
        (None, None) => {
            return Err(Error::Usage(
                "no metrics source: pass --prometheus-url URL (or PROMETHEUS_URL), --source file:DIR for recorded answers, or --source sim[:SCENARIO] for the built-in simulator".into(),
            ))
        }
    };
    if spec == "prometheus" {
        let url = url.ok_or_else(|| {
            Error::Usage("--source prometheus needs --prometheus-url (or PROMETHEUS_URL)".into())
        })?;
        let resolved = prom::resolve(&args.prom.overrides(), &cfg.prometheus);
        return Ok(prom::connect(url, &args.prom.connection(), &resolved)?);
    }
    if let Some(dir) = spec.strip_prefix("file:") {
        let resolved = prom::resolve(&args.prom.overrides(), &cfg.prometheus);
        return Ok(prom::replay(Path::new(dir), &resolved)?);
    }
    if spec == "sim" || spec.starts_with("sim:") {
        let sim = parse_spec(&spec).map_err(|e| Error::Usage(format!("--source: {e}")))?;
        return Ok(Box::new(sim.build(ga)));
    }
    Err(Error::Usage(format!(
        "--source: '{spec}' is not prometheus, file:DIR or sim[:SCENARIO[:SEED[:STEP]]]"
    )))
}

fn ga_from(flag: Option<&str>) -> Result<DateTime<Utc>> {
    match flag.filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_time(s, "--ga-timestamp"),
        None => Err(Error::Usage(
            "--ga-timestamp (or GA_TIMESTAMP) is required: the GA instant, RFC 3339, e.g. 2025-11-18T00:00:00Z".into(),
        )),
    }
}

/// `Err(RollbackRecommended)` when asked to fail on a rollback verdict.
fn verdict_exit(
    fail_on_rollback: bool,
    rollback: &crate::model::RollbackRecommendation,
) -> Result<()> {
    if fail_on_rollback && rollback.recommended {
        return Err(Error::RollbackRecommended(
            rollback
                .reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "see the artifact".into()),
        ));
    }
    Ok(())
}

fn detector_config(cfg: &Config, z: Option<f64>, alpha: Option<f64>) -> Result<DetectorConfig> {
    let mut d = cfg.detector;
    if let Some(z) = z {
        if !(z.is_finite() && z > 0.0) {
            return Err(Error::Usage(format!(
                "--z-threshold must be a positive number, got {z}"
            )));
        }
        d.z_threshold = z;
    }
    if let Some(a) = alpha {
        if !(a.is_finite() && a > 0.0 && a <= 1.0) {
            return Err(Error::Usage(format!(
                "--ewma-alpha (EWMA_ALPHA) must be in (0, 1], got {a}"
            )));
        }
        d.alpha = a;
    }
    Ok(d)
}

fn say(msg: impl AsRef<str>) {
    eprintln!("{}", tars_core::redact::redact(msg.as_ref()));
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(a) => demo(a),
        Command::GaKpi(a) => commands::ga_kpi(a),
        Command::StabilityMonitor(a) => commands::stability_monitor(a),
        Command::AnomalyDetector(a) => anomaly(a),
        Command::HealthReport(a) => commands::health_report(a),
        Command::RegressionAnalyzer(a) => commands::regression_analyzer(a),
        Command::Retro(a) => commands::retro(a),
        Command::Kpi(KpiArgs {
            action: KpiAction::Check { source, common },
        }) => {
            let cfg = load_config(common.config.as_deref())?;
            let url = source.prometheus_url.as_deref().ok_or_else(|| {
                Error::Usage("kpi check needs --prometheus-url (or PROMETHEUS_URL)".into())
            })?;
            let resolved = prom::resolve(&source.prom.overrides(), &cfg.prometheus);
            println!(
                "{}",
                prom::kpi_check(url, &source.prom.connection(), &resolved)?
            );
            Ok(())
        }
        Command::Schema(a) if a.markdown => crate::io::print_text(&crate::schema::markdown()),
        Command::Schema(a) => crate::schema::emit(a.out_dir.as_deref()),
        Command::DockerApi(a) => crate::docker_api::run(a.into()).map_err(|e| {
            // Bad settings are usage errors (exit 2); the rest are failures.
            if e.is_usage() {
                Error::Usage(format!("docker-api: {e}"))
            } else {
                Error::Other(format!("docker-api: {e}"))
            }
        }),
        Command::Notify(a) => crate::notify::run(a).map_err(|e| match e {
            crate::notify::NotifyError::Usage(m) => Error::Usage(m),
            other => Error::Other(other.to_string()),
        }),
    }
}

/// The seeds' `Z_THRESHOLD` is a z-score on their scale, where 3.0 is the
/// standard sensitivity; the same standard on this detector's scale is
/// [`crate::config::WATCH_Z_THRESHOLD`] (6), so the seeds' value is read as half of ours.
pub const SEEDS_Z_SCALE: f64 = crate::config::WATCH_Z_THRESHOLD / 3.0;

/// `--z-threshold`, else the seeds' `Z_THRESHOLD` scaled to this detector.
fn z_from(flag: Option<f64>) -> Result<Option<f64>> {
    if flag.is_some() {
        return Ok(flag);
    }
    let Some(raw) = std::env::var("Z_THRESHOLD")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let z: f64 = raw
        .trim()
        .parse()
        .map_err(|_| Error::Usage(format!("Z_THRESHOLD: '{raw}' is not a number")))?;
    if !(z.is_finite() && z > 0.0) {
        return Err(Error::Usage(format!(
            "Z_THRESHOLD must be a positive number, got {raw}"
        )));
    }
    Ok(Some(z * SEEDS_Z_SCALE))
}

fn anomaly(a: AnomalyArgs) -> Result<()> {
    let cfg = load_config(a.common.config.as_deref())?;
    let z = z_from(a.z_threshold)?;
    let det = detector_config(&cfg, z, a.ewma_alpha)?;
    let d = &a.common.data_dir;
    let out = a
        .output_file
        .clone()
        .unwrap_or_else(|| d.join(layout::ANOMALY_DIR).join(layout::ANOMALY_FILE));
    if let Some(input) = &a.input {
        // A labelled CSV is scored one series at a time, as NAB is: start from the
        // detector's own default sensitivity rather than the watch's.
        let is_csv = input
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let det = if is_csv {
            let mut base = cfg.clone();
            base.detector.z_threshold = DetectorConfig::default().z_threshold;
            detector_config(&base, z, a.ewma_alpha)?
        } else {
            det
        };
        return anomaly_input(input, a.scores_csv.as_deref(), &out, &det);
    }
    if a.scores_csv.is_some() {
        return Err(Error::Usage("--scores-csv needs a CSV --input".into()));
    }
    let default_baseline = d.join(layout::GA_DIR).join(layout::GA_FILE);
    let baseline = a
        .baseline
        .clone()
        .or_else(|| default_baseline.is_file().then_some(default_baseline));
    let (ga, inputs) = match (&baseline, &a.ga_timestamp) {
        (Some(b), _) => (
            pipeline::read_baseline(b)?.ga_timestamp,
            vec![b.display().to_string()],
        ),
        (None, t) => (ga_from(t.as_deref())?, vec![]),
    };
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time(s, "--since"))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|s| parse_time(s, "--until"))
        .transpose()?;
    let source = open_source(&a.source, &cfg, ga)?;
    loop {
        let window = pipeline::anomaly_window(ga, since, until, Utc::now());
        let res = pipeline::run_anomaly_once(
            source.as_ref(),
            Some(ga),
            &window,
            &out,
            inputs.clone(),
            &det,
        );
        match res {
            Ok(o) => println!(
                "Evaluated {} series ({} points) over {} .. {}: {} incident(s) in the window, {} in {}.",
                o.run.series_evaluated,
                o.run.points_evaluated,
                window.start,
                window.end,
                o.new_events.len(),
                o.total_events,
                out.display()
            ),
            Err(e) if !a.once => say(format!("tars anomaly-detector: {e} (retrying in {} s)", a.interval_secs)),
            Err(e) => return Err(e),
        }
        if a.once {
            return Ok(());
        }
        std::thread::sleep(StdDuration::from_secs(a.interval_secs.max(1)));
    }
}

fn anomaly_input(
    input: &Path,
    scores: Option<&Path>,
    out: &Path,
    det: &DetectorConfig,
) -> Result<()> {
    let is_csv = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let Some(scores) = scores else {
            return Err(Error::Usage(
                "a CSV --input needs --scores-csv OUT.csv".into(),
            ));
        };
        let rows = crate::anomaly::eval::scores_csv(input, scores, det)
            .map_err(|e| Error::Other(e.to_string()))?;
        println!(
            "Scored {rows} rows of {} into {}.",
            input.display(),
            scores.display()
        );
        return Ok(());
    }
    if scores.is_some() {
        return Err(Error::Usage(
            "--scores-csv needs a CSV --input (timestamp,value)".into(),
        ));
    }
    let series = prom::read_query_range_file(input)?;
    let events = crate::anomaly::events::detect_series(&series, "value", "", det, None);
    let (start, end) = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t), hi.max(t)));
    if start > end {
        return Err(Error::bad(input, "the response holds no samples"));
    }
    let to = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
    let window = Window {
        start: to(start),
        end: to(end + 1),
    };
    let n = events.len();
    // Only the exported series are replaced: other services' events stay.
    let analysed = crate::anomaly::events::analysed(&series, "value");
    let total =
        crate::anomaly::events::merge_series_into_file(out, &window, Some(&analysed), events)?;
    println!(
        "Evaluated {} series ({} points) from {}: {n} incident(s), {total} in {}.",
        series.len(),
        series.iter().map(|s| s.points.len()).sum::<usize>(),
        input.display(),
        out.display()
    );
    Ok(())
}

fn demo(a: DemoArgs) -> Result<()> {
    let cfg = load_config(a.config.as_deref())?;
    let ga = parse_time(DEMO_GA, "demo GA")?;
    let spec = format!("sim:{}:{}:{}", a.scenario.name(), a.seed, a.step);
    let sim = parse_spec(&spec)
        .map_err(|e| Error::Usage(format!("--step: {e}")))?
        .build(ga);
    let started = std::time::Instant::now();
    let o = pipeline::run_all(&sim, ga, &a.data_dir, &cfg)?;
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "day",
        "health",
        "status",
        "degradations",
        "worst",
        "rollback",
    ]);
    for d in &o.days {
        table.add_row(vec![
            d.day.to_string(),
            format!("{:.1}", d.health_score),
            d.status.clone(),
            d.degradations.to_string(),
            d.worst.clone().unwrap_or_else(|| "-".into()),
            if d.rollback {
                "YES".into()
            } else {
                "no".into()
            },
        ]);
    }
    println!(
        "Simulated release '{}' (seed {}, {} resolution), GA {ga}:",
        a.scenario.name(),
        a.seed,
        a.step
    );
    println!("{table}");
    println!(
        "{} anomaly incident(s), {} regression(s) on day 7; verdict: {}.",
        o.anomaly_incidents,
        o.regressions,
        o.verdict.to_uppercase()
    );
    println!("Report: {}", o.report_md.display());
    println!("        {}", o.report_json.display());
    println!(
        "All artifacts under {} ({:.1} s).",
        a.data_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The subcommands that have a binary of their own under the seeds' names.
pub const ALIASES: [&str; 6] = [
    "ga-kpi",
    "stability-monitor",
    "anomaly-detector",
    "health-report",
    "regression-analyzer",
    "retro",
];

/// The subcommand a binary named `bin` stands for (`tars-ga-kpi` → `ga-kpi`).
pub fn alias_of(bin: &str) -> Option<&'static str> {
    let sub = bin.strip_prefix("tars-")?;
    ALIASES.into_iter().find(|a| *a == sub)
}

/// Parses the command line. Negative numbers are values, not flags: a
/// `--day-number -1` is then refused by the check of that flag's value,
/// naming it, instead of as "unexpected argument '-1'".
fn parse(args: &[std::ffi::OsString]) -> std::result::Result<Cli, clap::Error> {
    fn negatives(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| {
            let takes = a.get_action().takes_values();
            a.allow_negative_numbers(takes)
        })
        .mut_subcommands(negatives)
    }
    let mut cmd = negatives(<Cli as clap::CommandFactory>::command());
    let matches = cmd.try_get_matches_from_mut(args)?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// Entry point of `tars` and its aliases: `alias` is the subcommand an alias
/// binary stands for (`tars-ga-kpi` → `ga-kpi`). Returns the exit code.
pub fn run(alias: Option<&str>) -> i32 {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(sub) = alias {
        if args.len() == 2 && (args[1] == "--version" || args[1] == "-V") {
            println!("tars-{sub} {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        let bin = args
            .first()
            .cloned()
            .unwrap_or_else(|| format!("tars-{sub}").into());
        args.splice(0..1.min(args.len()), [bin, sub.into()]);
    }
    let cli = match parse(&args) {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // The same refusal, told with the arguments' CR/LF escaped.
            let shown = parse(&crate::error::escaped_args(&args)).err();
            let _ = shown.filter(clap::Error::use_stderr).unwrap_or(e).print();
            return 2;
        }
        Err(e) => {
            let _ = e.print();
            return 0;
        }
    };
    let name = match alias {
        Some(sub) => format!("tars-{sub}"),
        None => "tars".to_string(),
    };
    match execute(cli) {
        Ok(()) => 0,
        Err(e) => {
            // Last line of defence: no secret, and no raw CR/LF, leaves.
            eprintln!("{name}: error: {}", e.display_line());
            e.exit_code().code()
        }
    }
}
