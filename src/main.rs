fn main() {
    // Installed under an alias's name (a link, or exec'd by an alias binary),
    // `tars` behaves as that command: `tars-ga-kpi ...` is `tars ga-kpi ...`.
    let alias = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .and_then(|n| tars::cli::alias_of(&n));
    std::process::exit(tars::cli::run(alias));
}
