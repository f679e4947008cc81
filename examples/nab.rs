//! Scores every NAB data file with the default detector.
//!
//! Usage: `cargo run --release --example nab -- DATA_DIR OUT_DIR`
//! writes `OUT_DIR/<category>/<file>.csv` (`timestamp,anomaly_score`) for every
//! `DATA_DIR/<category>/<file>.csv`. `Z_THRESHOLD` and `EWMA_ALPHA` override the
//! defaults, as in the CLI.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tars::anomaly::detector::DetectorConfig;
use tars::anomaly::eval::scores_csv;

fn env_f64(name: &str) -> Result<Option<f64>, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("{name}='{v}' is not a number")),
        Err(_) => Ok(None),
    }
}

fn csv_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    out.sort();
    Ok(out)
}

fn run(data: &Path, out: &Path) -> Result<usize, String> {
    let mut cfg = DetectorConfig::default();
    if let Some(z) = env_f64("Z_THRESHOLD")? {
        cfg.z_threshold = z;
    }
    if let Some(a) = env_f64("EWMA_ALPHA")? {
        cfg.alpha = a;
    }
    let mut cats: Vec<PathBuf> = std::fs::read_dir(data)
        .map_err(|e| format!("{}: {e}", data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cats.sort();
    let mut files = 0;
    for cat in cats {
        let Some(cat_name) = cat.file_name() else {
            continue;
        };
        let target = out.join(cat_name);
        std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        for file in csv_files(&cat).map_err(|e| format!("{}: {e}", cat.display()))? {
            let Some(name) = file.file_name() else {
                continue;
            };
            scores_csv(&file, &target.join(name), &cfg).map_err(|e| e.to_string())?;
            files += 1;
        }
    }
    Ok(files)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 2 {
        eprintln!("usage: nab DATA_DIR OUT_DIR");
        return ExitCode::from(2);
    }
    match run(Path::new(&args[0]), Path::new(&args[1])) {
        Ok(n) => {
            eprintln!("scored {n} files into {}", args[1]);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nab: {e}");
            ExitCode::FAILURE
        }
    }
}
