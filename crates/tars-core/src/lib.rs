//! The analysis of tars: the vocabulary (KPIs, windows, artifacts' common
//! metadata), the metrics-source boundary (a trait), and the rules that turn
//! KPIs into verdicts: drift against GA, SLO budget burn and posture, health,
//! regressions and the retrospective's report value.
//!
//! Pure computation on plain data: no command line, no async runtime, no HTTP
//! and no file I/O (CI checks the dependency tree). Sources are reached only
//! through [`source::MetricsSource`]; renderers live in the `tars` crate.

pub mod baseline;
pub mod drift;
mod error;
pub mod events;
pub mod facts;
pub mod health;
pub mod model;
pub mod redact;
pub mod regression;
pub mod retro;
pub mod slo;
pub mod source;
pub mod text;
pub mod thresholds;
pub mod validate;

pub(crate) use tars_stats as stats;

pub use error::{CoreError, Result};
