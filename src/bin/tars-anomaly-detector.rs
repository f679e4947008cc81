//! `tars-anomaly-detector`: the same as `tars anomaly-detector`.
fn main() {
    std::process::exit(tars::cli::run(Some("anomaly-detector")));
}
