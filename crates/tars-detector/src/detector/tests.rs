use super::sim::{Kpi, Rng, GA};
use super::*;

fn run(data: &[(i64, f64)]) -> Vec<PointVerdict> {
    let mut det = StreamingDetector::new(DetectorConfig::default());
    data.iter().map(|&(t, v)| det.update(t, v)).collect()
}

fn onsets(out: &[PointVerdict]) -> Vec<usize> {
    out.iter()
        .enumerate()
        .filter(|(_, v)| v.onset)
        .map(|(i, _)| i)
        .collect()
}

/// Bounded noise (uniform, sd 1): after warm-up no value can be a record by
/// chance, so every alert is the test's doing.
fn noisy(n: usize, seed: u64) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            (
                GA + 300 * i as i64,
                100.0 + 3f64.sqrt() * (2.0 * rng.uniform() - 1.0),
            )
        })
        .collect()
}

#[test]
fn constant_series_never_alerts() {
    for c in [0.0, 1.0, -3.5, 1e9] {
        let data: Vec<_> = (0..5000).map(|i| (GA + 60 * i, c)).collect();
        let out = run(&data);
        assert!(
            out.iter().all(|v| v.score == 0.0 && !v.is_anomaly),
            "constant {c}"
        );
        assert_eq!(out[4000].expected, c);
    }
}

#[test]
fn spike_after_warmup_alerts_once() {
    let mut data = noisy(3000, 7);
    data[1500].1 += 15.0;
    let out = run(&data);
    assert_eq!(onsets(&out), vec![1500]);
    assert!(out[1500].score >= 0.5 && out[1500].score <= 1.0);
    assert!(out
        .iter()
        .enumerate()
        .all(|(i, v)| i == 1500 || v.score < 0.5));
    assert_eq!(out[1500].reason, "new_extreme");
}

#[test]
fn spike_during_warmup_is_not_reported() {
    let mut data = noisy(1000, 3);
    data[100].1 += 50.0;
    let out = run(&data);
    assert_eq!(out[100].reason, "warmup");
    assert_eq!(out[100].score, 0.0);
    assert!(onsets(&out).is_empty());
}

#[test]
fn level_shift_alerts_at_onset_then_readapts() {
    let mut data = noisy(4000, 11);
    for p in &mut data[2000..] {
        p.1 += 6.0;
    }
    let out = run(&data);
    let on = onsets(&out);
    assert!(!on.is_empty() && on[0] >= 2000 && on[0] <= 2003, "{on:?}");
    // Re-adapted: the alert has ended and the new level is expected.
    assert!(!out[2600].is_anomaly);
    assert!(
        (out[3000].expected - 106.0).abs() < 1.0,
        "{}",
        out[3000].expected
    );
    assert!(out[2300..].iter().all(|v| v.score < 0.5));
}

#[test]
fn downward_shift_is_reported_low() {
    let mut data = noisy(3000, 5);
    for p in &mut data[2000..] {
        p.1 -= 8.0;
    }
    let out = run(&data);
    let on = onsets(&out);
    assert!(!on.is_empty() && on[0] <= 2003, "{on:?}");
    assert!(matches!(out[on[0]].reason, "spike_low" | "new_extreme"));
}

#[test]
fn learnt_daily_pattern_stops_alerting() {
    // Square wave (busy 08:00-20:00) at 5-minute resolution: the plain level is
    // surprised twice a day, the seasonal profile is not.
    let mut rng = Rng::new(2);
    let data: Vec<_> = (0..288 * 10)
        .map(|i| {
            let ts = GA + 300 * i;
            let h = ts.rem_euclid(86_400) / 3600;
            (
                ts,
                if (8..20).contains(&h) { 200.0 } else { 50.0 } + rng.normal(),
            )
        })
        .collect();
    let out = run(&data);
    assert!(
        onsets(&out).iter().all(|&i| i < 288 * 2),
        "{:?}",
        onsets(&out)
    );
    // The profile really predicts the edge, not a lagging level.
    let edge = (288 * 9..288 * 10)
        .find(|&i| data[i].1 > 150.0 && data[i - 1].1 < 150.0)
        .expect("edge");
    assert!(
        (out[edge].expected - 200.0).abs() < 10.0,
        "{}",
        out[edge].expected
    );
}

#[test]
fn off_season_value_alerts() {
    let mut data = super::sim::healthy(Kpi::Throughput, 4, 4);
    // Daytime load in the middle of the night of day 3: within the range seen so
    // far, so only the seasonal expectation can tell.
    let night = GA + 3 * 86_400 + 15 * 3600;
    for p in data
        .iter_mut()
        .filter(|p| p.0 >= night && p.0 < night + 3600)
    {
        p.1 = 1450.0;
    }
    let out = run(&data);
    let i = data.iter().position(|p| p.0 == night).expect("night");
    assert!(
        out[i..i + 5].iter().any(|v| v.onset),
        "{:?}",
        &out[i..i + 5]
    );
}

#[test]
fn flat_line_then_change_alerts() {
    let mut data: Vec<_> = (0..2000).map(|i| (GA + 60 * i, 5.0)).collect();
    data[1500].1 = 6.0;
    let out = run(&data);
    assert_eq!(onsets(&out), vec![1500]);
}

#[test]
fn missing_points_change_nothing() {
    let clean = noisy(1200, 9);
    let mut holey = Vec::new();
    for (i, &(t, v)) in clean.iter().enumerate() {
        holey.push((t, v));
        if i % 7 == 0 {
            holey.push((t + 1, [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][i % 3]));
        }
    }
    let a = run(&clean);
    let b: Vec<_> = run(&holey)
        .into_iter()
        .filter(|v| v.reason != "missing")
        .collect();
    assert_eq!(a, b);
    let out = run(&holey);
    assert!(out
        .iter()
        .filter(|v| v.reason == "missing")
        .all(|v| v.score == 0.0 && !v.is_anomaly));
}

#[test]
fn absurd_magnitudes_stay_in_range() {
    let data: Vec<_> = (0..1000)
        .map(|i| (i * 60, if i % 2 == 0 { f64::MAX } else { -f64::MAX }))
        .collect();
    for v in run(&data) {
        assert!((0.0..=1.0).contains(&v.score) && (0.0..=1.0).contains(&v.likelihood));
    }
}

#[test]
fn bad_config_falls_back_to_usable_values() {
    let cfg = DetectorConfig {
        z_threshold: f64::NAN,
        alpha: -1.0,
        warmup_points: 0,
    };
    let mut det = StreamingDetector::new(cfg);
    for i in 0..100 {
        let v = det.update(i * 60, (i % 3) as f64);
        assert!((0.0..=1.0).contains(&v.score));
    }
    let restored: DetectorConfig =
        serde_json::from_str(r#"{"z_threshold": 5.0}"#).expect("partial config");
    assert_eq!(restored.alpha, DetectorConfig::default().alpha);
    assert_eq!(restored.z_threshold, 5.0);
}

#[test]
fn batch_run_matches_point_by_point_updates() {
    // Irregular steps, repeats, gaps, missing values and a level shift: every
    // path of the per-point update, through the dispatched (AVX2) loop.
    let mut rng = Rng::new(7);
    let mut ts = 1_700_000_000i64;
    let data: Vec<(i64, f64)> = (0..30_000)
        .map(|i| {
            ts += [60, 60, 60, 0, 300, 3_600, 45][(rng.uniform() * 7.0) as usize];
            let v = if rng.uniform() < 0.01 {
                f64::NAN
            } else {
                100.0 + 20.0 * rng.normal() + if i > 20_000 { 80.0 } else { 0.0 }
            };
            (ts, v)
        })
        .collect();
    let mut one = StreamingDetector::new(DetectorConfig::default());
    let expected: Vec<PointVerdict> = data.iter().map(|&(t, v)| one.update(t, v)).collect();
    let mut batch = StreamingDetector::new(DetectorConfig::default());
    let mut got = Vec::new();
    batch.run(&data, |_, v| got.push(v));
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        // Bitwise, so that NaN fields compare too.
        let bits = |v: &PointVerdict| {
            [v.score, v.likelihood, v.expected, v.band_low, v.band_high].map(f64::to_bits)
        };
        assert_eq!(bits(g), bits(e), "point {i}");
        assert_eq!(
            (g.is_anomaly, g.onset, g.reason),
            (e.is_anomaly, e.onset, e.reason)
        );
    }
    assert!(expected.iter().any(|v| v.onset), "the shift should alert");
}

#[test]
fn slot_cache_matches_direct_computation() {
    let mut det = StreamingDetector::new(DetectorConfig::default());
    let mut rng = Rng::new(1);
    let mut ts = -1_000_000i64;
    for _ in 0..20_000 {
        ts += (rng.uniform() * 700.0) as i64 - 50;
        det.locate(ts);
        let (w, d) = (det.week_slot, det.day_slot);
        let expect_w = (ts.rem_euclid(WEEK_SLOTS as i64 * SLOT_SECS) / SLOT_SECS) as usize;
        assert_eq!((w, d), (expect_w, expect_w % DAY_SLOTS), "ts {ts}");
        assert_eq!(
            (det.day_no, det.week_no),
            (ts.div_euclid(DAY_SECS), ts.div_euclid(WEEK_SECS)),
            "ts {ts}"
        );
    }
}

#[test]
fn share_of_records_decays_to_exact_zero() {
    // A rising start (every point a record), then a long flat stretch: the share
    // must reach 0 exactly, not the smallest subnormal, where every later point
    // would pay for subnormal arithmetic (it once made the detector 2.5x slower).
    let mut det = StreamingDetector::new(DetectorConfig::default());
    for i in 0..20_000 {
        let v = if i < 50 { i as f64 } else { 10.0 };
        det.update(GA + 60 * i, v);
    }
    assert_eq!(det.records, 0.0);
}

#[test]
fn steady_climb_is_a_trend() {
    // Noise around 100, then a climb of 0.5 a point (well above the noise): the
    // level follows it, yet the run of records is flagged.
    let mut data = noisy(3000, 13);
    for (k, p) in data[2000..].iter_mut().enumerate() {
        p.1 += 0.5 * k as f64;
    }
    let out = run(&data);
    assert!(out[300..2000].iter().all(|v| !v.is_anomaly));
    assert_eq!(onsets(&out)[0], 2004);
    // Long after the level has caught up, the records still alert: about a
    // quarter of the points (those that are records while half of the last ten
    // were), close enough together to make one incident.
    let first = out.iter().position(|v| v.reason == "trend");
    assert!(first.is_some_and(|i| i < 2100), "{first:?}");
    let alerting = out[2100..3000].iter().filter(|v| v.is_anomaly).count();
    assert!(alerting >= 200, "{alerting}");
}
