//! `tars-regression-analyzer`: the same as `tars regression-analyzer`.
fn main() {
    std::process::exit(tars::cli::run(Some("regression-analyzer")));
}
