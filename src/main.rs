fn main() {
    std::process::exit(tars::cli::run(None));
}
