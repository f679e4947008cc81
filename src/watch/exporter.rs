//! `GET /metrics`: the artifacts of the data directory in the Prometheus
//! text format. Every value is read from the files at scrape time, so the
//! exporter and the artifacts cannot disagree; the watch's own state (stage
//! successes and failures) comes from the scheduler.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::drift::StabilitySummary;
use crate::health::HealthReport;
use crate::inputs;
use crate::model::{Kpi, OVERALL};
use crate::pipeline::layout;
use crate::retro::Retrospective;
use crate::slo::week_budget_consumed;

use super::StageStatus;

type Labels = Vec<(String, String)>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;

/// The registry under construction: one family per metric name.
struct Out {
    reg: Registry,
    families: BTreeMap<&'static str, Gauges>,
}

impl Out {
    fn gauge(&mut self, name: &'static str, help: &str, labels: &[(&str, &str)], v: f64) {
        if !v.is_finite() {
            return;
        }
        if labels.is_empty() {
            // A family would print `name{} v`; a plain gauge prints `name v`.
            let g = Gauge::<f64, AtomicU64>::default();
            g.set(v);
            self.reg.register(name, help, g);
            return;
        }
        let fam = self.families.entry(name).or_insert_with(|| {
            let f = Gauges::default();
            self.reg.register(name, help, f.clone());
            f
        });
        let labels: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        fam.get_or_create(&labels).set(v);
    }
}

/// An artifact through its stage's checked reader. A missing file is no
/// news (its stage has not run yet); a file the reader refuses is left out
/// of the metrics rather than exported as if valid, counted in
/// `tars_artifact_errors{file}` on every scrape while it stays broken, and
/// said on stderr (the watch's log) once per distinct error: a scrape every
/// 15 s would flood the log.
fn read<T>(
    o: &mut Out,
    dir: &Path,
    rel: &Path,
    reader: fn(&Path) -> crate::error::Result<T>,
) -> Option<T> {
    let path = dir.join(rel);
    if !path.exists() {
        return None;
    }
    match reader(&path) {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = e.to_string();
            static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
            let first = WARNED
                .lock()
                .map_or(true, |mut seen| seen.insert(msg.clone()));
            if first {
                eprintln!("tars watch: /metrics leaves out {msg}");
            }
            let file = rel.to_string_lossy();
            o.gauge(
                "tars_artifact_errors",
                "1 for each artifact file present but refused by its reader (left out of these metrics)",
                &[("file", &file)],
                1.0,
            );
            None
        }
    }
}

/// The text exposition of everything the data directory says.
pub fn render(data_dir: &Path, stages: &BTreeMap<String, StageStatus>, ready: bool) -> String {
    let mut o = Out {
        reg: Registry::default(),
        families: BTreeMap::new(),
    };
    o.gauge(
        "tars_build_info",
        "Version of tars serving these metrics (always 1)",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    o.gauge(
        "tars_watch_ready",
        "1 once the watch has tried every stage due at start (the catch-up), else 0",
        &[],
        if ready { 1.0 } else { 0.0 },
    );
    baseline(&mut o, data_dir);
    let days = days(&mut o, data_dir);
    budget(&mut o, &days);
    week(&mut o, data_dir);
    stage_metrics(&mut o, stages);
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &o.reg);
    text
}

/// Per-service SLO KPIs of a window, under `prefix` (`tars_` or `tars_ga_`).
fn slo_kpis(o: &mut Out, names: [&'static str; 3], summary: &crate::baseline::WindowSummary) {
    let rows = summary
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.kpis.clone()))
        .chain(std::iter::once((
            OVERALL,
            Kpi::ALL.iter().map(|k| (*k, summary.overall(*k))).collect(),
        )));
    for (svc, kpis) in rows {
        let l = [("service", svc)];
        let get = |k: Kpi| kpis.get(&k).copied().unwrap_or(f64::NAN);
        o.gauge(
            names[0],
            "Availability over the day, percent of requests answered without a 5xx",
            &l,
            get(Kpi::Availability),
        );
        o.gauge(
            names[1],
            "p99 request latency over the day, milliseconds",
            &l,
            get(Kpi::P99LatencyMs),
        );
        o.gauge(
            names[2],
            "Error rate over the day, percent of requests answered with a 5xx",
            &l,
            get(Kpi::ErrorRate),
        );
    }
}

fn baseline(o: &mut Out, dir: &Path) {
    let rel = Path::new(layout::GA_DIR).join(layout::GA_FILE);
    if let Some(ga) = read(o, dir, &rel, inputs::read_baseline) {
        slo_kpis(
            o,
            [
                "tars_ga_availability",
                "tars_ga_p99_latency",
                "tars_ga_error_rate",
            ],
            &ga.summary,
        );
    }
}

/// Day metrics; returns the day summaries found, in day order.
fn days(o: &mut Out, dir: &Path) -> Vec<StabilitySummary> {
    let mut summaries = Vec::new();
    let mut latest: Option<HealthReport> = None;
    for day in 1..=7u32 {
        let d = day.to_string();
        let rel = Path::new(layout::HEALTH_DIR).join(layout::day_health(day));
        if let Some(h) = read(o, dir, &rel, inputs::read_health) {
            o.gauge(
                "tars_day_health_score",
                "Health score of each finished day, 0-100",
                &[("day", &d)],
                h.health_score,
            );
            o.gauge(
                "tars_anomaly_incidents",
                "Anomaly incidents that started on each finished day (restart-explained events excluded)",
                &[("day", &d)],
                h.anomaly_summary.total as f64,
            );
            latest = Some(h);
        }
        let rel = Path::new(layout::STABILITY_DIR).join(layout::day_summary(day));
        if let Some(s) = read(o, dir, &rel, inputs::read_day) {
            summaries.push(s);
        }
    }
    if let Some(h) = &latest {
        o.gauge(
            "tars_day_number",
            "The latest release day with a health report (1-7)",
            &[],
            f64::from(h.day_number),
        );
        o.gauge(
            "tars_health_score",
            "Health score of the latest finished day, 0-100",
            &[],
            h.health_score,
        );
        o.gauge(
            "tars_latest_day_anomaly_incidents",
            "Anomaly incidents that started on the latest finished day",
            &[],
            h.anomaly_summary.total as f64,
        );
        o.gauge(
            "tars_rollback_recommended",
            "1 when the latest health report recommends a rollback",
            &[],
            if h.rollback_recommendation.recommended {
                1.0
            } else {
                0.0
            },
        );
    }
    if let Some(s) = summaries.last() {
        slo_kpis(
            o,
            ["tars_availability", "tars_p99_latency", "tars_error_rate"],
            &s.summary,
        );
        for c in s.metrics_comparison.iter().filter(|c| c.service != OVERALL) {
            o.gauge(
                "tars_kpi_drift_percent",
                "Relative change of each KPI of the latest finished day against GA day, percent",
                &[("service", &c.service), ("kpi", c.kpi.name())],
                c.drift_percent,
            );
        }
    }
    summaries
}

/// Error budget left per service over the days seen (7-day horizon).
fn budget(o: &mut Out, days: &[StabilitySummary]) {
    let mut consumed: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for d in days {
        for s in &d.slo {
            consumed
                .entry(&s.service)
                .or_default()
                .push(s.error_budget_consumed_pct);
        }
    }
    for (svc, pcts) in consumed {
        o.gauge(
            "tars_slo_budget_remaining_percent",
            "Share of the 7-day availability error budget not yet used, percent (negative: overspent)",
            &[("service", svc)],
            100.0 - week_budget_consumed(&pcts),
        );
    }
}

fn week(o: &mut Out, dir: &Path) {
    let rel: PathBuf = Path::new(layout::OUTPUT_DIR).join(layout::RETRO_JSON);
    let Some(r): Option<Retrospective> = read(o, dir, &rel, inputs::read_retro) else {
        return;
    };
    let verdict = crate::model::serde_name(&r.executive_summary.verdict);
    o.gauge(
        "tars_release_verdict",
        "1 for the retrospective's verdict of the week (healthy, drifting or rollback)",
        &[("verdict", &verdict)],
        1.0,
    );
    o.gauge(
        "tars_week_rollback_recommended",
        "1 when the retrospective recommends a rollback",
        &[],
        if r.rollback_recommendation.recommended {
            1.0
        } else {
            0.0
        },
    );
}

fn stage_metrics(o: &mut Out, stages: &BTreeMap<String, StageStatus>) {
    let failures = Family::<Labels, Counter>::default();
    o.reg.register(
        "tars_stage_failures",
        "Failed attempts of each watch stage since the watch started",
        failures.clone(),
    );
    for (name, s) in stages {
        let l = [("stage", name.as_str())];
        failures
            .get_or_create(&vec![("stage".to_string(), name.clone())])
            .inc_by(s.failures);
        if let Some(t) = s.last_success {
            o.gauge(
                "tars_stage_last_success_timestamp_seconds",
                "When each watch stage last succeeded, Unix seconds",
                &l,
                t.timestamp() as f64,
            );
        }
        if let Some(t) = s.last_failure {
            o.gauge(
                "tars_stage_last_failure_timestamp_seconds",
                "When each watch stage last failed, Unix seconds",
                &l,
                t.timestamp() as f64,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_directory_still_says_who_serves_and_whether_ready() {
        let dir = tempfile::tempdir().unwrap();
        let text = render(dir.path(), &BTreeMap::new(), false);
        assert!(text.contains("tars_build_info{version=\""), "{text}");
        assert!(text.contains("\ntars_watch_ready 0.0\n"), "{text}");
        assert!(!text.contains("tars_health_score"), "{text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
    }

    #[test]
    fn stage_failures_are_a_counter_per_stage() {
        let dir = tempfile::tempdir().unwrap();
        let mut stages = BTreeMap::new();
        stages.insert(
            "day_2".to_string(),
            StageStatus {
                last_success: None,
                failures: 3,
                last_failure: Some("2025-11-21T00:05:00Z".parse().unwrap()),
            },
        );
        let text = render(dir.path(), &stages, true);
        assert!(
            text.contains("# TYPE tars_stage_failures counter"),
            "{text}"
        );
        assert!(
            text.contains("tars_stage_failures_total{stage=\"day_2\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("tars_stage_last_failure_timestamp_seconds{stage=\"day_2\"} 1763683500"),
            "{text}"
        );
    }
}
