//! Habits of a tool people script: a reader that stops early is no error.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

#[test]
fn a_reader_that_stops_after_one_line_is_not_an_error() {
    // `tars schema | head -1`: the output (about 80 KB) is larger than a pipe's
    // buffer, so the writer sees the closed pipe.
    for args in [vec!["schema"], vec!["schema", "--markdown"]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tars"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader goes away here, as `head -1` does.
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!first.is_empty(), "{args:?}: no first line");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
