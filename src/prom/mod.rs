//! Prometheus HTTP API source. PLACEHOLDER: filled in by the Prometheus work.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::Series;
use crate::source::{MetricsSource, SourceError};

/// `[prometheus]` section of `tars.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromConfig {}

/// Connection flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PromArgs {
    /// Save every query and its raw response under DIR.
    #[arg(long, value_name = "DIR")]
    pub record: Option<std::path::PathBuf>,
}

pub fn connect(
    url: &str,
    _args: &PromArgs,
    _cfg: &PromConfig,
) -> Result<Box<dyn MetricsSource>, SourceError> {
    Err(SourceError::Config(format!(
        "{url}: the Prometheus source is not built yet"
    )))
}

pub fn replay(dir: &Path, _cfg: &PromConfig) -> Result<Box<dyn MetricsSource>, SourceError> {
    Err(SourceError::Config(format!(
        "{}: replay is not built yet",
        dir.display()
    )))
}

pub fn read_query_range_file(path: &Path) -> Result<Vec<Series>, SourceError> {
    Err(SourceError::Config(format!(
        "{}: query_range input is not built yet",
        path.display()
    )))
}

pub fn kpi_check(url: &str, _args: &PromArgs, _cfg: &PromConfig) -> Result<String, SourceError> {
    Err(SourceError::Config(format!(
        "{url}: kpi check is not built yet"
    )))
}
