//! JSON Schemas of the artifacts, generated from the Rust types so they
//! cannot drift from what the stages write (`tars schema --out-dir docs/schemas`).

use std::path::Path;

use crate::anomaly::{AnomalyEvent, AnomalyRun};
use crate::baseline::GaKpiSummary;
use crate::drift::StabilitySummary;
use crate::error::{Error, Result};
use crate::health::HealthReport;
use crate::regression::RegressionSummary;
use crate::retro::Retrospective;

/// `(file stem, schema)` for every artifact.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    let s = |v: schemars::Schema| v.to_value();
    vec![
        ("ga_kpi_summary", s(schemars::schema_for!(GaKpiSummary))),
        (
            "stability_summary",
            s(schemars::schema_for!(StabilitySummary)),
        ),
        (
            "anomaly_events",
            s(schemars::schema_for!(Vec<AnomalyEvent>)),
        ),
        ("anomaly_run", s(schemars::schema_for!(AnomalyRun))),
        ("health_report", s(schemars::schema_for!(HealthReport))),
        (
            "regression_summary",
            s(schemars::schema_for!(RegressionSummary)),
        ),
        ("retrospective", s(schemars::schema_for!(Retrospective))),
    ]
}

/// Prints the schemas, or writes `<stem>.schema.json` files into `out_dir`.
pub fn emit(out_dir: Option<&Path>) -> Result<()> {
    for (stem, schema) in all() {
        match out_dir {
            Some(dir) => crate::io::write_json(&dir.join(format!("{stem}.schema.json")), &schema)?,
            None => println!(
                "{}",
                serde_json::to_string_pretty(&schema).map_err(|e| Error::Render(e.to_string()))?
            ),
        }
    }
    Ok(())
}
