//! GA-day baseline (`tars ga-kpi`) and the per-window KPI collection that the
//! daily stability summaries reuse.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::model::{ArtifactMeta, Kpi, KpiSamples, KpiValues, Window, OVERALL};
use crate::source::MetricsSource;
use crate::thresholds::Pricing;

/// Step of the sample vectors kept for significance tests: 15 minutes gives
/// 96 samples a day, enough for a rank test and short enough to keep each
/// sample an aggregate of many requests.
pub const SAMPLE_STEP_SECS: u32 = 900;

/// KPIs of one service over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceKpis {
    /// Service name (the value of the grouping label, `service` by default).
    pub service: String,
    /// Aggregated values over the window (a KPI without data is absent).
    pub kpis: KpiValues,
    /// Estimated cost of running the service for a day at this window's usage, USD.
    pub cost_per_day_usd: f64,
    /// Process restarts seen in the window.
    pub restarts: u64,
    /// 15-minute samples per KPI, for the drift significance test.
    pub samples: KpiSamples,
}

/// KPIs of every service and the fleet over one window: the body shared by
/// the GA baseline and the daily stability summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WindowSummary {
    /// Fleet availability, percent (the runbook's `.overall_availability`).
    pub overall_availability: f64,
    /// Fleet error rate, percent (`.error_rate`).
    pub error_rate: f64,
    /// Fleet p50 latency, ms.
    pub p50_latency_ms: f64,
    /// Fleet p95 latency, ms.
    pub p95_latency_ms: f64,
    /// Fleet p99 latency, ms (`.p99_latency_ms`).
    pub p99_latency_ms: f64,
    /// Fleet request rate, req/s.
    pub throughput_rps: f64,
    /// Fleet CPU, cores.
    pub cpu_cores: f64,
    /// Fleet resident memory, bytes.
    pub memory_bytes: f64,
    /// Estimated fleet cost per day at this window's usage, USD.
    pub cost_per_day_usd: f64,
    /// Per service.
    pub services: Vec<ServiceKpis>,
    /// Warnings from the metrics backend.
    pub warnings: Vec<String>,
}

impl WindowSummary {
    /// Values of `service` (or [`OVERALL`]).
    pub fn values(&self, service: &str) -> Option<KpiValues> {
        if service == OVERALL {
            let mut v = KpiValues::new();
            for k in Kpi::ALL {
                let x = self.overall(k);
                if x.is_finite() {
                    v.insert(k, x);
                }
            }
            return Some(v);
        }
        self.services
            .iter()
            .find(|s| s.service == service)
            .map(|s| s.kpis.clone())
    }

    /// A fleet-wide KPI value.
    pub fn overall(&self, kpi: Kpi) -> f64 {
        match kpi {
            Kpi::Availability => self.overall_availability,
            Kpi::ErrorRate => self.error_rate,
            Kpi::P50LatencyMs => self.p50_latency_ms,
            Kpi::P95LatencyMs => self.p95_latency_ms,
            Kpi::P99LatencyMs => self.p99_latency_ms,
            Kpi::ThroughputRps => self.throughput_rps,
            Kpi::CpuCores => self.cpu_cores,
            Kpi::MemoryBytes => self.memory_bytes,
        }
    }

    pub fn service(&self, name: &str) -> Option<&ServiceKpis> {
        self.services.iter().find(|s| s.service == name)
    }
}

/// The GA-day baseline, `ga_kpis/ga_kpi_summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GaKpiSummary {
    #[serde(flatten)]
    pub meta: ArtifactMeta,
    /// The GA instant; day N is the 24 h from GA + N days.
    pub ga_timestamp: DateTime<Utc>,
    #[serde(flatten)]
    pub summary: WindowSummary,
}

/// Reads every KPI of `window` from `source`: aggregates plus 15-minute samples.
pub fn collect_window(
    source: &dyn MetricsSource,
    window: &Window,
    pricing: &Pricing,
) -> Result<WindowSummary> {
    let agg = source.window_kpis(window)?;
    let mut services: Vec<ServiceKpis> = agg
        .services
        .iter()
        .map(|(name, values)| {
            let kpis = finite(values);
            ServiceKpis {
                service: name.clone(),
                cost_per_day_usd: cost(pricing, &kpis),
                restarts: agg.restarts.get(name).copied().unwrap_or(0),
                kpis,
                samples: KpiSamples::new(),
            }
        })
        .collect();
    if services.is_empty() {
        return Err(CoreError::Source(crate::source::SourceError::NoData {
            server: source.describe(),
            what: format!("any service in {} .. {}", window.start, window.end),
        }));
    }
    // By name: a fleet of a thousand services makes a linear search per
    // series quadratic.
    let index: BTreeMap<String, usize> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.service.clone(), i))
        .collect();
    for kpi in Kpi::ALL {
        for series in source.kpi_series(kpi, window, SAMPLE_STEP_SECS)? {
            if let Some(&i) = index.get(&series.service) {
                let v: Vec<f64> = series
                    .points
                    .iter()
                    .map(|p| p.1)
                    .filter(|v| v.is_finite())
                    .collect();
                services[i].samples.insert(kpi, v);
            }
        }
    }
    let overall = finite(&agg.overall);
    let get = |k: Kpi| overall.get(&k).copied().unwrap_or(f64::NAN);
    Ok(WindowSummary {
        overall_availability: get(Kpi::Availability),
        error_rate: get(Kpi::ErrorRate),
        p50_latency_ms: get(Kpi::P50LatencyMs),
        p95_latency_ms: get(Kpi::P95LatencyMs),
        p99_latency_ms: get(Kpi::P99LatencyMs),
        throughput_rps: get(Kpi::ThroughputRps),
        cpu_cores: get(Kpi::CpuCores),
        memory_bytes: get(Kpi::MemoryBytes),
        cost_per_day_usd: services.iter().map(|s| s.cost_per_day_usd).sum(),
        services,
        warnings: agg.warnings,
    })
    .and_then(check_overall)
}

/// NaN cannot be written to JSON; a fleet value must exist for the runbook fields.
fn check_overall(s: WindowSummary) -> Result<WindowSummary> {
    for k in Kpi::ALL {
        if !s.overall(k).is_finite() {
            return Err(CoreError::NoFleetValue(k));
        }
    }
    Ok(s)
}

fn finite(v: &KpiValues) -> KpiValues {
    v.iter()
        .filter(|(_, x)| x.is_finite())
        .map(|(k, x)| (*k, *x))
        .collect()
}

fn cost(p: &Pricing, v: &KpiValues) -> f64 {
    let g = |k| v.get(&k).copied().unwrap_or(0.0);
    p.cost_per_day(g(Kpi::CpuCores), g(Kpi::MemoryBytes), g(Kpi::ThroughputRps))
}

/// Computes the GA baseline over `window` (day 0, or its elapsed part).
pub fn ga_baseline(
    source: &dyn MetricsSource,
    ga: DateTime<Utc>,
    window: &Window,
    pricing: &Pricing,
    now: DateTime<Utc>,
) -> Result<GaKpiSummary> {
    let summary = collect_window(source, window, pricing)?;
    Ok(GaKpiSummary {
        meta: ArtifactMeta::new("ga_kpi_summary", &source.describe(), vec![], *window, now),
        ga_timestamp: ga,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Series;
    use crate::source::{SourceError, WindowKpis};
    use std::collections::BTreeMap;

    /// A source that answers from hand-built maps.
    struct Fixed {
        agg: WindowKpis,
        series: Vec<(Kpi, Series)>,
    }

    impl MetricsSource for Fixed {
        fn describe(&self) -> String {
            "fixed".into()
        }
        fn window_kpis(&self, _: &Window) -> Result<WindowKpis, SourceError> {
            Ok(self.agg.clone())
        }
        fn kpi_series(&self, kpi: Kpi, _: &Window, _: u32) -> Result<Vec<Series>, SourceError> {
            Ok(self
                .series
                .iter()
                .filter(|(k, _)| *k == kpi)
                .map(|(_, s)| s.clone())
                .collect())
        }
    }

    fn all(v: f64) -> KpiValues {
        Kpi::ALL.into_iter().map(|k| (k, v)).collect()
    }

    fn window() -> Window {
        Window::day("2025-11-18T00:00:00Z".parse().unwrap(), 0)
    }

    fn fixed(services: &[(&str, KpiValues)]) -> Fixed {
        Fixed {
            agg: WindowKpis {
                overall: all(1.0),
                services: services
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.clone()))
                    .collect(),
                restarts: BTreeMap::from([("api".to_string(), 3)]),
                warnings: vec!["partial answer".into()],
            },
            series: vec![(
                Kpi::P99LatencyMs,
                Series {
                    service: "api".into(),
                    points: vec![(1, 5.0), (2, f64::NAN), (3, 7.0)],
                },
            )],
        }
    }

    #[test]
    fn a_window_keeps_finite_values_samples_restarts_and_warnings() {
        let mut api = all(2.0);
        api.insert(Kpi::CpuCores, f64::NAN);
        let s = collect_window(&fixed(&[("api", api)]), &window(), &Pricing::default()).unwrap();
        let svc = s.service("api").unwrap();
        // NaN is dropped, not written as null.
        assert!(!svc.kpis.contains_key(&Kpi::CpuCores));
        assert_eq!(svc.kpis.len(), 7);
        // Gaps are dropped from the samples the rank test sees.
        assert_eq!(svc.samples[&Kpi::P99LatencyMs], [5.0, 7.0]);
        assert_eq!(svc.restarts, 3);
        assert_eq!(s.warnings, ["partial answer"]);
        assert_eq!(s.cost_per_day_usd, svc.cost_per_day_usd);
    }

    #[test]
    fn no_service_is_no_data_naming_the_source_and_window() {
        let err = collect_window(&fixed(&[]), &window(), &Pricing::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("fixed: no data for any service"), "{msg}");
    }

    #[test]
    fn a_missing_fleet_value_is_an_error_not_a_null() {
        let mut src = fixed(&[("api", all(2.0))]);
        src.agg.overall.remove(&Kpi::MemoryBytes);
        let err = collect_window(&src, &window(), &Pricing::default()).unwrap_err();
        assert_eq!(err, CoreError::NoFleetValue(Kpi::MemoryBytes));
    }

    #[test]
    fn cost_is_priced_from_cpu_memory_and_requests() {
        let p = Pricing {
            cpu_core_hour_usd: 1.0,
            memory_gib_hour_usd: 0.5,
            million_requests_usd: 10.0,
        };
        let mut v = KpiValues::new();
        v.insert(Kpi::CpuCores, 2.0);
        v.insert(Kpi::MemoryBytes, 1024.0 * 1024.0 * 1024.0);
        // 1 req/s is 0.0864 M requests a day.
        v.insert(Kpi::ThroughputRps, 1.0);
        let c = cost(&p, &v);
        assert!((c - (24.0 * 2.0 + 24.0 * 0.5 + 0.864)).abs() < 1e-9, "{c}");
        // Absent KPIs cost nothing.
        assert_eq!(cost(&p, &KpiValues::new()), 0.0);
    }
}
