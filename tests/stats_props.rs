//! Invariants of the statistics behind drift and trends, on arbitrary data.

use proptest::prelude::*;
use tars::stats::{mann_whitney, median, theil_sen};

fn finite_vec(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e6f64..1e6, n)
}

proptest! {
    #[test]
    fn mann_whitney_p_value_is_a_probability(x in finite_vec(3..60), y in finite_vec(3..60)) {
        let t = mann_whitney(&x, &y, 0.95).unwrap();
        prop_assert!((0.0..=1.0).contains(&t.p_value));
        prop_assert!(t.ci_low <= t.shift && t.shift <= t.ci_high);
        prop_assert!(t.inflation >= 1.0);
    }

    #[test]
    fn shift_is_equivariant_under_translation(x in finite_vec(5..40), y in finite_vec(5..40), c in -1e3f64..1e3) {
        let a = mann_whitney(&x, &y, 0.95).unwrap();
        let y2: Vec<f64> = y.iter().map(|v| v + c).collect();
        let b = mann_whitney(&x, &y2, 0.95).unwrap();
        prop_assert!((b.shift - (a.shift + c)).abs() < 1e-6 * (1.0 + a.shift.abs() + c.abs()));
    }

    #[test]
    fn swapping_samples_negates_the_shift(x in finite_vec(5..40), y in finite_vec(5..40)) {
        let a = mann_whitney(&x, &y, 0.95).unwrap();
        let b = mann_whitney(&y, &x, 0.95).unwrap();
        prop_assert!((a.shift + b.shift).abs() < 1e-6 * (1.0 + a.shift.abs()));
        prop_assert!((a.p_value - b.p_value).abs() < 1e-9);
    }

    #[test]
    fn non_finite_values_are_ignored(x in finite_vec(5..30), y in finite_vec(5..30)) {
        let mut xn = x.clone();
        xn.push(f64::NAN);
        xn.push(f64::INFINITY);
        prop_assert_eq!(mann_whitney(&x, &y, 0.95), mann_whitney(&xn, &y, 0.95));
        prop_assert_eq!(median(&x), median(&xn));
    }

    #[test]
    fn theil_sen_recovers_an_exact_line(a in -100f64..100.0, b in -100f64..100.0, n in 3usize..20) {
        let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let ys: Vec<f64> = xs.iter().map(|x| a * x + b).collect();
        let f = theil_sen(&xs, &ys, 0.95).unwrap();
        prop_assert!((f.slope - a).abs() < 1e-9 * (1.0 + a.abs()));
        prop_assert!((f.intercept - b).abs() < 1e-7 * (1.0 + b.abs() + a.abs() * n as f64));
        prop_assert!(f.slope_low <= f.slope && f.slope <= f.slope_high);
    }
}
