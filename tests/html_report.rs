//! The HTML reports in a real browser: `tars demo` writes them, headless
//! Chromium loads them at desktop and phone widths, and we check that they
//! fetch nothing, log nothing to the console, draw every chart and do not
//! overflow a phone's width. Screenshots are kept under
//! `target/html-screenshots/` for a person to look at.
//!
//! Without `/usr/bin/chromium` the test is skipped with a loud message,
//! unless `CI` is set: then a missing browser fails it (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;

#[path = "support/cli/mod.rs"]
mod support;

const CHROMIUM: &str = "/usr/bin/chromium";

/// `(name, width, height)` of each viewport.
const VIEWPORTS: [(&str, u32, u32); 2] = [("desktop", 1280, 2400), ("phone", 390, 2400)];

fn chromium() -> Option<PathBuf> {
    let p = PathBuf::from(CHROMIUM);
    if p.is_file() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMIUM} is missing and CI is set: the HTML report must be checked in a browser (apt-get install chromium)"
    );
    eprintln!();
    eprintln!("######################################################################");
    eprintln!("SKIPPED html_report: {CHROMIUM} not found (apt-get install chromium).");
    eprintln!("The HTML report was NOT checked in a browser.");
    eprintln!("######################################################################");
    None
}

/// What one headless run printed.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `url` with a fresh profile and the extra `args`.
fn browse(browser: &Path, profile: &Path, window: (u32, u32), args: &[String], url: &str) -> Run {
    let out_path = profile.with_extension("stdout");
    let err_path = profile.with_extension("stderr");
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        // Anything the page tried to fetch from a host fails fast instead of
        // hanging the test; the net log still records the attempt.
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--window-size={},{}", window.0, window.1))
    .args(args)
    .arg(url)
    .stdin(Stdio::null())
    // Files, not pipes: a DOM dump outgrows a pipe buffer while we poll.
    .stdout(std::fs::File::create(&out_path).unwrap())
    .stderr(std::fs::File::create(&err_path).unwrap());
    let mut child = cmd.spawn().expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for chromium") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    assert!(
        status.success(),
        "chromium failed on {url}: {}",
        read(&err_path)
    );
    Run {
        stdout: read(&out_path),
        stderr: read(&err_path),
    }
}

/// A DOM dump of `url` with the console on stderr and a net log of every
/// request into `net_log`.
fn dump_logged(browser: &Path, profile: &Path, net_log: &Path, url: &str) -> Run {
    let args = [
        "--dump-dom".to_string(),
        "--enable-logging=stderr".into(),
        "--v=0".into(),
        format!("--log-net-log={}", net_log.display()),
    ];
    browse(browser, profile, (1280, 2400), &args, url)
}

/// Requests the page itself made to anything but a local file, from a
/// Chromium net log. The browser's own background requests are told apart
/// by their network isolation key: only the page's are keyed to `file://`.
fn page_requests(net_log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(net_log).expect("net log written");
    // Chromium may leave the closing brackets off when it exits.
    let log: serde_json::Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .expect("net log is JSON");
    let mut out: Vec<String> = log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let p = &e["params"];
            let url = p["url"].as_str()?;
            let key = p["network_isolation_key"].as_str()?;
            (key.contains("file://") && !url.starts_with("file:")).then(|| url.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Lines Chromium logged from the page's console (errors, uncaught exceptions).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// Static checks on the file: nothing to fetch, nothing to run.
fn assert_self_contained(html: &str, name: &str) {
    let lower = html.to_ascii_lowercase();
    // Stronger than "no http(s) src or href": no src or href at all.
    for bad in [
        "<script", "src=", "href=", "url(", "@import", "<link", "<iframe", "<object", "<embed",
    ] {
        assert!(!lower.contains(bad), "{name} contains {bad:?}");
    }
    assert!(
        lower.starts_with("<!doctype html>"),
        "{name} is not an HTML document"
    );
}

/// The SVG charts of a DOM dump: each `<svg class="chart ...">` .. `</svg>`.
fn charts_in(dom: &str) -> Vec<&str> {
    dom.match_indices("<svg class=\"chart")
        .map(|(i, _)| {
            let end = dom[i..].find("</svg>").map_or(dom.len(), |e| i + e);
            &dom[i..end]
        })
        .collect()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(
        bytes.len() > 24 && &bytes[..8] == b"\x89PNG\r\n\x1a\n",
        "not a PNG"
    );
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// Instruments a copy of the page: opens every `<details>`, then measures
/// each chart and the page width once laid out, into `<pre id="probe">`.
const PROBE: &str = r#"<script>
document.querySelectorAll('details').forEach(d => { d.open = true; });
const charts = [...document.querySelectorAll('svg.chart')].map(s => {
  const r = s.getBoundingClientRect();
  const marks = [...s.querySelectorAll('path, rect, circle')]
    .filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length;
  return { id: s.id, w: r.width, h: r.height, marks };
});
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify({
  charts,
  scroll_width: document.documentElement.scrollWidth,
  inner_width: window.innerWidth,
});
document.body.appendChild(pre);
</script>"#;

fn probe(dom: &str) -> serde_json::Value {
    let start = dom.find("<pre id=\"probe\">").expect("probe ran") + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").expect("probe closed");
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&json).expect("probe JSON")
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("html-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every check on one page: static, network, console, DOM, layout, screenshots.
fn check_page(browser: &Path, tmp: &Path, page: &Path, name: &str) {
    let html = std::fs::read_to_string(page).unwrap();
    assert_self_contained(&html, name);
    let url = format!("file://{}", page.display());
    let n_charts = html.matches("<svg class=\"chart").count();
    assert!(n_charts >= 3, "{name}: only {n_charts} chart(s)");

    let net_log = tmp.join(format!("{name}.netlog.json"));
    let run = dump_logged(
        browser,
        &tmp.join(format!("profile-{name}")),
        &net_log,
        &url,
    );
    assert_eq!(
        page_requests(&net_log),
        Vec::<String>::new(),
        "{name} made requests"
    );
    assert_eq!(
        console_lines(&run.stderr),
        Vec::<&str>::new(),
        "{name} logged to the console"
    );
    let charts = charts_in(&run.stdout);
    assert_eq!(charts.len(), n_charts, "{name}: charts lost in the DOM");
    for c in &charts {
        let marks = ["<path d=\"M", "<rect ", "<circle "]
            .iter()
            .map(|m| c.matches(m).count())
            .sum::<usize>();
        assert!(
            marks > 0 && c.contains("role=\"img\"") && c.contains("<title"),
            "{name}: empty or unlabelled chart {}",
            c.chars().take(200).collect::<String>()
        );
    }

    let probed = tmp.join(format!("{name}.probe.html"));
    std::fs::write(&probed, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    for (vp, w, h) in VIEWPORTS {
        let run = browse(
            browser,
            &tmp.join(format!("profile-{name}-{vp}")),
            (w, h),
            &["--dump-dom".into()],
            &format!("file://{}", probed.display()),
        );
        let p = probe(&run.stdout);
        let measured = p["charts"].as_array().expect("charts measured");
        assert_eq!(measured.len(), n_charts, "{name} {vp}");
        for c in measured {
            assert!(
                c["w"].as_f64() > Some(50.0) && c["h"].as_f64() > Some(30.0),
                "{name} {vp}: chart not laid out: {c}"
            );
            assert!(
                c["marks"].as_u64() > Some(0),
                "{name} {vp}: chart draws nothing: {c}"
            );
        }
        assert!(
            p["scroll_width"].as_f64() <= p["inner_width"].as_f64(),
            "{name} {vp}: the page is wider than the window: {p}"
        );

        let shot = screenshot_dir().join(format!("{name}_{vp}.png"));
        let _ = std::fs::remove_file(&shot);
        browse(
            browser,
            &tmp.join(format!("profile-{name}-{vp}-shot")),
            (w, h),
            &[format!("--screenshot={}", shot.display())],
            &url,
        );
        let png = std::fs::read(&shot).expect("screenshot written");
        assert_eq!(png_size(&png), (w, h), "{name} {vp} screenshot size");
        assert!(
            png.len() > 30_000,
            "{name} {vp} screenshot is nearly blank ({} bytes)",
            png.len()
        );
    }
}

/// A scratch copy of the shared demo's data directory.
fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    support::copy_tree(support::demo(), &data);
    (dir, data)
}

/// Runs `tars ARGS --data-dir DATA` and expects it to succeed.
fn tars_in(data: &Path, args: &[&str]) {
    support::tars()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .assert()
        .success();
}

#[test]
fn html_reports_render_in_a_browser_without_fetching_anything() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let retro = data.join("output/GA_7DAY_RETROSPECTIVE.html");
    support::tars()
        .args(["demo", "--data-dir"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains(retro.display().to_string()));
    for day in 1..=7 {
        assert!(data
            .join(format!("health/day_{day:02}_HEALTH.html"))
            .is_file());
    }
    let tmp = dir.path().join("browser");
    std::fs::create_dir_all(&tmp).unwrap();
    check_page(&browser, &tmp, &retro, "retrospective");
    check_page(
        &browser,
        &tmp,
        &data.join("health/day_05_HEALTH.html"),
        "day_05_health",
    );
}

/// Service names come from the metrics backend's labels: one that looks
/// like markup is printed as text, never parsed as an element, on both pages.
#[test]
fn markup_in_a_service_name_is_escaped() {
    let (_dir, data) = demo_copy();
    let hostile = "<img src=x onerror=alert(1)>";
    for (p, bytes) in support::snapshot(&data) {
        if p.extension().is_some_and(|e| e == "json") {
            let text = String::from_utf8(bytes).unwrap();
            std::fs::write(&p, text.replace("checkout", hostile)).unwrap();
        }
    }
    tars_in(&data, &["retro"]);
    tars_in(&data, &["health-report", "--day-number", "3"]);
    for page in [
        "output/GA_7DAY_RETROSPECTIVE.html",
        "health/day_03_HEALTH.html",
    ] {
        let html = std::fs::read_to_string(data.join(page)).unwrap();
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page} lost the name"
        );
        assert!(
            !html.contains("<img"),
            "{page} has an element from a service name"
        );
    }
}

/// The pages are rendered from the artifacts alone: `tars retro` and
/// `tars health-report` rerun on the demo's artifacts write the same bytes.
#[test]
fn rerendering_the_pages_gives_the_same_bytes() {
    let (_dir, data) = demo_copy();
    let pages = [
        "output/GA_7DAY_RETROSPECTIVE.html",
        "health/day_04_HEALTH.html",
    ];
    let read = |p: &str| std::fs::read(data.join(p)).unwrap();
    let before: Vec<Vec<u8>> = pages.iter().map(|p| read(p)).collect();
    tars_in(&data, &["health-report", "--day-number", "4"]);
    tars_in(&data, &["retro"]);
    for (p, old) in pages.iter().zip(before) {
        assert!(read(p) == old, "{p} changed on a rerun");
    }
}

/// A week without health reports and anomaly events still gets its page;
/// the charts with nothing to draw say so.
#[test]
fn missing_inputs_render_as_no_data() {
    let (_dir, data) = demo_copy();
    for (p, _) in support::snapshot(&data) {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with("_HEALTH.json")
            || name == "anomaly_events.json"
            || p.starts_with(data.join("output"))
        {
            std::fs::remove_file(&p).unwrap();
        }
    }
    tars_in(&data, &["retro"]);
    let html = std::fs::read_to_string(data.join("output/GA_7DAY_RETROSPECTIVE.html")).unwrap();
    let chart = |id: &str| {
        let i = html.find(&format!(" id=\"{id}\"")).expect(id);
        html[i..i + html[i..].find("</svg>").unwrap()].to_string()
    };
    for id in ["health", "incidents"] {
        assert!(chart(id).contains(">no data</text>"), "{id}");
    }
    assert!(
        !chart("budget").contains(">no data</text>"),
        "the day summaries still have SLOs"
    );
    assert!(!html.contains("NaN"));
}

/// The browser checks above can fail: a page that fetches a stylesheet and
/// an image and logs an error is caught by each of them.
#[test]
fn browser_checks_catch_a_page_that_fetches_and_logs() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><head><link rel="stylesheet" href="https://example.invalid/x.css"></head>
<body><img src="http://example.invalid/a.png"><script>console.error("boom");</script></body></html>"#,
    )
    .unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(std::panic::catch_unwind(|| assert_self_contained(&html, "bad")).is_err());
    let net_log = dir.path().join("bad.netlog.json");
    let run = dump_logged(
        &browser,
        &dir.path().join("profile"),
        &net_log,
        &format!("file://{}", page.display()),
    );
    let requests = page_requests(&net_log);
    assert!(requests.iter().any(|u| u.contains("x.css")), "{requests:?}");
    assert!(requests.iter().any(|u| u.contains("a.png")), "{requests:?}");
    assert_eq!(console_lines(&run.stderr).len(), 1, "{}", run.stderr);
}
