//! Every artifact reader (and its checks of meaning) on arbitrary bytes: the
//! same functions the path-based readers call after their bounded read.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tars::anomaly::events::{self, AnomalyRun};
use tars::baseline::GaKpiSummary;
use tars::drift::StabilitySummary;
use tars::health::HealthReport;
use tars::regression::RegressionSummary;
use tars::retro::Retrospective;
use tars::{inputs, io};

mod common;
use common::one_line;

fuzz_target!(|data: &[u8]| {
    // Named as a day's summary so the name-against-day check runs too.
    let p = Path::new("day_03_summary.json");
    one_line(io::artifact_from_bytes::<GaKpiSummary>(p, "baseline", data));
    one_line(io::artifact_from_bytes::<StabilitySummary>(p, "day", data));
    one_line(io::artifact_from_bytes::<HealthReport>(p, "health", data));
    one_line(io::artifact_from_bytes::<RegressionSummary>(
        p,
        "regression",
        data,
    ));
    one_line(io::artifact_from_bytes::<Retrospective>(p, "retro", data));
    one_line(io::artifact_from_bytes::<AnomalyRun>(p, "run", data));
    one_line(inputs::day_from_bytes(p, data));
    one_line(events::events_from_bytes(p, data));
});
