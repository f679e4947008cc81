//! The flags of each command. Each command's own flags come first; where
//! metrics come from and how to reach Prometheus follow under their own
//! headings, so `--help` leads with what the command is about.

use std::path::PathBuf;

use clap::Args;

use super::prom_args::PromArgs;
use crate::source::sim::{Scenario, DEFAULT_SEED};

/// Where metrics come from, shared by the commands that read them.
#[derive(Debug, Args)]
#[command(next_help_heading = "Metrics source")]
pub struct SourceArgs {
    /// Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics).
    #[arg(long, env = "PROMETHEUS_URL", value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// `prometheus`, `file:DIR` (responses saved with --record) or
    /// `sim[:SCENARIO[:SEED[:STEP]]]` (the built-in simulated release)
    /// [default: prometheus when a URL is given; with neither, the command stops].
    #[arg(long, env = "TARS_SOURCE", value_name = "SOURCE")]
    pub source: Option<String>,
    #[command(flatten)]
    pub prom: PromArgs,
}

/// Configuration and data layout, shared by the stage commands.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Configuration file: thresholds, prices, detector, KPI catalogue
    /// [default: none, the built-in values].
    #[arg(long, env = "TARS_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory every artifact is read from and written under.
    #[arg(
        long,
        env = "TARS_DATA_DIR",
        default_value = "/data",
        global = true,
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
}

/// How a command reports what it did. Flattened last: its heading would
/// otherwise carry over to the flags after it.
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print one JSON object (the artifacts written and the headline numbers)
    /// instead of the human summary; fields in docs/cli.md.
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Print nothing on success; errors still go to stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the artifacts.
    #[arg(long, default_value = "./tars-demo", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Which simulated release to watch.
    #[arg(long, default_value = "regressions", value_parser = scenario_parser())]
    pub scenario: Scenario,
    /// Seed of the simulation; the same seed gives the same week, byte for byte.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Sampling resolution of the simulated metrics: 60, 300 or 3600 seconds (or 1m, 5m, 1h).
    #[arg(long, default_value = "60", value_name = "STEP")]
    pub step: String,
    /// Configuration file: thresholds, prices, detector
    /// [default: none, the built-in values].
    #[arg(long, env = "TARS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The release day, shared by the daily commands.
const DAY_HELP: &str = "Day of the release week, 1-7: day N is the 24 h from GA + N days";

#[derive(Debug, Args)]
pub struct GaKpiArgs {
    /// Directory for ga_kpi_summary.json [default: DATA_DIR/ga_kpis].
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// GA instant, RFC 3339, e.g. 2025-11-18T00:00:00Z (required).
    #[arg(long, env = "GA_TIMESTAMP", value_name = "TIME")]
    pub ga_timestamp: Option<String>,
    /// Capture the baseline although GA day is not over yet (the artifact says `partial`).
    #[arg(long)]
    pub allow_partial: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StabilityArgs {
    #[arg(long, env = "DAY_NUMBER", value_name = "N", help = DAY_HELP)]
    pub day_number: u32,
    /// The GA baseline [default: DATA_DIR/ga_kpis/ga_kpi_summary.json].
    #[arg(long, value_name = "FILE")]
    pub ga_baseline: Option<PathBuf>,
    /// Directory for day_NN_summary.json [default: DATA_DIR/stability].
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Analyse the day although it is not over yet (the artifact says `partial`).
    #[arg(long)]
    pub allow_partial: bool,
    /// Exit with code 3 when the day's summary recommends a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AnomalyArgs {
    /// Events file [default: DATA_DIR/anomalies/anomaly_events.json].
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// The GA baseline, which fixes the GA instant
    /// [default: DATA_DIR/ga_kpis/ga_kpi_summary.json if present].
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// GA instant when there is no baseline file, RFC 3339.
    #[arg(long, env = "GA_TIMESTAMP", value_name = "TIME")]
    pub ga_timestamp: Option<String>,
    /// Sensitivity on the detector's scale: higher means fewer alerts [default: 6, or
    /// `[detector] z_threshold` of the config file]. The original toolkit's
    /// `Z_THRESHOLD` (a z-score, 3.0 by default) is also read, as half this scale:
    /// Z_THRESHOLD=3.0 is z 6 (docs/anomaly-detection.md).
    #[arg(long, env = "TARS_Z_THRESHOLD", value_name = "Z")]
    pub z_threshold: Option<f64>,
    /// Smoothing factor of the detector's level estimate, in (0, 1] [default: 0.03,
    /// or `[detector] alpha` of the config file].
    #[arg(long, env = "EWMA_ALPHA", value_name = "ALPHA")]
    pub ewma_alpha: Option<f64>,
    /// Evaluate once and exit instead of polling.
    #[arg(long)]
    pub once: bool,
    /// Seconds between evaluations when polling.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub interval_secs: u64,
    /// Start of the evaluated window, RFC 3339 [default: GA].
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the evaluated window, RFC 3339 [default: now, at most GA + 8 days].
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Analyse a file instead of a source: a saved query_range JSON response, or a
    /// `timestamp,value` CSV (with --scores-csv).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// With a CSV --input: write `timestamp,anomaly_score` for every row here.
    #[arg(long, value_name = "FILE")]
    pub scores_csv: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    #[arg(long, env = "DAY_NUMBER", value_name = "N", help = DAY_HELP)]
    pub day_number: u32,
    /// The day's stability summary [default: DATA_DIR/stability/day_NN_summary.json].
    #[arg(long, value_name = "FILE")]
    pub stability_data: Option<PathBuf>,
    /// Anomaly events; a missing file means none
    /// [default: DATA_DIR/anomalies/anomaly_events.json].
    #[arg(long, value_name = "FILE")]
    pub anomaly_data: Option<PathBuf>,
    /// Output [default: DATA_DIR/health/day_NN_HEALTH.json].
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Exit with code 3 when the report recommends a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RegressionArgs {
    /// The GA baseline [default: DATA_DIR/ga_kpis/ga_kpi_summary.json].
    #[arg(long, value_name = "FILE")]
    pub ga_baseline: Option<PathBuf>,
    /// Directory with the day_NN_summary.json files [default: DATA_DIR/stability].
    #[arg(long = "7day-summaries", value_name = "DIR")]
    pub summaries: Option<PathBuf>,
    /// Output [default: DATA_DIR/regression/regression_summary.json].
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Analyse the days there are although the week is not whole (days
    /// missing or analysed before they ended).
    #[arg(long)]
    pub allow_partial: bool,
    /// Exit with code 3 when the analysis recommends a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub print: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RetroArgs {
    /// Find every input under the data directory (the only mode; accepted for
    /// existing scripts).
    #[arg(long)]
    pub auto: bool,
    /// Where the report goes [default: DATA_DIR/output].
    #[arg(long, env = "TARS_OUTPUT_DIR", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Write the report over the days there are although the week is not
    /// whole (days missing or analysed before they ended).
    #[arg(long)]
    pub allow_partial: bool,
    /// Exit with code 3 when the retrospective's verdict is a rollback.
    #[arg(long)]
    pub fail_on_rollback: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct KpiArgs {
    #[command(subcommand)]
    pub action: KpiAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum KpiAction {
    /// Validate the KPI queries against the server and report which have data.
    Check {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        source: SourceArgs,
    },
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write one `<artifact>.schema.json` per artifact here instead of printing.
    #[arg(long, value_name = "DIR")]
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
