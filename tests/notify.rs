//! `tars notify` against a real HTTP server on loopback that records requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use assert_cmd::Command;
use serde_json::Value;

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Reply = (u16, Vec<(String, String)>, String);
type Handler = dyn Fn(&Req, usize) -> Reply + Send + Sync;

struct Server {
    base: String,
    reqs: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    /// `handler` gets the request and its 0-based sequence number.
    fn start(handler: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let r = reqs.clone();
        let b = base.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                serve(stream, &r, handler.as_ref(), &b);
            }
        });
        Server { base, reqs }
    }

    fn requests(&self) -> Vec<Req> {
        self.reqs.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, reqs: &Mutex<Vec<Req>>, handler: &Handler, base: &str) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let req = Req {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let n = {
        let mut g = reqs.lock().unwrap();
        g.push(req.clone());
        g.len() - 1
    };
    let (status, hdrs, body) = handler(&req, n);
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in hdrs {
        out.push_str(&format!("{k}: {}\r\n", v.replace("{base}", base)));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut s = stream;
    let _ = s.write_all(out.as_bytes());
}

fn demo_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        Command::cargo_bin("tars")
            .unwrap()
            .args(["demo", "--data-dir"])
            .arg(d.path())
            .assert()
            .success();
        d
    })
    .path()
}

fn tars() -> Command {
    let mut c = Command::cargo_bin("tars").unwrap();
    c.env_remove("GITHUB_TOKEN")
        .env_remove("SLACK_WEBHOOK_URL")
        .env_remove("TARS_DATA_DIR")
        .env_remove("DAY_NUMBER");
    c
}

fn retro() -> Value {
    let p = demo_dir().join("output/GA_7DAY_RETROSPECTIVE.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn expected_titles(max_rank: u32) -> Vec<String> {
    retro()["action_items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            let p = a["priority"].as_str().unwrap();
            p[1..].parse::<u32>().unwrap() <= max_rank
        })
        .map(|a| {
            let item: tars::retro::ActionItem = serde_json::from_value(a.clone()).unwrap();
            tars::notify::issue_title(&item)
        })
        .collect()
}

#[test]
fn slack_posts_verdict_and_p0_item_to_the_webhook_from_a_file() {
    let srv = Server::start(|_, _| (200, vec![], "ok".into()));
    let tmp = tempfile::tempdir().unwrap();
    let hook = tmp.path().join("hook");
    std::fs::write(&hook, format!("{}/services/T0/B0/secret\n", srv.base)).unwrap();
    let out = tars()
        .args(["notify", "slack", "--data-dir"])
        .arg(demo_dir())
        .arg("--webhook-url-file")
        .arg(&hook)
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("secret"),
        "the webhook path leaked: {stdout}"
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/services/T0/B0/secret");
    let payload: Value = serde_json::from_str(&reqs[0].body).unwrap();
    let text = payload.to_string();
    let r = retro();
    let verdict = r["executive_summary"]["verdict"]
        .as_str()
        .unwrap()
        .to_uppercase();
    assert!(text.contains(&format!("Verdict: {verdict}")), "{text}");
    let p0 = r["action_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["priority"] == "P0")
        .expect("the regressions demo has a P0 item");
    assert!(text.contains(p0["description"].as_str().unwrap()));
    assert_eq!(payload["blocks"][0]["type"], "header");
}

#[test]
fn slack_dry_run_prints_health_payload_without_network() {
    let out = tars()
        .args(["notify", "slack", "--what", "health", "--day-number", "3"])
        .arg("--data-dir")
        .arg(demo_dir())
        .arg("--dry-run")
        .assert()
        .success()
        .get_output()
        .clone();
    let payload: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(payload["blocks"][0]["text"]["text"], "tars: day 3 health");
}

#[test]
fn slack_missing_webhook_is_an_error() {
    tars()
        .args(["notify", "slack", "--data-dir"])
        .arg(demo_dir())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("SLACK_WEBHOOK_URL"));
}

fn github_server(existing: Arc<Mutex<Vec<String>>>) -> Server {
    Server::start(move |req, _| {
        if req.method == "GET" {
            // Two pages: the first has no tars issue, the second holds the created ones.
            if !req.path.contains("page=2") {
                return (
                    200,
                    vec![(
                        "Link".into(),
                        "<{base}/repos/o/r/issues?labels=tars&state=open&page=2>; rel=\"next\""
                            .into(),
                    )],
                    r#"[{"title":"unrelated"}]"#.into(),
                );
            }
            let list: Vec<Value> = existing
                .lock()
                .unwrap()
                .iter()
                .map(|t| serde_json::json!({"title": t}))
                .collect();
            return (200, vec![], Value::Array(list).to_string());
        }
        let v: Value = serde_json::from_str(&req.body).unwrap();
        existing
            .lock()
            .unwrap()
            .push(v["title"].as_str().unwrap().to_string());
        (
            201,
            vec![],
            r#"{"html_url":"https://example.invalid/1"}"#.into(),
        )
    })
}

fn token_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("token");
    std::fs::write(&p, "ghp_test123\n").unwrap();
    p
}

#[test]
fn github_creates_p0_p1_issues_once_following_pagination() {
    let existing = Arc::new(Mutex::new(Vec::new()));
    let srv = github_server(existing.clone());
    let tmp = tempfile::tempdir().unwrap();
    let tok = token_file(tmp.path());
    let run = || {
        tars()
            .args(["notify", "github", "--repo", "o/r", "--api-url", &srv.base])
            .arg("--token-file")
            .arg(&tok)
            .arg("--data-dir")
            .arg(demo_dir())
            .assert()
            .success()
            .get_output()
            .clone()
    };
    let first = run();
    assert!(!String::from_utf8_lossy(&first.stdout).contains("ghp_test123"));
    let reqs = srv.requests();
    let posts: Vec<&Req> = reqs.iter().filter(|r| r.method == "POST").collect();
    let want = expected_titles(1);
    assert!(!want.is_empty());
    let got: Vec<String> = posts
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["title"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(got, want);
    for p in &posts {
        assert_eq!(p.path, "/repos/o/r/issues");
        assert_eq!(p.header("authorization"), Some("Bearer ghp_test123"));
        let v: Value = serde_json::from_str(&p.body).unwrap();
        let labels: Vec<&str> = v["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(labels[0], "tars");
        assert!(labels[1] == "P0" || labels[1] == "P1", "{labels:?}");
        assert!(v["body"]
            .as_str()
            .unwrap()
            .contains("<!-- tars:action-item -->"));
    }
    let gets: Vec<&Req> = reqs.iter().filter(|r| r.method == "GET").collect();
    assert_eq!(gets.len(), 2, "both pages are listed");
    assert!(gets[0].path.contains("labels=tars") && gets[0].path.contains("state=open"));
    assert!(gets[1].path.contains("page=2"));

    let before = srv.requests().len();
    run();
    let second: Vec<Req> = srv.requests()[before..].to_vec();
    assert!(
        second.iter().all(|r| r.method == "GET"),
        "second run created issues"
    );
    assert_eq!(existing.lock().unwrap().len(), want.len());
}

#[test]
fn github_min_priority_p0_files_only_p0() {
    let existing = Arc::new(Mutex::new(Vec::new()));
    let srv = github_server(existing.clone());
    let tmp = tempfile::tempdir().unwrap();
    tars()
        .args([
            "notify",
            "github",
            "--repo",
            "o/r",
            "--min-priority",
            "P0",
            "--api-url",
            &srv.base,
        ])
        .env("GITHUB_TOKEN", "envtoken")
        .arg("--data-dir")
        .arg(demo_dir())
        .current_dir(tmp.path())
        .assert()
        .success();
    assert_eq!(*existing.lock().unwrap(), expected_titles(0));
    let post = srv
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(post.header("authorization"), Some("Bearer envtoken"));
}

fn failing(status: u16) {
    let srv = Server::start(move |_, _| (status, vec![], r#"{"message":"nope"}"#.into()));
    let tmp = tempfile::tempdir().unwrap();
    let out = tars()
        .args(["notify", "github", "--repo", "o/r", "--api-url", &srv.base])
        .arg("--token-file")
        .arg(token_file(tmp.path()))
        .arg("--data-dir")
        .arg(demo_dir())
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("o/r") && err.contains(&format!("HTTP {status}")),
        "{err}"
    );
    assert!(!err.contains("ghp_test123"));
    assert_eq!(srv.requests().len(), 1, "no retry on {status}");
}

#[test]
fn github_500_is_a_one_line_error() {
    failing(500);
}

#[test]
fn github_401_is_a_one_line_error() {
    failing(401);
}

#[test]
fn github_429_with_retry_after_is_retried_once() {
    let srv = Server::start(|req, n| {
        if n == 0 {
            return (429, vec![("Retry-After".into(), "1".into())], "{}".into());
        }
        if req.method == "GET" {
            return (200, vec![], "[]".into());
        }
        (201, vec![], "{}".into())
    });
    let tmp = tempfile::tempdir().unwrap();
    tars()
        .args([
            "notify",
            "github",
            "--repo",
            "o/r",
            "--min-priority",
            "P0",
            "--api-url",
            &srv.base,
        ])
        .arg("--token-file")
        .arg(token_file(tmp.path()))
        .arg("--data-dir")
        .arg(demo_dir())
        .assert()
        .success();
    let reqs = srv.requests();
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[1].method, "GET");
    assert_eq!(reqs[1].path, reqs[0].path);
    assert_eq!(reqs.iter().filter(|r| r.method == "GET").count(), 2);
    assert_eq!(
        reqs.iter().filter(|r| r.method == "POST").count(),
        expected_titles(0).len()
    );
}

/// `tars watch --notify-slack --notify-github` over a simulated week that
/// turns poor and recommends a rollback on day 3: one Slack post for that
/// change, one for the retrospective, the P0/P1 action items filed once, and
/// nothing more after a restart.
#[test]
fn the_watch_tells_slack_and_github_once() {
    let hook = Server::start(|_, _| (200, vec![], "ok".into()));
    let issues = Arc::new(Mutex::new(Vec::new()));
    let gh = github_server(issues.clone());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run_until_filed = || {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tars"))
            .args([
                "watch",
                "--source",
                "sim:regressions",
                "--interval-secs",
                "1",
            ])
            .args(["--ga-timestamp", "2025-11-18T00:00:00Z", "--notify-slack"])
            .args(["--notify-github", "o/r", "--github-api-url", &gh.base])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data)
            .env("SLACK_WEBHOOK_URL", format!("{}/services/T/B/x", hook.base))
            .env("GITHUB_TOKEN", "ghp_test123")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(300);
        let state = data.join(".tars-watch-notified.json");
        while !std::fs::read_to_string(&state).is_ok_and(|s| s.contains("\"github\":true")) {
            assert!(std::time::Instant::now() < until, "the week was not filed");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        // One more pass: nothing new may be posted.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = child.kill();
        let _ = child.wait();
    };
    run_until_filed();
    let texts: Vec<String> = hook.requests().iter().map(|r| r.body.clone()).collect();
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(texts[0].contains("day 3 health"), "{}", texts[0]);
    assert_eq!(*issues.lock().unwrap(), expected_titles(1));
    run_until_filed();
    assert_eq!(hook.requests().len(), 2, "a restart posted again");
    assert_eq!(issues.lock().unwrap().len(), expected_titles(1).len());
    assert!(gh
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer ghp_test123")));
}
