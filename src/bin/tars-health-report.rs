//! `tars-health-report`: the same as `tars health-report` (the seeds' name for it).
mod alias;

fn main() -> std::process::ExitCode {
    alias::exec("tars-health-report")
}
