//! `tars-stability-monitor`: the same as `tars stability-monitor`.
fn main() {
    std::process::exit(tars::cli::run(Some("stability-monitor")));
}
