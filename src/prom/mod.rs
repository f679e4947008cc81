//! Prometheus HTTP API source. PLACEHOLDER: filled in by the Prometheus work.

use serde::{Deserialize, Serialize};

/// `[prometheus]` section of `tars.toml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromConfig {}
