//! The proxy's own Prometheus metrics (served on `/metrics`).
//!
//! These describe the proxy, not the containers: request counts and latency
//! by route and status, and engine call outcomes. Label sets are typed and
//! bounded (routes are the matched templates, methods a closed enum) so a
//! client probing random paths cannot blow up the series count.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// HTTP method, folded to the two the proxy serves plus a catch-all.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum MethodLabel {
    #[allow(clippy::upper_case_acronyms)]
    GET,
    #[allow(clippy::upper_case_acronyms)]
    HEAD,
    #[allow(clippy::upper_case_acronyms)]
    OTHER,
}

impl From<&axum::http::Method> for MethodLabel {
    fn from(m: &axum::http::Method) -> Self {
        match *m {
            axum::http::Method::GET => Self::GET,
            axum::http::Method::HEAD => Self::HEAD,
            _ => Self::OTHER,
        }
    }
}

/// Labels of the HTTP request metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: MethodLabel,
    /// Matched route template, or `unmatched`.
    pub route: String,
    pub status: u16,
}

/// Engine operations the proxy performs; all are reads.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum EngineOp {
    ping,
    version,
    list_containers,
    container_stats,
    info,
}

/// Outcome of an engine call.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum EngineOutcome {
    ok,
    not_found,
    engine_error,
    unavailable,
    timeout,
    busy,
}

/// Labels of the engine call metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EngineLabels {
    pub operation: EngineOp,
    pub outcome: EngineOutcome,
}

/// Labels of the engine latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EngineOpLabels {
    pub operation: EngineOp,
}

/// Which pool a connection sits in.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum SlotLabel {
    /// Within `--max-connections`: served normally.
    served,
    /// Beyond it: one request, `/health` only.
    shed,
}

/// Labels of the open-connections gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnLabels {
    pub slot: SlotLabel,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s: stats calls sit around 1-2 s because the engine samples
    // twice, so the upper buckets matter as much as the lower ones.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// All metric handles plus the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<HttpLabels, Histogram>,
    pub http_in_flight: Gauge,
    pub engine_calls: Family<EngineLabels, Counter>,
    pub engine_duration: Family<EngineOpLabels, Histogram>,
    pub aggregate_missing: Counter,
    pub connections: Family<ConnLabels, Gauge>,
    pub connections_evicted: Counter,
}

impl Metrics {
    /// Builds and registers every metric under the `tars_docker_api` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tars_docker_api");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let http_in_flight = Gauge::default();
        let engine_calls = Family::<EngineLabels, Counter>::default();
        let engine_duration = Family::<EngineOpLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let aggregate_missing = Counter::default();
        let connections = Family::<ConnLabels, Gauge>::default();
        let connections_evicted = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests served, by method, route template and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency, by method, route template and status",
            http_duration.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests currently being served",
            http_in_flight.clone(),
        );
        registry.register(
            "engine_calls",
            "Docker Engine API calls, by operation and outcome",
            engine_calls.clone(),
        );
        registry.register(
            "engine_call_duration_seconds",
            "Docker Engine API call latency, by operation",
            engine_duration.clone(),
        );
        registry.register(
            "aggregate_missing_containers",
            "Containers left out of /api/stats/aggregate (timeout, vanished, stopped)",
            aggregate_missing.clone(),
        );
        registry.register(
            "connections",
            "Client connections open, served or shed (beyond --max-connections)",
            connections.clone(),
        );
        registry.register(
            "connections_evicted",
            "Shed connections closed early to make room for a newer one",
            connections_evicted.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            http_in_flight,
            engine_calls,
            engine_duration,
            aggregate_missing,
            connections,
            connections_evicted,
        }
    }

    /// Renders the OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an error would mean a bug in the
        // encoder, and an empty page is a better answer than a panic.
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_typed_labels() {
        let m = Metrics::new();
        m.http_requests
            .get_or_create(&HttpLabels {
                method: MethodLabel::GET,
                route: "/api/containers".into(),
                status: 200,
            })
            .inc();
        m.engine_calls
            .get_or_create(&EngineLabels {
                operation: EngineOp::container_stats,
                outcome: EngineOutcome::timeout,
            })
            .inc();
        let text = m.encode();
        assert!(text.contains(
            "tars_docker_api_http_requests_total{method=\"GET\",route=\"/api/containers\",status=\"200\"} 1"
        ), "{text}");
        assert!(text.contains(
            "tars_docker_api_engine_calls_total{operation=\"container_stats\",outcome=\"timeout\"} 1"
        ));
        assert!(text.ends_with("# EOF\n"));
    }
}
