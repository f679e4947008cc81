//! Streaming anomaly detector: one pass, no look-ahead, bounded state per series.
//!
//! Stages (see `docs/anomaly-detection.md` for the reasoning and the NAB scores):
//! 1. Prediction: three models run side by side, a plain level and two seasonal ones
//!    (time of day, time of week, 5-minute slots) whose profiles are learnt causally
//!    from earlier days. The model with the lowest recent error is used: that is how
//!    the series' own period (a day, a week or none) is found.
//! 2. Surprise: the residual of that model, over a slowly adapting scale, becomes a
//!    bounded raw score in [0, 1).
//! 3. Likelihood: a short average of raw scores is compared with the long-run
//!    distribution of such averages; the distance into its upper tail is the score.
//! 4. A value beyond everything seen so far by a margin ("new extreme") also scores,
//!    and so does a record in a run of records ("trend": a leak the level follows).
//! 5. Only the first point entering the tail is reported with its full score, and at
//!    most one full-score onset per day. Alerts start after a warm-up of
//!    `warmup_points` points or one day (at least 48 points), whichever ends first.

use serde::{Deserialize, Serialize};

use familiar::Familiar;
use seasonal::Seasonal;

mod familiar;
mod seasonal;

/// Parameters shared by every series (no per-series tuning).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    /// Sensitivity (`--z-threshold`; the original's `Z_THRESHOLD` is read as half of
    /// this scale): how many long-run standard
    /// deviations the short-term average surprise must rise above its long-run mean
    /// to alert. The score is exactly 0.5 at that distance, so the alert threshold on
    /// `score` stays 0.5 whatever this value is. Larger means fewer alerts.
    pub z_threshold: f64,
    /// Smoothing factor of the level estimate (`EWMA_ALPHA`), in (0, 1]. The
    /// residual scale adapts three times more slowly so that it does not swell on
    /// every level shift.
    pub alpha: f64,
    /// Points learnt before any alert can be raised.
    pub warmup_points: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            z_threshold: 4.5,
            alpha: 0.03,
            warmup_points: 300,
        }
    }
}

/// What the detector concluded about one point.
#[derive(Debug, Clone, PartialEq)]
pub struct PointVerdict {
    /// Anomaly score in [0, 1]; 0 for missing/non-finite input and during warm-up.
    /// It reaches 0.5 where an alert starts; later points of the same alert, and
    /// onsets within a day of the previous one, are reported at half their
    /// likelihood so that a 0.5 threshold fires once per episode.
    pub score: f64,
    /// Unsuppressed anomaly likelihood in [0, 1] (0.5 at the alert threshold).
    pub likelihood: f64,
    /// True when this point starts or continues an alert.
    pub is_anomaly: bool,
    /// True only for the first point of an alert.
    pub onset: bool,
    /// The value the detector expected here (NaN before the first valid point).
    pub expected: f64,
    /// Lower and upper edge of the normal band, `expected -/+ z_threshold` residual
    /// standard deviations (NaN before the first valid point).
    pub band_low: f64,
    pub band_high: f64,
    /// Short machine-readable reason ("warmup", "normal", "spike_high", "spike_low",
    /// "new_extreme", "trend", "missing").
    pub reason: &'static str,
}

const SLOT_SECS: i64 = 300;
const DAY_SECS: i64 = 86_400;
const WEEK_SECS: i64 = 7 * DAY_SECS;
/// Slot start before the first point: no timestamp short of 292 billion years
/// before 1970 falls within a slot of it.
const NO_SLOT: i64 = i64::MIN;
/// Pass number of a slot never visited.
const NEVER: i32 = i32::MAX;
const DAY_SLOTS: usize = 288;
const WEEK_SLOTS: usize = 7 * DAY_SLOTS;
/// Storage of the day and week profiles (powers of two at least the slot counts).
const DAY_CAP: usize = DAY_SLOTS.next_power_of_two();
const WEEK_CAP: usize = WEEK_SLOTS.next_power_of_two();
/// Short averaging window of the likelihood stage: long enough that one noisy point
/// does not alert, short enough that a step shows within minutes.
const AVG_WINDOW: usize = 10;
/// Ring storage for that window: a power of two so that positions wrap by masking.
const RING_CAP: usize = AVG_WINDOW.next_power_of_two();
/// Residual (in mean absolute deviations) at which the raw score reaches 0.5. Large,
/// so that the raw score is nearly quadratic in the residual over the usual range
/// and saturates only for gross outliers (heavy tails cannot dominate the average).
const RAW_HALF: f64 = 6.0;
/// Rate of the long-run distribution of averaged raw scores (about a week of
/// 5-minute points).
const LONG_RATE: f64 = 1.0 / 2000.0;
/// Floor of the long-run standard deviation: on a nearly perfect series the averages
/// barely move, and a tiny variance would turn rounding noise into alerts.
const LONG_SD_FLOOR: f64 = 0.02;
/// Rate of the seasonal profile updates per visit of a slot.
const PROFILE_RATE: f64 = 0.1;
/// Per-visit profile rates: a plain average over the first visits (no bias towards
/// the first day), then exponential forgetting; a table avoids a division per point.
/// Entries from 9 on are the fixed rate (16 entries so that a masked index is in bounds).
const PROFILE_RATES: [f64; 16] = {
    let mut t = [PROFILE_RATE; 16];
    let mut v = 0;
    while v < 9 {
        t[v] = 1.0 / (v as f64 + 1.0);
        v += 1;
    }
    t
};
/// A seasonal model must beat the plain one by this factor (of mean absolute
/// residual) to be used.
const SEASONAL_GAIN: f64 = 0.9;
/// Innovations beyond this many scales are clipped before they feed a scale or a
/// profile, so one outlier cannot poison tomorrow's expectation.
const CLIP: f64 = 8.0;
/// A "new extreme" must exceed the range seen so far by this fraction of it.
const EXTREME_MARGIN: f64 = 0.02;
/// Score of a new extreme whose likelihood is lower: above the alert threshold.
const EXTREME_SCORE: f64 = 0.75;
/// An alert lasts until the likelihood falls below this (hysteresis against flicker).
const EXIT_SCORE: f64 = 0.3;
/// Minimum time between two full-score onsets.
const REFRACTORY_SECS: i64 = 86_400;
/// Outliers in a row on one side after which the level follows them unclipped.
const SHIFT_RUN: u8 = 5;
/// Mean absolute deviation to standard deviation for a normal distribution.
const MAD_TO_SD: f64 = 1.2533;
/// Rate of the running share of records (points beyond the whole range seen so
/// far, signed by side): about the last ten points.
const TREND_RATE: f64 = 0.1;
/// A record while at least this share of recent points were records on the same
/// side is a trend (a leak): on a stationary series records become rare (about
/// 1/n after n points), so a run of them means the series is leaving its range
/// steadily, which the level follows and the surprise alone does not flag.
const TREND_LEVEL: f64 = 0.5;
/// Records count as a trend only once the series spans this long: before that a
/// daily ramp, or a peak a little above the first day's, sets records in a row as
/// a leak does, and the daily profile has not learnt the day's shape yet.
const TREND_AFTER_SECS: i64 = 2 * DAY_SECS;
/// Warm-up also ends once the series spans this long and has [`WARM_MIN_POINTS`]
/// points, if that comes before `warmup_points`: on hourly data 300 points would be
/// 12.5 silent days, while a day is what the daily profile needs to start predicting.
const WARM_SECS: i64 = DAY_SECS;
/// Points the likelihood stage needs before its long-run distribution means much
/// (two days of hourly data).
const WARM_MIN_POINTS: u64 = 48;

/// Points of the current slot not folded into the profiles yet. A slot's profile
/// changes once per pass (with the mean of the pass), so its rate means the same
/// at any resolution, and within a pass the lookups can be cached.
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    sum: f64,
    count: f64,
    /// Clip limits of the day and week model at the latest point.
    lim_day: f64,
    lim_week: f64,
}

/// Calendar period number as stored in a slot (far-off dates saturate).
#[inline(always)]
fn period32(p: i64) -> i32 {
    p.clamp(i32::MIN as i64, NEVER as i64 - 1) as i32
}

/// `x` limited to [-lim, lim]; plain comparisons compile to minsd/maxsd, unlike
/// `f64::clamp` (which also asserts) or `f64::max` (which special-cases NaN).
#[inline(always)]
fn clip(x: f64, lim: f64) -> f64 {
    let y = if x > lim { lim } else { x };
    if y < -lim {
        -lim
    } else {
        y
    }
}

#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

/// Innovation to feed a level: outliers are clipped, unless they persist on one
/// side for a few points, which is a level shift the level must follow at once.
#[inline]
fn persist(run: &mut i8, r: f64, lim: f64) -> f64 {
    if r > lim {
        *run = if *run > 0 { run.saturating_add(1) } else { 1 };
    } else if r < -lim {
        *run = if *run < 0 { run.saturating_sub(1) } else { -1 };
    } else {
        *run = 0;
        return r;
    }
    if run.unsigned_abs() >= SHIFT_RUN {
        r
    } else {
        clip(r, lim)
    }
}

/// Learning rates of one step (cumulative averages at the start, then fixed).
#[derive(Debug, Clone, Copy)]
struct Rates {
    long: f64,
    scale: f64,
    /// Clip limit of the plain model's scale update, in scales: none for the first
    /// two residuals (there is nothing to clip against yet), then [`CLIP`]. Kept
    /// here so that the hot path needs no test of the point count.
    scale_clip: f64,
}

impl Rates {
    /// Cumulative averages (rate 1/n) until the fixed rate is reached, so that the
    /// first points do not weigh as much as a long history.
    #[cold]
    fn early(n: f64, scale_rate: f64) -> Self {
        let r = |fixed: f64| if n * fixed < 1.0 { 1.0 / n } else { fixed };
        Self {
            long: r(LONG_RATE),
            scale: r(scale_rate),
            scale_clip: if n <= 2.0 { f64::INFINITY } else { CLIP },
        }
    }
}

/// One detector per series.
#[derive(Debug, Clone)]
pub struct StreamingDetector {
    z: f64,
    alpha: f64,
    /// Warm-up length in points; set to 0 once the time span ends it earlier.
    warmup: u64,
    /// `warmup_points` as configured (for a reset).
    warmup_cfg: u32,
    first_ts: i64,
    n: u64,
    // Plain level model.
    level: f64,
    run: i8,
    scale: f64,
    day: Seasonal<DAY_CAP>,
    week: Seasonal<WEEK_CAP>,
    // Cached slot position so that regular timestamps avoid divisions.
    week_slot: usize,
    day_slot: usize,
    /// Calendar day and week numbers of the current point.
    day_no: i64,
    week_no: i64,
    /// The same as stored in a slot ([`period32`]).
    day_p: i32,
    week_p: i32,
    /// Start of the current slot; [`NO_SLOT`] before the first point.
    slot_start: i64,
    slot_valid: bool,
    /// Profile lookups of the current slot: (profile, taught by an earlier pass).
    day_seen: (f64, bool),
    week_seen: (f64, bool),
    pending: Pending,
    // Likelihood stage.
    ring: [f64; RING_CAP],
    ring_pos: usize,
    ring_sum: f64,
    long_mean: f64,
    long_var: f64,
    familiar: Familiar,
    /// Points after which every rate is at its fixed value.
    settle_n: u64,
    rates: Rates,
    // New-extreme tracking.
    min_seen: f64,
    max_seen: f64,
    /// The range widened by [`EXTREME_MARGIN`] on both sides, recomputed only when
    /// the range grows.
    extreme_low: f64,
    extreme_high: f64,
    /// Running share of records, + for new maxima and - for new minima.
    records: f64,
    /// 1 once the series spans [`TREND_AFTER_SECS`] (checked once per slot), else 0.
    trend_armed: f64,
    // Alert state.
    in_alert: bool,
    last_onset_ts: Option<i64>,
}

impl StreamingDetector {
    pub fn new(cfg: DetectorConfig) -> Self {
        let d = DetectorConfig::default();
        // Out-of-range settings fall back to usable values rather than poisoning the state.
        let z = if cfg.z_threshold.is_finite() {
            cfg.z_threshold.clamp(1e-3, 1e6)
        } else {
            d.z_threshold
        };
        let alpha = if cfg.alpha.is_finite() {
            cfg.alpha.clamp(1e-4, 1.0)
        } else {
            d.alpha
        };
        Self {
            z,
            alpha,
            warmup: cfg.warmup_points as u64,
            warmup_cfg: cfg.warmup_points,
            first_ts: 0,
            n: 0,
            level: 0.0,
            run: 0,
            scale: 0.0,
            day: Seasonal::new(),
            week: Seasonal::new(),
            week_slot: 0,
            day_slot: 0,
            day_no: 0,
            week_no: 0,
            day_p: 0,
            week_p: 0,
            slot_start: NO_SLOT,
            slot_valid: false,
            day_seen: (0.0, false),
            week_seen: (0.0, false),
            pending: Pending::default(),
            ring: [0.0; RING_CAP],
            ring_pos: 0,
            ring_sum: 0.0,
            long_mean: 0.0,
            long_var: 0.0,
            familiar: Familiar::new(),
            settle_n: (1.0 / LONG_RATE).max(3.0 / alpha).ceil() as u64,
            rates: Rates::early(1.0, alpha / 3.0),
            min_seen: f64::INFINITY,
            max_seen: f64::NEG_INFINITY,
            extreme_low: f64::INFINITY,
            extreme_high: f64::NEG_INFINITY,
            records: 0.0,
            trend_armed: 0.0,
            in_alert: false,
            last_onset_ts: None,
        }
    }

    /// Moves to the slot of `ts` unless it is the current one (most points at
    /// sub-slot resolution).
    #[inline(always)]
    fn locate(&mut self, ts: i64) {
        if ts.wrapping_sub(self.slot_start) as u64 >= SLOT_SECS as u64 {
            self.enter_slot(ts);
        }
    }

    /// Folds the finished pass into the profiles, finds the slot of `ts` (the next
    /// one without a division on regular series) and caches its lookups.
    fn enter_slot(&mut self, ts: i64) {
        let p = self.pending;
        if p.count > 0.0 {
            // One point per slot (5-minute data) folds the value itself: x / 1 = x.
            let mean = p.sum / p.count;
            self.day.fold(self.day_slot, mean, p.lim_day, self.day_p);
            self.week
                .fold(self.week_slot, mean, p.lim_week, self.week_p);
            self.pending = Pending::default();
        }
        let off = ts.wrapping_sub(self.slot_start);
        if self.slot_valid && (SLOT_SECS..2 * SLOT_SECS).contains(&off) {
            self.familiar.next_slot();
            self.slot_start += SLOT_SECS;
            self.week_slot += 1;
            self.day_slot += 1;
            if self.week_slot == WEEK_SLOTS {
                self.week_slot = 0;
                self.week_no += 1;
                self.week_p = period32(self.week_no);
            }
            if self.day_slot == DAY_SLOTS {
                self.day_slot = 0;
                self.day_no += 1;
                self.day_p = period32(self.day_no);
            }
        } else {
            let in_week = ts.rem_euclid(WEEK_SECS);
            self.week_no = ts.div_euclid(WEEK_SECS);
            self.day_no = ts.div_euclid(DAY_SECS);
            self.week_p = period32(self.week_no);
            self.day_p = period32(self.day_no);
            self.week_slot = (in_week / SLOT_SECS) as usize;
            self.day_slot = self.week_slot % DAY_SLOTS;
            let start = ts - in_week % SLOT_SECS;
            if self.slot_valid {
                let slots = start.saturating_sub(self.slot_start) / SLOT_SECS;
                self.familiar.skip_slots(slots);
            }
            self.slot_start = start;
            self.slot_valid = true;
        }
        self.day_seen = self.day.lookup(self.day_slot, self.day_p);
        if ts.saturating_sub(self.first_ts) >= TREND_AFTER_SECS {
            self.trend_armed = 1.0;
        }
        self.week_seen = self.week.lookup(self.week_slot, self.week_p);
    }

    /// Feeds `points` in order, as [`update`](Self::update) on each would, and hands
    /// every point and its verdict to `each`. On x86-64 CPUs with AVX2 (checked at run
    /// time) the loop is compiled for that instruction set: its three-operand forms
    /// save register copies. FMA stays off, so results are bit-identical either way.
    pub fn run<F: FnMut((i64, f64), PointVerdict)>(&mut self, points: &[(i64, f64)], each: F) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.run_avx2(points, each) };
        }
        self.run_portable(points, each)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_avx2<F: FnMut((i64, f64), PointVerdict)>(&mut self, points: &[(i64, f64)], each: F) {
        self.run_portable(points, each)
    }

    #[inline(always)]
    fn run_portable<F: FnMut((i64, f64), PointVerdict)>(
        &mut self,
        points: &[(i64, f64)],
        mut each: F,
    ) {
        for &(ts, value) in points {
            each((ts, value), self.update(ts, value));
        }
    }

    /// Feeds the next point (timestamps in seconds, non-decreasing; other orders are
    /// tolerated but degrade the seasonal model). Non-finite values count as missing.
    #[inline(always)]
    pub fn update(&mut self, ts_secs: i64, value: f64) -> PointVerdict {
        if !value.is_finite() {
            return self.missing();
        }
        let x = value;
        if self.n == 0 {
            self.first_ts = ts_secs;
            self.level = x;
            self.min_seen = x;
            self.max_seen = x;
            self.extreme_low = x;
            self.extreme_high = x;
        }
        self.n += 1;
        self.locate(ts_secs);

        let p0 = self.level;
        let (day_profile, d_known) = self.day_seen;
        let (week_profile, w_known) = self.week_seen;
        // An untaught slot predicts like the plain level.
        let pd = if d_known {
            day_profile + self.day.level
        } else {
            p0
        };
        let pw = if w_known {
            week_profile + self.week.level
        } else {
            p0
        };
        let r0 = x - p0;
        let rd = x - pd;
        let rw = x - pw;

        // Both seasonal conditions cannot hold at once (`<=` against `<`).
        let use_day =
            self.day.scale < SEASONAL_GAIN * self.scale && self.day.scale <= self.week.scale;
        let use_week =
            self.week.scale < SEASONAL_GAIN * self.scale && self.week.scale < self.day.scale;
        let (pred, resid, scale) = if use_day && d_known {
            (pd, rd, self.day.scale)
        } else if use_week && w_known {
            (pw, rw, self.week.scale)
        } else {
            (p0, r0, self.scale)
        };
        // Keeps a constant series from dividing by zero without making it insensitive.
        let floor = 1e-9 + 1e-6 * p0.abs();
        let sigma = larger(scale, floor);

        // Raw surprise in [0, 1): r²/(r²+h²) needs neither sqrt nor exp.
        let r2 = resid * resid;
        let h = RAW_HALF * sigma;
        // inf/inf on absurd magnitudes is maximal surprise: the comparison is false
        // for NaN, so this maps it to 1 and leaves every other value (< 1) alone.
        let raw = r2 / (r2 + h * h);
        let raw = if raw < 1.0 { raw } else { 1.0 };

        let mut likelihood = self.tail_likelihood(raw);
        let (extreme, trend) = self.range_flags(x);
        let mut reason = if resid >= 0.0 {
            "spike_high"
        } else {
            "spike_low"
        };
        if extreme && EXTREME_SCORE > likelihood {
            likelihood = EXTREME_SCORE;
            reason = "new_extreme";
        }
        if trend && EXTREME_SCORE > likelihood {
            likelihood = EXTREME_SCORE;
            reason = "trend";
        }

        self.learn(x, r0, rd, rw, d_known, w_known, floor);
        // The likelihood state is built from raw scores in [0, 1] and cannot
        // overflow; the level follows the data and can.
        if !self.level.is_finite() {
            // Only magnitudes near f64::MAX get here; relearning beats a NaN forever.
            *self = Self::new(DetectorConfig {
                z_threshold: self.z,
                alpha: self.alpha,
                warmup_points: self.warmup_cfg,
            });
        }

        let band = self.z * sigma * MAD_TO_SD;
        let (band_low, band_high) = (pred - band, pred + band);
        // At most 1 by construction; this also maps a NaN to 0.
        let likelihood = if likelihood > 0.0 { likelihood } else { 0.0 };
        if self.n <= self.warmup && !self.warm_by_time(ts_secs) {
            return PointVerdict {
                score: 0.0,
                likelihood,
                is_anomaly: false,
                onset: false,
                expected: pred,
                band_low,
                band_high,
                reason: "warmup",
            };
        }
        self.alert(ts_secs, likelihood, reason, pred, (band_low, band_high))
    }

    /// Verdict of a missing (non-finite) point: the state is left untouched.
    #[cold]
    fn missing(&self) -> PointVerdict {
        PointVerdict {
            score: 0.0,
            likelihood: 0.0,
            is_anomaly: false,
            onset: false,
            expected: if self.n == 0 { f64::NAN } else { self.level },
            band_low: f64::NAN,
            band_high: f64::NAN,
            reason: "missing",
        }
    }

    /// Likelihood stage: the short average of raw surprises against the long-run
    /// distribution of such averages, which it then learns from.
    #[inline(always)]
    fn tail_likelihood(&mut self, raw: f64) -> f64 {
        // The slot written AVG_WINDOW points ago leaves the window (zero at first).
        let pos = self.ring_pos;
        self.ring_sum += raw - self.ring[pos.wrapping_sub(AVG_WINDOW) & (RING_CAP - 1)];
        self.ring[pos & (RING_CAP - 1)] = raw;
        self.ring_pos = pos.wrapping_add(1);
        let avg = self.ring_sum * (1.0 / AVG_WINDOW as f64);
        let dev = avg - self.long_mean;
        let var = larger(self.long_var, LONG_SD_FLOOR * LONG_SD_FLOOR);
        // (dev/sd)² / ((dev/sd)² + z²): 0.5 exactly at dev = z·sd, monotone, no sqrt.
        // Branch-free (the sign of `dev` is a coin flip): a non-positive excess gives
        // 0 / (0 + z²·var) = 0, as var > 0. The first point needs no special case:
        // its residual is exactly 0 (the level starts at it), so `dev` is 0.
        let d = larger(dev, 0.0);
        let mut likelihood = d * d / (d * d + self.z * self.z * var);
        if likelihood >= familiar::FROM {
            let warm = self.n > self.warmup;
            likelihood = self.familiar.gate(avg, likelihood, warm, self.in_alert);
        }
        if self.n <= self.settle_n {
            self.rates = Rates::early(self.n as f64, self.alpha / 3.0);
            if self.n <= self.warmup_cfg as u64 {
                self.set_extreme_bounds();
            }
        }
        let lr = self.rates.long;
        self.long_mean += lr * dev;
        self.long_var = (1.0 - lr) * (self.long_var + lr * dev * dev);
        likelihood
    }

    /// Whether `x` is a new extreme, and whether it continues a trend of records
    /// (and learns the range and the share of records from it).
    #[inline(always)]
    fn range_flags(&mut self, x: f64) -> (bool, bool) {
        // The extreme band lies outside the range, so inside the range (the usual
        // case) neither test is needed.
        let mut extreme = false;
        let mut trend = false;
        if (x > self.max_seen) | (x < self.min_seen) {
            let record = if x > self.max_seen { 1.0 } else { -1.0 };
            extreme = (x > self.extreme_high) | (x < self.extreme_low);
            self.max_seen = larger(self.max_seen, x);
            self.min_seen = if x < self.min_seen { x } else { self.min_seen };
            self.set_extreme_bounds();
            // Before the update: the record itself does not count towards the trend.
            trend = record * self.records * self.trend_armed >= TREND_LEVEL;
            self.records += TREND_RATE * (record - self.records);
        } else if self.records != 0.0 {
            // Off the usual path: a settled series has no recent records, a share of 0.
            let share = self.records - TREND_RATE * self.records;
            // Flushed to zero once negligible: the decay would otherwise end stuck at
            // the smallest subnormal number (0.9 times it rounds back to it), and
            // arithmetic on subnormals costs about a hundred cycles per operation.
            self.records = if share.abs() > 1e-9 { share } else { 0.0 };
        }
        (extreme, trend)
    }

    /// Alert stage: hysteresis, onsets and the once-a-day full score.
    #[inline(always)]
    fn alert(
        &mut self,
        ts_secs: i64,
        likelihood: f64,
        mut reason: &'static str,
        pred: f64,
        (band_low, band_high): (f64, f64),
    ) -> PointVerdict {
        let tail = likelihood >= if self.in_alert { EXIT_SCORE } else { 0.5 };
        let onset = tail && !self.in_alert;
        self.in_alert = tail;
        let fresh = onset
            && self
                .last_onset_ts
                .is_none_or(|t| ts_secs.saturating_sub(t) >= REFRACTORY_SECS);
        if fresh {
            self.last_onset_ts = Some(ts_secs);
        }
        let score = if !tail {
            reason = "normal";
            likelihood
        } else if fresh {
            likelihood
        } else {
            0.5 * likelihood
        };
        PointVerdict {
            score,
            likelihood,
            is_anomaly: tail,
            onset,
            expected: pred,
            band_low,
            band_high,
            reason,
        }
    }

    /// The range seen so far widened by [`EXTREME_MARGIN`] of it, or by more while
    /// fewer than `warmup_points` points have been seen: among the first n points a
    /// stationary series sets a record with probability about 1/n, so with a warm-up
    /// shorter in points (hourly data) the margin grows to keep early records from
    /// alerting as often as the range is still being found.
    #[inline(always)]
    fn set_extreme_bounds(&mut self) {
        let young = self.warmup_cfg as f64 / self.n as f64;
        let margin = EXTREME_MARGIN * larger(young, 1.0) * (self.max_seen - self.min_seen);
        self.extreme_high = self.max_seen + margin;
        self.extreme_low = self.min_seen - margin;
    }

    /// Whether the series already spans enough time to end the warm-up early (and
    /// if so, ends it for good: a later backwards timestamp does not restart it).
    #[cold]
    fn warm_by_time(&mut self, ts: i64) -> bool {
        let warm = self.n > WARM_MIN_POINTS && ts.saturating_sub(self.first_ts) >= WARM_SECS;
        if warm {
            self.warmup = 0;
        }
        warm
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn learn(
        &mut self,
        x: f64,
        r0: f64,
        rd: f64,
        rw: f64,
        d_known: bool,
        w_known: bool,
        floor: f64,
    ) {
        let a = self.alpha;
        let rates = self.rates;
        // The limit is infinite (no clipping) for the first residuals, as the scale
        // floor is positive.
        let c0 = clip(r0, rates.scale_clip * larger(self.scale, floor)).abs();
        self.scale += rates.scale * (c0 - self.scale);
        self.level += a * persist(&mut self.run, r0, CLIP * larger(self.scale, floor));
        let lim_day = self.day.learn(rd, d_known, rates.scale, a, floor);
        let lim_week = self.week.learn(rw, w_known, rates.scale, a, floor);
        let p = &mut self.pending;
        p.sum += x;
        p.count += 1.0;
        p.lim_day = lim_day;
        p.lim_week = lim_week;
    }
}

#[cfg(test)]
mod calibration;
#[cfg(test)]
mod known_answers;
#[cfg(test)]
mod release_tests;
#[cfg(test)]
pub(crate) mod sim;
#[cfg(test)]
mod tests;
