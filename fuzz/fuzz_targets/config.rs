//! The configuration loader (`--config tars.toml`) and its checks, on the
//! bytes `Config::from_file` hands on after its bounded read.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

mod common;
use common::one_line;

fuzz_target!(|data: &[u8]| {
    one_line(tars::config::Config::from_bytes(
        Path::new("tars.toml"),
        data.to_vec(),
    ));
});
