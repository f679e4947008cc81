//! A saved `query_range` answer (`anomaly-detector --input`, `--source file:DIR`).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;
use common::file_with;

fuzz_target!(|data: &[u8]| {
    let p = file_with(data, "answer.json");
    let _ = tars::prom::read_query_range_file(&p);
});
