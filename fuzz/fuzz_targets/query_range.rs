//! A saved `query_range` answer (`anomaly-detector --input`, `--source file:DIR`):
//! the same parse and checks as the file reader, on the bytes in memory.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let r = tars::prom::query_range_from_bytes(data, Path::new("answer.json"), "service");
    if let Err(e) = r {
        assert!(!e.to_string().contains('\n'), "not one line: {e}");
    }
});
