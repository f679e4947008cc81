//! The watch's HTTP listener (`/metrics`, `/healthz`, `/readyz`) and its
//! signal handling, on a small runtime of their own: the stages are blocking
//! work and run on the scheduler's thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::{WatchSettings, WatchState};
use crate::error::{Error, Result};

#[derive(Clone)]
struct App {
    settings: Arc<WatchSettings>,
    state: Arc<WatchState>,
}

/// The running listener; `join` waits for it after the stop flag is set.
pub struct Listener(Option<JoinHandle<()>>);

impl Listener {
    pub fn join(mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

/// Binds `settings.listen` (an error here is the caller's: exit before any
/// work) and serves until the state's stop flag is set.
pub fn start(settings: WatchSettings, state: Arc<WatchState>) -> Result<Listener> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the listener's runtime: {e}")))?;
    let addr = settings.listen;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(addr))
        .map_err(|e| Error::Usage(format!("--listen {addr}: {e}")))?;
    let signals = rt
        .block_on(async { signals() })
        .map_err(|e| Error::Usage(format!("cannot install signal handlers: {e}")))?;
    let app = App {
        settings: Arc::new(settings),
        state: state.clone(),
    };
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(app);
    let handle = std::thread::spawn(move || {
        rt.block_on(async move {
            let stop = state.clone();
            tokio::spawn(async move {
                signals.await;
                stop.stop.store(true, Ordering::SeqCst);
            });
            let until_stopped = async move {
                while !state.stop.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(until_stopped)
                .await
            {
                eprintln!("tars watch: listener: {e}");
            }
        });
    });
    Ok(Listener(Some(handle)))
}

/// SIGTERM or SIGINT, whichever comes first; installed before returning so a
/// signal during the catch-up is not lost.
fn signals() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

async fn metrics(State(app): State<App>) -> impl IntoResponse {
    let dir = app.settings.data_dir.clone();
    let stages = app.state.stages();
    let ready = app.state.ready.load(Ordering::SeqCst);
    // Reading the artifacts is blocking file I/O.
    let body = tokio::task::spawn_blocking(move || super::exporter::render(&dir, &stages, ready))
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
}

async fn readyz(State(app): State<App>) -> impl IntoResponse {
    if app.state.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "catching up\n")
    }
}
