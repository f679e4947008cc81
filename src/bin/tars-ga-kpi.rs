//! `tars-ga-kpi`: the same as `tars ga-kpi` (the seeds' name for it).
mod alias;

fn main() -> std::process::ExitCode {
    alias::exec("tars-ga-kpi")
}
