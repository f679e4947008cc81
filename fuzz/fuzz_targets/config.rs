//! The configuration loader (`--config tars.toml`) and its checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;
use common::{file_with, one_line};

fuzz_target!(|data: &[u8]| {
    let p = file_with(data, "tars.toml");
    one_line(tars::config::Config::from_file(&p));
});
