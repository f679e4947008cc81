//! A private `dockerd` for the tests: own socket, data root, exec root and
//! pidfile under a temp dir, no bridge and no iptables so the host network is
//! untouched, and a locally built busybox image so no registry is needed.
//!
//! One engine serves the whole test binary. It is started on first use and
//! torn down from an `atexit` hook (statics are never dropped), which runs
//! whether the tests passed or failed.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, StartContainerOptions,
    WaitContainerOptions,
};
use bollard::{ClientVersion, Docker};
use futures::StreamExt;

pub const IMAGE: &str = "tars-test-busybox:1";
pub const TEST_LABEL: &str = "tars.test";

/// What the tests need to know about the shared engine.
#[derive(Debug)]
pub struct EngineInfo {
    pub socket: PathBuf,
    pub dir: PathBuf,
    pub api: ClientVersion,
    pub busy_id: String,
    pub idle_id: String,
    pub stopped_id: String,
}

impl EngineInfo {
    /// A fresh bollard client for the calling test's runtime (hyper clients
    /// must not outlive the runtime that created their connections).
    pub fn client(&self) -> Docker {
        Docker::connect_with_unix(self.socket.to_str().unwrap(), 120, &self.api)
            .expect("bollard client")
    }

    /// A new path inside the engine's temp dir, for sockets and files.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

static SERIAL: Mutex<()> = Mutex::new(());
static ENGINE: OnceLock<Result<EngineInfo, String>> = OnceLock::new();
static GUARD: Mutex<Option<EngineGuard>> = Mutex::new(None);

/// Takes the engine lock (tests that share the engine run one at a time, so a
/// busy-loop container's CPU share is not disturbed by another test's load)
/// and returns the engine, starting it on first use. Fails the calling test
/// with the reason when the engine cannot start.
pub fn shared() -> (MutexGuard<'static, ()>, &'static EngineInfo) {
    let lock = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let info = ENGINE.get_or_init(|| {
        let started = Instant::now();
        let r = start();
        eprintln!(
            "test dockerd: {} after {:.1?}",
            if r.is_ok() { "ready" } else { "FAILED" },
            started.elapsed()
        );
        r
    });
    match info {
        Ok(info) => (lock, info),
        Err(msg) => panic!("cannot run the docker-api tests: {msg}"),
    }
}

/// Stops dockerd (by the pid in its pidfile), kills anything it left behind,
/// unmounts and removes the temp dir.
struct EngineGuard {
    child: Child,
    dir: PathBuf,
    pidfile: PathBuf,
}

impl Drop for EngineGuard {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(&self.pidfile)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .filter(|&p| p == self.child.id() as i32)
            .unwrap_or(self.child.id() as i32);
        // SAFETY: plain kill(2) on a pid this process spawned.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        // containerd and its shims are dockerd's children but outlive a
        // SIGKILLed dockerd; they name our temp dir on their command line.
        kill_processes_mentioning(&self.dir);
        unmount_below(&self.dir);
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("test dockerd: cannot remove {}: {e}", self.dir.display());
        }
    }
}

extern "C" fn teardown_at_exit() {
    let guard = GUARD.lock().unwrap_or_else(|e| e.into_inner()).take();
    drop(guard);
}

fn kill_processes_mentioning(dir: &Path) {
    let needle = dir.to_string_lossy().into_owned();
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            // SAFETY: kill(2) on a pid whose command line names our temp dir.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

fn unmount_below(dir: &Path) {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = dir.to_string_lossy().into_owned();
    let mut points: Vec<String> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    // Deepest first so nested mounts come off before their parents.
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        if let Ok(c) = std::ffi::CString::new(p) {
            // SAFETY: umount2 with a valid C string; failure is ignored.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A static busybox: the image is `FROM scratch`, so the binary must not
/// need a dynamic loader.
fn static_busybox() -> Option<PathBuf> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .map(PathBuf::from)
        .chain(find_in_path("busybox"))
        .find(|p| std::fs::read(p).map(|b| is_static_elf(&b)).unwrap_or(false))
}

fn is_static_elf(b: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        return false;
    }
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes(b[0x36..0x38].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(b[0x38..0x3a].try_into().unwrap()) as usize;
    (0..phnum).all(|i| {
        let off = phoff + i * phentsize;
        b.get(off..off + 4)
            .map(|t| u32::from_le_bytes(t.try_into().unwrap()) != PT_INTERP)
            .unwrap_or(false)
    })
}

fn ensure_packages() -> Result<(PathBuf, PathBuf), String> {
    // TARS_TEST_DOCKERD points at another daemon binary (or a broken one, to
    // check that the tests fail loudly when no engine can start).
    let dockerd = || {
        std::env::var_os("TARS_TEST_DOCKERD")
            .map(PathBuf::from)
            .or_else(|| find_in_path("dockerd"))
    };
    let have = || (dockerd(), static_busybox());
    if let (Some(d), Some(b)) = have() {
        return Ok((d, b));
    }
    eprintln!("test dockerd: installing docker.io and busybox-static");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-q", "docker.io", "busybox-static"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !install() {
        let _ = Command::new("apt-get").args(["update", "-q"]).status();
        install();
    }
    match have() {
        (Some(d), Some(b)) => Ok((d, b)),
        (d, b) => Err(format!(
            "need dockerd and a static busybox (apt-get install docker.io busybox-static); found dockerd={d:?} busybox={b:?}"
        )),
    }
}

/// Unversioned GET over the socket with HTTP/1.0, so the body ends at EOF.
pub fn raw_get(socket: &Path, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n")?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

fn start() -> Result<EngineInfo, String> {
    let (dockerd, busybox) = ensure_packages()?;
    let dir = tempfile::Builder::new()
        .prefix("tars-dk")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    let socket = dir.join("docker.sock");
    if socket.as_os_str().len() > 100 {
        return Err(format!("socket path too long: {}", socket.display()));
    }
    let pidfile = dir.join("docker.pid");
    let config = dir.join("daemon.json");
    // An empty config keeps the host's /etc/docker/daemon.json out of it.
    std::fs::write(&config, "{}").map_err(|e| e.to_string())?;
    let log_path = dir.join("dockerd.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let child = Command::new(&dockerd)
        .arg(format!("--host=unix://{}", socket.display()))
        .arg(format!("--data-root={}", dir.join("data").display()))
        .arg(format!("--exec-root={}", dir.join("exec").display()))
        .arg(format!("--pidfile={}", pidfile.display()))
        .arg(format!("--config-file={}", config.display()))
        .args([
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--userland-proxy=false",
            "--shutdown-timeout=1",
            "--log-level=warn",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", dockerd.display()))?;
    let mut guard = EngineGuard {
        child,
        dir: dir.clone(),
        pidfile,
    };
    let log_tail = || {
        let l = std::fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = l.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };

    let deadline = Instant::now() + Duration::from_secs(60);
    let version_body = loop {
        if let Ok(Some(status)) = guard.child.try_wait() {
            return Err(format!("dockerd exited with {status}:\n{}", log_tail()));
        }
        if let Ok((200, body)) = raw_get(&socket, "/version") {
            break body;
        }
        if Instant::now() > deadline {
            return Err(format!("dockerd did not answer in 60 s:\n{}", log_tail()));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let v: serde_json::Value =
        serde_json::from_str(&version_body).map_err(|e| format!("/version: {e}"))?;
    let api = v["ApiVersion"]
        .as_str()
        .and_then(|s| s.split_once('.'))
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or("no ApiVersion in /version")?;
    let api = std::cmp::min(api, (1usize, 49usize));
    let api = ClientVersion {
        major_version: api.0,
        minor_version: api.1,
    };

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let ids = rt
        .block_on(populate(&socket, &api, &busybox))
        .map_err(|e| format!("{e}\n{}", log_tail()))?;
    drop(rt);

    *GUARD.lock().unwrap_or_else(|e| e.into_inner()) = Some(guard);
    // SAFETY: registers a plain extern "C" fn; it runs once at exit.
    unsafe { libc::atexit(teardown_at_exit) };
    Ok(EngineInfo {
        socket,
        dir,
        api,
        busy_id: ids.0,
        idle_id: ids.1,
        stopped_id: ids.2,
    })
}

/// Builds the image and creates the busy, idle and stopped containers.
async fn populate(
    socket: &Path,
    api: &ClientVersion,
    busybox: &Path,
) -> Result<(String, String, String), String> {
    let docker =
        Docker::connect_with_unix(socket.to_str().unwrap(), 120, api).map_err(|e| e.to_string())?;
    let bin = std::fs::read(busybox).map_err(|e| e.to_string())?;
    let dockerfile = b"FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT [\"/bin/busybox\"]\n";
    let context = super::tar::archive(&[
        ("Dockerfile", dockerfile.as_slice(), 0o644),
        ("busybox", &bin, 0o755),
    ]);
    let opts = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(IMAGE)
        .rm(true)
        .build();
    let mut build = docker.build_image(opts, None, Some(bollard::body_full(context.into())));
    while let Some(item) = build.next().await {
        let info = item.map_err(|e| format!("image build: {e}"))?;
        if let Some(err) = info.error {
            return Err(format!("image build: {err}"));
        }
    }
    let busy = run_container(&docker, "tars-busy", &["sh", "-c", "while :; do :; done"]).await?;
    let idle = run_container(&docker, "tars-idle", &["sleep", "3600"]).await?;
    let stopped = run_container(&docker, "tars-stopped", &["true"]).await?;
    let mut wait = docker.wait_container(&stopped, None::<WaitContainerOptions>);
    while let Some(r) = wait.next().await {
        r.map_err(|e| format!("wait for stopped container: {e}"))?;
    }
    Ok((busy, idle, stopped))
}

/// Creates and starts a container of the test image with no network.
pub async fn run_container(docker: &Docker, name: &str, cmd: &[&str]) -> Result<String, String> {
    let body = ContainerCreateBody {
        image: Some(IMAGE.to_string()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        labels: Some([(TEST_LABEL.to_string(), name.to_string())].into()),
        host_config: Some(HostConfig {
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(name).build()),
            body,
        )
        .await
        .map_err(|e| format!("create {name}: {e}"))?;
    docker
        .start_container(&created.id, None::<StartContainerOptions>)
        .await
        .map_err(|e| format!("start {name}: {e}"))?;
    Ok(created.id)
}
