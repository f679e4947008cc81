//! What the analysis found, as typed facts with their numbers.
//!
//! The rules of [`crate::drift`], [`crate::health`], [`crate::regression`]
//! and [`crate::retro`] decide; they never phrase. Every sentence an artifact
//! carries (`explanation`, `reasons`, `statement`, ...) is one [`Fact`] handed
//! to a [`Words`] implementation: the English one lives with the renderers
//! (`tars::render::words`), and a test can pass its own to check which fact a
//! rule stated without matching prose.
//!
//! Text quoted from an upstream artifact (a day summary's explanation inside
//! a health report) travels as `String`: it was worded when that artifact was
//! written, and re-wording it from facts the file no longer holds would
//! invent detail.

use crate::model::{Kpi, Severity};
use crate::regression::{Confidence, Pattern};
use crate::retro::ServiceSloWeek;
use crate::slo::{BurnWindow, Sli};

/// Turns a fact into the sentence an artifact stores.
pub trait Words {
    fn word(&self, fact: &Fact) -> String;
}

/// The numbers of a Mann-Whitney comparison of two days' samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestNumbers {
    pub p_value: f64,
    /// Hodges-Lehmann shift, in the KPI's unit.
    pub shift: f64,
    pub ci: [f64; 2],
}

/// A runbook limit a KPI value crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// Availability under the rollback limit.
    AvailabilityRollback,
    /// Error rate at or above the rollback (critical) limit.
    ErrorRateRollback,
    /// Error rate at or above the high limit.
    ErrorRateHigh,
}

/// Why one KPI comparison got its status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CompVerdict {
    InsufficientData {
        requests: f64,
        baseline_samples: usize,
        current_samples: usize,
    },
    /// Significant and large: relative drift of this severity.
    Drift(Severity),
    /// A runbook limit crossed that GA day was inside.
    Limit {
        kind: LimitKind,
        limit: f64,
    },
    Improved,
    PreExisting,
    NotSignificant,
    BelowThreshold,
}

/// What a service's co-moving KPIs suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CauseKind {
    /// Latency and CPU rose together.
    Saturation,
    /// Latency rose without more CPU.
    Waiting,
    /// More 5xx answers.
    Errors,
    /// Resident memory grew.
    Memory,
    /// Traffic fell.
    TrafficLoss,
}

/// Everything the analysis states.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    // ---- daily drift (stability summary) ----
    /// One KPI of one service against GA day.
    Comparison {
        service: String,
        kpi: Kpi,
        baseline: f64,
        current: f64,
        drift_percent: f64,
        test: Option<TestNumbers>,
        verdict: CompVerdict,
    },
    /// A fleet-wide KPI against GA day (informative).
    FleetComparison {
        kpi: Kpi,
        baseline: f64,
        current: f64,
        drift_percent: f64,
    },
    Cause {
        service: String,
        kind: CauseKind,
    },
    /// Rollback rule: availability over the day under the limit.
    AvailabilityUnderLimit {
        service: String,
        current: f64,
        limit: f64,
    },
    /// Rollback rule: error rate over the day above the limit.
    ErrorRateOverLimit {
        service: String,
        current: f64,
        limit: f64,
    },
    /// Rollback rule: a critical SLO drift still bad in the day's last hours.
    UnrecoveredSloRegression {
        service: String,
        kpi: Kpi,
        degradation: f64,
        p_value: Option<f64>,
        late_degradation: f64,
    },
    /// Rollback rule: day 3+ with a degradation growing three days running.
    DegradingTrend {
        service: String,
        kpi: Kpi,
        degradations: [f64; 3],
        day: u32,
    },

    // ---- daily health report ----
    /// A deduction's item: one KPI of one service.
    ServiceKpi {
        service: String,
        kpi: String,
    },
    /// A deduction's item: a service's error budget for one SLI.
    BudgetItem {
        service: String,
        sli: Sli,
    },
    /// A deduction's item: the day's anomaly incidents.
    IncidentsItem {
        incidents: usize,
    },
    /// A release-caused error-budget burn.
    BudgetBurn {
        service: String,
        sli: Sli,
        window: BurnWindow,
        burn_rate: f64,
        budget_spent_pct: f64,
        ga_burn_rate: Option<f64>,
    },
    /// The anomaly deduction.
    AnomalyIncidents {
        incidents: usize,
        signals: usize,
        by_severity: Vec<(Severity, usize)>,
        cap: f64,
    },
    /// A service with more anomaly incidents than the day's limit.
    ManyAnomalies {
        service: String,
        incidents: usize,
        limit: usize,
    },
    Restarts {
        service: String,
        restarts: u64,
    },
    /// The action for a degradation of a KPI family (`None`: anomalies only).
    Mitigation {
        service: String,
        kpi: Option<Kpi>,
    },
    /// Rollback rule: the score under the limit two days running.
    LowHealthTwoDays {
        score: f64,
        previous: f64,
        limit: f64,
    },
    /// Rollback rule: a poor score with nothing to try.
    LowHealthNoMitigation {
        score: f64,
        limit: f64,
    },

    // ---- day-7 regression analysis ----
    /// One KPI of one service over the week.
    Trend {
        service: String,
        kpi: Kpi,
        ga_value: f64,
        last: f64,
        last_day: u32,
        slope: [f64; 3],
        changepoint_day: Option<u32>,
        days_to_limit: Option<f64>,
        memory_limit_bytes: f64,
        severity: Option<Severity>,
        pattern: Pattern,
        confidence: Confidence,
        flagged_days: Vec<u32>,
    },
    /// Rollback rule: a critical regression of an SLO KPI (its sentence quoted).
    CriticalSloRegression {
        explanation: String,
    },
    /// A rollback reason of the last day, quoted.
    LastDayRollback {
        day: u32,
        reason: String,
    },

    // ---- retrospective ----
    HeadlineHealthy {
        days: usize,
        lowest: Option<f64>,
    },
    HeadlineDrifting {
        regressions: usize,
        worst_first: Vec<(Severity, usize)>,
        lowest: Option<f64>,
    },
    HeadlineRollback {
        first_reason: Option<String>,
    },
    AtBaseline {
        service: String,
    },
    AtBaselineEvidence {
        days: usize,
        p99_ga: f64,
        p99_worst: f64,
    },
    ExcellentDays {
        excellent: usize,
        days: usize,
    },
    Scores {
        scores: Vec<(u32, f64)>,
    },
    NoIncidents,
    AllRestartExplained {
        events: usize,
    },
    Regressed {
        service: String,
        kpi: Kpi,
        severity: Option<Severity>,
    },
    TransientProblem {
        service: String,
        kpi: Kpi,
    },
    NoisyService {
        service: String,
        incidents: usize,
    },
    StrongestAnomaly {
        explanation: String,
    },
    UnexpectedDrift {
        service: String,
        kpi: Kpi,
        drift_percent: f64,
        day: u32,
    },
    Cost {
        ga_per_day: f64,
        last_per_day: f64,
        change_percent: f64,
        week: f64,
        days: usize,
        largest_mover: Option<(String, f64)>,
    },
    SloAllMet {
        availability_pct: f64,
        latency_ms: f64,
        latency_percentile: f64,
    },
    SloMissed {
        by_release: Vec<ServiceSloWeek>,
        standing: Vec<ServiceSloWeek>,
    },
    RollBackAction,
    FixRegression {
        service: String,
        kpi: Kpi,
        severity: Severity,
        pattern: Pattern,
        also: Vec<Kpi>,
    },
    PostMortem {
        service: String,
        kpi: Kpi,
    },
    ReviewCost,
    ExplainDrift {
        statement: String,
    },
    HoldPromotion,
    Bisect {
        service: String,
        day: u32,
        kpis: Vec<Kpi>,
    },
    RestartBeforeLimit {
        service: String,
        days_to_limit: Option<f64>,
    },
    BurnRateAlerts,
    KeepRelease,
    GaAtDayEnd,
    ContinuousDetection,
    RouteTransients,
    RecordDeploys,
}

/// Debug-formats each fact: for tests that check which rule fired.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Words for Plain {
    fn word(&self, fact: &Fact) -> String {
        format!("{fact:?}")
    }
}
