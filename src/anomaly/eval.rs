//! PLACEHOLDER: scoring a `timestamp,value` CSV (replaced by the detector work).

use std::path::Path;

use super::detector::DetectorConfig;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}: CSV scoring is not built yet")]
    NotBuilt(String),
}

pub fn scores_csv(input: &Path, _output: &Path, _cfg: &DetectorConfig) -> Result<usize, EvalError> {
    Err(EvalError::NotBuilt(input.display().to_string()))
}
