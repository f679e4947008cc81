//! The streaming anomaly detector: one pass per series, constant memory per
//! series, a score in [0, 1] per point; the incidents it yields; and scoring
//! of labelled CSV series (NAB) with it. Pure computation on plain data: no
//! I/O except the CSV scorer in [`eval`].

pub mod detector;
pub mod eval;
pub mod incident;
mod severity;

pub use severity::Severity;
