//! Why an analysis could not be done. The command line renders these once,
//! keeping their class (a source failure stays a source failure).

use crate::model::Kpi;
use crate::source::SourceError;

/// Errors of the analysis crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// The metrics source failed or had no data.
    #[error("{0}")]
    Source(#[from] SourceError),
    /// A fleet-wide value is missing (NaN cannot be written to JSON).
    #[error("the metrics source returned no fleet-wide value for {0}")]
    NoFleetValue(Kpi),
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
