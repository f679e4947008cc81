//! How often the series has already been this surprised: an exponentially
//! weighted histogram of the likelihood stage's short-window average.
//!
//! The likelihood stage fits a normal distribution to that average. For sparse
//! counts (mostly zero, now and then a saturated surprise) and autocorrelated
//! walks its real upper tail is much heavier, so the normal fit reaches
//! `z_threshold` by chance every day or two. The histogram measures the tail
//! instead of assuming it: a level of surprise the series has reached again and
//! again in its recent history is not news, whatever the normal fit says.

/// Bins over the average's range [0, 1].
const BINS: usize = 128;
/// Likelihood from which a point is judged and remembered. Lower ones could not
/// alert anyway, and leaving them out keeps the histogram off the per-point path
/// (an add to memory on every point is a dependency chain that cost 4 ns a point).
pub(super) const FROM: f64 = 0.2;
/// Recent points at or above a level of surprise that make it familiar: about one
/// earlier episode (its ten-point average stays up for several points).
const SEEN: f64 = 6.0;
/// What a familiar surprise's likelihood is multiplied by: below the alert
/// threshold (0.5) whatever it was, and clearly so, rather than spread just
/// under it.
const HELD_BACK: f64 = 0.49;

#[derive(Debug, Clone)]
pub(super) struct Familiar {
    bins: Box<[f64; BINS]>,
    /// Weight of a sample added now. Samples are never decayed one by one: the
    /// weight of new ones grows with time instead, and counts are read relative to it.
    weight: f64,
}

/// Weight growth per five-minute slot, exp(300 s / 7 days): a sample's weight
/// falls to 1/e in a week (halves in about five days) whatever the sampling step,
/// because what matters to the people paged is how often a level of surprise comes
/// back per day, not per point.
const GROW: f64 = 1.000_496_154_790_122;

#[inline(always)]
fn bin(avg: f64) -> usize {
    // `as` saturates (a NaN maps to 0) and the average is at most 1.
    let b = (avg * BINS as f64) as usize;
    if b < BINS {
        b
    } else {
        BINS - 1
    }
}

impl Familiar {
    pub(super) fn new() -> Self {
        Self {
            bins: Box::new([0.0; BINS]),
            weight: 1.0,
        }
    }

    /// The likelihood of a point whose short-window average is `avg`, held back if
    /// the series has been this surprised recently, and remembers the point. Not
    /// while `warm` is false (the warm-up's surprises are the detector learning,
    /// not the series), and an alert under way is not held back (its later points
    /// are its own history).
    #[cold]
    pub(super) fn gate(&mut self, avg: f64, likelihood: f64, warm: bool, in_alert: bool) -> f64 {
        if !warm {
            return likelihood;
        }
        let familiar = !in_alert && self.seen_at_or_above(avg) >= SEEN;
        self.add(avg);
        if familiar {
            likelihood * HELD_BACK
        } else {
            likelihood
        }
    }

    fn add(&mut self, avg: f64) {
        self.bins[bin(avg)] += self.weight;
    }

    /// Time moved on by one slot.
    #[inline(always)]
    pub(super) fn next_slot(&mut self) {
        self.weight *= GROW;
        if self.weight > 1e100 {
            self.rescale();
        }
    }

    /// Time moved on by `slots` slots (irregular or gappy series).
    #[cold]
    pub(super) fn skip_slots(&mut self, slots: i64) {
        if slots > 0 {
            self.weight *= GROW.powi(slots.min(1 << 20) as i32);
            if self.weight > 1e100 {
                self.rescale();
            }
        }
    }

    #[cold]
    fn rescale(&mut self) {
        let k = 1.0 / self.weight;
        for b in self.bins.iter_mut() {
            *b *= k;
        }
        self.weight = 1.0;
    }

    /// Recent points (weighted by age, those of the current slot counting 1) whose
    /// average was in the bin of `avg` or above.
    fn seen_at_or_above(&self, avg: f64) -> f64 {
        self.bins[bin(avg)..].iter().sum::<f64>() / self.weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_one_week_per_e() {
        let want = (300.0f64 / (7.0 * 86_400.0)).exp();
        assert!((GROW - want).abs() < 1e-15, "{GROW} vs {want}");
    }

    #[test]
    fn a_surprise_seen_often_enough_is_held_back() {
        let mut f = Familiar::new();
        // Not judged nor learnt before the warm-up ends.
        for _ in 0..10 {
            assert_eq!(f.gate(0.6, 0.9, false, false), 0.9);
        }
        assert_eq!(f.seen_at_or_above(0.0), 0.0);
        // Six points at 0.6 make that level familiar for the seventh...
        for _ in 0..6 {
            assert_eq!(f.gate(0.6, 0.9, true, false), 0.9);
        }
        assert_eq!(f.gate(0.6, 0.9, true, false), 0.9 * HELD_BACK);
        // ...and for anything lower, but not for a higher level, nor inside an
        // alert under way.
        assert_eq!(f.gate(0.3, 0.8, true, false), 0.8 * HELD_BACK);
        assert_eq!(f.gate(0.9, 0.95, true, false), 0.95);
        assert_eq!(f.gate(0.6, 0.9, true, true), 0.9);
    }

    #[test]
    fn counts_recent_points_at_or_above_a_level() {
        let mut f = Familiar::new();
        for avg in [0.0, 0.1, 0.5, 0.5, 0.9] {
            f.add(avg);
        }
        assert_eq!(f.seen_at_or_above(0.5), 3.0);
        assert_eq!(f.seen_at_or_above(0.95), 0.0);
        assert_eq!(f.seen_at_or_above(0.0), 5.0);
        assert_eq!(f.seen_at_or_above(f64::NAN), 5.0);
    }

    #[test]
    fn old_points_fade_with_time_not_points() {
        let mut f = Familiar::new();
        f.add(0.8);
        // A week of five-minute slots later the point weighs 1/e.
        for _ in 0..2016 {
            f.next_slot();
        }
        let seen = f.seen_at_or_above(0.8);
        assert!((seen - (-1.0f64).exp()).abs() < 1e-6, "{seen}");
        // The same span in one step, as after a gap.
        let mut g = Familiar::new();
        g.add(0.8);
        g.skip_slots(2016);
        assert!((g.seen_at_or_above(0.8) - seen).abs() < 1e-9);
        g.skip_slots(-5);
        assert!((g.seen_at_or_above(0.8) - seen).abs() < 1e-9);
    }

    #[test]
    fn rescaling_keeps_counts() {
        let mut f = Familiar::new();
        f.add(1.0);
        f.skip_slots(1 << 20);
        assert!(f.weight < 1e100);
        assert!(f.seen_at_or_above(1.0) < 1e-100);
        f.add(1.0);
        assert!((f.seen_at_or_above(1.0) - 1.0).abs() < 1e-9);
    }
}
