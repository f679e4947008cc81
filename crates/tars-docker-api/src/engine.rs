//! The engine client: a bollard connection with version negotiation, a cap
//! on concurrent calls, per-call deadlines and error classification.
//!
//! Every call the proxy makes is a GET; nothing here can change engine state.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::models::{ContainerStatsResponse, ContainerSummary, SystemInfo};
use bollard::query_parameters::{ListContainersOptionsBuilder, StatsOptionsBuilder};
use bollard::{ClientVersion, Docker, API_DEFAULT_VERSION};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::metrics::{EngineLabels, EngineOp, EngineOpLabels, EngineOutcome, Metrics};

/// Why an engine call failed. The `String` payloads are for logs only and
/// never reach an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("docker engine unavailable: {0}")]
    Unavailable(String),
    #[error("docker engine did not answer in time")]
    Timeout,
    #[error("too many docker engine calls in flight")]
    Busy,
    #[error("no such container")]
    NotFound,
    #[error("docker engine answered {status}: {message}")]
    Upstream { status: u16, message: String },
    #[error("unexpected docker engine response: {0}")]
    Protocol(String),
}

impl EngineError {
    fn outcome(&self) -> EngineOutcome {
        match self {
            Self::Unavailable(_) => EngineOutcome::unavailable,
            Self::Timeout => EngineOutcome::timeout,
            Self::Busy => EngineOutcome::busy,
            Self::NotFound => EngineOutcome::not_found,
            Self::Upstream { .. } | Self::Protocol(_) => EngineOutcome::engine_error,
        }
    }

    fn from_bollard(err: bollard::errors::Error) -> Self {
        use bollard::errors::Error as B;
        match err {
            B::DockerResponseServerError {
                status_code: 404, ..
            } => Self::NotFound,
            B::DockerResponseServerError {
                status_code,
                message,
            } => Self::Upstream {
                status: status_code,
                message,
            },
            B::RequestTimeoutError => Self::Timeout,
            e @ (B::IOError { .. }
            | B::HyperResponseError { .. }
            | B::HyperLegacyError { .. }
            | B::SocketNotFoundError(_)) => Self::Unavailable(e.to_string()),
            e => Self::Protocol(e.to_string()),
        }
    }
}

/// Shared handle to the engine.
pub struct Engine {
    socket: PathBuf,
    /// Set once the API version is known; cleared if the engine later
    /// refuses that version (it was replaced by an older one).
    client: Mutex<Option<Docker>>,
    permits: Semaphore,
    call_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl Engine {
    pub fn new(
        socket: PathBuf,
        max_calls: usize,
        call_timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            socket,
            client: Mutex::new(None),
            permits: Semaphore::new(max_calls),
            call_timeout,
            metrics,
        }
    }

    /// Default deadline for a call started now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.call_timeout
    }

    /// `GET /_ping`.
    pub async fn ping(&self, deadline: Instant) -> Result<(), EngineError> {
        self.call(EngineOp::ping, deadline, |d| async move {
            d.ping().await.map(|_| ())
        })
        .await
    }

    /// `GET /containers/json`.
    pub async fn list_containers(
        &self,
        all: bool,
        deadline: Instant,
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        self.call(EngineOp::list_containers, deadline, |d| async move {
            let opts = ListContainersOptionsBuilder::new().all(all).build();
            d.list_containers(Some(opts)).await
        })
        .await
    }

    /// `GET /containers/{id}/stats?stream=false`. Not one-shot: the engine
    /// then waits for a second sample so `precpu_stats` is filled and a CPU
    /// percentage can be computed, exactly as `docker stats --no-stream`.
    pub async fn stats(
        &self,
        id: &str,
        deadline: Instant,
    ) -> Result<ContainerStatsResponse, EngineError> {
        let id = id.to_string();
        self.call(EngineOp::container_stats, deadline, |d| async move {
            let opts = StatsOptionsBuilder::new()
                .stream(false)
                .one_shot(false)
                .build();
            let mut stream = d.stats(&id, Some(opts));
            match stream.next().await {
                Some(r) => r,
                None => Err(bollard::errors::Error::DockerStreamError {
                    error: "empty stats response".into(),
                }),
            }
        })
        .await
    }

    /// `GET /info`.
    pub async fn info(&self, deadline: Instant) -> Result<SystemInfo, EngineError> {
        self.call(EngineOp::info, deadline, |d| async move { d.info().await })
            .await
    }

    async fn call<T, F, Fut>(&self, op: EngineOp, deadline: Instant, f: F) -> Result<T, EngineError>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
    {
        let deadline = deadline.min(self.deadline());
        let started = Instant::now();
        let result = async {
            let _permit = match tokio::time::timeout_at(deadline, self.permits.acquire()).await {
                Ok(Ok(permit)) => permit,
                _ => return Err(EngineError::Busy),
            };
            let docker = self.client(deadline).await?;
            match tokio::time::timeout_at(deadline, f(docker)).await {
                Ok(r) => r.map_err(EngineError::from_bollard),
                Err(_) => Err(EngineError::Timeout),
            }
        }
        .await;
        if let Err(EngineError::Upstream {
            status: 400,
            message,
        }) = &result
        {
            if message.contains("client version") {
                self.forget_client();
            }
        }
        let outcome = match &result {
            Ok(_) => EngineOutcome::ok,
            Err(e) => e.outcome(),
        };
        self.metrics
            .engine_calls
            .get_or_create(&EngineLabels {
                operation: op,
                outcome,
            })
            .inc();
        self.metrics
            .engine_duration
            .get_or_create(&EngineOpLabels { operation: op })
            .observe(started.elapsed().as_secs_f64());
        // Clients only see a short reason; the detail belongs in the log.
        match &result {
            Err(EngineError::NotFound) => {
                tracing::debug!(operation = ?op, "engine: no such container")
            }
            Err(e) => tracing::warn!(operation = ?op, error = %e, "engine call failed"),
            Ok(_) => {}
        }
        result
    }

    fn forget_client(&self) {
        if let Ok(mut guard) = self.client.lock() {
            *guard = None;
        }
    }

    /// Returns a client speaking an API version the engine accepts.
    ///
    /// bollard's own `negotiate_version` asks `/v1.49/version`, which engines
    /// older than API 1.49 reject outright ("client version is too new"), so
    /// the version is read from the unversioned `/version` endpoint instead.
    async fn client(&self, deadline: Instant) -> Result<Docker, EngineError> {
        if let Some(d) = self.client.lock().ok().and_then(|g| g.clone()) {
            return Ok(d);
        }
        let started = Instant::now();
        let probed = tokio::time::timeout_at(deadline, probe_api_version(&self.socket)).await;
        let probed = match probed {
            Ok(r) => r,
            Err(_) => Err(EngineError::Timeout),
        };
        self.metrics
            .engine_calls
            .get_or_create(&EngineLabels {
                operation: EngineOp::version,
                outcome: match &probed {
                    Ok(_) => EngineOutcome::ok,
                    Err(e) => e.outcome(),
                },
            })
            .inc();
        self.metrics
            .engine_duration
            .get_or_create(&EngineOpLabels {
                operation: EngineOp::version,
            })
            .observe(started.elapsed().as_secs_f64());
        let server = probed?;
        let version = if (server.major_version, server.minor_version)
            < (
                API_DEFAULT_VERSION.major_version,
                API_DEFAULT_VERSION.minor_version,
            ) {
            server
        } else {
            *API_DEFAULT_VERSION
        };
        let path = self
            .socket
            .to_str()
            .ok_or_else(|| EngineError::Unavailable("socket path is not UTF-8".into()))?;
        // bollard's own timeout is a backstop; the real deadline is ours.
        let backstop = self.call_timeout.as_secs().saturating_add(5);
        let docker = Docker::connect_with_unix(path, backstop, &version)
            .map_err(EngineError::from_bollard)?;
        tracing::info!(
            api_version = %format!("{}.{}", version.major_version, version.minor_version),
            "connected to docker engine"
        );
        if let Ok(mut guard) = self.client.lock() {
            *guard = Some(docker.clone());
        }
        Ok(docker)
    }
}

/// Reads `ApiVersion` from the engine's unversioned `GET /version` with a
/// minimal HTTP/1.0 exchange (the server closes the connection, so the body
/// ends at EOF and is never chunked).
async fn probe_api_version(socket: &Path) -> Result<ClientVersion, EngineError> {
    let unavailable = |e: std::io::Error| EngineError::Unavailable(e.to_string());
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(unavailable)?;
    stream
        .write_all(b"GET /version HTTP/1.0\r\nHost: docker\r\nAccept: application/json\r\n\r\n")
        .await
        .map_err(unavailable)?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(1 << 20)
        .read_to_end(&mut raw)
        .await
        .map_err(unavailable)?;
    parse_version_response(&raw)
}

fn parse_version_response(raw: &[u8]) -> Result<ClientVersion, EngineError> {
    let protocol = |m: &str| EngineError::Protocol(m.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| protocol("no HTTP header terminator"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| protocol("non-UTF-8 header"))?;
    let status_line = head.lines().next().unwrap_or("");
    let status = status_line.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(EngineError::Upstream {
            status: status.parse().unwrap_or(0),
            message: "GET /version failed".into(),
        });
    }
    #[derive(serde::Deserialize)]
    struct Version {
        #[serde(rename = "ApiVersion")]
        api_version: String,
    }
    let body: Version = serde_json::from_slice(&raw[split + 4..])
        .map_err(|e| protocol(&format!("bad /version body: {e}")))?;
    let (major, minor) = body
        .api_version
        .split_once('.')
        .ok_or_else(|| protocol("bad ApiVersion"))?;
    Ok(ClientVersion {
        major_version: major.parse().map_err(|_| protocol("bad ApiVersion"))?,
        minor_version: minor.parse().map_err(|_| protocol("bad ApiVersion"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_response() {
        let raw = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n\r\n{\"ApiVersion\":\"1.41\",\"Version\":\"20.10.24\"}\n";
        let v = parse_version_response(raw).unwrap();
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        assert!(matches!(
            parse_version_response(b"HTTP/1.1 500 Internal\r\n\r\n{}"),
            Err(EngineError::Upstream { status: 500, .. })
        ));
        assert!(parse_version_response(b"garbage").is_err());
        assert!(parse_version_response(b"HTTP/1.1 200 OK\r\n\r\n{\"ApiVersion\":\"x\"}").is_err());
    }

    #[tokio::test]
    async fn missing_socket_is_unavailable_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::new(
            dir.path().join("absent.sock"),
            4,
            Duration::from_secs(2),
            Arc::new(Metrics::new()),
        );
        let err = engine.ping(engine.deadline()).await.unwrap_err();
        assert!(matches!(err, EngineError::Unavailable(_)), "{err:?}");
    }
}
