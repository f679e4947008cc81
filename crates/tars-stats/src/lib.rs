//! Statistics used by the stages. Pure functions on slices; no I/O.
//!
//! References for the known-answer tests: Hollander & Wolfe, *Nonparametric
//! Statistical Methods* (Mann-Whitney, Hodges-Lehmann, Theil-Sen) and values
//! computed with SciPy (`scipy.stats.mannwhitneyu`, `scipy.stats.theilslopes`).

/// Complementary error function (libm's, to the last bit or two; the tails of
/// the rank test's p-values live there).
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// Standard normal CDF.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile (Acklam's rational approximation, refined by one
/// Newton step; |err| < 1e-9 on (0, 1)).
pub fn norm_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let pl = 0.02425;
    let x = if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let e = norm_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Quantile `q` of a mixture of log-normals given as `(weight, mu, sigma)`
/// (latency in ms has ln(ms) ~ N(mu, sigma)), by bisection on the mixture CDF.
pub fn lognormal_mixture_quantile(comps: &[(f64, f64, f64)], q: f64) -> f64 {
    let total: f64 = comps.iter().map(|c| c.0).sum();
    if comps.is_empty() || total <= 0.0 {
        return f64::NAN;
    }
    let z = norm_quantile(q);
    if let [(_, mu, sigma)] = comps {
        return (mu + z * sigma).exp();
    }
    let (mut lo, mut hi) = comps
        .iter()
        .filter(|c| c.0 > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c.1 + z * c.2), hi.max(c.1 + z * c.2))
        });
    if !lo.is_finite() || !hi.is_finite() {
        return f64::NAN;
    }
    // The mixture quantile lies between the smallest and largest component quantile.
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        let cdf: f64 = comps
            .iter()
            .map(|c| c.0 * norm_cdf((mid - c.1) / c.2))
            .sum::<f64>()
            / total;
        if cdf < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-9 {
            break;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Finite values of `xs`, sorted ascending.
pub fn sorted_finite(xs: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Linear-interpolated quantile of already sorted data (type 7, as numpy's default).
pub fn quantile_sorted(s: &[f64], q: f64) -> f64 {
    if s.is_empty() {
        return f64::NAN;
    }
    let h = (s.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let i = h.floor() as usize;
    let j = (i + 1).min(s.len() - 1);
    s[i] + (h - i as f64) * (s[j] - s[i])
}

/// The `k`-th smallest of `v` in total order: the value a full sort would
/// put at `k`, in linear time. Reorders `v`.
fn nth(v: &mut [f64], k: usize) -> f64 {
    *v.select_nth_unstable_by(k, f64::total_cmp).1
}

/// [`quantile_sorted`] of `v` as if it were sorted, by selection: the
/// pairwise estimators take a few order statistics of n² values, and
/// sorting them all was most of a 1,000-service stability run. Reorders `v`.
fn quantile_select(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let i = h.floor() as usize;
    let j = (i + 1).min(v.len() - 1);
    let si = nth(v, i);
    // Past `i` the selection leaves only values at least `v[i]`: the next
    // order statistic is their least.
    let sj = if j == i {
        si
    } else {
        v[i + 1..]
            .iter()
            .copied()
            .min_by(f64::total_cmp)
            .unwrap_or(si)
    };
    si + (h - i as f64) * (sj - si)
}

/// Median of the finite values.
pub fn median(xs: &[f64]) -> f64 {
    quantile_sorted(&sorted_finite(xs), 0.5)
}

/// Mean of the finite values.
pub fn mean(xs: &[f64]) -> f64 {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Lag-1 autocorrelation of the finite values (0 when undefined).
pub fn lag1_autocorrelation(xs: &[f64]) -> f64 {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 3 {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let den: f64 = v.iter().map(|x| (x - m) * (x - m)).sum();
    if den <= 0.0 {
        return 0.0;
    }
    let num: f64 = v.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    (num / den).clamp(-0.99, 0.99)
}

/// Lag-1 autocorrelation of the short-range noise of `xs`: the residuals from
/// a centred rolling median of width 5. Slow structure (daily seasonality, a
/// step) would otherwise read as near-perfect autocorrelation and drown every
/// test; what inflates the variance of a rank test is the short-range part.
pub fn short_range_autocorrelation(xs: &[f64]) -> f64 {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 8 {
        return 0.0;
    }
    let resid: Vec<f64> = (0..v.len())
        .map(|i| {
            let lo = i.saturating_sub(2);
            let hi = (i + 3).min(v.len());
            v[i] - median(&v[lo..hi])
        })
        .collect();
    lag1_autocorrelation(&resid)
}

/// Result of a two-sample comparison of `y` (current) against `x` (baseline).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftTest {
    /// Mann-Whitney U of `y` over `x`.
    pub u: f64,
    /// Two-sided p-value (normal approximation with tie and continuity
    /// corrections, variance inflated for lag-1 autocorrelation).
    pub p_value: f64,
    /// Hodges-Lehmann estimate of the shift `y - x`.
    pub shift: f64,
    /// Confidence interval of the shift.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Variance inflation applied for autocorrelation (1 = independent).
    pub inflation: f64,
}

/// Mann-Whitney U test with a Hodges-Lehmann shift estimate and its
/// (Moses) confidence interval at level `conf`, as Kayenta's judge does.
/// Autocorrelated samples (consecutive minutes of a metric) carry fewer
/// independent observations than points; the U variance is inflated by
/// `(1 + r) / (1 - r)` with `r` the pooled short-range lag-1 autocorrelation
/// ([`short_range_autocorrelation`]), which keeps the false-alarm rate near its
/// nominal level on such data.
/// Returns `None` when either sample has fewer than 3 finite values.
pub fn mann_whitney(x: &[f64], y: &[f64], conf: f64) -> Option<ShiftTest> {
    let xs: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    let ys: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
    let (n1, n2) = (xs.len(), ys.len());
    if n1 < 3 || n2 < 3 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = xs
        .iter()
        .map(|&v| (v, false))
        .chain(ys.iter().map(|&v| (v, true)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len();
    let mut rank_sum_y = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        for item in &all[i..=j] {
            if item.1 {
                rank_sum_y += avg_rank;
            }
        }
        i = j + 1;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_sum_y - n2f * (n2f + 1.0) / 2.0;
    let mu = n1f * n2f / 2.0;
    let var0 = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    let r = ((short_range_autocorrelation(&xs) + short_range_autocorrelation(&ys)) / 2.0).max(0.0);
    let inflation = (1.0 + r) / (1.0 - r);
    let var = var0 * inflation;
    let p_value = if var <= 0.0 {
        if (u - mu).abs() < f64::EPSILON {
            1.0
        } else {
            0.0
        }
    } else {
        let z = ((u - mu).abs() - 0.5).max(0.0) / var.sqrt();
        (2.0 * (1.0 - norm_cdf(z))).clamp(0.0, 1.0)
    };
    let mut diffs = Vec::with_capacity(n1 * n2);
    for &b in &ys {
        for &a in &xs {
            diffs.push(b - a);
        }
    }
    let shift = quantile_select(&mut diffs, 0.5);
    // Moses interval: order statistics of the pairwise differences.
    let zc = norm_quantile(0.5 + conf / 2.0);
    let k = (mu - zc * var.sqrt()).floor().max(0.0) as usize;
    let m = diffs.len();
    let (ci_low, ci_high) = if k < m {
        (
            nth(&mut diffs, k.min(m - 1)),
            nth(&mut diffs, (m - 1).saturating_sub(k)),
        )
    } else {
        (nth(&mut diffs, 0), nth(&mut diffs, m - 1))
    };
    Some(ShiftTest {
        u,
        p_value,
        shift,
        ci_low,
        ci_high,
        inflation,
    })
}

/// A Theil-Sen line fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TheilSen {
    pub slope: f64,
    pub intercept: f64,
    /// Confidence interval of the slope (Sen's method from Kendall's S variance).
    pub slope_low: f64,
    pub slope_high: f64,
}

/// Theil-Sen estimator: median of pairwise slopes, robust to outliers
/// (29 % breakdown point). `conf` is the confidence level of the slope interval.
/// Returns `None` with fewer than 3 finite points or no distinct x.
pub fn theil_sen(x: &[f64], y: &[f64], conf: f64) -> Option<TheilSen> {
    let pts: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = pts[j].0 - pts[i].0;
            if dx != 0.0 {
                slopes.push((pts[j].1 - pts[i].1) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    let slope = quantile_select(&mut slopes, 0.5);
    let intercept = median(&pts.iter().map(|(a, b)| b - slope * a).collect::<Vec<_>>());
    let nf = n as f64;
    let var_s = nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0;
    let c = norm_quantile(0.5 + conf / 2.0) * var_s.sqrt();
    let m = slopes.len() as f64;
    let lo_idx = ((m - c) / 2.0).floor();
    let hi_idx = ((m + c) / 2.0).ceil();
    let mut at = |i: f64| {
        let last = slopes.len() - 1;
        nth(&mut slopes, (i.max(0.0) as usize).min(last))
    };
    Some(TheilSen {
        slope,
        intercept,
        slope_low: at(lo_idx),
        slope_high: at(hi_idx - 1.0),
    })
}

/// The most likely single changepoint of a short series: the split index `k`
/// (the step starts at `ys[k]`) that minimises the summed absolute deviation
/// from each side's median, with the relative improvement over no split.
/// Returns `None` for fewer than 4 points.
pub fn changepoint(ys: &[f64]) -> Option<(usize, f64)> {
    let v: Vec<f64> = ys.to_vec();
    if v.len() < 4 || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let cost = |s: &[f64]| {
        let m = median(s);
        s.iter().map(|x| (x - m).abs()).sum::<f64>()
    };
    let whole = cost(&v);
    let mut best = (0usize, whole);
    for k in 1..v.len() {
        let c = cost(&v[..k]) + cost(&v[k..]);
        if c < best.1 {
            best = (k, c);
        }
    }
    if best.0 == 0 {
        return None;
    }
    let gain = if whole > 0.0 {
        1.0 - best.1 / whole
    } else {
        0.0
    };
    Some((best.0, gain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_gives_the_order_statistics_a_sort_gives() {
        let mut x: u64 = 7;
        for n in [1usize, 2, 3, 4, 5, 17, 96, 97, 9216] {
            // Coarse values make ties; both zeros are in.
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    match i % 11 {
                        0 => -0.0,
                        1 => 0.0,
                        _ => ((x >> 40) % 50) as f64 / 4.0 - 6.0,
                    }
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.1, 0.5, 0.77, 1.0] {
                let got = quantile_select(&mut v.clone(), q);
                assert_eq!(
                    got.to_bits(),
                    quantile_sorted(&sorted, q).to_bits(),
                    "{n} {q}"
                );
            }
            let mut w = v.clone();
            for k in [0, n / 3, n / 2, n - 1] {
                assert_eq!(nth(&mut w, k).to_bits(), sorted[k].to_bits(), "{n} {k}");
            }
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn normal_functions_match_tables() {
        assert!(close(norm_cdf(1.959964), 0.975, 1e-6));
        assert!(close(norm_cdf(0.0), 0.5, 1e-7));
        assert!(close(norm_quantile(0.99), 2.326348, 1e-6));
        assert!(close(norm_quantile(0.025), -1.959964, 1e-6));
        assert!(close(erfc(1.0), 0.157299, 1e-6));
    }

    #[test]
    fn single_lognormal_quantile_is_closed_form() {
        let q = lognormal_mixture_quantile(&[(1.0, 50f64.ln(), 0.45)], 0.99);
        assert!(close(q, 50.0 * (0.45 * 2.326348f64).exp(), 1e-3), "{q}");
    }

    #[test]
    fn mann_whitney_matches_hand_count() {
        // Hand count: 34 of the 36 (y, x) pairs have y > x; with the
        // continuity correction z = (16 - 0.5) / sqrt(39) = 2.48, p = 0.013.
        let x = [1.1, 2.3, 1.9, 3.0, 2.2, 1.7];
        let y = [3.1, 2.9, 4.2, 3.8, 2.4, 3.6];
        let t = mann_whitney(&x, &y, 0.95).unwrap();
        assert_eq!(t.u, 34.0); // U of y over x; U of x over y = 36 - 34 = 2
        assert!(t.shift > 0.9 && t.shift < 1.7, "{}", t.shift);
        assert!(t.p_value < 0.05, "{}", t.p_value);
        if t.inflation == 1.0 {
            assert!(close(t.p_value, 0.0131, 5e-4), "{}", t.p_value);
        }
    }

    #[test]
    fn mann_whitney_identical_samples_is_not_significant() {
        let x: Vec<f64> = (0..50).map(|i| (i * 37 % 50) as f64).collect();
        let t = mann_whitney(&x, &x, 0.95).unwrap();
        assert!(t.p_value > 0.9, "{}", t.p_value);
        assert_eq!(t.shift, 0.0);
        assert!(t.ci_low <= 0.0 && t.ci_high >= 0.0);
    }

    #[test]
    fn hodges_lehmann_recovers_known_shift() {
        let x: Vec<f64> = (0..40).map(|i| ((i * 17) % 40) as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| v + 10.0).collect();
        let t = mann_whitney(&x, &y, 0.95).unwrap();
        assert_eq!(t.shift, 10.0);
        assert!(t.ci_low <= 10.0 && t.ci_high >= 10.0);
        assert!(t.p_value < 0.01);
    }

    #[test]
    fn theil_sen_ignores_an_outlier() {
        let x: Vec<f64> = (0..8).map(f64::from).collect();
        let mut y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        y[5] = 100.0;
        let f = theil_sen(&x, &y, 0.95).unwrap();
        assert_eq!(f.slope, 2.0);
        assert_eq!(f.intercept, 1.0);
        assert!(f.slope_low <= 2.0 && f.slope_high >= 2.0);
    }

    #[test]
    fn theil_sen_slope_is_median_pairwise_slope() {
        let x: Vec<f64> = (0..8).map(f64::from).collect();
        let y = [1.0, 2.0, 1.0, 3.0, 2.0, 4.0, 5.0, 4.0];
        let f = theil_sen(&x, &y, 0.95).unwrap();
        let mut s = vec![];
        for i in 0..8 {
            for j in i + 1..8 {
                s.push((y[j] - y[i]) / (j - i) as f64);
            }
        }
        s.sort_by(f64::total_cmp);
        assert_eq!(f.slope, quantile_sorted(&s, 0.5));
        assert!(f.slope_low < f.slope && f.slope < f.slope_high);
    }

    #[test]
    fn short_range_autocorrelation_ignores_seasonality_but_sees_ar1() {
        // A pure daily sine has lag-1 autocorrelation near 1, but no short-range noise.
        let season: Vec<f64> = (0..96)
            .map(|i| (i as f64 / 96.0 * std::f64::consts::TAU).sin())
            .collect();
        assert!(lag1_autocorrelation(&season) > 0.95);
        assert!(short_range_autocorrelation(&season).abs() < 0.5);
        // Deterministic pseudo-noise: independent vs strongly AR(1).
        let mut state = 12345u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let iid: Vec<f64> = (0..192).map(|i| season[i % 96] + noise()).collect();
        let mut prev = 0.0;
        let ar: Vec<f64> = (0..192)
            .map(|i| {
                prev = 0.9 * prev + noise();
                season[i % 96] + prev
            })
            .collect();
        let (r_iid, r_ar) = (
            short_range_autocorrelation(&iid),
            short_range_autocorrelation(&ar),
        );
        assert!(r_iid.abs() < 0.3, "{r_iid}");
        assert!(r_ar > r_iid + 0.15, "{r_ar} vs {r_iid}");
    }

    #[test]
    fn changepoint_finds_step() {
        let ys = [10.0, 10.5, 9.8, 10.1, 16.0, 16.2, 15.9, 16.1];
        let (k, gain) = changepoint(&ys).unwrap();
        assert_eq!(k, 4);
        assert!(gain > 0.8);
    }

    #[test]
    fn quantile_matches_numpy() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 0.9), 3.7);
    }
}
