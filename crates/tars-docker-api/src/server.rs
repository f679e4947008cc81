//! The accept loop: HTTP/1.1 connections with a header-read deadline, an idle
//! deadline and a connection limit whose overflow is shed but still answers
//! `/health` (sizes and the shed pool: [`super::conns`]).
//!
//! Why not `axum::serve`: it has no header-read deadline and no connection
//! limit, so a client opening idle connections holds memory and file
//! descriptors for ever, and the orchestrator's health probe then finds no
//! room.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use super::conns::{self, Capacity, ShedPool};
use super::error::AppError;
use super::metrics::{ConnLabels, Metrics, SlotLabel};
use super::routes::{app, health, metrics, AppState};
use super::DockerApiError;

/// Connection limits of the listener.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// A client must send a request's headers within this long of the
    /// connection being ready for one (also bounds an idle keep-alive).
    pub header_read_timeout: Duration,
    /// A connection on which no byte moves either way for this long is closed
    /// (a client that stops reading its answer, say).
    pub idle_timeout: Duration,
    /// Connections served normally; beyond them connections are shed (one
    /// request, `/health` only), the oldest shed one closed when a newcomer
    /// finds the shed pool full.
    pub max_connections: usize,
}

/// Header deadline of a shed connection: it gets one quick request.
const SHED_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// Pause after a failed accept (out of file descriptors): the error would
/// repeat at once and spin the loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Serves [`app`] on `listener` until `shutdown` resolves, then stops
/// accepting and waits for open connections (each bounded by the request,
/// header and idle deadlines).
pub async fn serve<F>(
    listener: TcpListener,
    state: AppState,
    shutdown: F,
) -> Result<(), DockerApiError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let limits = state.conn_limits;
    let capacity = Capacity::new(
        limits.max_connections,
        conns::fd_limit(),
        state.limits.max_engine_calls,
    );
    if capacity.served < limits.max_connections {
        tracing::warn!(
            asked = limits.max_connections,
            served = capacity.served,
            "Connection limit lowered to fit the open-files limit (ulimit -n)"
        );
    }
    tracing::info!(
        served = capacity.served,
        shed = capacity.shed,
        "Connection limits"
    );
    let metrics = state.metrics.clone();
    let normal = app(state.clone());
    let shed = shed_app(state);
    let slots = Arc::new(Semaphore::new(capacity.served));
    let mut shed_pool = ShedPool::new(capacity.shed);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = slots.clone().try_acquire_owned().ok();
        let shedding = permit.is_none();
        if shedding {
            let closed = shed_pool.make_room();
            metrics.connections_evicted.inc_by(closed as u64);
        }
        let (router, header_timeout, slot) = if shedding {
            (shed.clone(), SHED_HEADER_TIMEOUT, SlotLabel::shed)
        } else {
            (
                normal.clone(),
                limits.header_read_timeout,
                SlotLabel::served,
            )
        };
        let open = Open::new(&metrics, slot, permit);
        let io = TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout));
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .keep_alive(!shedding)
            .serve_connection(io, TowerToHyperService::new(router));
        let conn = graceful.watch(conn);
        let task = tokio::spawn(async move {
            // Errors here are the client's (reset, deadline): nothing to do.
            let _ = conn.await;
            drop(open);
        });
        if shedding {
            shed_pool.push(task.abort_handle());
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A connection counted open: its slot back and the gauge down when the
/// task ends, also when it is aborted to make room.
struct Open {
    gauge: prometheus_client::metrics::gauge::Gauge,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Open {
    fn new(metrics: &Metrics, slot: SlotLabel, permit: Option<OwnedSemaphorePermit>) -> Self {
        let gauge = metrics
            .connections
            .get_or_create(&ConnLabels { slot })
            .clone();
        gauge.inc();
        Self {
            gauge,
            _permit: permit,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

/// What a connection beyond the limit may do: ask for `/health` (the
/// orchestrator must still see the proxy alive) or `/metrics` (an overload
/// is when its graphs are wanted), nothing else.
fn shed_app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(|| async { AppError::Overloaded })
        .with_state(state)
}

/// A stream that fails with `TimedOut` once no byte has moved either way for
/// `idle`.
struct IdleTimeout {
    inner: TcpStream,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
}

impl IdleTimeout {
    fn new(inner: TcpStream, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn touch(&mut self) {
        let deadline = Instant::now() + self.idle;
        self.timer.as_mut().reset(deadline);
    }

    /// Passes a ready result on (and restarts the clock), or turns a pending
    /// one into an error once the deadline has passed.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(r) => {
                self.touch();
                Poll::Ready(r)
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle past the idle timeout",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for IdleTimeout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.watch(cx, polled)
    }
}

impl AsyncWrite for IdleTimeout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, polled)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (client.unwrap(), accepted.unwrap().0)
    }

    #[tokio::test]
    async fn a_silent_peer_is_cut_and_a_talking_one_is_not() {
        let (mut client, server) = pair().await;
        let mut server = IdleTimeout::new(server, Duration::from_millis(300));
        let mut buf = [0u8; 8];
        // A byte every 100 ms keeps the connection alive past the deadline.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            client.write_all(b"x").await.unwrap();
            assert_eq!(server.read(&mut buf).await.unwrap(), 1);
        }
        let started = Instant::now();
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    }
}
