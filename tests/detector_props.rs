//! Properties that must hold for any input series.

use proptest::prelude::*;
use tars::anomaly::detector::{DetectorConfig, PointVerdict, StreamingDetector};
use tars::anomaly::incident::detect_incidents;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1.0e6..1.0e6f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.0),
        1 => prop::num::f64::ANY,
    ]
}

fn series() -> impl Strategy<Value = Vec<(i64, f64)>> {
    // Steps include zero, irregular and backwards jumps: none may panic.
    prop::collection::vec((-400i64..4000, value()), 0..700).prop_map(|steps| {
        let mut ts = 1_600_000_000i64;
        steps
            .into_iter()
            .map(|(dt, v)| {
                ts += dt;
                (ts, v)
            })
            .collect()
    })
}

fn config() -> impl Strategy<Value = DetectorConfig> {
    (0.0..20.0f64, 0.0..1.5f64, 0u32..400).prop_map(|(z, a, w)| DetectorConfig {
        z_threshold: z,
        alpha: a,
        warmup_points: w,
    })
}

fn run(cfg: DetectorConfig, data: &[(i64, f64)]) -> Vec<PointVerdict> {
    let mut det = StreamingDetector::new(cfg);
    data.iter().map(|&(t, v)| det.update(t, v)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn scores_are_in_unit_interval(cfg in config(), data in series()) {
        for (i, v) in run(cfg, &data).iter().enumerate() {
            prop_assert!(v.score >= 0.0 && v.score <= 1.0, "point {i}: score {}", v.score);
            prop_assert!(!v.onset || v.is_anomaly);
        }
    }

    #[test]
    fn non_finite_points_are_missing(data in series()) {
        let out = run(DetectorConfig::default(), &data);
        for (v, &(_, x)) in out.iter().zip(&data) {
            if !x.is_finite() {
                prop_assert_eq!(v.reason, "missing");
                prop_assert_eq!(v.score, 0.0);
                prop_assert!(!v.is_anomaly);
            }
        }
    }

    #[test]
    fn identical_input_gives_identical_output(data in series()) {
        let a = run(DetectorConfig::default(), &data);
        let b = run(DetectorConfig::default(), &data);
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert_eq!(x.score.to_bits(), y.score.to_bits());
            prop_assert_eq!(x.is_anomaly, y.is_anomaly);
            prop_assert_eq!(x.reason, y.reason);
        }
        prop_assert_eq!(detect_incidents(&data, &DetectorConfig::default()), detect_incidents(&data, &DetectorConfig::default()));
    }

    #[test]
    fn constant_series_never_alerts(c in -1.0e9..1.0e9f64, n in 0usize..3000, step in 1i64..3600) {
        let data: Vec<(i64, f64)> = (0..n).map(|i| (i as i64 * step, c)).collect();
        prop_assert!(run(DetectorConfig::default(), &data).iter().all(|v| !v.is_anomaly && v.score == 0.0));
        prop_assert!(detect_incidents(&data, &DetectorConfig::default()).is_empty());
    }

    #[test]
    fn incidents_are_ordered_and_well_formed(data in series()) {
        // The pipeline passes ascending timestamps; sort to hold up that contract.
        let mut data = data;
        data.sort_by_key(|p| p.0);
        let incs = detect_incidents(&data, &DetectorConfig::default());
        for w in incs.windows(2) {
            prop_assert!(w[0].end_ts < w[1].start_ts, "{:?} then {:?}", w[0], w[1]);
        }
        for inc in &incs {
            prop_assert!(inc.points >= 1);
            prop_assert!(inc.start_ts <= inc.peak_ts && inc.peak_ts <= inc.end_ts);
            // An alert lasts while the likelihood stays above 0.3 (hysteresis), so an
            // incident split by a long gap may start below the 0.5 entry level.
            prop_assert!(inc.score >= 0.3 && inc.score <= 1.0, "{inc:?}");
        }
    }

    #[test]
    fn big_step_after_warmup_is_always_reported(
        base in 1.0..1.0e4f64,
        noise in 0.0..0.05f64,
        factor in 3.0..20.0f64,
        at in 400usize..900,
        seed in any::<u64>(),
    ) {
        // Whatever the level and noise, a several-fold step that lasts is an alert
        // within a few points of its start.
        let mut state = seed | 1;
        let data: Vec<(i64, f64)> = (0..1200usize)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                let v = base * (1.0 + noise * u) * if i >= at { factor } else { 1.0 };
                (60 * i as i64, v)
            })
            .collect();
        let out = run(DetectorConfig::default(), &data);
        let hit = out[at..=at + 5].iter().any(|v| v.is_anomaly);
        prop_assert!(hit, "no alert within 5 points of the step at {at}");
    }
}

#[test]
fn empty_series_has_no_incidents() {
    assert!(detect_incidents(&[], &DetectorConfig::default()).is_empty());
}
