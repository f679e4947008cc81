//! Request middleware: access log + metrics, load shedding, request deadline
//! and bearer-token check, applied in that order from the outside in.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::error::AppError;
use super::metrics::{HttpLabels, MethodLabel};
use super::routes::AppState;

/// Longest request path written to the access log; a client should not be
/// able to make one log line arbitrarily large.
const MAX_LOGGED_PATH: usize = 200;

/// Decrements the in-flight gauge even when the client disconnects and the
/// request future is dropped half-way.
struct InFlight<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Access log line and request metrics. Headers (and so the token) are never
/// logged; the route label is the matched template so ids do not become
/// label values.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let mut path = req.uri().path().to_owned();
    if path.len() > MAX_LOGGED_PATH {
        let mut cut = MAX_LOGGED_PATH;
        while !path.is_char_boundary(cut) {
            cut -= 1;
        }
        path.truncate(cut);
        path.push('…');
    }
    let started = Instant::now();
    state.metrics.http_in_flight.inc();
    let guard = InFlight(&state.metrics.http_in_flight);
    let resp = next.run(req).await;
    drop(guard);
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    let labels = HttpLabels {
        method: MethodLabel::from(&method),
        route: route.clone(),
        status,
    };
    state.metrics.http_requests.get_or_create(&labels).inc();
    state
        .metrics
        .http_duration
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "tars::docker_api::access",
        method = %method,
        route = %route,
        path = %path,
        status,
        latency_ms = (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
        "request"
    );
    resp
}

/// Refuses work beyond `--max-in-flight` at once instead of queueing it:
/// a queue in front of a slow engine only turns overload into timeouts.
pub async fn shed_load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.in_flight.clone().try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => AppError::Overloaded.into_response(),
    }
}

/// Bounds the whole request so no client ever waits past the deadline.
pub async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.limits.request_timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => AppError::RequestTimeout.into_response(),
    }
}

/// Requires the bearer token on everything under `/api/` when one is
/// configured. `/health` and `/metrics` stay open: they reveal nothing about
/// containers and are what orchestrators and scrapers probe without secrets.
pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(token) = state.token.as_deref() else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    if path != "/api" && !path.starts_with("/api/") {
        return next.run(req).await;
    }
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| v.as_bytes())
        .and_then(bearer_credential);
    match presented {
        Some(cred) if token.matches(cred) => next.run(req).await,
        _ => AppError::Unauthorized.into_response(),
    }
}

/// Extracts the credential of an `Authorization: Bearer <token>` header; the
/// scheme name is case-insensitive per RFC 9110.
fn bearer_credential(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer ";
    if value.len() <= SCHEME.len() || !value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let cred = value[SCHEME.len()..].trim_ascii();
    (!cred.is_empty()).then_some(cred)
}

#[cfg(test)]
mod tests {
    use super::bearer_credential;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_credential(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_credential(b"bearer  abc "), Some(&b"abc"[..]));
        assert_eq!(bearer_credential(b"Basic abc"), None);
        assert_eq!(bearer_credential(b"Bearer "), None);
        assert_eq!(bearer_credential(b"Bearer"), None);
        assert_eq!(bearer_credential(b""), None);
    }
}
