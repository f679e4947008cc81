//! Every artifact reader (and its checks of meaning) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tars::anomaly::events::{self, AnomalyRun};
use tars::baseline::GaKpiSummary;
use tars::drift::StabilitySummary;
use tars::health::HealthReport;
use tars::regression::RegressionSummary;
use tars::retro::Retrospective;
use tars::{inputs, io};

mod common;
use common::{file_with, one_line};

fuzz_target!(|data: &[u8]| {
    let p = file_with(data, "day_03_summary.json");
    one_line(io::read_artifact::<GaKpiSummary>(&p, "baseline"));
    one_line(io::read_artifact::<StabilitySummary>(&p, "day"));
    one_line(io::read_artifact::<HealthReport>(&p, "health"));
    one_line(io::read_artifact::<RegressionSummary>(&p, "regression"));
    one_line(io::read_artifact::<Retrospective>(&p, "retro"));
    one_line(io::read_artifact::<AnomalyRun>(&p, "run"));
    one_line(inputs::read_day(&p));
    one_line(events::read_events(&p));
});
