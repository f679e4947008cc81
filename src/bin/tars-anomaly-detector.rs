//! `tars-anomaly-detector`: the same as `tars anomaly-detector` (the seeds' name for it).
mod alias;

fn main() -> std::process::ExitCode {
    alias::exec("tars-anomaly-detector")
}
