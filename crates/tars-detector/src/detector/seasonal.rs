//! The seasonal models: a profile per five-minute slot of the day (or week),
//! learnt once per pass, plus a level of the deseasonalised value.

use super::{clip, larger, persist, CLIP, NEVER, PROFILE_RATES};

/// One five-minute slot of a seasonal profile.
#[derive(Debug, Clone, Copy)]
struct Slot {
    profile: f64,
    /// Day (or week) number of the first visit; the slot may only predict later
    /// passes. Within one pass a slot's later points would otherwise be "predicted"
    /// by its first point, a last-value model that looks deceptively good.
    pass: i32,
    /// Visits so far, counted up to the last entry of [`PROFILE_RATES`] only (that is
    /// all the rate needs), so the table lookup needs no clamp.
    visits: u8,
}

/// Additive seasonal model: a profile per slot plus a level of the deseasonalised value.
/// `N` is the storage size, a power of two at least the number of slots, so that a
/// masked index needs no bounds check (the slots beyond the period stay unused).
#[derive(Debug, Clone)]
pub(super) struct Seasonal<const N: usize> {
    slots: Box<[Slot; N]>,
    pub(super) level: f64,
    /// Signed count of consecutive clipped innovations (see [`persist`]).
    run: i8,
    /// Mean absolute residual (clipped): the scale of the surprise, and the error
    /// by which the model is chosen.
    pub(super) scale: f64,
}

impl<const N: usize> Seasonal<N> {
    pub(super) fn new() -> Self {
        const { assert!(N.is_power_of_two()) };
        let empty = Slot {
            profile: 0.0,
            pass: NEVER,
            visits: 0,
        };
        Self {
            slots: Box::new([empty; N]),
            level: 0.0,
            run: 0,
            scale: 0.0,
        }
    }

    /// Profile of `slot` and whether an earlier pass than `period` has taught it.
    #[inline(always)]
    pub(super) fn lookup(&self, slot: usize, period: i32) -> (f64, bool) {
        let s = &self.slots[slot & (N - 1)];
        (s.profile, s.pass < period)
    }

    /// Learns the scale and level from one point and returns the clip limit it used.
    /// `r` is the residual of this model's prediction, or of the plain level when the
    /// slot is not `known` yet (then the model is the plain one).
    #[inline(always)]
    pub(super) fn learn(
        &mut self,
        r: f64,
        known: bool,
        scale_rate: f64,
        level_rate: f64,
        floor: f64,
    ) -> f64 {
        let lim = CLIP * larger(self.scale, floor);
        self.scale += scale_rate * (clip(r, lim).abs() - self.scale);
        if known {
            self.level += level_rate * persist(&mut self.run, r, lim);
        }
        lim
    }

    /// Folds one pass over `slot` (the mean of its points, clipped at `lim`) into
    /// the profile.
    #[inline(always)]
    pub(super) fn fold(&mut self, slot: usize, mean: f64, lim: f64, period: i32) {
        let s = &mut self.slots[slot & (N - 1)];
        if s.pass == NEVER {
            s.profile = mean;
            s.visits = 1;
            s.pass = period;
        } else {
            // The profile follows the raw value, not value minus level: a level that
            // is free to drift would otherwise be absorbed into newly seen slots
            // only, leaving the old ones stale.
            let v = s.visits as usize;
            s.profile += PROFILE_RATES[v & 15] * clip(mean - s.profile, lim);
            s.visits = (v + (v < PROFILE_RATES.len() - 1) as usize) as u8;
        }
    }
}
