//! Where KPIs come from: the [`MetricsSource`] boundary (defined with the
//! analysis in `tars-core`) and the built-in simulator.

pub mod sim;

pub use tars_core::source::*;
