//! `tars-ga-kpi`: the same as `tars ga-kpi`.
fn main() {
    std::process::exit(tars::cli::run(Some("ga-kpi")));
}
