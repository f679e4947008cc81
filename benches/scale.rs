//! The fleet-size benchmark's two backends (issue 16), driven by
//! `scripts/bench_scale.sh`:
//!
//! - `backfill N START END FILE`: OpenMetrics scrape history of N services
//!   (copies of the simulated four, `gen::History::fleet`) for
//!   `promtool tsdb create-blocks-from openmetrics`, so a real Prometheus
//!   answers the tool's queries.
//! - `serve N`: a loopback HTTP server answering `api/v1/query` and
//!   `api/v1/query_range` for N services with generated values, gzipped
//!   when asked as Prometheus does. It stands in for Prometheus where a real
//!   one cannot be filled on this machine (1,000 services is ~150 M samples a
//!   day); the tool still does real HTTP, decompression, parsing and
//!   analysis. `GET /count` says how many API requests it answered.
//!
//! Not a criterion benchmark: the figures are whole-process wall time, CPU
//! time and peak RSS of `tars` runs, taken by the script with
//! `/usr/bin/time`.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use flate2::write::GzEncoder;
use tars::prom::gen::{Format, History};
use tars::source::sim::{Scenario, Simulator};

/// The GA of the benchmark's history (the tests' GA, for the same reason:
/// fixed, and in the past).
fn ga() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 0, 0, 0)
        .single()
        .expect("valid GA")
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let num = |i: usize| -> i64 {
        args.get(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| usage())
    };
    match args.first().map(String::as_str) {
        Some("ga") => println!("{}", ga().timestamp()),
        Some("backfill") => {
            let file = args.get(4).unwrap_or_else(|| usage());
            backfill(num(1) as usize, num(2), num(3), file)
        }
        Some("serve") => serve(num(1) as usize),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: scale ga | backfill N START END FILE | serve N");
    std::process::exit(2)
}

fn backfill(n: usize, start: i64, end: i64, file: &str) {
    let sim = Simulator::new(Scenario::Regressions, 42, ga());
    let f = std::fs::File::create(file).expect("history file");
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut h = History::new(&sim, start, vec![]).fleet(n);
    let samples = h
        .write_until(end, Format::OpenMetrics, &mut w)
        .expect("write history");
    w.write_all(b"# EOF\n").expect("write history");
    w.flush().expect("write history");
    eprintln!("{samples} samples for {n} services");
}

fn serve(n: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("http://{}", listener.local_addr().expect("addr"));
    std::io::stdout().flush().expect("stdout");
    let count = Arc::new(AtomicU64::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let count = count.clone();
        std::thread::spawn(move || connection(stream, n, &count));
    }
}

/// One keep-alive connection: requests until the client closes it.
fn connection(stream: TcpStream, n: usize, count: &AtomicU64) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut target = String::new();
        let mut gzip = false;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if first {
                target = line.split(' ').nth(1).unwrap_or("").to_string();
                first = false;
            } else if line.to_ascii_lowercase().starts_with("accept-encoding:") {
                gzip = line.contains("gzip");
            }
        }
        let body = answer(&target, n, count);
        let (body, enc) = if gzip {
            let mut z = GzEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(&body).expect("gzip");
            (z.finish().expect("gzip"), "Content-Encoding: gzip\r\n")
        } else {
            (body, "")
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{enc}Content-Length: {}\r\n\r\n",
            body.len()
        );
        // One write: a head and body written apart wait out Nagle and the
        // client's delayed ACK (40 ms a request).
        let mut reply = head.into_bytes();
        reply.extend_from_slice(&body);
        if out.write_all(&reply).is_err() {
            return;
        }
    }
}

/// The KPI a default-catalogue query asks for, as an index into [`BASE`].
fn kpi_of(query: &str) -> usize {
    const MARKS: [&str; 8] = [
        "100 * (1 - ",
        "100 * ((",
        "histogram_quantile(0.5,",
        "histogram_quantile(0.95,",
        "histogram_quantile(0.99,",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "changes(",
    ];
    MARKS.iter().position(|m| query.contains(m)).unwrap_or(8)
}

/// A typical level of each KPI (then cpu, memory, restarts, throughput).
const BASE: [f64; 9] = [99.95, 0.05, 40.0, 120.0, 250.0, 1.5, 6.0e8, 0.0, 150.0];

/// A deterministic value with a daily cycle and some noise.
fn value(kpi: usize, service: usize, t: i64) -> f64 {
    let base = BASE[kpi];
    if base == 0.0 {
        return 0.0;
    }
    let mut h = (service as u64 ^ (t as u64).rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^= h >> 29;
    let noise = (h % 10_000) as f64 / 10_000.0 - 0.5;
    let day = (t as f64 / 86_400.0 + service as f64 / 7.0) * std::f64::consts::TAU;
    if kpi == 0 {
        return (base + 0.02 * day.sin() + 0.01 * noise).min(100.0);
    }
    base * (1.0 + 0.1 * day.sin() + 0.04 * noise)
}

fn answer(target: &str, n: usize, count: &AtomicU64) -> Vec<u8> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path == "/count" {
        return count.load(Ordering::SeqCst).to_string().into_bytes();
    }
    count.fetch_add(1, Ordering::SeqCst);
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    let q = get("query");
    let kpi = kpi_of(q);
    let grouped = q.contains("by (service");
    let services = if grouped { n } else { 1 };
    let names = ["api-gateway", "checkout", "search", "payments"];
    let label = |k: usize| {
        if grouped {
            format!(r#"{{"service":"{}-{k:04}"}}"#, names[k % 4])
        } else {
            "{}".to_string()
        }
    };
    let mut body = String::from(r#"{"status":"success","data":{"resultType":""#);
    if path.ends_with("query_range") {
        let num = |k: &str| get(k).parse::<i64>().unwrap_or(0);
        let (start, end, step) = (num("start"), num("end"), num("step").max(1));
        body.push_str(r#"matrix","result":["#);
        for k in 0..services {
            if k > 0 {
                body.push(',');
            }
            body.push_str(&format!(r#"{{"metric":{},"values":["#, label(k)));
            let mut t = start;
            while t <= end {
                if t > start {
                    body.push(',');
                }
                body.push_str(&format!("[{t},\"{}\"]", value(kpi, k, t)));
                t += step;
            }
            body.push_str("]}");
        }
    } else {
        let t = get("time").parse::<i64>().unwrap_or(0);
        body.push_str(r#"vector","result":["#);
        for k in 0..services {
            if k > 0 {
                body.push(',');
            }
            // Fleet-wide cpu, memory and throughput are sums; the rest are shares or quantiles.
            let v = value(kpi, k, t) * if !grouped && kpi >= 5 { n as f64 } else { 1.0 };
            body.push_str(&format!(r#"{{"metric":{},"value":[{t},"{v}"]}}"#, label(k)));
        }
    }
    body.push_str("]}}");
    body.into_bytes()
}
