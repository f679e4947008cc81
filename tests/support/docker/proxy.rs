//! A Unix-socket HTTP proxy placed between tars and the test dockerd. It
//! records every request that reaches it (so a test can prove a request did
//! NOT reach the engine), can hold back requests whose path matches a
//! pattern, and can play a hung engine that accepts and never answers.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};

type Body = BoxBody<Bytes, hyper::Error>;

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<(String, String)>>,
    delays: Mutex<Vec<(String, Duration)>>,
}

/// Handle to a running proxy; the listener task stops when this is dropped.
pub struct CountingProxy {
    pub socket: PathBuf,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl CountingProxy {
    /// Forwards to `upstream`. Must be called inside a tokio runtime.
    pub fn forward(socket: PathBuf, upstream: &Path) -> Self {
        Self::start(socket, Some(upstream.to_path_buf()))
    }

    /// Accepts connections and requests but never answers.
    pub fn hang(socket: PathBuf) -> Self {
        Self::start(socket, None)
    }

    fn start(socket: PathBuf, upstream: Option<PathBuf>) -> Self {
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket).expect("bind proxy socket");
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let s = s.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(req, s.clone(), upstream.clone()));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            socket,
            shared,
            task,
        }
    }

    /// `unix://` address for tars' `--docker-host`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Requests seen so far as `(method, path and query)`.
    pub fn seen(&self) -> Vec<(String, String)> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Holds requests whose path contains `pattern` for `delay` before
    /// forwarding them.
    pub fn delay(&self, pattern: &str, delay: Duration) {
        self.shared
            .delays
            .lock()
            .unwrap()
            .push((pattern.to_string(), delay));
    }
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    upstream: Option<PathBuf>,
) -> Result<Response<Body>, Infallible> {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    shared
        .seen
        .lock()
        .unwrap()
        .push((req.method().to_string(), path.clone()));
    let Some(upstream) = upstream else {
        std::future::pending::<()>().await;
        unreachable!()
    };
    let delay = shared
        .delays
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| path.contains(p.as_str()))
        .map(|(_, d)| *d)
        .max();
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    Ok(match forward(req, &upstream).await {
        Ok(resp) => resp.map(|b| b.boxed()),
        Err(e) => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(
                Full::new(Bytes::from(format!("counting proxy: {e}")))
                    .map_err(|never| match never {})
                    .boxed(),
            )
            .unwrap(),
    })
}

async fn forward(
    req: Request<Incoming>,
    upstream: &Path,
) -> Result<Response<Incoming>, Box<dyn std::error::Error + Send + Sync>> {
    let stream = UnixStream::connect(upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender.send_request(req).await?)
}
