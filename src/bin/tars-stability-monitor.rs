//! `tars-stability-monitor`: the same as `tars stability-monitor` (the seeds' name for it).
mod alias;

fn main() -> std::process::ExitCode {
    alias::exec("tars-stability-monitor")
}
