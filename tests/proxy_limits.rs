//! The Docker API proxy under connection abuse (issue 17): idle connections
//! beyond the limit are shed while `/health` keeps answering, slow headers are
//! cut off, and an exposed listener without a token is warned about. No
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

/// Lets this process hold `n` more descriptors (client and server ends of
/// every connection live here).
fn allow_descriptors(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < n {
            lim.rlim_cur = n.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

#[test]
fn health_answers_within_a_second_past_1200_idle_connections() {
    allow_descriptors(4096);
    let dir = tempfile::tempdir().unwrap();
    let (addr, _rt) = start(settings(&dir));
    let idle: Vec<TcpStream> = (0..1200)
        .map(|i| TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect();
    // Let the proxy accept them all before the probe.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let (status, body) = get(&addr, "/health").expect("health answered");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "health took {took:?}");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unhealthy\""), "{body}");
    println!("/health past {} idle connections: {took:?}", idle.len());
    // The 176 beyond the default limit of 1024 were shed: closed within
    // about a second. The others wait for their header deadline (10 s),
    // unless the kernel's accept queue overflowed while a loaded machine
    // was slow to accept (those are reset too), so this is a floor.
    std::thread::sleep(Duration::from_millis(1500));
    let closed = idle.iter().filter(|s| closed_by_peer(s)).count();
    assert!(closed >= 1200 - 1024, "only {closed} closed");
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
