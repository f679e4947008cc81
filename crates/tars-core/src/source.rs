//! The metrics-source boundary. Every stage reads KPIs through
//! [`MetricsSource`], so the same pipeline runs on the built-in simulator, on a
//! Prometheus-compatible server, or on recorded query responses.

use std::collections::BTreeMap;

use crate::model::{Kpi, KpiValues, Series, Window};

/// KPI values aggregated over one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowKpis {
    /// Fleet-wide values (latency percentiles over all requests, not an
    /// average of per-service percentiles).
    pub overall: KpiValues,
    /// Per service, keyed by the grouping label's value.
    pub services: BTreeMap<String, KpiValues>,
    /// Process restarts per service seen in the window (empty when unknown).
    pub restarts: BTreeMap<String, u64>,
    /// Warnings the backend attached to its answers (shown to the user).
    pub warnings: Vec<String>,
}

/// Why a source could not answer. Messages name the KPI, the query and the
/// server (or file) so that one line is enough to act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// The request did not get an answer (refused, DNS, TLS, timeout, 5xx after retries).
    #[error("{server}: request failed for {what}: {msg}")]
    Request {
        server: String,
        what: String,
        msg: String,
    },
    /// The server answered, but with an error or something unusable.
    #[error("{server}: bad response for {what}: {msg}")]
    Response {
        server: String,
        what: String,
        msg: String,
    },
    /// The query ran but returned no series where data was expected.
    #[error("{server}: no data for {what}")]
    NoData { server: String, what: String },
    /// A recorded response could not be replayed.
    #[error("{path}: {msg}")]
    Replay { path: String, msg: String },
    /// The source's own configuration is wrong.
    #[error("{0}")]
    Config(String),
}

/// What [`MetricsSource::for_each_kpi_series`] hands its visitor.
#[derive(Debug, Clone, PartialEq)]
pub enum Visit {
    Series(Series),
    /// Forget the series handed over so far in this call: the source could
    /// not name them for sure while streaming (two series of the answer
    /// share a name) and starts again from the whole answer.
    Restart,
}

/// A place KPIs come from.
pub trait MetricsSource: Send + Sync {
    /// A short, stable description written into artifacts (`sim:healthy:42`,
    /// `prometheus:http://host:9090`, `file:DIR`).
    fn describe(&self) -> String;

    /// KPI values aggregated over `window`, per service and overall.
    fn window_kpis(&self, window: &Window) -> Result<WindowKpis, SourceError>;

    /// One KPI as a time series per service, one point per `step_secs`
    /// (each point aggregates the step that ends at its timestamp).
    fn kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
    ) -> Result<Vec<Series>, SourceError>;

    /// [`kpi_series`](Self::kpi_series) handed over one series at a time, in
    /// no set order: the same series under the same names, each dropped once
    /// `visit` returns, so that a source reading its answer as a stream need
    /// not hold all of it. On an error, what `visit` was given is incomplete.
    fn for_each_kpi_series(
        &self,
        kpi: Kpi,
        window: &Window,
        step_secs: u32,
        visit: &mut (dyn FnMut(Visit) + Send),
    ) -> Result<(), SourceError> {
        for s in self.kpi_series(kpi, window, step_secs)? {
            visit(Visit::Series(s));
        }
        Ok(())
    }

    /// Unix seconds of each service's process restarts in `window` (to within
    /// a minute or two), or an empty map when the source cannot tell.
    fn restart_times(&self, window: &Window) -> Result<BTreeMap<String, Vec<i64>>, SourceError> {
        let _ = window;
        Ok(BTreeMap::new())
    }
}
