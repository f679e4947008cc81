//! Real Prometheus and VictoriaMetrics servers on loopback ports, filled with
//! history generated from the simulator, plus a deliberately broken HTTP
//! server for fault tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use tars::prom::gen::{write_history, Format, Gap, History};
use tars::source::sim::{Scenario, Simulator};

/// GA of the test history. Far enough in the past that VictoriaMetrics
/// accepts it (it refuses samples from the future) and fixed so that runs
/// are reproducible.
pub fn ga() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 0, 0, 0)
        .single()
        .expect("valid GA")
}

pub fn simulator() -> Simulator {
    Simulator::new(Scenario::Regressions, 42, ga())
}

/// First and last scrape of the history: GA - 1 day .. end of day 7.
pub fn history_range() -> (i64, i64) {
    let ga = ga().timestamp();
    (ga - 86_400, ga + 8 * 86_400)
}

/// A 30-minute scrape gap of `search` on day 4, so partial ranges get tested.
pub fn gaps() -> Vec<Gap> {
    let t = ga().timestamp() + 4 * 86_400 + 10 * 3600;
    vec![Gap {
        service: "search".into(),
        start: t,
        end: t + 1800,
    }]
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running server, killed by PID when dropped (also when a test panics).
pub struct Server {
    pub name: &'static str,
    pub url: String,
    child: Child,
    log: PathBuf,
    pub dir: tempfile::TempDir,
    /// How it was started, to start it again: arguments and readiness path.
    args: Vec<String>,
    ready_path: &'static str,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Kills the server with SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same address and data after
    /// [`Server::kill`], and waits until it is ready.
    pub fn restart(&mut self) {
        let addr = self.url.trim_start_matches("http://").to_string();
        let (mut child, log) = spawn(
            self.name,
            Command::new(self.name).args(&self.args),
            self.dir.path(),
        );
        wait_ready(self.name, &mut child, &log, &addr, self.ready_path);
        self.child = child;
        self.log = log;
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn have(bin: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {bin}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Installs Debian's packages when a binary is missing.
pub fn ensure_installed(bins: &[&str]) {
    // Tests run on parallel threads; two concurrent apt-get runs fight over the dpkg
    // lock and one fails, so installs are serialised here and wait for other holders.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if bins.iter().all(|b| have(b)) {
        return;
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(
            "(apt-get -o DPkg::Lock::Timeout=300 install -y prometheus victoria-metrics || \
             (apt-get update && apt-get -o DPkg::Lock::Timeout=300 install -y \
             prometheus victoria-metrics)) 2>&1 | tail -5",
        )
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output();
    let missing: Vec<&&str> = bins.iter().filter(|b| !have(b)).collect();
    assert!(
        missing.is_empty(),
        "cannot run the backend tests: {missing:?} not installed and \
         `apt-get install -y prometheus victoria-metrics` did not provide them: {}",
        out.map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_else(|e| e.to_string())
    );
}

/// Minimal HTTP/1.1 exchange over std, enough for readiness probes and imports.
pub fn http(method: &str, addr: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(300)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let head_end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(resp.len());
    let head = String::from_utf8_lossy(&resp[..head_end]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, resp[(head_end + 4).min(resp.len())..].to_vec()))
}

fn wait_ready(name: &str, child: &mut Child, log: &Path, addr: &str, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "{name} exited ({st}) before becoming ready; log:\n{}",
                log_tail(log)
            );
        }
        if let Ok((200, _)) = http("GET", addr, path, b"") {
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "{name} did not become ready on {addr} within 120 s; log:\n{}",
                log_tail(log)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn spawn(name: &'static str, cmd: &mut Command, dir: &Path) -> (Child, PathBuf) {
    let log = dir.join(format!("{name}.log"));
    let f = std::fs::File::create(&log).expect("log file");
    let child = cmd
        .stdout(f.try_clone().expect("log file"))
        .stderr(f)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    (child, log)
}

/// Prometheus with the history backfilled by promtool before it starts.
pub fn start_prometheus(sim: &Simulator) -> Server {
    start_prometheus_with(sim, None)
}

/// Prometheus with the simulated history and, when given, a scrape job
/// `tars-watch` on `target` (HOST:PORT) every second.
pub fn start_prometheus_with(sim: &Simulator, target: Option<&str>) -> Server {
    ensure_installed(&["prometheus", "promtool"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let input = dir.path().join("history.om");
    {
        let f = std::fs::File::create(&input).expect("history file");
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let (s, e) = history_range();
        write_history(sim, s, e, &gaps(), Format::OpenMetrics, &mut w).expect("write history");
        w.flush().expect("write history");
    }
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        // Hidden flag: few large blocks instead of one pass over the input per 2 h block.
        .arg("--max-block-duration=240h")
        .arg(&input)
        .arg(&data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool backfill failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&input);
    let config = dir.path().join("prometheus.yml");
    let scrape = match target {
        Some(t) => format!(
            "scrape_configs:\n  - job_name: tars-watch\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['{t}']\n"
        ),
        None => "scrape_configs: []\n".to_string(),
    };
    std::fs::write(&config, format!("global:\n  scrape_interval: 1m\n{scrape}")).expect("config");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let args = vec![
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", data.display()),
        "--storage.tsdb.retention.time=100y".to_string(),
        format!("--web.listen-address={addr}"),
        "--log.level=warn".to_string(),
    ];
    let (mut child, log) = spawn(
        "prometheus",
        Command::new("prometheus").args(&args),
        dir.path(),
    );
    wait_ready("prometheus", &mut child, &log, &addr, "/-/ready");
    Server {
        name: "prometheus",
        url: format!("http://{addr}"),
        child,
        log,
        dir,
        args,
        ready_path: "/-/ready",
    }
}

/// VictoriaMetrics, filled through its import API one day at a time.
pub fn start_victoria(sim: &Simulator) -> Server {
    ensure_installed(&["victoria-metrics"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let args = vec![
        format!("-storageDataPath={}", dir.path().join("data").display()),
        "-retentionPeriod=100y".to_string(),
        format!("-httpListenAddr={addr}"),
        "-loggerLevel=WARN".to_string(),
    ];
    let (mut child, log) = spawn(
        "victoria-metrics",
        Command::new("victoria-metrics").args(&args),
        dir.path(),
    );
    wait_ready("victoria-metrics", &mut child, &log, &addr, "/health");
    let server = Server {
        name: "victoria-metrics",
        url: format!("http://{addr}"),
        child,
        log,
        dir,
        args,
        ready_path: "/health",
    };
    import_history(&server, sim, &addr);
    server
}

fn import_history(server: &Server, sim: &Simulator, addr: &str) {
    let (s, e) = history_range();
    let mut history = History::new(sim, s, gaps());
    let mut t = s;
    // One POST per 6 hours keeps memory bounded on both sides.
    while t < e {
        t = (t + 6 * 3600).min(e);
        let mut body = Vec::with_capacity(64 << 20);
        history
            .write_until(t, Format::PromText, &mut body)
            .expect("history");
        let (code, resp) = http("POST", addr, "/api/v1/import/prometheus", &body)
            .unwrap_or_else(|e| panic!("victoria-metrics import failed: {e}"));
        assert!(
            code == 204 || code == 200,
            "victoria-metrics import answered HTTP {code}: {}; log:\n{}",
            String::from_utf8_lossy(&resp),
            server.log_tail()
        );
    }
    let (code, _) = http("GET", addr, "/internal/force_flush", b"").expect("force_flush");
    assert_eq!(code, 200, "victoria-metrics force_flush failed");
}

/// What the broken server does with each request, in order; the last
/// behaviour repeats.
#[derive(Debug, Clone)]
pub enum Misbehave {
    /// Answer with this status and body.
    Reply(u16, String),
    /// Read the request, then say nothing for this long.
    Hang(Duration),
}

/// A loopback HTTP server that misbehaves on purpose.
pub struct FakeServer {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
    pub requests: Arc<std::sync::Mutex<Vec<String>>>,
}

pub fn fake_server(script: Vec<Misbehave>) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (h, r) = (hits.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let n = h.fetch_add(1, Ordering::SeqCst);
            let step = script[n.min(script.len() - 1)].clone();
            let r = r.clone();
            std::thread::spawn(move || {
                let head = read_head(&stream);
                if let Ok(mut v) = r.lock() {
                    v.push(head);
                }
                match step {
                    Misbehave::Hang(d) => std::thread::sleep(d),
                    Misbehave::Reply(code, body) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                }
            });
        }
    });
    FakeServer {
        url,
        hits,
        requests,
    }
}

/// The request line and headers of one HTTP request.
fn read_head(stream: &TcpStream) -> String {
    let Ok(clone) = stream.try_clone() else {
        return String::new();
    };
    let mut reader = BufReader::new(clone);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    head
}

/// A loopback HTTP server answering each request with what `answer` makes of
/// its request line and headers (a whole raw HTTP response). Returns its URL.
pub fn serve(answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let head = read_head(&stream);
                let _ = stream.write_all(&answer(&head));
            });
        }
    });
    url
}

/// A whole HTTP response with a JSON body; `extra_headers` end in CRLF each.
pub fn response(status: u16, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra_headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
