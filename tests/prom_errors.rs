//! The Prometheus source against a loopback server that misbehaves on
//! purpose: refused connections, DNS and TLS failures, hangs, server errors,
//! garbage answers, NaN samples, bad flags. Each failure must be one line
//! that names the server. (The real servers are in tests/prometheus.rs.)

#[path = "support/prom/mod.rs"]
mod prom_support;

use std::time::Duration;

use prom_support::{self as sp, Misbehave};
use tars::model::{Kpi, Window};
use tars::prom::{self, Auth, Connection, PromConfig};
use tars::source::SourceError;

fn fast_cfg() -> PromConfig {
    PromConfig {
        retries: 2,
        retry_backoff_ms: 10,
        ..PromConfig::default()
    }
}

fn one_line_naming(err: &SourceError, server: &str, parts: &[&str]) -> String {
    let msg = err.to_string();
    println!("{msg}");
    assert_eq!(msg.lines().count(), 1, "not one line: {msg}");
    assert!(msg.contains(server), "server missing: {msg}");
    for p in parts {
        assert!(msg.contains(p), "{p:?} missing: {msg}");
    }
    msg
}

fn day1() -> Window {
    Window::day(sp::ga(), 1)
}

const OK_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"a"},"value":[1,"5"]}]}}"#;

#[test]
fn refused_connection_is_one_line() {
    let port = sp::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let src = prom::connect(&url, &Connection::default(), &fast_cfg()).expect("connect");
    let err = src.window_kpis(&day1()).expect_err("refused");
    let msg = one_line_naming(&err, &url, &["KPI", "query `"]);
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
}

#[test]
fn dns_failure_is_one_line() {
    let url = "http://no-such-host.invalid:9090";
    let cfg = PromConfig {
        retries: 0,
        ..fast_cfg()
    };
    let src = prom::connect(url, &Connection::default(), &cfg).expect("connect");
    let err = src
        .kpi_series(Kpi::ErrorRate, &day1(), 900)
        .expect_err("dns");
    one_line_naming(&err, url, &["error_rate", "dns"]);
}

#[test]
fn hanging_server_times_out() {
    let fake = sp::fake_server(vec![Misbehave::Hang(Duration::from_secs(30))]);
    let cfg = prom::resolve(
        &prom::Overrides {
            query_timeout_secs: Some(1),
            ..prom::Overrides::default()
        },
        &fast_cfg(),
    );
    let src = prom::connect(&fake.url, &Connection::default(), &cfg).expect("connect");
    let err = src.window_kpis(&day1()).expect_err("hang");
    one_line_naming(&err, &fake.url, &["timed out", "query `"]);
    // Timeouts are not retried: one request per query at most.
    assert!(fake.hits.load(std::sync::atomic::Ordering::SeqCst) <= 17);
}

#[test]
fn total_timeout_bounds_a_whole_call() {
    let fake = sp::fake_server(vec![Misbehave::Hang(Duration::from_secs(30))]);
    let cfg = prom::resolve(
        &prom::Overrides {
            query_timeout_secs: Some(20),
            total_timeout_secs: Some(1),
            ..prom::Overrides::default()
        },
        &fast_cfg(),
    );
    let src = prom::connect(&fake.url, &Connection::default(), &cfg).expect("connect");
    let err = src.window_kpis(&day1()).expect_err("total timeout");
    one_line_naming(&err, &fake.url, &["total-timeout-secs"]);
}

#[test]
fn server_error_is_retried_then_succeeds() {
    let fake = sp::fake_server(vec![
        Misbehave::Reply(503, "overloaded".into()),
        Misbehave::Reply(
            500,
            r#"{"status":"error","errorType":"internal","error":"boom"}"#.into(),
        ),
        Misbehave::Reply(200, OK_VECTOR.into()),
    ]);
    let one_at_a_time = PromConfig {
        max_concurrency: 1,
        ..fast_cfg()
    };
    let src = prom::connect(&fake.url, &Connection::default(), &one_at_a_time).expect("connect");
    let got = src.window_kpis(&day1()).expect("retried");
    assert_eq!(got.services["a"][&Kpi::CpuCores], 5.0);
    assert_eq!(got.restarts["a"], 5);
}

#[test]
fn persistent_server_error_is_reported_after_retries() {
    let fake = sp::fake_server(vec![Misbehave::Reply(
        502,
        "<html>bad gateway</html>".into(),
    )]);
    let src = prom::connect(&fake.url, &Connection::default(), &fast_cfg()).expect("connect");
    let err = src
        .kpi_series(Kpi::P99LatencyMs, &day1(), 900)
        .expect_err("502");
    one_line_naming(
        &err,
        &fake.url,
        &["p99_latency_ms", "HTTP 502", "after retries"],
    );
    assert_eq!(fake.hits.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn promql_error_shows_the_server_message() {
    let body = r#"{"status":"error","errorType":"bad_data","error":"1:12: parse error: unexpected \"}\""}"#;
    let fake = sp::fake_server(vec![Misbehave::Reply(400, body.into())]);
    let src = prom::connect(&fake.url, &Connection::default(), &fast_cfg()).expect("connect");
    let err = src
        .kpi_series(Kpi::ThroughputRps, &day1(), 900)
        .expect_err("400");
    one_line_naming(
        &err,
        &fake.url,
        &[
            "throughput_rps",
            "HTTP 400",
            "bad_data",
            "parse error",
            "http_requests_total",
        ],
    );
    // 4xx is not retried.
    assert_eq!(fake.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn unauthorized_is_reported_with_a_hint() {
    let fake = sp::fake_server(vec![Misbehave::Reply(401, "Unauthorized".into())]);
    let args = Connection {
        auth: Auth::Bearer("secret-token".into()),
        headers: vec!["X-Scope-OrgID: team-a".into()],
        ..Connection::default()
    };
    let src = prom::connect(&fake.url, &args, &fast_cfg()).expect("connect");
    let err = src.window_kpis(&day1()).expect_err("401");
    let msg = one_line_naming(&err, &fake.url, &["HTTP 401", "bearer"]);
    assert!(!msg.contains("secret-token"), "{msg}");
    let reqs = fake.requests.lock().expect("requests").clone();
    let first = reqs.first().expect("a request").to_lowercase();
    assert!(
        first.contains("authorization: bearer secret-token"),
        "{first}"
    );
    assert!(first.contains("x-scope-orgid: team-a"), "{first}");
}

#[test]
fn garbage_and_wrong_shapes_are_reported() {
    for body in [
        "<html>hello</html>",
        r#"{"status":"success"}"#,
        r#"{"foo": 1}"#,
        "",
    ] {
        let fake = sp::fake_server(vec![Misbehave::Reply(200, body.into())]);
        let src = prom::connect(&fake.url, &Connection::default(), &fast_cfg()).expect("connect");
        let err = src.window_kpis(&day1()).expect_err("garbage");
        assert!(matches!(err, SourceError::Response { .. }), "{body}: {err}");
        one_line_naming(&err, &fake.url, &["KPI", "query `"]);
    }
}

#[test]
fn nan_and_inf_samples_are_left_out_with_a_warning() {
    let body = r#"{"status":"success","warnings":["query hit a limit"],"data":{"resultType":"vector","result":[
        {"metric":{"service":"a"},"value":[1,"NaN"]},{"metric":{"service":"b"},"value":[1,"+Inf"]},
        {"metric":{"service":"c"},"value":[1,"2"]}]}}"#;
    let fake = sp::fake_server(vec![Misbehave::Reply(200, body.into())]);
    let src = prom::connect(&fake.url, &Connection::default(), &fast_cfg()).expect("connect");
    let got = src.window_kpis(&day1()).expect("answer");
    assert!(!got.services.contains_key("a"));
    assert!(!got.services.contains_key("b"));
    assert_eq!(got.services["c"][&Kpi::Availability], 2.0);
    assert!(
        got.warnings.iter().any(|w| w.contains("NaN")),
        "{:?}",
        got.warnings
    );
    assert!(
        got.warnings.iter().any(|w| w.contains("query hit a limit")),
        "{:?}",
        got.warnings
    );
    assert!(got.warnings.iter().all(|w| w.lines().count() == 1));

    let range = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"service":"a"},"values":[[TS1,"NaN"],[TS2,"3"]]}]}}"#;
    let w = day1();
    let range = range
        .replace("TS1", &(w.start_secs() + 900).to_string())
        .replace("TS2", &(w.start_secs() + 1800).to_string());
    let fake = sp::fake_server(vec![Misbehave::Reply(200, range)]);
    let src = prom::connect(&fake.url, &Connection::default(), &fast_cfg()).expect("connect");
    let s = src.kpi_series(Kpi::CpuCores, &w, 900).expect("series");
    assert_eq!(s[0].points.len(), 96);
    assert!(s[0].points[0].1.is_nan());
    assert_eq!(s[0].points[1].1, 3.0);
    assert!(s[0].points[2].1.is_nan(), "a gap stays NaN");
}

#[test]
fn empty_result_is_no_data() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    let fake = sp::fake_server(vec![Misbehave::Reply(200, body.into())]);
    let src = prom::connect(&fake.url, &Connection::default(), &fast_cfg()).expect("connect");
    let err = src.window_kpis(&day1()).expect_err("empty");
    assert!(matches!(err, SourceError::NoData { .. }), "{err}");
    one_line_naming(&err, &fake.url, &["KPI availability", "query `"]);
}

#[test]
fn replay_of_a_missing_recording_is_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Err(err) = prom::replay(&dir.path().join("nope"), &PromConfig::default()) else {
        panic!("a missing recording must be an error")
    };
    assert!(matches!(err, SourceError::Replay { .. }), "{err}");
    assert_eq!(err.to_string().lines().count(), 1);
}

#[test]
fn bad_flags_are_config_errors() {
    let cfg = PromConfig::default();
    for args in [
        Connection {
            headers: vec!["no colon".into()],
            ..Connection::default()
        },
        Connection {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Connection::default()
        },
    ] {
        let Err(err) = prom::connect("http://127.0.0.1:9", &args, &cfg) else {
            panic!("{args:?} must be refused")
        };
        assert!(matches!(err, SourceError::Config(_)), "{err}");
    }
    let Err(err) = prom::connect("ftp://x", &Connection::default(), &cfg) else {
        panic!("ftp must be refused")
    };
    assert!(matches!(err, SourceError::Config(_)), "{err}");
}

#[test]
fn tls_error_is_one_line() {
    // A plain-HTTP server spoken to over https: the handshake fails.
    let fake = sp::fake_server(vec![Misbehave::Reply(200, OK_VECTOR.into())]);
    let url = fake.url.replace("http://", "https://");
    let src = prom::connect(&url, &Connection::default(), &fast_cfg()).expect("connect");
    let err = src.window_kpis(&day1()).expect_err("tls");
    assert!(matches!(err, SourceError::Request { .. }), "{err}");
    one_line_naming(&err, &url, &["KPI", "query `"]);
}

#[test]
fn basic_auth_is_sent_as_given() {
    let fake = sp::fake_server(vec![Misbehave::Reply(200, OK_VECTOR.into())]);
    let args = Connection {
        auth: Auth::Basic {
            user: "tars".into(),
            password: "s3cret".into(),
        },
        ..Connection::default()
    };
    let one_at_a_time = PromConfig {
        max_concurrency: 1,
        ..fast_cfg()
    };
    let src = prom::connect(&fake.url, &args, &one_at_a_time).expect("connect");
    src.window_kpis(&day1()).expect("answer");
    let reqs = fake.requests.lock().expect("requests").clone();
    // base64("tars:s3cret")
    assert!(
        reqs[0]
            .to_lowercase()
            .contains("authorization: basic dgfyczpzm2nyzxq="),
        "{}",
        reqs[0]
    );
    assert!(reqs[0].contains("GET /api/v1/query?query="), "{}", reqs[0]);
}
