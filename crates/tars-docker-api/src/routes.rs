//! Router, shared state and handlers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use bollard::models::{ContainerSummary, SystemInfo};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::config::{Config, Token};
use super::engine::{Engine, EngineError};
use super::error::AppError;
use super::metrics::Metrics;
use super::middleware as mw;
use super::stats::{compute_stats, ContainerStats};

/// The OpenAPI 3 description of this service.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Timing and concurrency limits the handlers consult.
#[derive(Debug, Clone)]
pub struct Limits {
    pub request_timeout: Duration,
    pub stats_timeout: Duration,
    pub max_concurrency: usize,
    /// Engine calls in flight at most (each holds a descriptor).
    pub max_engine_calls: usize,
}

/// Shared state: cheap to clone, everything behind an `Arc`.
#[derive(Clone)]
pub struct AppState {
    pub(crate) engine: Arc<Engine>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) token: Option<Arc<Token>>,
    pub(crate) in_flight: Arc<Semaphore>,
    pub(crate) limits: Arc<Limits>,
    pub(crate) conn_limits: crate::ConnLimits,
}

impl AppState {
    /// Builds the state; does not contact the engine (that happens lazily, so
    /// the proxy starts and reports unhealthy while the engine is down).
    pub fn new(config: &Config) -> Self {
        let metrics = Arc::new(Metrics::new());
        let engine = Engine::new(
            config.docker_socket.clone(),
            config.max_engine_calls,
            config.engine_timeout,
            metrics.clone(),
        );
        Self {
            engine: Arc::new(engine),
            metrics,
            token: config.token.clone().map(Arc::new),
            in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
            limits: Arc::new(Limits {
                request_timeout: config.request_timeout,
                stats_timeout: config.stats_timeout,
                max_concurrency: config.max_concurrency,
                max_engine_calls: config.max_engine_calls,
            }),
            conn_limits: config.conn,
        }
    }

    /// The time the aggregate may spend before answering with what it has,
    /// kept below the request timeout so the answer is a partial 200 rather
    /// than a 504.
    fn aggregate_budget(&self) -> Duration {
        let t = self.limits.request_timeout;
        t.saturating_sub(Duration::from_millis(500)).max(t * 4 / 5)
    }
}

/// Builds the router. Only GET (and the HEAD axum derives from it) is routed;
/// every other method answers 405 and unknown paths 404 before any handler,
/// so neither can reach the engine.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/containers", get(list_containers))
        .route("/api/containers/{id}/stats", get(container_stats))
        .route("/api/system/info", get(system_info))
        .route("/api/stats/aggregate", get(aggregate))
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            mw::require_token,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), mw::deadline))
        .layer(middleware::from_fn_with_state(state.clone(), mw::shed_load))
        .layer(middleware::from_fn_with_state(state.clone(), mw::observe))
        .with_state(state)
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) async fn health(State(state): State<AppState>) -> Response {
    match state.engine.ping(state.engine.deadline()).await {
        Ok(()) => Json(json!({ "status": "healthy", "timestamp": now_rfc3339() })).into_response(),
        Err(e) => {
            let reason = match e {
                EngineError::Timeout => "docker engine did not answer in time",
                EngineError::Busy => "docker engine busy",
                EngineError::Unavailable(_) => "docker engine unreachable",
                _ => "docker engine returned an error",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unhealthy",
                    "reason": reason,
                    "timestamp": now_rfc3339(),
                })),
            )
                .into_response()
        }
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    all: Option<String>,
}

/// One row of `/api/containers`.
#[derive(Debug, Serialize)]
struct ContainerView {
    id: String,
    names: Vec<String>,
    image: String,
    image_id: String,
    command: String,
    state: String,
    status: String,
    /// Unix seconds, as the engine reports it.
    created: i64,
    created_at: Option<String>,
    ports: Vec<PortView>,
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct PortView {
    ip: Option<String>,
    private_port: u16,
    public_port: Option<u16>,
    #[serde(rename = "type")]
    typ: Option<String>,
}

fn strip_names(names: Option<Vec<String>>) -> Vec<String> {
    names
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.trim_start_matches('/').to_string())
        .collect()
}

impl From<ContainerSummary> for ContainerView {
    fn from(c: ContainerSummary) -> Self {
        let created = c.created.unwrap_or_default();
        Self {
            id: c.id.unwrap_or_default(),
            names: strip_names(c.names),
            image: c.image.unwrap_or_default(),
            image_id: c.image_id.unwrap_or_default(),
            command: c.command.unwrap_or_default(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            status: c.status.unwrap_or_default(),
            created,
            created_at: chrono::DateTime::from_timestamp(created, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            ports: c
                .ports
                .unwrap_or_default()
                .into_iter()
                .map(|p| PortView {
                    ip: p.ip,
                    private_port: p.private_port,
                    public_port: p.public_port,
                    typ: p.typ.map(|t| t.to_string()),
                })
                .collect(),
            labels: c.labels.unwrap_or_default().into_iter().collect(),
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

async fn list_containers(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, AppError> {
    let Query(q) = query.map_err(|_| AppError::BadRequest("invalid query string"))?;
    let all = match q.all.as_deref() {
        None => true,
        Some(v) => parse_bool(v).ok_or(AppError::BadRequest("all must be true or false"))?,
    };
    let list = state
        .engine
        .list_containers(all, state.engine.deadline())
        .await?;
    let containers: Vec<ContainerView> = list.into_iter().map(ContainerView::from).collect();
    Ok(Json(json!({
        "count": containers.len(),
        "containers": containers,
    })))
}

/// Container names are `[a-zA-Z0-9][a-zA-Z0-9_.-]*` and ids hex, so anything
/// else is refused here; this also keeps `/`, `?` and `..` out of the engine
/// URL that bollard builds from the value.
fn valid_container_ref(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 255
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

async fn container_stats(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ContainerStats>, AppError> {
    let Path(id) = id.map_err(|_| AppError::BadRequest("invalid container reference"))?;
    if !valid_container_ref(&id) {
        return Err(AppError::BadRequest("invalid container reference"));
    }
    let raw = state
        .engine
        .stats(&id, state.engine.deadline())
        .await
        .map_err(|e| match e {
            // The engine answers 400 for an id prefix matching several containers.
            EngineError::Upstream { status: 400, .. } => {
                AppError::BadRequest("ambiguous container reference")
            }
            e => AppError::from(e),
        })?;
    compute_stats(&raw)
        .map(Json)
        .map_err(|_| AppError::ContainerNotRunning)
}

#[derive(Debug, Serialize)]
struct ContainerCounts {
    total: i64,
    running: i64,
    paused: i64,
    stopped: i64,
}

#[derive(Debug, Serialize)]
struct SystemInfoView {
    engine_version: String,
    os: String,
    os_type: String,
    kernel_version: String,
    architecture: String,
    cpus: i64,
    memory_bytes: i64,
    containers: ContainerCounts,
    images: i64,
}

impl From<SystemInfo> for SystemInfoView {
    fn from(i: SystemInfo) -> Self {
        Self {
            engine_version: i.server_version.unwrap_or_default(),
            os: i.operating_system.unwrap_or_default(),
            os_type: i.os_type.unwrap_or_default(),
            kernel_version: i.kernel_version.unwrap_or_default(),
            architecture: i.architecture.unwrap_or_default(),
            cpus: i.ncpu.unwrap_or_default(),
            memory_bytes: i.mem_total.unwrap_or_default(),
            containers: ContainerCounts {
                total: i.containers.unwrap_or_default(),
                running: i.containers_running.unwrap_or_default(),
                paused: i.containers_paused.unwrap_or_default(),
                stopped: i.containers_stopped.unwrap_or_default(),
            },
            images: i.images.unwrap_or_default(),
        }
    }
}

async fn system_info(State(state): State<AppState>) -> Result<Json<SystemInfoView>, AppError> {
    let info = state.engine.info(state.engine.deadline()).await?;
    Ok(Json(info.into()))
}

/// A running container the aggregate could not sample, and why.
#[derive(Debug, Serialize)]
struct Missing {
    id: String,
    name: String,
    reason: &'static str,
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    containers: usize,
    cpu_percent: f64,
    memory_usage_bytes: u64,
    network_rx_bytes: u64,
    network_tx_bytes: u64,
    block_read_bytes: u64,
    block_write_bytes: u64,
    pids: u64,
}

#[derive(Debug, Serialize)]
struct AggregateView {
    timestamp: String,
    /// Running containers listed by the engine when collection started.
    running: usize,
    totals: Totals,
    containers: Vec<ContainerStats>,
    missing: Vec<Missing>,
    duration_ms: u64,
}

fn missing_reason(e: &EngineError) -> &'static str {
    match e {
        EngineError::Timeout => "timeout",
        EngineError::NotFound => "vanished",
        EngineError::Busy => "engine_busy",
        EngineError::Unavailable(_) => "engine_unavailable",
        EngineError::Upstream { .. } | EngineError::Protocol(_) => "engine_error",
    }
}

async fn aggregate(State(state): State<AppState>) -> Result<Json<AggregateView>, AppError> {
    let started = Instant::now();
    let budget_end = started + state.aggregate_budget();
    let list = state
        .engine
        .list_containers(false, state.engine.deadline().min(budget_end))
        .await?;
    let running = list.len();
    let stats_timeout = state.limits.stats_timeout;
    let results: Vec<_> = futures::stream::iter(list.into_iter().map(|c| {
        let engine = state.engine.clone();
        async move {
            let id = c.id.unwrap_or_default();
            let name = strip_names(c.names).into_iter().next().unwrap_or_default();
            // The clock starts when this container's turn comes, not when
            // the whole batch was queued, so the bound on concurrency does
            // not eat into every container's deadline.
            let deadline = (Instant::now() + stats_timeout).min(budget_end);
            let outcome = engine.stats(&id, deadline).await;
            (id, name, outcome)
        }
    }))
    .buffer_unordered(state.limits.max_concurrency)
    .collect()
    .await;

    let mut rows = Vec::with_capacity(results.len());
    let mut missing = Vec::new();
    for (id, name, outcome) in results {
        match outcome.map(|raw| compute_stats(&raw)) {
            Ok(Ok(s)) => rows.push(s),
            Ok(Err(_)) => missing.push(Missing {
                id,
                name,
                reason: "stopped",
            }),
            Err(e) => missing.push(Missing {
                id,
                name,
                reason: missing_reason(&e),
            }),
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    missing.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    state.metrics.aggregate_missing.inc_by(missing.len() as u64);

    let totals = rows.iter().fold(
        Totals {
            containers: rows.len(),
            ..Totals::default()
        },
        |t, s| Totals {
            cpu_percent: t.cpu_percent + s.cpu.percent,
            memory_usage_bytes: t.memory_usage_bytes.saturating_add(s.memory.usage_bytes),
            network_rx_bytes: t.network_rx_bytes.saturating_add(s.network.rx_bytes),
            network_tx_bytes: t.network_tx_bytes.saturating_add(s.network.tx_bytes),
            block_read_bytes: t.block_read_bytes.saturating_add(s.block_io.read_bytes),
            block_write_bytes: t.block_write_bytes.saturating_add(s.block_io.write_bytes),
            pids: t.pids.saturating_add(s.pids),
            ..t
        },
    );
    Ok(Json(AggregateView {
        timestamp: now_rfc3339(),
        running,
        totals,
        containers: rows,
        missing,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_refs() {
        for ok in ["busy", "6de370dc5568", "a.b-c_d", "A1"] {
            assert!(valid_container_ref(ok), "{ok}");
        }
        for bad in [
            "",
            "../images",
            "a/b",
            "a?b",
            "/busy",
            "-x",
            ".x",
            "a b",
            "é",
        ] {
            assert!(!valid_container_ref(bad), "{bad}");
        }
        assert!(!valid_container_ref(&"a".repeat(256)));
    }

    /// A router whose engine socket does not exist: anything that reaches the
    /// engine answers 503, so 401/404/405 prove the request stopped earlier.
    fn offline_app(token: Option<&str>) -> (Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let args = super::super::ProxySettings {
            docker_host: dir.path().join("none.sock").display().to_string(),
            ..Default::default()
        };
        let config = Config::from_args_with_env_token(&args, token.map(str::to_string)).unwrap();
        (app(AppState::new(&config)), dir)
    }

    async fn call(app: &Router, method: &str, uri: &str, auth: Option<&str>) -> Response {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        app.clone()
            .oneshot(req.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn body_json(resp: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn writes_and_unknown_paths_stop_at_the_router() {
        let (app, _dir) = offline_app(None);
        for m in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let resp = call(&app, m, "/api/containers", None).await;
            assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{m}");
            assert_eq!(resp.headers()[header::ALLOW], "GET, HEAD");
            assert_eq!(body_json(resp).await["error"], "method_not_allowed");
        }
        let resp = call(&app, "GET", "/v1.41/containers/json", None).await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(body_json(resp).await["error"], "not_found");
        // Reaching the engine is what produces 503 here.
        let resp = call(&app, "GET", "/api/containers", None).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let resp = call(&app, "GET", "/api/containers/a%2Fb/stats", None).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let resp = call(&app, "GET", "/api/containers?all=nope", None).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn token_guards_api_but_not_health_or_metrics() {
        let (app, _dir) = offline_app(Some("t0ken"));
        for auth in [
            None,
            Some("Bearer nope"),
            Some("Basic t0ken"),
            Some("Bearer"),
        ] {
            let resp = call(&app, "GET", "/api/system/info", auth).await;
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
            assert!(resp.headers().contains_key(header::WWW_AUTHENTICATE));
        }
        let resp = call(&app, "GET", "/api/system/info", Some("bearer t0ken")).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let resp = call(&app, "GET", "/metrics", None).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let resp = call(&app, "GET", "/health", None).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = body_json(resp).await;
        assert_eq!(body["status"], "unhealthy");
        assert_eq!(body["reason"], "docker engine unreachable");
    }

    #[tokio::test]
    async fn overload_is_shed_with_503() {
        let dir = tempfile::tempdir().unwrap();
        let args = super::super::ProxySettings {
            docker_host: dir.path().join("none.sock").display().to_string(),
            max_in_flight: 1,
            ..Default::default()
        };
        let state = AppState::new(&Config::from_args_with_env_token(&args, None).unwrap());
        // Hold the only slot, as a slow request would.
        let _held = state.in_flight.clone().try_acquire_owned().unwrap();
        let shed = super::app(state);
        let resp = call(&shed, "GET", "/health", None).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert_eq!(body_json(resp).await["error"], "overloaded");
    }

    #[test]
    fn openapi_lists_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/health",
            "/metrics",
            "/api/openapi.json",
            "/api/containers",
            "/api/containers/{id}/stats",
            "/api/system/info",
            "/api/stats/aggregate",
        ] {
            let item = paths.get(p).unwrap_or_else(|| panic!("{p} missing"));
            assert!(item.get("get").is_some(), "{p}");
            for m in ["post", "put", "patch", "delete"] {
                assert!(item.get(m).is_none(), "{p} {m}");
            }
        }
        assert_eq!(paths.len(), 7);
    }
}
