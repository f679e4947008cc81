//! `--source sim[:SCENARIO[:SEED[:STEP]]]`: which simulation to run, in the
//! same form `describe()` writes into artifacts, so a recorded source string
//! rebuilds the simulator that produced it.

use chrono::{DateTime, Utc};

use super::{Scenario, Simulator, DEFAULT_RESOLUTION_SECS, DEFAULT_SEED};

/// Resolutions a spec may ask for, seconds: raw minutes, and the 5-minute and
/// hourly rollups long-retention stores commonly keep.
pub const RESOLUTIONS: [u32; 3] = [60, 300, 3600];

const SHAPE: &str = "sim[:SCENARIO[:SEED[:STEP]]]";
const STEPS: &str = "60, 300, 3600 (seconds) or 1m, 5m, 1h";

/// A parsed simulator spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimSpec {
    pub scenario: Scenario,
    pub seed: u64,
    pub resolution_secs: u32,
}

impl Default for SimSpec {
    fn default() -> SimSpec {
        SimSpec {
            scenario: Scenario::Healthy,
            seed: DEFAULT_SEED,
            resolution_secs: DEFAULT_RESOLUTION_SECS,
        }
    }
}

impl SimSpec {
    /// The simulator this spec describes, released at `ga`.
    pub fn build(&self, ga: DateTime<Utc>) -> Simulator {
        Simulator::new(self.scenario, self.seed, ga).with_resolution(self.resolution_secs)
    }
}

/// Parses `sim`, `sim:SCENARIO`, `sim:SCENARIO:SEED` or
/// `sim:SCENARIO:SEED:STEP`. Parts left out take their defaults (`healthy`,
/// [`DEFAULT_SEED`], 60 s); an empty scenario also means `healthy`, as
/// `sim:` always has. The error is one line naming the part at fault and
/// what it may be.
pub fn parse_spec(spec: &str) -> Result<SimSpec, String> {
    let mut parts = spec.split(':');
    if parts.next() != Some("sim") {
        return Err(format!(
            "'{spec}' is not a simulator source (expected {SHAPE})"
        ));
    }
    let mut out = SimSpec::default();
    if let Some(name) = parts.next().filter(|s| !s.is_empty()) {
        out.scenario = Scenario::from_name(name).ok_or_else(|| {
            format!(
                "unknown scenario '{name}' in '{spec}' (valid: {})",
                Scenario::names()
            )
        })?;
    }
    if let Some(seed) = parts.next() {
        out.seed = parse_digits(seed).ok_or_else(|| {
            format!(
                "seed '{seed}' in '{spec}' is not a whole number from 0 to {}",
                u64::MAX
            )
        })?;
    }
    if let Some(step) = parts.next() {
        out.resolution_secs = parse_step(step).ok_or_else(|| {
            format!("step '{step}' in '{spec}' is not a supported resolution (valid: {STEPS})")
        })?;
    }
    if parts.next().is_some() {
        return Err(format!("'{spec}' has too many parts (expected {SHAPE})"));
    }
    Ok(out)
}

/// Plain decimal digits only: `str::parse` would also take a sign.
fn parse_digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Seconds of a step written as `N`, `Ns`, `Nm` or `Nh`, if it is one of
/// [`RESOLUTIONS`].
fn parse_step(s: &str) -> Option<u32> {
    let (digits, unit) = match s.as_bytes().last()? {
        b's' => (&s[..s.len() - 1], 1),
        b'm' => (&s[..s.len() - 1], 60),
        b'h' => (&s[..s.len() - 1], 3600),
        _ => (s, 1),
    };
    let secs = parse_digits::<u32>(digits)?.checked_mul(unit)?;
    RESOLUTIONS.contains(&secs).then_some(secs)
}
