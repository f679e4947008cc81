//! `tars-retro`: the same as `tars retro` (the seeds' name for it).
mod alias;

fn main() -> std::process::ExitCode {
    alias::exec("tars-retro")
}
