//! `tars-retro`: the same as `tars retro`.
fn main() {
    std::process::exit(tars::cli::run(Some("retro")));
}
