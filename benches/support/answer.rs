//! A synthetic Prometheus `query_range` answer (`SERIES` x `POINTS` at one
//! minute), shared by the benchmarks and the streaming test so that they
//! read the same shape: one `http_requests:rate1m` series per service,
//! values as strings, a fixed LCG so every run writes the same bytes, and a
//! spike now and then so the detector has incidents to report.

use std::io::{self, Write};

/// Answer shape and noise.
pub struct Shape {
    pub series: usize,
    pub points: usize,
    /// Every how many points a series spikes (0: never).
    pub spike_every: usize,
}

/// Start of every series (2025-06-02T00:00:00Z).
pub const START: i64 = 1_748_822_400;

pub fn write_answer<W: Write>(w: &mut W, shape: &Shape) -> io::Result<()> {
    w.write_all(br#"{"status":"success","data":{"resultType":"matrix","result":["#)?;
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for s in 0..shape.series {
        if s > 0 {
            w.write_all(b",")?;
        }
        write!(
            w,
            r#"{{"metric":{{"__name__":"http_requests:rate1m","service":"svc-{s:04}","instance":"10.0.{}.{}:9090","job":"shop"}},"values":["#,
            s / 250,
            s % 250
        )?;
        for p in 0..shape.points {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let mut v = 1000.0 + (x >> 40) as f64 / 1e4;
            // Offset per series so that spikes of different series differ.
            if shape.spike_every > 0 && (p + 7 * s) % shape.spike_every == 0 && p > 720 {
                v *= 4.0;
            }
            if p > 0 {
                w.write_all(b",")?;
            }
            write!(w, r#"[{},"{v:.6}"]"#, START + 60 * p as i64)?;
        }
        w.write_all(b"]}")?;
    }
    w.write_all(b"]}}")?;
    w.flush()
}
