//! Command-line interface: parses flags (with the seeds' environment
//! fallbacks), resolves one [`Config`], picks the metrics source, and calls
//! [`crate::pipeline`]. Errors are rendered once, here.

mod anomaly;
pub mod args;
mod commands;
pub mod docker_api;
pub mod help;
mod ops_args;
pub mod output;
pub mod prom_args;
mod watch_args;

use std::io::IsTerminal;
use std::path::Path;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::error::{Error, ExitCode, Result};
use crate::prom;
use crate::source::sim::parse_spec;
use crate::source::MetricsSource;
pub use anomaly::SEEDS_Z_SCALE;
pub use args::*;
pub use output::Output;
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
    /// Colour the output: auto colours a terminal unless NO_COLOR is set.
    #[arg(
        long,
        value_enum,
        default_value_t = ColorChoice::Auto,
        global = true,
        value_name = "WHEN",
        help_heading = "Output",
        display_order = 100
    )]
    pub color: ColorChoice,
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
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(help::CompletionsArgs),
    /// Write the man pages of tars, of each command and of each alias binary.
    Man(help::ManArgs),
    /// Run the whole week unattended and serve its metrics (/metrics, /healthz, /readyz).
    Watch(watch_args::WatchArgs),
    /// Check that an HTTP endpoint answers 2xx (the container's health check).
    Probe(watch_args::ProbeArgs),
    /// Write a data directory to one tarball with a manifest of checksums.
    Archive(ops_args::ArchiveArgs),
    /// Restore a data directory from `tars archive`'s tarball, checksums verified.
    Restore(ops_args::RestoreArgs),
    /// Check a data directory: every artifact, one release, the week so far, debris, space.
    Doctor(crate::doctor::DoctorArgs),
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
        return Ok(prom::connect(url, &args.prom.connection()?, &resolved)?);
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

fn say(msg: impl AsRef<str>) {
    eprintln!("{}", tars_core::redact::redact(msg.as_ref()));
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> Result<()> {
    let color = cli.color;
    match cli.command {
        Command::Demo(a) => commands::demo(a, color),
        Command::GaKpi(a) => commands::ga_kpi(a, color),
        Command::StabilityMonitor(a) => commands::stability_monitor(a, color),
        Command::AnomalyDetector(a) => anomaly::anomaly(a, color),
        Command::HealthReport(a) => commands::health_report(a, color),
        Command::RegressionAnalyzer(a) => commands::regression_analyzer(a, color),
        Command::Retro(a) => commands::retro(a, color),
        Command::Kpi(KpiArgs {
            action: KpiAction::Check { source, common },
        }) => {
            let cfg = load_config(common.config.as_deref())?;
            let url = source.prometheus_url.as_deref().ok_or_else(|| {
                Error::Usage("kpi check needs --prometheus-url (or PROMETHEUS_URL)".into())
            })?;
            let resolved = prom::resolve(&source.prom.overrides(), &cfg.prometheus);
            let report = prom::kpi_check(url, &source.prom.connection()?, &resolved)?;
            crate::io::print_text(&format!("{report}\n"))
        }
        Command::Schema(a) if a.markdown => crate::io::print_text(&crate::schema::markdown()),
        Command::Schema(a) => crate::schema::emit(a.out_dir.as_deref()),
        Command::DockerApi(a) => {
            let ansi = output::use_color(color, std::io::stderr().is_terminal());
            docker_api::init_logging(a.log_format, ansi);
            // Keeps its class: bad settings exit 2 (Error::exit_code).
            Ok(crate::docker_api::run(a.into())?)
        }
        Command::Notify(a) => Ok(crate::notify::run(a)?),
        Command::Watch(a) => watch_args::watch(a),
        Command::Probe(a) => watch_args::probe(a),
        Command::Archive(a) => ops_args::archive(a),
        Command::Restore(a) => ops_args::restore(a),
        Command::Doctor(a) => crate::doctor::run(a),
        Command::Completions(a) => help::completions(a.shell),
        Command::Man(a) => help::man_pages(&a.out_dir).map(|_| ()),
    }
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

/// Entry point of `tars` and its aliases: `alias` is the subcommand an alias
/// binary stands for (`tars-ga-kpi` → `ga-kpi`). Returns the exit code.
pub fn run(mut args: Vec<std::ffi::OsString>) -> ExitCode {
    let alias = invoked_as(&mut args);
    let mut cmd = match alias {
        Some(sub) => {
            if args.len() == 2 && (args[1] == "--version" || args[1] == "-V") {
                let version = format!("tars-{sub} {}\n", env!("CARGO_PKG_VERSION"));
                return crate::io::print_text(&version)
                    .map_or(ExitCode::Failure, |()| ExitCode::Ok);
            }
            args.splice(
                0..1.min(args.len()),
                [format!("tars-{sub}").into(), sub.into()],
            );
            help::alias_command(sub)
        }
        None => help::command(),
    };
    cmd = cmd.color(clap_color(&args));
    let cli = match parse(cmd.clone(), &args) {
        Ok(c) => c,
        Err(e) if e.use_stderr() => {
            // The same refusal, told with the arguments' CR/LF escaped.
            let shown = parse(cmd, &crate::error::escaped_args(&args)).err();
            let _ = shown.filter(clap::Error::use_stderr).unwrap_or(e).print();
            return ExitCode::Usage;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::Ok;
        }
    };
    let name = match alias {
        Some(sub) => format!("tars-{sub}"),
        None => "tars".to_string(),
    };
    let term = crate::render::terminal::Term {
        color: output::use_color(cli.color, std::io::stderr().is_terminal()),
        tty: false,
    };
    match execute(cli) {
        Ok(()) => ExitCode::Ok,
        Err(e) => {
            // Last line of defence: no secret, and no raw CR/LF, leaves.
            let label = term.paint("error:", crate::render::terminal::Tone::Bad);
            eprintln!("{name}: {label} {}", e.display_line());
            e.exit_code()
        }
    }
}

/// Parses `args` with `cmd`. Negative numbers are values, not flags: a
/// `--day-number -1` is then refused by the check of that flag's value,
/// naming it, instead of as "unexpected argument '-1'".
fn parse(cmd: clap::Command, args: &[std::ffi::OsString]) -> std::result::Result<Cli, clap::Error> {
    fn negatives(cmd: clap::Command) -> clap::Command {
        cmd.mut_args(|a| {
            let takes = a.get_action().takes_values();
            a.allow_negative_numbers(takes)
        })
        .mut_subcommands(negatives)
    }
    let mut cmd = negatives(cmd);
    let matches = cmd.try_get_matches_from_mut(args)?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// The command an alias stands for, from the name the program was run under
/// (a link or an alias binary: `tars-ga-kpi ...`) or, in a container whose
/// entry point is `tars`, from a first argument naming one
/// (`docker run IMAGE tars-ga-kpi ...`, `docker run IMAGE tars watch ...`);
/// that argument is then dropped.
fn invoked_as(args: &mut Vec<std::ffi::OsString>) -> Option<&'static str> {
    let name = |a: &std::ffi::OsString| {
        Path::new(a)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    };
    if let Some(sub) = args.first().and_then(name).and_then(|n| alias_of(&n)) {
        return Some(sub);
    }
    let first = args.get(1).and_then(name)?;
    if first == "tars" {
        args.remove(1);
        return None;
    }
    let sub = alias_of(&first)?;
    args.remove(0);
    Some(sub)
}

/// `--color` as clap needs it for its own help and errors, which it prints
/// before the flags are parsed.
fn clap_color(args: &[std::ffi::OsString]) -> clap::ColorChoice {
    let mut value = None;
    for (i, a) in args.iter().enumerate() {
        let a = a.to_string_lossy();
        if let Some(v) = a.strip_prefix("--color=") {
            value = Some(v.to_string());
        } else if a == "--color" {
            value = args.get(i + 1).map(|v| v.to_string_lossy().into_owned());
        }
    }
    match value.as_deref() {
        Some("always") => clap::ColorChoice::Always,
        Some("never") => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    }
}
