//! The six alias binaries (`tars-ga-kpi`, ...) carry none of tars: each
//! replaces itself with the `tars` binary installed next to it, keeping its
//! own name as `argv[0]`, and `tars` dispatches on that name. Seven copies of
//! the whole program cost seven link steps and seven times the disk.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// Runs `tars` as `name`; returns only if it could not be started.
pub fn exec(name: &str) -> ExitCode {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("tars")))
        .filter(|p| p.is_file());
    let tars = beside.unwrap_or_else(|| PathBuf::from("tars"));
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let err = Command::new(&tars).arg0(name).args(args).exec();
    eprintln!(
        "{name}: error: cannot run {} (install tars next to {name}): {err}",
        tars.display()
    );
    ExitCode::from(1)
}
