//! The single error type of the HTTP layer and its JSON rendering.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::engine::EngineError;

/// Every failure a handler or middleware can answer with.
///
/// The body is always `{"error": <code>, "message": <short reason>}`; engine
/// messages, socket paths and other internals go to the log, never the body.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("missing or invalid bearer token")]
    Unauthorized,
    #[error("no such route")]
    NotFound,
    #[error("method not allowed; this API is read-only")]
    MethodNotAllowed,
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("no such container")]
    ContainerNotFound,
    #[error("container is not running")]
    ContainerNotRunning,
    #[error("docker engine unavailable")]
    EngineUnavailable,
    #[error("docker engine busy, retry later")]
    EngineBusy,
    #[error("docker engine did not answer in time")]
    EngineTimeout,
    #[error("docker engine returned an error")]
    EngineFailed,
    #[error("request timed out")]
    RequestTimeout,
    #[error("too many requests in flight")]
    Overloaded,
}

impl AppError {
    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound | Self::ContainerNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::ContainerNotRunning => StatusCode::CONFLICT,
            Self::EngineUnavailable | Self::EngineBusy | Self::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::EngineFailed => StatusCode::BAD_GATEWAY,
            Self::EngineTimeout | Self::RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BadRequest(_) => "bad_request",
            Self::ContainerNotFound => "container_not_found",
            Self::ContainerNotRunning => "container_not_running",
            Self::EngineUnavailable => "engine_unavailable",
            Self::EngineBusy => "engine_busy",
            Self::EngineTimeout => "engine_timeout",
            Self::EngineFailed => "engine_error",
            Self::RequestTimeout => "request_timeout",
            Self::Overloaded => "overloaded",
        }
    }
}

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound => Self::ContainerNotFound,
            EngineError::Unavailable(_) => Self::EngineUnavailable,
            EngineError::Busy => Self::EngineBusy,
            EngineError::Timeout => Self::EngineTimeout,
            EngineError::Upstream { .. } | EngineError::Protocol(_) => Self::EngineFailed,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut resp = (
            status,
            Json(json!({ "error": self.code(), "message": self.to_string() })),
        )
            .into_response();
        let headers = resp.headers_mut();
        match self {
            Self::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"tars-docker-api\""),
                );
            }
            Self::MethodNotAllowed => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            }
            Self::EngineBusy | Self::Overloaded => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}
