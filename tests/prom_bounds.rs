//! Bounded Prometheus answers (issue 17): a body size limit, `Retry-After`
//! honoured and capped on 429/503, TLS failures not retried, the per-query
//! deadline named in seconds. Loopback servers only.

#[path = "support/prom/mod.rs"]
mod prom_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prom_support::{self as sp, response, serve, Misbehave};
use tars::model::Window;
use tars::prom::{self, Connection, PromConfig};
use tars::source::SourceError;

const OK_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"a"},"value":[1,"5"]}]}}"#;

/// Queries one `window_kpis` call sends: two per KPI and one for restarts.
const WINDOW_QUERIES: usize = 17;

/// Every query of a window in flight at once, quick retries.
fn cfg() -> PromConfig {
    PromConfig {
        retries: 3,
        retry_backoff_ms: 10,
        max_concurrency: 32,
        ..PromConfig::default()
    }
}

fn day1() -> Window {
    Window::day(sp::ga(), 1)
}

fn window_kpis(url: &str, cfg: &PromConfig) -> Result<(), SourceError> {
    let src = prom::connect(url, &Connection::default(), cfg).expect("connect");
    src.window_kpis(&day1()).map(drop)
}

/// A server answering the first `first` requests with `early`, then `later`.
fn switching(first: usize, early: Vec<u8>, later: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let url = serve(move |_| {
        if h.fetch_add(1, Ordering::SeqCst) < first {
            early.clone()
        } else {
            later.clone()
        }
    });
    (url, hits)
}

#[test]
fn retry_after_is_honoured_on_429() {
    let busy = response(429, "Retry-After: 1\r\n", "{}");
    let (url, hits) = switching(1, busy, response(200, "", OK_VECTOR));
    let started = Instant::now();
    window_kpis(&url, &cfg()).expect("answered after the wait");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "did not wait: {waited:?}");
    assert_eq!(hits.load(Ordering::SeqCst), WINDOW_QUERIES + 1);
}

#[test]
fn a_long_retry_after_is_capped() {
    let busy = response(503, "Retry-After: 3600\r\n", "{}");
    let (url, hits) = switching(usize::MAX, busy, Vec::new());
    let capped = PromConfig {
        retries: 1,
        max_retry_after_secs: 1,
        ..cfg()
    };
    let started = Instant::now();
    let err = window_kpis(&url, &capped).expect_err("always busy");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(
        took < Duration::from_secs(10),
        "the hour was waited for: {took:?}"
    );
    assert!(err.to_string().contains("HTTP 503 after retries"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 2 * WINDOW_QUERIES);
}

#[test]
fn an_endless_body_is_cut_at_the_limit_and_not_retried() {
    // No Content-Length: the body runs until the connection closes.
    let mut endless = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Connection: close\r\n\r\n"
        .to_vec();
    endless.extend(std::iter::repeat_n(b' ', 3 << 20));
    let (url, hits) = switching(usize::MAX, endless, Vec::new());
    let small = PromConfig {
        max_response_bytes: 1 << 20,
        ..cfg()
    };
    let err = window_kpis(&url, &small)
        .expect_err("too large")
        .to_string();
    assert!(
        err.contains("answer larger than 1048576 bytes ([prometheus] max_response_bytes)"),
        "{err}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), WINDOW_QUERIES);
}

#[test]
fn tls_failures_are_not_retried() {
    // A plain-HTTP server spoken to over https: the handshake fails.
    let fake = sp::fake_server(vec![Misbehave::Reply(200, OK_VECTOR.into())]);
    let url = fake.url.replace("http://", "https://");
    let err = window_kpis(&url, &cfg()).expect_err("tls");
    assert!(!err.to_string().contains("attempts"), "{err}");
    assert_eq!(fake.hits.load(Ordering::SeqCst), WINDOW_QUERIES);
}

#[test]
fn the_per_query_deadline_is_named_in_seconds() {
    let fake = sp::fake_server(vec![Misbehave::Hang(Duration::from_secs(30))]);
    let quick = PromConfig {
        query_timeout_secs: 1,
        ..cfg()
    };
    let err = window_kpis(&fake.url, &quick)
        .expect_err("hang")
        .to_string();
    assert!(
        err.contains("timed out after 1s (--query-timeout-secs)"),
        "{err}"
    );
}
