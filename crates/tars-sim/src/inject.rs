//! The ground truth of each scenario. The realistic scenarios carry the same
//! problems at the same times as their original counterparts, so a result on
//! one fleet reads against the other: in the realistic fleet checkout already
//! runs over the latency SLO before its step, and api-gateway sits at 99.9 %
//! before its outage, which is what makes them hard to call.

use chrono::{DateTime, Duration, Utc};

use super::{Injection, InjectionKind, Scenario};
use tars_core::model::Kpi;

pub(super) fn injections(scenario: Scenario, ga: DateTime<Utc>) -> Vec<Injection> {
    let at = |day: i64, h: i64, m: i64| {
        ga + Duration::days(day) + Duration::hours(h) + Duration::minutes(m)
    };
    match scenario {
        Scenario::Healthy | Scenario::Realistic => vec![],
        Scenario::Regressions | Scenario::RealisticRegressions => vec![
            Injection {
                kind: InjectionKind::LatencyStep,
                service: "checkout".into(),
                kpis: vec![Kpi::P50LatencyMs, Kpi::P95LatencyMs, Kpi::P99LatencyMs],
                start: at(3, 10, 0),
                end: None,
                description: "every latency quantile of checkout rises by 60 % from day 3 10:00 on"
                    .into(),
            },
            Injection {
                kind: InjectionKind::ErrorBurst,
                service: "search".into(),
                kpis: vec![Kpi::ErrorRate, Kpi::Availability],
                start: at(2, 14, 0),
                end: Some(at(2, 14, 45)),
                description: "8 % of search requests fail with 5xx for 45 minutes on day 2".into(),
            },
            Injection {
                kind: InjectionKind::MemoryLeak,
                service: "auth".into(),
                kpis: vec![Kpi::MemoryBytes],
                start: at(1, 0, 0),
                end: None,
                description: "auth leaks 8 MiB of resident memory per hour from day 1 on".into(),
            },
            Injection {
                kind: InjectionKind::Outage,
                service: "api-gateway".into(),
                kpis: vec![Kpi::ErrorRate, Kpi::Availability],
                start: at(5, 9, 30),
                end: Some(at(5, 9, 36)),
                description: "api-gateway answers every request with 5xx for 6 minutes on day 5"
                    .into(),
            },
        ],
        Scenario::Rollback | Scenario::RealisticRollback => vec![Injection {
            kind: InjectionKind::SevereRegression,
            service: "checkout".into(),
            kpis: vec![
                Kpi::ErrorRate,
                Kpi::Availability,
                Kpi::P50LatencyMs,
                Kpi::P95LatencyMs,
                Kpi::P99LatencyMs,
            ],
            start: at(1, 0, 0),
            end: None,
            description: "from day 1 on, 6 % of checkout requests fail and its latency is 2.5x"
                .into(),
        }],
    }
}
