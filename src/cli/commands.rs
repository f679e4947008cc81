//! The bodies of the stage commands: resolve paths and configuration, call
//! the pipeline, print the summary (human, `--json` or nothing), turn the
//! verdict into an exit code.

use serde_json::json;

use super::{
    ga_from, load_config, open_source, parse_time, verdict_exit, ColorChoice, DemoArgs, GaKpiArgs,
    HealthArgs, Output, RegressionArgs, RetroArgs, StabilityArgs, DEMO_GA,
};
use crate::error::{Error, Result};
use crate::pipeline::{self, layout};
use crate::render::terminal;
use crate::source::sim::parse_spec;

pub(super) fn ga_kpi(a: GaKpiArgs, color: ColorChoice) -> Result<()> {
    let out = Output::new(a.output, color);
    let cfg = load_config(a.common.config.as_deref())?;
    let ga = ga_from(a.ga_timestamp.as_deref())?;
    let source = out.progress(open_source(&a.source, &cfg, ga)?);
    let dir = a
        .output_dir
        .unwrap_or_else(|| a.common.data_dir.join(layout::GA_DIR));
    let clock = pipeline::Clock::system(a.allow_partial);
    let (path, s) = pipeline::run_ga_kpi(source.as_ref(), ga, &dir, &cfg, &clock)?;
    for w in &s.summary.warnings {
        out.warn(w);
    }
    out.summary(
        |_| terminal::ga_kpi(&path, &s),
        || {
            json!({
                "command": "ga-kpi",
                "artifact": path,
                "ga_timestamp": s.ga_timestamp,
                "overall_availability": s.summary.overall_availability,
                "error_rate": s.summary.error_rate,
                "p99_latency_ms": s.summary.p99_latency_ms,
                "services": s.summary.services.len(),
                "warnings": s.summary.warnings,
            })
        },
    )
}

pub(super) fn stability_monitor(a: StabilityArgs, color: ColorChoice) -> Result<()> {
    let out = Output::new(a.output, color);
    let cfg = load_config(a.common.config.as_deref())?;
    pipeline::check_day(a.day_number, "--day-number")?;
    let baseline = a
        .ga_baseline
        .unwrap_or_else(|| a.common.data_dir.join(layout::GA_DIR).join(layout::GA_FILE));
    let ga = pipeline::read_baseline(&baseline)?.ga_timestamp;
    let source = out.progress(open_source(&a.source, &cfg, ga)?);
    let dir = a
        .output_dir
        .unwrap_or_else(|| a.common.data_dir.join(layout::STABILITY_DIR));
    let clock = pipeline::Clock::system(a.allow_partial);
    let (path, s) =
        pipeline::run_stability(source.as_ref(), &baseline, a.day_number, &dir, &cfg, &clock)?;
    for w in &s.summary.warnings {
        out.warn(w);
    }
    let rb = &s.rollback_recommendation;
    out.summary(
        |t| terminal::stability(t, &path, &s),
        || {
            json!({
                "command": "stability-monitor",
                "artifact": path,
                "day_number": s.day_number,
                "drifted_metrics": s.drift_analysis.drifted_metrics,
                "total_metrics": s.drift_analysis.total_metrics,
                "rollback_recommended": rb.recommended,
                "rollback_reasons": rb.reasons,
                "warnings": s.summary.warnings,
            })
        },
    )?;
    verdict_exit(a.fail_on_rollback, rb)
}

pub(super) fn health_report(a: HealthArgs, color: ColorChoice) -> Result<()> {
    let out = Output::new(a.output, color);
    let cfg = load_config(a.common.config.as_deref())?;
    pipeline::check_day(a.day_number, "--day-number")?;
    let d = &a.common.data_dir;
    let stability = a.stability_data.unwrap_or_else(|| {
        layout::find_day(&d.join(layout::STABILITY_DIR), a.day_number, "summary.json")
            .unwrap_or_else(|| {
                d.join(layout::STABILITY_DIR)
                    .join(layout::day_summary(a.day_number))
            })
    });
    let anomalies = a
        .anomaly_data
        .unwrap_or_else(|| d.join(layout::ANOMALY_DIR).join(layout::ANOMALY_FILE));
    let file = a.output_file.unwrap_or_else(|| {
        d.join(layout::HEALTH_DIR)
            .join(layout::day_health(a.day_number))
    });
    let (path, h) = pipeline::run_health(&stability, &anomalies, &file, a.day_number, &cfg)?;
    let rb = &h.rollback_recommendation;
    out.summary(
        |t| terminal::health(t, &path, &h),
        || {
            json!({
                "command": "health-report",
                "artifact": path,
                "html": path.with_extension("html"),
                "day_number": h.day_number,
                "health_score": h.health_score,
                "status": h.status,
                "degradations": h.degradations.len(),
                "rollback_recommended": rb.recommended,
                "rollback_reasons": rb.reasons,
            })
        },
    )?;
    verdict_exit(a.fail_on_rollback, rb)
}

pub(super) fn regression_analyzer(a: RegressionArgs, color: ColorChoice) -> Result<()> {
    let out = Output::new(a.print, color);
    let cfg = load_config(a.common.config.as_deref())?;
    let d = &a.common.data_dir;
    let baseline = a
        .ga_baseline
        .unwrap_or_else(|| d.join(layout::GA_DIR).join(layout::GA_FILE));
    let dir = a.summaries.unwrap_or_else(|| d.join(layout::STABILITY_DIR));
    let file = a
        .output
        .unwrap_or_else(|| d.join(layout::REGRESSION_DIR).join(layout::REGRESSION_FILE));
    let (path, r) = pipeline::run_regression(&baseline, &dir, &file, &cfg, a.allow_partial)?;
    let rb = &r.rollback_recommendation;
    out.summary(
        |t| terminal::regression(t, &path, &r),
        || {
            json!({
                "command": "regression-analyzer",
                "artifact": path,
                "days_analyzed": r.days_analyzed,
                "regressions": r.regressions.len(),
                "transient_issues": r.transient_issues.len(),
                "severity_counts": r.severity_counts,
                "rollback_recommended": rb.recommended,
                "rollback_reasons": rb.reasons,
            })
        },
    )?;
    verdict_exit(a.fail_on_rollback, rb)
}

pub(super) fn retro(a: RetroArgs, color: ColorChoice) -> Result<()> {
    let out = Output::new(a.output, color);
    let cfg = load_config(a.common.config.as_deref())?;
    let dir = a
        .output_dir
        .unwrap_or_else(|| a.common.data_dir.join(layout::OUTPUT_DIR));
    let (md, json_path, r) = pipeline::run_retro(&a.common.data_dir, &dir, &cfg, a.allow_partial)?;
    let html = dir.join(layout::RETRO_HTML);
    let e = &r.executive_summary;
    out.summary(
        |t| terminal::retro(t, [&md, &json_path, &html], &r),
        || {
            json!({
                "command": "retro",
                "artifacts": { "markdown": md, "json": json_path, "html": html },
                "verdict": e.verdict,
                "headline": e.headline,
                "average_health": e.average_health,
                "lowest_health": e.lowest_health,
                "anomaly_incidents": e.anomaly_incidents,
                "rollback_recommended": e.rollback_recommended,
            })
        },
    )?;
    verdict_exit(a.fail_on_rollback, &r.rollback_recommendation)
}

pub(super) fn demo(a: DemoArgs, color: ColorChoice) -> Result<()> {
    let out = Output::new(a.output, color);
    let cfg = load_config(a.config.as_deref())?;
    let ga = parse_time(DEMO_GA, "demo GA")?;
    let spec = format!("sim:{}:{}:{}", a.scenario.name(), a.seed, a.step);
    let sim = parse_spec(&spec)
        .map_err(|e| Error::Usage(format!("--step: {e}")))?
        .build(ga);
    let o = pipeline::run_all(&sim, ga, &a.data_dir, &cfg)?;
    let title = format!(
        "Simulated release '{}' (seed {}, {} resolution), GA {ga}",
        a.scenario.name(),
        a.seed,
        a.step
    );
    out.summary(
        |t| terminal::demo(t, &title, &o, &a.data_dir),
        || {
            let days: Vec<_> = o
                .days
                .iter()
                .map(|d| {
                    json!({
                        "day": d.day,
                        "health_score": d.health_score,
                        "status": d.status,
                        "degradations": d.degradations,
                        "worst": d.worst,
                        "rollback": d.rollback,
                    })
                })
                .collect();
            json!({
                "command": "demo",
                "scenario": a.scenario.name(),
                "seed": a.seed,
                "step": a.step,
                "ga_timestamp": ga,
                "data_dir": a.data_dir,
                "days": days,
                "anomaly_incidents": o.anomaly_incidents,
                "regressions": o.regressions,
                "verdict": o.verdict,
                "artifacts": { "markdown": o.report_md, "json": o.report_json, "html": o.report_html },
            })
        },
    )
}
