//! The NAB-style CSV scorer (`anomaly-detector --input FILE.csv`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tars::anomaly::detector::DetectorConfig;

fuzz_target!(|data: &[u8]| {
    let _ = tars::anomaly::eval::score_csv(data, &DetectorConfig::default());
});
