//! Live answers are parsed as their chunks arrive (issue 16): a gzipped,
//! chunked answer from a loopback server must give the same series, the
//! same errors and the same size bound as the raw whole-body path, which a
//! recording run still takes.

#[path = "support/prom/mod.rs"]
mod prom_support;

#[path = "../benches/support/answer.rs"]
mod answer;

use std::io::Write;

use chrono::DateTime;
use flate2::write::GzEncoder;
use tars::model::{Kpi, Series, Window};
use tars::prom::{self, Connection, PromConfig};
use tars::source::SourceError;

/// `body` gzipped when asked, sent in chunks of an odd size.
fn chunked_gzip(head: &str, body: &[u8]) -> Vec<u8> {
    let gzip = head.to_ascii_lowercase().contains("accept-encoding: gzip");
    let body = if gzip {
        let mut z = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(body).expect("gzip");
        z.finish().expect("gzip")
    } else {
        body.to_vec()
    };
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{}\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        if gzip {
            "Content-Encoding: gzip\r\n"
        } else {
            ""
        }
    )
    .into_bytes();
    for c in body.chunks(7_919) {
        out.extend(format!("{:x}\r\n", c.len()).into_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn window(points: usize) -> Window {
    let at = |t: i64| DateTime::from_timestamp(t, 0).expect("time");
    Window {
        start: at(answer::START - 60),
        end: at(answer::START + 60 * (points as i64 - 1)),
    }
}

/// The series (or the error) through the streamed path, then through the
/// whole-body path (recording), then from the recording.
fn three_ways(url: &str, cfg: &PromConfig, points: usize) -> [Result<Vec<Series>, String>; 3] {
    let w = window(points);
    let get = |src: Box<dyn tars::source::MetricsSource>| {
        src.kpi_series(Kpi::ThroughputRps, &w, 60)
            .map_err(|e: SourceError| e.to_string())
    };
    let streamed = get(prom::connect(url, &Connection::default(), cfg).expect("connect"));
    let rec = tempfile::tempdir().expect("temp dir");
    let conn = Connection {
        record: Some(rec.path().to_path_buf()),
        ..Connection::default()
    };
    let whole = get(prom::connect(url, &conn, cfg).expect("connect"));
    let replayed = get(prom::replay(rec.path(), cfg).expect("replay"));
    [streamed, whole, replayed]
}

#[test]
fn a_chunked_gzip_answer_streams_to_the_same_series() {
    let shape = answer::Shape {
        series: 24,
        points: 3_000,
        spike_every: 500,
    };
    let mut body = Vec::new();
    answer::write_answer(&mut body, &shape).expect("answer");
    assert!(body.len() > 1 << 20, "several chunks of the scanner's size");
    let url = prom_support::serve(move |head| chunked_gzip(head, &body));
    let cfg = PromConfig::default();
    let [streamed, whole, replayed] = three_ways(&url, &cfg, shape.points);
    let streamed = streamed.expect("streamed");
    assert_eq!(streamed.len(), shape.series);
    assert!(streamed.iter().all(|s| s.points.len() == shape.points));
    assert_eq!(Ok(&streamed), whole.as_ref());
    // Replay reads the recording whole, as before.
    let replayed = replayed.expect("replay");
    assert_eq!(replayed.len(), streamed.len());
    for (r, s) in replayed.iter().zip(&streamed) {
        assert_eq!(r.points, s.points, "{}", s.service);
    }
}

#[test]
fn broken_and_oversized_answers_fail_the_same_way_streamed_or_whole() {
    let mut cut = Vec::new();
    let shape = answer::Shape {
        series: 3,
        points: 200,
        spike_every: 0,
    };
    answer::write_answer(&mut cut, &shape).expect("answer");
    let good = cut.clone();
    cut.truncate(cut.len() - 700);
    let bad_value = String::from_utf8(good.clone())
        .expect("utf-8")
        .replacen(
            &format!("[{},\"", answer::START),
            &format!("[{},\"x", answer::START),
            1,
        )
        .into_bytes();
    for (what, body, cfg) in [
        ("cut short", cut, PromConfig::default()),
        ("bad value", bad_value, PromConfig::default()),
        (
            "too large",
            good.clone(),
            PromConfig {
                max_response_bytes: good.len() as u64 - 1,
                ..PromConfig::default()
            },
        ),
    ] {
        let url = prom_support::serve(move |head| chunked_gzip(head, &body));
        let [streamed, whole, _] = three_ways(&url, &cfg, shape.points);
        let e = streamed.expect_err(what);
        assert_eq!(whole.as_ref().err(), Some(&e), "{what}");
        assert!(e.contains(&url), "{what}: {e}");
        if what == "bad value" {
            assert!(e.contains("bad sample value"), "{e}");
        }
    }
}

/// The events file of `tars anomaly-detector --once` over `url` with
/// `extra` flags, for the window of an answer of `points` points.
fn events_file(source: &[&str], points: usize) -> Vec<u8> {
    let w = window(points);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("events.json");
    let time = |t: DateTime<chrono::Utc>| t.to_rfc3339();
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("tars"))
        .args(["anomaly-detector", "--once", "-q", "--since"])
        .arg(time(w.start))
        .arg("--until")
        .arg(time(w.end))
        .arg("--ga-timestamp")
        .arg(time(w.start))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--output-file")
        .arg(&out)
        .args(source)
        .env_remove("PROMETHEUS_URL")
        .env_remove("TARS_SOURCE")
        .status()
        .expect("tars runs");
    assert!(status.success(), "{source:?}");
    std::fs::read(&out).expect("events file")
}

/// The anomaly pass hands each series of a live answer to the detector as
/// it is parsed; a recording run reads every answer whole and a replay reads
/// the recording. All three must write the same events file, also when two
/// series share a service (the streamed pass then starts again whole).
#[test]
fn the_streamed_anomaly_pass_writes_what_the_whole_answer_gives() {
    let shape = answer::Shape {
        series: 12,
        points: 2_000,
        spike_every: 400,
    };
    let mut body = Vec::new();
    answer::write_answer(&mut body, &shape).expect("answer");
    let shared = String::from_utf8(body.clone())
        .expect("utf-8")
        .replace("\"svc-0003\"", "\"svc-0002\"")
        .into_bytes();
    for (what, body) in [("distinct", body), ("shared", shared)] {
        let url = prom_support::serve(move |head| chunked_gzip(head, &body));
        let rec = tempfile::tempdir().expect("temp dir");
        let rec_dir = rec.path().to_str().expect("utf-8 path");
        let streamed = events_file(&["--prometheus-url", &url], shape.points);
        let whole = events_file(
            &["--prometheus-url", &url, "--record", rec_dir],
            shape.points,
        );
        let replayed = events_file(&["--source", &format!("file:{rec_dir}")], shape.points);
        assert!(streamed.len() > 1_000, "{what}: events were found");
        assert!(streamed == whole, "{what}: streamed and whole differ");
        assert!(streamed == replayed, "{what}: streamed and replayed differ");
        if what == "shared" {
            let text = String::from_utf8_lossy(&streamed);
            assert!(text.contains("instance="), "{what}: named by label sets");
        }
    }
}
