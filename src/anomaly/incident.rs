//! PLACEHOLDER incident merging (replaced by the detector work).

use serde::Serialize;

use super::detector::{DetectorConfig, StreamingDetector};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub start_ts: i64,
    pub end_ts: i64,
    pub peak_ts: i64,
    pub peak_value: f64,
    pub expected: f64,
    pub band_low: f64,
    pub band_high: f64,
    pub score: f64,
    pub points: usize,
    pub severity: Severity,
    pub reason: &'static str,
}

pub fn detect_incidents(points: &[(i64, f64)], cfg: &DetectorConfig) -> Vec<Incident> {
    let mut det = StreamingDetector::new(*cfg);
    let mut out: Vec<Incident> = Vec::new();
    let mut open: Option<Incident> = None;
    for &(ts, v) in points {
        let p = det.update(ts, v);
        if p.is_anomaly {
            let inc = open.get_or_insert(Incident {
                start_ts: ts,
                end_ts: ts,
                peak_ts: ts,
                peak_value: v,
                expected: p.expected,
                band_low: p.band_low,
                band_high: p.band_high,
                score: p.score,
                points: 0,
                severity: Severity::Low,
                reason: p.reason,
            });
            inc.end_ts = ts;
            inc.points += 1;
            if p.score > inc.score {
                inc.score = p.score;
                inc.peak_ts = ts;
                inc.peak_value = v;
            }
        } else if let Some(mut inc) = open.take() {
            inc.severity = if inc.score > 0.9 {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(inc);
        }
    }
    out.extend(open);
    out
}
