//! The Docker API proxy under connection abuse (issue 17): 5,000 idle
//! connections against the real `tars docker-api` (with a service's soft
//! limit of 1,024 descriptors) while `/health` keeps answering, a flood past
//! the shed pool, the connection flags, slow headers cut off, and an exposed
//! listener without a token warned about. No
//! Docker engine needed: the engine socket does not exist, so `/health`
//! answers "unhealthy" at once, which is an answer all the same.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tars::docker_api::{exposure_warning, serve, AppState, Config, ProxySettings};

/// Starts the proxy on a loopback port on its own runtime; returns the address.
fn start(settings: ProxySettings) -> (String, tokio::runtime::Runtime) {
    let config = Config::from_args_with_env_token(&settings, None).expect("valid settings");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    rt.spawn(serve(
        listener,
        AppState::new(&config),
        std::future::pending(),
    ));
    (addr, rt)
}

fn settings(dir: &tempfile::TempDir) -> ProxySettings {
    ProxySettings {
        docker_host: dir.path().join("no-engine.sock").display().to_string(),
        ..ProxySettings::default()
    }
}

/// One GET on a fresh connection: the status code and body, or why not.
fn get(addr: &str, path: &str) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((status, body))
}

/// Sets this process's open-files limit to at least `n` (raising the hard
/// limit too where it is lower: CI runs as root), so both ends of every
/// connection fit; panics with the reason otherwise.
fn allow_descriptors(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur >= n {
            return;
        }
        lim.rlim_cur = n;
        lim.rlim_max = lim.rlim_max.max(n);
        let rc = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        assert_eq!(
            rc,
            0,
            "cannot raise the open-files limit to {n}: {} (run as root or raise ulimit -Hn)",
            std::io::Error::last_os_error()
        );
    }
}

/// `tars docker-api` as a child process with the usual soft open-files
/// limit of a service (1,024: systemd's default) under a hard limit of
/// `hard`; killed on drop.
struct Proxy {
    child: std::process::Child,
    addr: String,
}

impl Proxy {
    fn start(dir: &tempfile::TempDir, hard: u64, flags: &[&str]) -> Self {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tars"));
        cmd.args([
            "docker-api",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--docker-host")
        .arg(dir.path().join("no-engine.sock"))
        .args(flags)
        .env_remove("TARS_DOCKER_API_TOKEN")
        .env("TARS_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
        // SAFETY: setrlimit is async-signal-safe and touches only the struct.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: 1024,
                    rlim_max: hard,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn tars docker-api");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let listen = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("listen")?.as_str().map(str::to_string));
                if let Some(addr) = listen {
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the proxy logged its listening address");
        Proxy { child, addr }
    }

    /// A metric's value from `/metrics`.
    fn metric(&self, series: &str) -> f64 {
        let (status, text) = get(&self.addr, "/metrics").expect("metrics answered");
        assert_eq!(status, 200, "{text}");
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in {text}"))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `n` connections that never send a byte.
fn idle_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|i| TcpStream::connect(addr).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect()
}

#[test]
fn health_answers_within_a_second_past_5000_idle_connections() {
    const IDLE: usize = 5000;
    // The client ends live here, the proxy's in the child.
    allow_descriptors(IDLE as u64 + 1024);
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&dir, IDLE as u64 + 1024, &[]);
    let idle = idle_connections(&proxy.addr, IDLE);
    // Let the proxy accept them all before the probe.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (status, body) = get(&proxy.addr, "/health").expect("health answered");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "health took {took:?}");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unhealthy\""), "{body}");
    println!("/health past {} idle connections: {took:?}", idle.len());
    // The proxy raised its soft limit of 1,024 descriptors and holds the
    // default 1,024 connections (it would have lowered the limit to fit).
    let served = proxy.metric("tars_docker_api_connections{slot=\"served\"}");
    assert_eq!(served, 1024.0);
    // The 3,976 beyond the limit were shed: closed within about a second.
    // The others wait for their header deadline (10 s), unless the kernel's
    // queue overflowed while a loaded machine was slow to accept (those are
    // reset too), so this is a floor.
    std::thread::sleep(Duration::from_millis(1500));
    let closed = idle.iter().filter(|s| closed_by_peer(s)).count();
    assert!(closed >= IDLE - 1024, "only {closed} closed");
}

#[test]
fn a_flood_past_the_shed_pool_closes_the_oldest_and_health_still_answers() {
    // 10 served and 64 shed (the pool's floor): 500 idle connections fill
    // both many times over within the shed deadline.
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&dir, 4096, &["--max-connections", "10"]);
    let idle = idle_connections(&proxy.addr, 500);
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (status, body) = get(&proxy.addr, "/health").expect("health answered");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "health took {took:?}");
    assert!(body.contains("\"unhealthy\""), "{status} {body}");
    let evicted = proxy.metric("tars_docker_api_connections_evicted_total");
    assert!(evicted >= 400.0, "only {evicted} evicted");
    drop(idle);
}

#[test]
fn the_connection_flags_change_what_the_proxy_does() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(
        &dir,
        4096,
        &["--max-connections", "10", "--header-read-timeout", "1s"],
    );
    let held = idle_connections(&proxy.addr, 10);
    std::thread::sleep(Duration::from_millis(200));
    // The eleventh is shed: /api answers overloaded (not "engine
    // unavailable", which a served connection gets here), /health answers.
    let (status, body) = get(&proxy.addr, "/api/containers").expect("an answer");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("overloaded"), "{body}");
    let (_, body) = get(&proxy.addr, "/health").expect("health answered");
    assert!(body.contains("\"unhealthy\""), "{body}");
    // --header-read-timeout 1s: the held ones are closed after a second,
    // not the default ten.
    std::thread::sleep(Duration::from_millis(2500));
    let closed = held.iter().filter(|s| closed_by_peer(s)).count();
    assert_eq!(closed, held.len());
    let (_, body) = get(&proxy.addr, "/api/containers").expect("an answer");
    assert!(body.contains("engine_unavailable"), "{body}");
}

#[test]
fn bad_connection_flags_are_usage_errors() {
    for (flag, value, says) in [
        ("--max-connections", "0", "--max-connections"),
        ("--max-connections", "-3", "--max-connections"),
        ("--max-connections", "99999999", "--max-connections"),
        (
            "--header-read-timeout",
            "0s",
            "--header-read-timeout must be greater than zero",
        ),
        (
            "--header-read-timeout",
            "400d",
            "--header-read-timeout must be at most 24h",
        ),
        (
            "--idle-timeout",
            "5s",
            "--idle-timeout (5s) must exceed --request-timeout (15s)",
        ),
        ("--idle-timeout", "soon", "--idle-timeout"),
    ] {
        let stderr = usage_error(&[flag, value], None);
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
    }
    // The environment twin is read and checked the same way.
    let stderr = usage_error(&[], Some(("TARS_DOCKER_API_IDLE_TIMEOUT", "0s")));
    assert!(
        stderr.contains("--idle-timeout must be greater than zero"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// Runs `tars docker-api` with `flags` (and one variable), expects exit 2
/// and one line on stderr, and returns it.
fn usage_error(flags: &[&str], var: Option<(&str, &str)>) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tars"));
    cmd.args(["docker-api", "--listen", "127.0.0.1:0"])
        .args(flags)
        .env_remove("TARS_DOCKER_API_TOKEN");
    if let Some((k, v)) = var {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
    stderr
}

/// Whether the other end closed `s` (a read sees EOF or a reset at once).
fn closed_by_peer(mut s: &TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or the like before the close: keep reading.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn beyond_the_limit_only_health_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _rt) = start(ProxySettings {
        max_connections: 4,
        ..settings(&dir)
    });
    let _held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = get(&addr, "/api/containers").expect("an answer");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("overloaded"), "{body}");
    let (status, body) = get(&addr, "/health").expect("health answered");
    assert!(body.contains("\"unhealthy\""), "{status} {body}");
}

#[test]
fn slow_headers_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _rt) = start(ProxySettings {
        header_read_timeout: Duration::from_secs(1),
        ..settings(&dir)
    });
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    // The proxy closes the connection (possibly after a 408): EOF or reset.
    let _ = s.read_to_end(&mut rest);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "still open after {took:?}");
    assert!(
        took >= Duration::from_millis(900),
        "closed too early: {took:?}"
    );
}

#[test]
fn an_exposed_listener_without_a_token_is_warned_about() {
    let config = |listen: &str, token: Option<&str>| {
        let s = ProxySettings {
            listen: listen.into(),
            ..ProxySettings::default()
        };
        Config::from_args_with_env_token(&s, token.map(str::to_string)).unwrap()
    };
    let warning = exposure_warning(&config("0.0.0.0:3001", None)).expect("a warning");
    assert!(
        warning.contains("0.0.0.0:3001 without a token"),
        "{warning}"
    );
    assert!(exposure_warning(&config("127.0.0.1:3001", None)).is_none());
    assert!(exposure_warning(&config("[::1]:3001", None)).is_none());
    assert!(exposure_warning(&config("0.0.0.0:3001", Some("t0ken"))).is_none());
}
