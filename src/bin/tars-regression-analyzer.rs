//! `tars-regression-analyzer`: the same as `tars regression-analyzer` (the seeds' name for it).
mod alias;

fn main() -> std::process::ExitCode {
    alias::exec("tars-regression-analyzer")
}
