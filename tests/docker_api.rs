//! End-to-end tests of `tars docker-api` against a real, private dockerd.
//!
//! The engine (see `support/docker/engine.rs`) is started once per test
//! binary and shared; tests that use it are serialised. Every number the
//! proxy serves is checked against what the engine itself reports.

#[path = "support/docker/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    StatsOptionsBuilder,
};
use clap::Parser;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use support::engine::{self, run_container, EngineInfo};
use support::proxy::CountingProxy;
use tars::docker_api::{serve, AppState, Config, DockerApiError, ProxySettings};

/// A tars instance served in-process on an ephemeral loopback port.
struct Tars {
    base: String,
    http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<(), DockerApiError>>,
}

impl Tars {
    async fn start(args: ProxySettings, env_token: Option<&str>) -> Self {
        let config = Config::from_args_with_env_token(&args, env_token.map(str::to_string))
            .expect("valid test config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(serve(listener, AppState::new(&config), async {
            let _ = rx.await;
        }));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Self {
            base,
            http,
            shutdown: Some(tx),
            handle,
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request to tars");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None).await
    }
}

fn engine_args(info: &EngineInfo) -> ProxySettings {
    args_for(&format!("unix://{}", info.socket.display()))
}

/// Generous deadlines: these tests check numbers, not speed, and a loaded CI
/// machine can stretch the engine's ~2 s stats call. Tests about timeouts set
/// their own.
fn args_for(docker_host: &str) -> ProxySettings {
    ProxySettings {
        listen: "127.0.0.1:0".into(),
        docker_host: docker_host.into(),
        engine_timeout: Duration::from_secs(20),
        stats_timeout: Duration::from_secs(20),
        request_timeout: Duration::from_secs(40),
        ..ProxySettings::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn as_u64(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

fn as_f64(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn containers_match_engine_list() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let tars = Tars::start(engine_args(eng), None).await;
        let docker = eng.client();
        for (query, all) in [("", true), ("?all=true", true), ("?all=false", false)] {
            let (status, body) = tars.get(&format!("/api/containers{query}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let theirs = docker
                .list_containers(Some(ListContainersOptionsBuilder::new().all(all).build()))
                .await
                .unwrap();
            let ours: BTreeMap<&str, &Value> = body["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| (c["id"].as_str().unwrap(), c))
                .collect();
            assert_eq!(as_u64(&body["count"]) as usize, theirs.len());
            assert_eq!(ours.len(), theirs.len());
            for c in &theirs {
                let id = c.id.as_deref().unwrap();
                let v = ours
                    .get(id)
                    .unwrap_or_else(|| panic!("{id} missing: {body}"));
                let names: Vec<String> = c
                    .names
                    .clone()
                    .unwrap()
                    .iter()
                    .map(|n| n.trim_start_matches('/').to_string())
                    .collect();
                assert_eq!(v["names"], serde_json::json!(names));
                assert_eq!(v["image"], c.image.clone().unwrap());
                assert_eq!(v["state"], c.state.unwrap().to_string());
                // "Up 11 seconds" ticks between the two reads; compare the kind.
                let first = |s: &str| s.split_whitespace().next().map(str::to_owned);
                assert_eq!(
                    first(v["status"].as_str().unwrap()),
                    first(c.status.as_deref().unwrap())
                );
                assert_eq!(as_u64(&v["created"]) as i64, c.created.unwrap());
                assert!(v["ports"].is_array());
                assert_eq!(
                    v["labels"][engine::TEST_LABEL].as_str(),
                    c.labels
                        .as_ref()
                        .unwrap()
                        .get(engine::TEST_LABEL)
                        .map(String::as_str)
                );
            }
            assert!(ours.contains_key(eng.busy_id.as_str()));
            assert!(ours.contains_key(eng.idle_id.as_str()));
            assert_eq!(ours.contains_key(eng.stopped_id.as_str()), all);
            if all {
                assert_eq!(ours[eng.stopped_id.as_str()]["state"], "exited");
            }
            assert_eq!(ours[eng.busy_id.as_str()]["state"], "running");
        }
        let (status, body) = tars.get("/api/containers?all=maybe").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "bad_request");
    });
}

#[test]
fn container_stats_match_engine_and_busy_beats_idle() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let tars = Tars::start(engine_args(eng), None).await;
        let docker = eng.client();
        let info = docker.info().await.unwrap();
        let ncpu = info.ncpu.unwrap() as u64;

        // By name for one, by 12-character id prefix for the other.
        let (status, busy) = tars.get("/api/containers/tars-busy/stats").await;
        assert_eq!(status, StatusCode::OK, "{busy}");
        let (status, idle) = tars
            .get(&format!("/api/containers/{}/stats", &eng.idle_id[..12]))
            .await;
        assert_eq!(status, StatusCode::OK, "{idle}");
        assert_eq!(busy["id"], eng.busy_id);
        assert_eq!(busy["name"], "tars-busy");
        assert_eq!(idle["id"], eng.idle_id);

        let raw = docker
            .stats(
                &eng.idle_id,
                Some(StatsOptionsBuilder::new().stream(false).build()),
            )
            .next()
            .await
            .unwrap()
            .unwrap();
        let raw_mem = raw.memory_stats.unwrap();
        for s in [&busy, &idle] {
            let cpu = as_f64(&s["cpu"]["percent"]);
            assert!((0.0..=ncpu as f64 * 100.0 + 5.0).contains(&cpu), "{s}");
            assert_eq!(as_u64(&s["cpu"]["online_cpus"]), ncpu);
            let used = as_u64(&s["memory"]["usage_bytes"]);
            let limit = as_u64(&s["memory"]["limit_bytes"]);
            assert!(
                used > 0 && used < 64 << 20,
                "busybox uses a few hundred KiB: {s}"
            );
            assert_eq!(limit, raw_mem.limit.unwrap());
            let pct = as_f64(&s["memory"]["percent"]);
            assert!((pct - used as f64 / limit as f64 * 100.0).abs() < 1e-6);
            // Network mode none: no interfaces, so nothing to sum.
            assert_eq!(as_u64(&s["network"]["rx_bytes"]), 0);
            assert_eq!(as_u64(&s["network"]["tx_bytes"]), 0);
            assert!(s["block_io"]["read_bytes"].is_u64());
            assert!(s["block_io"]["write_bytes"].is_u64());
            assert_eq!(as_u64(&s["pids"]), 1, "{s}");
        }
        let busy_cpu = as_f64(&busy["cpu"]["percent"]);
        let idle_cpu = as_f64(&idle["cpu"]["percent"]);
        assert!(
            busy_cpu > 10.0 && busy_cpu > idle_cpu + 5.0 && idle_cpu < 5.0,
            "busy {busy_cpu}% vs idle {idle_cpu}%"
        );

        let (status, body) = tars.get("/api/containers/no-such-container/stats").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"], "container_not_found");
        let (status, body) = tars.get("/api/containers/tars-stopped/stats").await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"], "container_not_running");
        // Path tricks are refused before anything is sent to the engine.
        for bad in ["..%2F..%2Finfo", "%2Ftars-busy", "tars-busy%3Fstream=true"] {
            let (status, body) = tars.get(&format!("/api/containers/{bad}/stats")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }
    });
}

#[test]
fn system_info_matches_engine() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let tars = Tars::start(engine_args(eng), None).await;
        let docker = eng.client();
        let (status, body) = tars.get("/api/system/info").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let info = docker.info().await.unwrap();
        let version = docker.version().await.unwrap();
        assert_eq!(body["engine_version"], version.version.unwrap());
        assert_eq!(body["os"], info.operating_system.unwrap());
        assert_eq!(body["kernel_version"], info.kernel_version.unwrap());
        assert_eq!(body["cpus"].as_i64(), info.ncpu);
        assert_eq!(body["memory_bytes"].as_i64(), info.mem_total);
        assert_eq!(body["images"].as_i64(), info.images);
        let c = &body["containers"];
        assert_eq!(c["total"].as_i64(), info.containers);
        assert_eq!(c["running"].as_i64(), info.containers_running);
        assert_eq!(c["paused"].as_i64(), info.containers_paused);
        assert_eq!(c["stopped"].as_i64(), info.containers_stopped);
        // And the counts agree with the container list itself.
        let all = docker
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
            .await
            .unwrap();
        let running = all
            .iter()
            .filter(|c| c.state.map(|s| s.to_string()) == Some("running".into()))
            .count();
        assert_eq!(as_u64(&c["total"]) as usize, all.len());
        assert_eq!(as_u64(&c["running"]) as usize, running);
        assert!(as_u64(&c["stopped"]) >= 1);
        assert!(as_u64(&body["images"]) >= 1);
    });
}

#[test]
fn aggregate_covers_every_running_container() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let tars = Tars::start(engine_args(eng), None).await;
        let docker = eng.client();
        let running: BTreeSet<String> = docker
            .list_containers(Some(ListContainersOptionsBuilder::new().all(false).build()))
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id.unwrap())
            .collect();
        let (status, body) = tars.get("/api/stats/aggregate").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["missing"], serde_json::json!([]), "{body}");
        let rows = body["containers"].as_array().unwrap();
        let ids: BTreeSet<String> = rows
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, running);
        assert_eq!(as_u64(&body["running"]) as usize, running.len());
        let t = &body["totals"];
        assert_eq!(as_u64(&t["containers"]) as usize, rows.len());
        let sum = |f: &dyn Fn(&Value) -> f64| rows.iter().map(f).sum::<f64>();
        let cpu = sum(&|r| as_f64(&r["cpu"]["percent"]));
        assert!((as_f64(&t["cpu_percent"]) - cpu).abs() < 1e-6);
        assert!(cpu > 10.0, "busy container should show: {body}");
        let mem = sum(&|r| as_u64(&r["memory"]["usage_bytes"]) as f64);
        assert_eq!(as_u64(&t["memory_usage_bytes"]) as f64, mem);
        let pids = sum(&|r| as_u64(&r["pids"]) as f64);
        assert_eq!(as_u64(&t["pids"]) as f64, pids);
        for k in [
            "network_rx_bytes",
            "network_tx_bytes",
            "block_read_bytes",
            "block_write_bytes",
        ] {
            assert!(t[k].is_u64(), "{k}");
        }
    });
}

#[test]
fn container_stopping_mid_aggregate_is_reported_missing() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let docker = eng.client();
        let stop_me = run_container(&docker, "tars-victim-stop", &["sleep", "3600"])
            .await
            .unwrap();
        let remove_me = run_container(&docker, "tars-victim-gone", &["sleep", "3600"])
            .await
            .unwrap();
        let proxy = CountingProxy::forward(eng.scratch("agg.sock"), &eng.socket);
        // Hold both stats calls at the proxy long enough to change the
        // containers underneath them.
        proxy.delay(
            &format!("/containers/{stop_me}/stats"),
            Duration::from_secs(3),
        );
        proxy.delay(
            &format!("/containers/{remove_me}/stats"),
            Duration::from_secs(3),
        );
        let tars = Tars::start(args_for(&proxy.docker_host()), None).await;
        let client = tars.http.clone();
        let url = format!("{}/api/stats/aggregate", tars.base);
        let pending = tokio::spawn(async move { client.get(url).send().await });

        let waited = Instant::now();
        loop {
            let seen = proxy.seen();
            let held = [&stop_me, &remove_me]
                .iter()
                .all(|id| seen.iter().any(|(_, p)| p.contains(id.as_str())));
            if held {
                break;
            }
            assert!(waited.elapsed() < Duration::from_secs(15), "{seen:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        docker
            .kill_container(
                &stop_me,
                Some(KillContainerOptionsBuilder::new().signal("KILL").build()),
            )
            .await
            .unwrap();
        docker
            .remove_container(
                &remove_me,
                Some(RemoveContainerOptionsBuilder::new().force(true).build()),
            )
            .await
            .unwrap();

        let resp = pending.await.unwrap().unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        let missing: BTreeMap<&str, &str> = body["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["id"].as_str().unwrap(), m["reason"].as_str().unwrap()))
            .collect();
        assert_eq!(missing.get(stop_me.as_str()), Some(&"stopped"), "{body}");
        assert_eq!(missing.get(remove_me.as_str()), Some(&"vanished"), "{body}");
        assert_eq!(missing.len(), 2, "{body}");
        let names: BTreeSet<&str> = body["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains("tars-busy") && names.contains("tars-idle"),
            "{body}"
        );
        assert_eq!(as_u64(&body["running"]), 4);
        assert_eq!(as_u64(&body["totals"]["containers"]), 2);
        docker
            .remove_container(
                &stop_me,
                Some(RemoveContainerOptionsBuilder::new().force(true).build()),
            )
            .await
            .unwrap();

        // A deadline shorter than the engine's two-sample stats call: every
        // container is reported as timed out, and the answer comes promptly.
        let args = ProxySettings {
            stats_timeout: Duration::from_millis(200),
            ..engine_args(eng)
        };
        let tars = Tars::start(args, None).await;
        let started = Instant::now();
        let (status, body) = tars.get("/api/stats/aggregate").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(body["containers"], serde_json::json!([]), "{body}");
        let reasons: Vec<&str> = body["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["reason"].as_str().unwrap())
            .collect();
        assert_eq!(reasons, vec!["timeout", "timeout"], "{body}");
    });
}

#[test]
fn non_get_methods_and_unknown_paths_never_reach_the_engine() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let proxy = CountingProxy::forward(eng.scratch("count.sock"), &eng.socket);
        let tars = Tars::start(args_for(&proxy.docker_host()), None).await;
        let routes = [
            "/health",
            "/metrics",
            "/api/openapi.json",
            "/api/containers",
            "/api/containers/tars-busy/stats",
            "/api/system/info",
            "/api/stats/aggregate",
        ];
        for route in routes {
            for m in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
                let m = Method::from_bytes(m.as_bytes()).unwrap();
                let (status, body) = tars.request(m.clone(), route, None).await;
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{m} {route}");
                assert_eq!(body["error"], "method_not_allowed");
            }
        }
        let unknown = [
            (Method::GET, "/containers/json"),
            (Method::GET, "/v1.41/containers/json"),
            (Method::GET, "/api/images"),
            (Method::GET, "/api/containers/"),
            (Method::GET, "/api/containers/tars-busy"),
            (Method::GET, "/api/containers/tars-busy/logs"),
            (Method::POST, "/api/containers/tars-busy/start"),
            (Method::POST, "/api/containers/tars-busy/kill"),
            (Method::DELETE, "/api/containers/tars-busy"),
            (Method::POST, "/containers/create"),
            (Method::GET, "/_ping"),
        ];
        for (m, path) in unknown {
            let (status, body) = tars.request(m.clone(), path, None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{m} {path}: {body}");
            assert_eq!(body["error"], "not_found");
        }
        assert_eq!(proxy.seen(), vec![], "nothing may reach the engine");

        // The proxy is really on the path: a GET does arrive, as a GET.
        let (status, _) = tars.get("/api/containers").await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = tars.get("/api/containers/tars-idle/stats").await;
        assert_eq!(status, StatusCode::OK);
        let seen = proxy.seen();
        assert!(
            seen.iter().any(|(_, p)| p.contains("/containers/json")),
            "{seen:?}"
        );
        assert!(seen
            .iter()
            .any(|(_, p)| p.contains("/containers/tars-idle/stats")));
        assert!(seen.iter().all(|(m, _)| m == "GET"), "{seen:?}");

        // HEAD is allowed, answers without a body.
        let resp = tars
            .http
            .head(format!("{}/api/containers", tars.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.bytes().await.unwrap().is_empty());
    });
}

#[test]
fn token_is_required_on_api_routes_when_configured() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let proxy = CountingProxy::forward(eng.scratch("token.sock"), &eng.socket);
        let token_file = eng.scratch("token");
        std::fs::write(&token_file, "correct-horse-battery\n").unwrap();
        let args = ProxySettings {
            token_file: Some(token_file),
            ..args_for(&proxy.docker_host())
        };
        let from_file = Tars::start(args, None).await;
        let from_env = Tars::start(args_for(&proxy.docker_host()), Some("env-secret")).await;
        for (tars, good) in [
            (&from_file, "correct-horse-battery"),
            (&from_env, "env-secret"),
        ] {
            let before = proxy.seen().len();
            for path in [
                "/api/containers",
                "/api/containers/tars-busy/stats",
                "/api/system/info",
                "/api/stats/aggregate",
                "/api/openapi.json",
                "/api/nope",
            ] {
                for bad in [None, Some("wrong"), Some(&good[..good.len() - 1]), Some("")] {
                    let (status, body) = tars.request(Method::GET, path, bad).await;
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {bad:?}");
                    assert_eq!(body["error"], "unauthorized");
                }
            }
            // Another scheme carrying the right secret is still refused.
            let resp = tars
                .http
                .get(format!("{}/api/containers", tars.base))
                .basic_auth(good, None::<&str>)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
            assert!(resp.headers().contains_key("www-authenticate"));
            assert_eq!(
                proxy.seen().len(),
                before,
                "a refused request reached the engine"
            );

            let (status, body) = tars
                .request(Method::GET, "/api/containers", Some(good))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, _) = tars
                .request(Method::GET, "/api/openapi.json", Some(good))
                .await;
            assert_eq!(status, StatusCode::OK);
            // Documented choice: liveness and the proxy's own metrics stay open.
            let (status, body) = tars.get("/health").await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, _) = tars.get("/metrics").await;
            assert_eq!(status, StatusCode::OK);
        }
    });
}

#[test]
fn engine_down_gives_503_and_hung_engine_gives_timeouts() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        // A socket file nobody listens on (a stopped engine leaves exactly
        // that behind) and a path with no socket at all.
        let stale = eng.scratch("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let absent = eng.scratch("absent.sock");
        for sock in [&stale, &absent] {
            let args = ProxySettings {
                engine_timeout: Duration::from_secs(2),
                ..args_for(&format!("unix://{}", sock.display()))
            };
            let tars = Tars::start(args, None).await;
            let started = Instant::now();
            let (status, body) = tars.get("/health").await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            assert_eq!(body["status"], "unhealthy");
            assert_eq!(body["reason"], "docker engine unreachable");
            assert!(body["timestamp"].is_string());
            for path in [
                "/api/containers",
                "/api/containers/tars-busy/stats",
                "/api/system/info",
                "/api/stats/aggregate",
            ] {
                let (status, body) = tars.get(path).await;
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
                assert_eq!(body["error"], "engine_unavailable");
                // No socket path or OS error text leaks to the client.
                assert!(!body.to_string().contains(".sock"), "{body}");
            }
            assert!(started.elapsed() < Duration::from_secs(10));
            let (status, _) = tars.get("/metrics").await;
            assert_eq!(status, StatusCode::OK, "metrics stay up without an engine");
        }

        // An engine that accepts connections but never answers.
        let hung = CountingProxy::hang(eng.scratch("hung.sock"));
        let args = ProxySettings {
            engine_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            ..args_for(&hung.docker_host())
        };
        let tars = Tars::start(args, None).await;
        let started = Instant::now();
        let (status, body) = tars.get("/health").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["reason"], "docker engine did not answer in time");
        for path in [
            "/api/containers",
            "/api/system/info",
            "/api/stats/aggregate",
        ] {
            let (status, body) = tars.get(path).await;
            assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{path}: {body}");
            assert_eq!(body["error"], "engine_timeout");
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    });
}

#[test]
fn health_openapi_and_metrics() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let tars = Tars::start(engine_args(eng), None).await;
        let (status, body) = tars.get("/health").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "healthy");
        let ts = body["timestamp"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");

        let (status, doc) = tars.get("/api/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert!(doc["paths"]["/api/stats/aggregate"]["get"].is_object());

        let _ = tars.get("/api/containers").await;
        let _ = tars.get("/api/definitely-not").await;
        let _ = tars.request(Method::DELETE, "/api/containers", None).await;
        let resp = tars
            .http
            .get(format!("{}/metrics", tars.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ctype.starts_with("application/openmetrics-text"), "{ctype}");
        let text = resp.text().await.unwrap();
        for needle in [
            "tars_docker_api_http_requests_total{method=\"GET\",route=\"/api/containers\",status=\"200\"} 1",
            "tars_docker_api_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
            "tars_docker_api_http_requests_total{method=\"OTHER\",route=\"/api/containers\",status=\"405\"} 1",
            "tars_docker_api_http_request_duration_seconds_bucket{",
            "tars_docker_api_engine_calls_total{operation=\"list_containers\",outcome=\"ok\"} 1",
            "tars_docker_api_engine_calls_total{operation=\"ping\",outcome=\"ok\"} 1",
            "# EOF",
        ] {
            assert!(text.contains(needle), "missing {needle} in:\n{text}");
        }
    });
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let (_serial, eng) = engine::shared();
    runtime().block_on(async {
        let mut tars = Tars::start(engine_args(eng), None).await;
        let client = tars.http.clone();
        let url = format!("{}/api/containers/tars-idle/stats", tars.base);
        // A stats call takes about a second (two engine samples), so it is
        // still in flight when the shutdown signal arrives.
        let in_flight = tokio::spawn(async move { client.get(url).send().await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        tars.shutdown.take().unwrap().send(()).unwrap();
        let resp = in_flight.await.unwrap().unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let served = tokio::time::timeout(Duration::from_secs(20), &mut tars.handle)
            .await
            .expect("serve returns after shutdown")
            .unwrap();
        assert!(served.is_ok(), "{served:?}");
        let after = tars.http.get(format!("{}/health", tars.base)).send().await;
        assert!(after.is_err(), "listener must be closed after shutdown");
    });
}

/// The CLI surface, parsed the way the `tars` binary will parse it.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: tars::cli::docker_api::DockerApiArgs,
}

#[test]
fn flags_parse_and_bad_configuration_fails_fast() {
    let cli = Cli::try_parse_from([
        "tars",
        "--listen",
        "127.0.0.1:3999",
        "--docker-host",
        "unix:///run/x.sock",
        "--request-timeout",
        "750ms",
        "--stats-timeout",
        "2s",
        "--max-concurrency",
        "3",
        "--log-format",
        "json",
    ])
    .unwrap();
    let settings = ProxySettings::from(cli.args);
    assert_eq!(settings.request_timeout, Duration::from_millis(750));
    assert_eq!(settings.max_concurrency, 3);
    let config = Config::from_args_with_env_token(&settings, None).unwrap();
    assert_eq!(
        config.docker_socket,
        std::path::PathBuf::from("/run/x.sock")
    );
    assert!(Cli::try_parse_from(["tars", "--max-concurrency", "0"]).is_err());
    assert!(Cli::try_parse_from(["tars", "--engine-timeout", "soon"]).is_err());

    // run() refuses bad settings before binding or touching any engine.
    let bad_listen = ProxySettings {
        listen: "not-an-address".into(),
        ..ProxySettings::default()
    };
    assert!(matches!(
        tars::docker_api::run(bad_listen),
        Err(DockerApiError::InvalidListen { .. })
    ));
    let tcp_host = ProxySettings {
        docker_host: "tcp://127.0.0.1:2375".into(),
        ..ProxySettings::default()
    };
    let err = tars::docker_api::run(tcp_host).unwrap_err();
    assert!(err.to_string().contains("unix://"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let missing_token = ProxySettings {
        token_file: Some(dir.path().join("absent")),
        ..ProxySettings::default()
    };
    assert!(matches!(
        tars::docker_api::run(missing_token),
        Err(DockerApiError::TokenFile { .. })
    ));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = ProxySettings {
        listen: taken.local_addr().unwrap().to_string(),
        ..ProxySettings::default()
    };
    assert!(matches!(
        tars::docker_api::run(busy_port),
        Err(DockerApiError::Bind { .. })
    ));
}
