//! `tars-health-report`: the same as `tars health-report`.
fn main() {
    std::process::exit(tars::cli::run(Some("health-report")));
}
