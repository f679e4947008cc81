fn main() -> std::process::ExitCode {
    tars::cli::run(std::env::args_os().collect()).into()
}
