//! The bodies of the stage commands: resolve paths and configuration, call
//! the pipeline, print one summary line, turn the verdict into an exit code.

use super::{
    ga_from, load_config, open_source, say, verdict_exit, GaKpiArgs, HealthArgs, RegressionArgs,
    RetroArgs, StabilityArgs,
};
use crate::error::Result;
use crate::pipeline::{self, layout};

pub(super) fn ga_kpi(a: GaKpiArgs) -> Result<()> {
    let cfg = load_config(a.common.config.as_deref())?;
    let ga = ga_from(a.ga_timestamp.as_deref())?;
    let source = open_source(&a.source, &cfg, ga)?;
    let out = a
        .output_dir
        .unwrap_or_else(|| a.common.data_dir.join(layout::GA_DIR));
    let clock = pipeline::Clock::system(a.allow_partial);
    let (path, s) = pipeline::run_ga_kpi(source.as_ref(), ga, &out, &cfg, &clock)?;
    for w in &s.summary.warnings {
        say(format!("warning: {w}"));
    }
    println!(
        "GA baseline written to {}: availability {:.3} %, error rate {:.3} %, p99 {:.1} ms over {} services.",
        path.display(),
        s.summary.overall_availability,
        s.summary.error_rate,
        s.summary.p99_latency_ms,
        s.summary.services.len()
    );
    Ok(())
}

pub(super) fn stability_monitor(a: StabilityArgs) -> Result<()> {
    let cfg = load_config(a.common.config.as_deref())?;
    pipeline::check_day(a.day_number, "--day-number")?;
    let baseline = a
        .ga_baseline
        .unwrap_or_else(|| a.common.data_dir.join(layout::GA_DIR).join(layout::GA_FILE));
    let ga = pipeline::read_baseline(&baseline)?.ga_timestamp;
    let source = open_source(&a.source, &cfg, ga)?;
    let out = a
        .output_dir
        .unwrap_or_else(|| a.common.data_dir.join(layout::STABILITY_DIR));
    let clock = pipeline::Clock::system(a.allow_partial);
    let (path, s) =
        pipeline::run_stability(source.as_ref(), &baseline, a.day_number, &out, &cfg, &clock)?;
    for w in &s.summary.warnings {
        say(format!("warning: {w}"));
    }
    println!(
        "Day {} summary written to {}: {} of {} KPIs drifted, rollback recommended: {}.",
        a.day_number,
        path.display(),
        s.drift_analysis.drifted_metrics,
        s.drift_analysis.total_metrics,
        s.rollback_recommendation.recommended
    );
    for r in &s.rollback_recommendation.reasons {
        println!("  rollback: {r}");
    }
    verdict_exit(a.fail_on_rollback, &s.rollback_recommendation)
}

pub(super) fn health_report(a: HealthArgs) -> Result<()> {
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
    let out = a.output_file.unwrap_or_else(|| {
        d.join(layout::HEALTH_DIR)
            .join(layout::day_health(a.day_number))
    });
    let (path, h) = pipeline::run_health(&stability, &anomalies, &out, a.day_number, &cfg)?;
    println!(
        "Day {} health {:.1} ({}) written to {}: {} degradation(s), rollback recommended: {}.",
        a.day_number,
        h.health_score,
        crate::model::serde_name(&h.status),
        path.display(),
        h.degradations.len(),
        h.rollback_recommendation.recommended
    );
    verdict_exit(a.fail_on_rollback, &h.rollback_recommendation)
}

pub(super) fn regression_analyzer(a: RegressionArgs) -> Result<()> {
    let cfg = load_config(a.common.config.as_deref())?;
    let d = &a.common.data_dir;
    let baseline = a
        .ga_baseline
        .unwrap_or_else(|| d.join(layout::GA_DIR).join(layout::GA_FILE));
    let dir = a.summaries.unwrap_or_else(|| d.join(layout::STABILITY_DIR));
    let out = a
        .output
        .unwrap_or_else(|| d.join(layout::REGRESSION_DIR).join(layout::REGRESSION_FILE));
    let (path, r) = pipeline::run_regression(&baseline, &dir, &out, &cfg)?;
    println!(
        "Regression summary written to {}: {} regression(s), {} transient issue(s), rollback recommended: {}.",
        path.display(),
        r.regressions.len(),
        r.transient_issues.len(),
        r.rollback_recommendation.recommended
    );
    for x in &r.regressions {
        println!("  {}", x.explanation);
    }
    verdict_exit(a.fail_on_rollback, &r.rollback_recommendation)
}

pub(super) fn retro(a: RetroArgs) -> Result<()> {
    let cfg = load_config(a.common.config.as_deref())?;
    let out = a
        .output_dir
        .unwrap_or_else(|| a.common.data_dir.join(layout::OUTPUT_DIR));
    let (md, json, r) = pipeline::run_retro(&a.common.data_dir, &out, &cfg)?;
    println!("{}", r.executive_summary.headline);
    println!("Retrospective: {} and {}", md.display(), json.display());
    verdict_exit(a.fail_on_rollback, &r.rollback_recommendation)
}
