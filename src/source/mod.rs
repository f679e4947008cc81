//! Where KPIs come from: the [`MetricsSource`] boundary (defined with the
//! analysis in `tars-core`) and the built-in simulator.

pub mod progress;

pub use tars_sim as sim;

pub use tars_core::source::*;
