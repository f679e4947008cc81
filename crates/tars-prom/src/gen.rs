//! Scrape history generated from the simulator, for backfilling a real
//! Prometheus (`promtool tsdb create-blocks-from openmetrics`) or
//! VictoriaMetrics (`/api/v1/import/prometheus`) in tests and benchmarks.
//!
//! Every simulated minute becomes one scrape at the minute's end of the
//! metrics a typical instrumented service exports: `http_requests_total`
//! by `code`, an `http_request_duration_seconds` histogram, and the process
//! collector's CPU, memory and start time. A restart resets every counter,
//! as it would in a real process, so the server's `increase` has to handle
//! resets. Histogram buckets hold each minute's log-normal latency
//! distribution deterministically: the cumulative count at bound `le` is
//! `round(requests * P(latency <= le))`.

use std::io::{self, Write};

use tars_sim::Simulator;
use tars_stats::norm_cdf;

/// Text layout of the generated samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics text, timestamps in seconds, ending in `# EOF` (promtool).
    OpenMetrics,
    /// Prometheus exposition text with millisecond timestamps (VictoriaMetrics import).
    PromText,
}

/// A scrape gap: no samples of `service` with timestamps in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub service: String,
    pub start: i64,
    pub end: i64,
}

/// Upper bounds of the latency histogram, milliseconds (`+Inf` not included).
/// Geometric steps of 4 % between 8 ms and 320 ms, where every quantile of
/// the simulated services lies, so linear interpolation inside a bucket
/// stays well under 1 ms; coarse bounds outside that.
pub fn latency_buckets_ms() -> Vec<f64> {
    let mut b = vec![1.0, 2.0, 4.0, 6.0];
    let mut x = 8.0f64;
    while x <= 320.0 {
        b.push((x * 100.0).round() / 100.0);
        x *= 1.04;
    }
    b.extend([400.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 10000.0]);
    b
}

struct State {
    ok: f64,
    err: f64,
    buckets: Vec<f64>,
    cpu: f64,
    start_time: i64,
}

/// Writes the scrapes of every simulated service whose timestamps fall in
/// `(start, end]` (minute ends), minute by minute. Returns the number of
/// samples written.
pub fn write_history<W: Write>(
    sim: &Simulator,
    start: i64,
    end: i64,
    gaps: &[Gap],
    format: Format,
    out: &mut W,
) -> io::Result<u64> {
    let mut h = History::new(sim, start, gaps.to_vec());
    let n = h.write_until(end, format, out)?;
    if format == Format::OpenMetrics {
        out.write_all(b"# EOF\n")?;
    }
    Ok(n)
}

fn fresh_states(n: usize, buckets: usize, start: i64) -> Vec<State> {
    (0..n)
        .map(|_| State {
            ok: 0.0,
            err: 0.0,
            buckets: vec![0.0; buckets],
            cpu: 0.0,
            start_time: start - 3 * 86_400,
        })
        .collect()
}

/// Scrape history written in pieces (counters carry over between pieces),
/// so that a long history can be imported without holding it all in memory.
pub struct History<'a> {
    sim: &'a Simulator,
    gaps: Vec<Gap>,
    services: Vec<String>,
    /// The simulated service each written service copies.
    origin: Vec<String>,
    states: Vec<State>,
    le_labels: Vec<String>,
    ln_bounds: Vec<f64>,
    /// Start of the next minute to write.
    next: i64,
}

impl<'a> History<'a> {
    pub fn new(sim: &'a Simulator, start: i64, gaps: Vec<Gap>) -> History<'a> {
        let start = start - start.rem_euclid(60);
        let bounds = latency_buckets_ms();
        let le_labels = bounds
            .iter()
            .map(|ms| format!("{}", ms / 1000.0))
            .chain(std::iter::once("+Inf".to_string()))
            .map(|le| format!(",le=\"{le}\""))
            .collect();
        let ln_bounds = bounds.iter().map(|b| b.ln()).collect();
        let services = sim.service_names();
        History {
            sim,
            gaps,
            origin: services.clone(),
            states: fresh_states(services.len(), bounds.len(), start),
            services,
            le_labels,
            ln_bounds,
            next: start,
        }
    }

    /// A fleet of `n` services for scaling benchmarks: service `k` is a copy
    /// of simulated service `k mod 4` named `NAME-kkkk`, so a thousand
    /// services cost no more simulation than four.
    pub fn fleet(mut self, n: usize) -> History<'a> {
        let names = self.sim.service_names();
        if names.is_empty() {
            return self;
        }
        self.origin = (0..n).map(|k| names[k % names.len()].clone()).collect();
        self.services = (0..n)
            .map(|k| format!("{}-{k:04}", names[k % names.len()]))
            .collect();
        self.states = fresh_states(n, self.ln_bounds.len(), self.next);
        self
    }

    /// Writes every scrape up to and including timestamp `end` (no `# EOF`).
    pub fn write_until<W: Write>(
        &mut self,
        end: i64,
        format: Format,
        out: &mut W,
    ) -> io::Result<u64> {
        let minutes: Vec<_> = self
            .origin
            .iter()
            .map(|s| self.sim.minutes(s, self.next, end.max(self.next)))
            .collect();
        let n = minutes.iter().map(|m| m.len()).min().unwrap_or(0);
        let mut samples = 0u64;
        let mut line = String::with_capacity(256);
        // Minute-major order: promtool needs every series in time order.
        #[allow(clippy::needless_range_loop)]
        for i in 0..n {
            let minute_start = self.next + 60 * i as i64;
            let t = minute_start + 60;
            let ts = match format {
                Format::OpenMetrics => t.to_string(),
                Format::PromText => (t * 1000).to_string(),
            };
            for (si, svc) in self.services.iter().enumerate() {
                let m = minutes[si][i];
                let st = &mut self.states[si];
                if m.restarted {
                    st.ok = 0.0;
                    st.err = 0.0;
                    st.cpu = 0.0;
                    st.buckets.iter_mut().for_each(|b| *b = 0.0);
                    st.start_time = minute_start;
                }
                st.ok += m.requests - m.errors;
                st.err += m.errors;
                st.cpu += m.cpu_cores * 60.0;
                for (b, lb) in st.buckets.iter_mut().zip(&self.ln_bounds) {
                    *b += (m.requests * norm_cdf((lb - m.mu) / m.sigma)).round();
                }
                if self
                    .gaps
                    .iter()
                    .any(|g| &g.service == svc && t >= g.start && t < g.end)
                {
                    continue;
                }
                let total = st.ok + st.err;
                let mut emit = |name: &str, extra: &str, v: String| {
                    use std::fmt::Write as _;
                    line.clear();
                    let _ = writeln!(line, "{name}{{service=\"{svc}\"{extra}}} {v} {ts}");
                    samples += 1;
                    out.write_all(line.as_bytes())
                };
                emit("http_requests_total", ",code=\"200\"", st.ok.to_string())?;
                emit("http_requests_total", ",code=\"500\"", st.err.to_string())?;
                for (b, le) in st
                    .buckets
                    .iter()
                    .chain(std::iter::once(&total))
                    .zip(&self.le_labels)
                {
                    emit("http_request_duration_seconds_bucket", le, b.to_string())?;
                }
                emit("process_cpu_seconds_total", "", format!("{:.3}", st.cpu))?;
                emit(
                    "process_resident_memory_bytes",
                    "",
                    format!("{}", m.memory_bytes.round()),
                )?;
                emit("process_start_time_seconds", "", st.start_time.to_string())?;
            }
        }
        self.next += 60 * n as i64;
        Ok(samples)
    }
}
